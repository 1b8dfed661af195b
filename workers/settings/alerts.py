"""Saved searches and alerts: what each saved search keeps of its matches, and how its webhook is called."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["AlertSettings"]


class AlertSettings(BaseModel):
    """Saved searches and alerts: Atom feed length, matches kept, webhook timeout and retries."""

    alert_feed_entries: int = Field(
        50, ge=1, le=1000, description="Entries in each saved search's Atom feed (/feeds/NAME.atom), newest first."
    )
    alert_matches_max: int = Field(
        1000, ge=1, description="Matches kept in Redis per saved search; beyond it the oldest published go."
    )
    alert_webhook_timeout_s: float = Field(
        10.0, gt=0, description="Seconds one webhook POST may take, connect included, before it counts as failed."
    )
    alert_webhook_max_retries: int = Field(
        5, ge=0, description="Retries (with the usual backoff) of a failing webhook before it is dead-lettered "
        "(stage alert)."
    )
