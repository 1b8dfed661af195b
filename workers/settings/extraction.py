"""Extraction: the extract worker that turns fetched pages into articles, its batches and its child processes.

Its children are time-limited and replaced after enough tasks or memory, so one bad page or a slow leak
cannot take the worker down.
"""

from __future__ import annotations

import os

from pydantic import BaseModel, Field

__all__ = ["ExtractionSettings"]


class ExtractionSettings(BaseModel):
    """Extraction: extract processes, batching, the body-length rule and the limits of each child."""

    extract_concurrency: int = Field(0, ge=0, description="Processes of the extract worker; 0 = one per core.")
    min_body_chars: int = Field(
        200, ge=0, description="Shortest page body trusted over the feed's own content, in characters."
    )
    extract_batch_size: int = Field(
        8, ge=1, le=256,
        description="Pages one extract child takes at once (NER runs them through nlp.pipe); a killed child "
                    "gives back at most this many.",
    )
    extract_batch_interval_s: float = Field(
        0.5, gt=0, description="Seconds a partial extract batch waits before it is processed anyway."
    )
    extract_time_limit_s: int = Field(120, ge=5, description="Hard time limit of one extract task, in seconds.")
    extract_max_tasks_per_child: int = Field(
        1000, ge=0, description="Extract tasks one pool child runs before it is replaced; 0 = never replaced."
    )
    extract_max_memory_per_child_mb: int = Field(
        1024, ge=0, description="Resident memory (MB) after which an extract child is replaced; 0 = no ceiling."
    )
    extract_max_alloc_mb: int = Field(
        2048,
        ge=0,
        description="Heap an extract child may grow by (MB) before allocations fail as extract.memory; 0 = no cap.",
    )

    @property
    def extract_processes(self) -> int:
        """Processes the extract worker runs: extract_concurrency, or one per core."""
        return self.extract_concurrency or (os.cpu_count() or 1)
