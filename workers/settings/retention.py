"""Retention, takedown and backup: how long documents are kept, and how deletions reach the index."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["RetentionSettings"]


class RetentionSettings(BaseModel):
    """Retention, takedown and backup: the retention period, its schedule, and the wait for a deletion."""

    retention_days: float = Field(
        0, ge=0, description="Prune documents published more than this many days ago, on a schedule inside "
        "`newsworkers run` and `newsworkers scheduler` (0 keeps everything forever)."
    )
    retention_check_interval_s: int = Field(
        3600, ge=1, description="Seconds between two scheduled prunes (retention_days); one scheduler per "
        "deployment runs each."
    )
    deletion_wait_s: float = Field(
        120.0, ge=0, description="How long `delete` and `prune` wait for the running index worker to apply a "
        "deletion they sent it, in seconds; past it the deletion stays queued and is applied later."
    )
