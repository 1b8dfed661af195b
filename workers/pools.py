"""How each kind of worker runs: pool, concurrency and prefetch per queue.

``newsworkers run`` starts one process per kind on this machine; a
deployment starts ``newsworkers worker KIND`` wherever it wants (one
container per kind in docker-compose.yml), and they all use these specs.
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass

from workers.errors import ConfigError
from workers.settings import Settings

__all__ = ["KINDS", "WorkerSpec", "worker_argv", "worker_spec"]

KINDS = ("poll", "fetch", "extract", "index")


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    kind: str
    queues: tuple[str, ...]
    pool: str
    concurrency: int
    prefetch_multiplier: int
    max_tasks_per_child: int | None = None


def worker_spec(kind: str, settings: Settings) -> WorkerSpec:
    match kind:
        case "poll":
            return WorkerSpec(kind, ("poll",), "threads", settings.poll_concurrency, 1)
        case "fetch":
            return WorkerSpec(kind, ("fetch",), "threads", settings.fetch_concurrency, 2)
        case "extract":
            # One batch per child at a time (extract_batch_size pages): a killed child gives back at most that.
            return WorkerSpec(kind, ("extract",), "prefork", settings.extract_processes, settings.extract_batch_size,
                              max_tasks_per_child=1000)
        case "index" if settings.elasticsearch_url:
            # Elasticsearch takes concurrent bulk writers: several consumer threads (Celery multiplies the
            # prefetch by the concurrency, so each still has a whole batch to fill).
            return WorkerSpec(kind, ("index",), "threads", settings.index_consumers, settings.index_batch_size)
        case "index":
            # The single writer; its prefetch must cover a whole batch or batches never fill.
            return WorkerSpec(kind, ("index",), "solo", 1, settings.index_batch_size)
        case "io":
            # Deployments: poll and fetch are both network waits, so one thread pool can serve both queues.
            threads = settings.poll_concurrency + settings.fetch_concurrency
            return WorkerSpec(kind, ("poll", "fetch"), "threads", threads, 2)
    raise ConfigError(f"unknown worker kind {kind!r}; kinds are: {', '.join((*KINDS, 'io'))}")


def worker_argv(spec: WorkerSpec, *, loglevel: str = "WARNING", logfile: str | None = None) -> list[str]:
    node = f"{spec.kind}-{os.getpid()}@{socket.gethostname()}"
    argv = [
        sys.executable, "-m", "celery", "-A", "workers", "worker",
        "--queues", ",".join(spec.queues),
        "--pool", spec.pool,
        "--concurrency", str(spec.concurrency),
        "--prefetch-multiplier", str(spec.prefetch_multiplier),
        "--hostname", node,
        "--loglevel", loglevel,
        # Gossip, mingle and heartbeats cost broker round trips for features we do not use.
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]
    if spec.max_tasks_per_child:
        argv += ["--max-tasks-per-child", str(spec.max_tasks_per_child)]
    if logfile:
        argv += ["--logfile", logfile]
    return argv
