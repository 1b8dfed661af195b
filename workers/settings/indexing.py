"""Indexing and Elasticsearch: how articles are committed to the index, and how the cluster is reached.

The embedded Tantivy index uses the batch settings alone; with ``elasticsearch_url`` set, the rest say
which alias is written, how to authenticate, and how bulk requests are sized and retried.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

__all__ = ["IndexingSettings"]


class IndexingSettings(BaseModel):
    """Indexing and Elasticsearch: index batches and consumers, the alias, credentials and bulk requests."""

    index_batch_size: int = Field(200, ge=1, description="Articles committed to the index in one batch.")
    index_flush_interval_s: float = Field(
        1.0, gt=0, description="Seconds a partial batch waits before it is committed anyway."
    )
    index_consumers: int = Field(
        2, ge=1, description="Index-queue consumer threads with Elasticsearch (Tantivy always has one writer)."
    )
    elasticsearch_index: str = Field(
        "newsworkers-articles",
        pattern=r"^[a-z0-9][a-z0-9_.-]{0,200}$",
        description="Alias searched and written in Elasticsearch; the indices behind it are <alias>-v1, -v2...",
    )
    elasticsearch_api_key: str | None = Field(
        None, description="Elasticsearch API key (the base64 'id:key' form); or use username and password."
    )
    elasticsearch_username: str | None = Field(None, description="Elasticsearch user for basic authentication.")
    elasticsearch_password: str | None = Field(None, description="Password of elasticsearch_username.")
    elasticsearch_ca_cert: Path | None = Field(
        None, description="PEM file of the CA that signed the cluster's certificate (https URLs)."
    )
    elasticsearch_request_timeout_s: float = Field(
        30.0, gt=0, description="Seconds allowed for one Elasticsearch request (searches, bulk requests)."
    )
    elasticsearch_bulk_max_bytes: int = Field(
        10 * 2**20, ge=1024, description="Largest bulk request body sent to Elasticsearch, in bytes."
    )
    elasticsearch_bulk_retries: int = Field(
        5, ge=0, description="Resends of bulk items Elasticsearch answered 429/503 before the batch is given back."
    )
    elasticsearch_backoff_s: float = Field(
        0.5, gt=0, description="First wait before a bulk resend, in seconds; doubles each time, with jitter."
    )
