"""Fetching: downloading article pages (and feeds) over HTTP, within time, size and redirect limits."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["FetchingSettings"]


class FetchingSettings(BaseModel):
    """Fetching: page download limits, the fetch worker's threads and the User-Agent sent."""

    fetch_timeout_s: float = Field(20.0, gt=0, description="Seconds allowed for one page download.")
    fetch_max_bytes: int = Field(10 * 2**20, gt=0, description="Largest article page accepted, in bytes.")
    fetch_max_redirects: int = Field(5, ge=0, description="Redirects followed for one page or feed.")
    download_deadline_s: float = Field(
        60.0, gt=0, description="Whole-download limit for one page or feed, in seconds (timeouts are per read)."
    )
    fetch_concurrency: int = Field(16, ge=1, description="Threads of the fetch worker.")
    user_agent: str = Field(
        "newsworkers/0.1 (+https://github.com/newsworkers/newsworkers)",
        description="User-Agent header sent with every request.",
    )
