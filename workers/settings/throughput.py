"""Throughput and back-pressure: when polling holds back because fetch and extract have fallen behind.

Polling stops above the high-water backlog and resumes at or below the low-water one (hysteresis).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["ThroughputSettings"]


class ThroughputSettings(BaseModel):
    """Throughput and back-pressure: the backlog marks, and how long a held poll waits before looking again."""

    backlog_high_water_msgs: int = Field(
        10_000, ge=1, description="Fetch+extract backlog (messages) above which the scheduler and pollers hold back."
    )
    backlog_low_water_msgs: int = Field(
        5_000, ge=0,
        description="Fetch+extract backlog (messages) at or below which held polling resumes (hysteresis below "
                    "backlog_high_water_msgs; a value above it acts as it).",
    )
    backpressure_retry_s: float = Field(
        5.0, gt=0,
        description="Seconds a poll held by back-pressure waits in the delayed set before it checks the backlog "
                    "again.",
    )
