"""Where things live: the data directory, Redis, Elasticsearch, the key namespace and the offline seeds."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from workers.settings.environment import conventional_alias

__all__ = ["LocationSettings"]

# The checkout root (beside the workers package), whose seeds/ serves a source install run from elsewhere.
_SOURCE_ROOT = Path(__file__).resolve().parents[2]


class LocationSettings(BaseModel):
    """Where things live: the data directory, Redis, Elasticsearch, the key namespace and the seeds."""

    data_dir: Path = Field(
        Path("data"),
        description="Directory for everything the embedded mode writes: Redis files, the index, locks.",
    )
    redis_url: str | None = Field(
        None,
        validation_alias=conventional_alias("redis_url"),
        description="Redis for broker, feed state and dead letters; unset starts an embedded Redis.",
    )
    elasticsearch_url: str | None = Field(
        None,
        validation_alias=conventional_alias("elasticsearch_url"),
        description="Elasticsearch cluster to index into; unset uses the embedded Tantivy index.",
    )
    namespace: str = Field(
        "nw",
        pattern=r"^[A-Za-z0-9_.-]{1,40}$",
        description="Prefix of every Redis key and queue name, so deployments can share one Redis.",
    )
    seeds_dir: Path | None = Field(
        None,
        description="Offline corpus polled when the feed registry is empty; unset finds ./seeds.",
    )

    @property
    def index_dir(self) -> Path:
        """The embedded Tantivy index, under the data directory."""
        return self.data_dir / "index"

    def resolved_seeds_dir(self) -> Path | None:
        """The offline corpus folder: the setting, ./seeds, or the one beside the package source."""
        candidates = [self.seeds_dir] if self.seeds_dir else [Path("seeds"), _SOURCE_ROOT / "seeds"]
        for candidate in candidates:
            if candidate is not None and (candidate / "feeds").is_dir():
                return candidate.resolve()
        return None
