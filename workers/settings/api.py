"""Search API and page: where ``newsworkers serve`` listens, who may write, and how deep searches and exports go."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["ApiSettings"]


class ApiSettings(BaseModel):
    """Search API and page: the listening address, write keys, page sizes and export limits."""

    api_host: str = Field(
        "127.0.0.1", description="Address `newsworkers serve` listens on; 0.0.0.0 exposes the API to the network.",
    )
    api_port: int = Field(8000, ge=0, le=65535, description="Port `newsworkers serve` listens on (0: any free port).")
    api_keys: str = Field(
        "",
        description="Comma-separated API keys that may write (saved searches) through the HTTP API, sent as "
        "X-API-Key or Authorization: Bearer; empty allows writes from loopback clients only.",
    )
    api_max_page_size: int = Field(
        100, ge=1, le=1000, description="Most hits one /api/search page may ask for (its `size`).",
    )
    api_max_result_window: int = Field(
        10_000, ge=100,
        description="Deepest hit /api/search pages to (page x size); deeper walks are for /api/export.",
    )
    api_export_max_docs: int = Field(
        1_000_000, ge=1, description="Most documents one export (/api/export or `newsworkers export`) writes.",
    )
    api_export_page_size: int = Field(
        500, ge=10, le=10_000, description="Hits fetched per backend request while an export streams.",
    )
