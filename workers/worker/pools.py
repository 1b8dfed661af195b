"""How each kind of worker runs: pool, concurrency and prefetch per queue.

``newsworkers run`` starts one process per kind on this machine; a
deployment starts ``newsworkers worker KIND`` wherever it wants (one
container per kind in docker-compose.yml), and they all use these specs.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import sys
from dataclasses import dataclass

from workers.broker.routing import queue_name
from workers.core.errors import ConfigError
from workers.core.stages import BACKFILL_QUEUES, EXTRACT, FETCH, INDEX, POLL, QUEUES
from workers.settings import Settings

__all__ = ["BACKFILL_KIND", "KINDS", "WorkerSpec", "worker_argv", "worker_spec"]

KINDS = QUEUES  # one worker kind per stage, named as its queue
# With backfill_own_worker, history's pages are extracted by a worker of their own at the lowest CPU priority,
# started when a backfill has pages waiting (workers/ops/worker_processes.py); by default the live extract worker
# takes them whenever its live queue is empty.
BACKFILL_KIND = "backfill"


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    kind: str
    queues: tuple[str, ...]
    pool: str
    concurrency: int
    prefetch_multiplier: int
    max_tasks_per_child: int | None = None
    max_memory_per_child_kb: int | None = None
    after: tuple[str, ...] = ()  # queues read only while ``queues`` are empty (backfill; Redis broker)
    nice: int = 0  # added to the process's nice value: above 0 it gets the CPU only after the others


def worker_spec(kind: str, settings: Settings) -> WorkerSpec:
    queues = (queue_name(settings, kind),)
    spec = _spec(kind, queues, settings)
    if kind in ("fetch", "io"):  # fetching is waiting on the network: the live threads take history's turn too
        return dataclasses.replace(spec, after=(queue_name(settings, BACKFILL_QUEUES["fetch"]),))
    if kind == "extract" and not settings.backfill_own_worker:
        return dataclasses.replace(spec, after=(queue_name(settings, BACKFILL_QUEUES["extract"]),))
    return spec


def _spec(kind: str, queues: tuple[str, ...], settings: Settings) -> WorkerSpec:
    match kind:
        case "poll":
            return WorkerSpec(kind, queues, POLL.pool, settings.poll_concurrency, 1)
        case "fetch":
            return WorkerSpec(kind, queues, FETCH.pool, settings.fetch_concurrency, 2)
        case "extract":
            # One batch per child at a time (extract_batch_size pages): a killed child gives back at most that.
            # Children are replaced after a number of tasks or once their resident memory passes the ceiling
            # (checked between tasks), so a slow leak or one bloated parse does not stay with the child for good.
            return WorkerSpec(kind, queues, EXTRACT.pool, settings.extract_processes, settings.extract_batch_size,
                              max_tasks_per_child=settings.extract_max_tasks_per_child or None,
                              max_memory_per_child_kb=settings.extract_max_memory_per_child_mb * 1024 or None)
        case "index" if settings.elasticsearch_url:
            # Elasticsearch takes concurrent bulk writers: several consumer threads (Celery multiplies the
            # prefetch by the concurrency, so each still has a whole batch to fill).
            return WorkerSpec(kind, queues, "threads", settings.index_consumers, settings.index_batch_messages)
        case "index":
            # The single writer; its prefetch must cover a whole batch or batches never fill.
            return WorkerSpec(kind, queues, INDEX.pool, 1, settings.index_batch_messages)
        case "backfill":
            return WorkerSpec(kind, (queue_name(settings, BACKFILL_QUEUES["extract"]),), "prefork",
                              settings.backfill_extract_processes, settings.extract_batch_size,
                              max_tasks_per_child=settings.extract_max_tasks_per_child or None,
                              max_memory_per_child_kb=settings.extract_max_memory_per_child_mb * 1024 or None,
                              nice=19)
        case "io":
            # Deployments: poll and fetch are both network waits, so one thread pool can serve both queues.
            threads = settings.poll_concurrency + settings.fetch_concurrency
            return WorkerSpec(kind, (queue_name(settings, "poll"), queue_name(settings, "fetch")), "threads",
                              threads, 2)
    raise ConfigError(f"unknown worker kind {kind!r}; kinds are: {', '.join((*KINDS, BACKFILL_KIND, 'io'))}")


def worker_argv(spec: WorkerSpec, *, loglevel: str = "WARNING", logfile: str | None = None) -> list[str]:
    node = f"{spec.kind}-{os.getpid()}@{socket.gethostname()}"
    argv = [
        sys.executable, "-m", "celery", "-A", "workers", "worker",
        "--queues", ",".join((*spec.queues, *spec.after)),
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
    if spec.max_memory_per_child_kb:
        argv += ["--max-memory-per-child", str(spec.max_memory_per_child_kb)]
    if logfile:
        argv += ["--logfile", logfile]
    if spec.nice:
        argv = ["nice", "-n", str(spec.nice), *argv]
    return argv
