"""Operations, metrics and logging: the Prometheus endpoints, what ``status`` reports, and the log format."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["OperationsSettings"]


class OperationsSettings(BaseModel):
    """Operations, metrics and logging: metrics ports and address, status windows, log lines."""

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
    oneshot_timeout_s: float = Field(
        3600.0, gt=0,
        description="Seconds `run --once`, `reprocess` and `failed retry` follow their work before they stop and "
        "say what is left (`backfill` has no bound unless given); `--timeout` overrides it for one command.",
    )
    status_ping_timeout_s: float = Field(
        1.0, gt=0, description="Seconds `status` waits for workers to answer Celery's inspect."
    )
    log_format: str = Field(
        "auto", pattern=r"^(auto|json|text)$",
        description="Log lines as JSON, as key=value text, or auto: text on a terminal, JSON elsewhere.",
    )
