"""Backfill: loading history (archives, URL lists) without flooding the broker or starving live news."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["BackfillSettings"]


class BackfillSettings(BaseModel):
    """Backfill: how much may wait in its queues, which worker extracts it, and how often it checkpoints."""

    backfill_max_queued: int = Field(
        2000, ge=10, description="A backfill sends no more while this many of its messages wait in the backfill "
        "queues (fetch or extract), so history never floods the broker.",
    )
    backfill_own_worker: bool = Field(
        False, description="Extract backfill pages in a worker of their own (kind backfill) at the lowest CPU "
        "priority instead of in the live extract worker after its live queue; slower, and measured no kinder to "
        "live news on 2 cores (bench/backfill.py). A deployment then runs `newsworkers worker backfill`.",
    )
    backfill_extract_processes: int = Field(
        1, ge=1, description="Processes of the backfill extract worker (lowest CPU priority, started when a "
        "backfill has pages waiting); live extraction keeps its own.",
    )
    backfill_checkpoint_every: int = Field(
        100, ge=1, description="A backfill saves its position (in Redis) after at most this many records or "
        "URLs, and at least once a second; a restart reads again at most that much.",
    )
