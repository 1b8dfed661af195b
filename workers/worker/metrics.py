"""Prometheus metrics: per-stage counters and latencies from Celery signals, queue depths read at scrape time.

Exported (names are what config/prometheus/ alerts on)::

    newsworkers_items_in_total{stage}               items a task received (an index batch counts its articles)
    newsworkers_items_out_total{stage}              items a stage finished and handed on (or indexed)
    newsworkers_items_failed_total{stage,reason}    items that failed for good (dead-lettered), by reason code
    newsworkers_items_retried_total{stage,reason}   transient failures sent back for another try
    newsworkers_task_seconds{stage}                 histogram of task run time
    newsworkers_task_crashes_total{stage}           tasks that raised (a bug of ours; the item is on its record)
    newsworkers_queue_depth{queue}                  messages waiting (read from Redis at scrape time)
    newsworkers_queue_inflight{queue}               messages delivered to a worker and not yet acknowledged
    newsworkers_dead_letters{stage}                 dead letters held in the store
    newsworkers_redis_up                            1 when the exporter could read Redis at this scrape
    newsworkers_backpressure_held                   1 while polling holds back (workers.pipeline.poll.backpressure)

Why multiprocess mode: the extract worker is a prefork pool, so the counts
happen in child processes that come and go (``max_tasks_per_child``, OOM
kills); an exporter per child would need a port per child and lose its counts
with the child. prometheus_client's multiprocess mode has every process of a
worker write its values to files under ``<data_dir>/metrics/<kind>-<host>-<pid>/``
and the exporter sums them at scrape time. ``newsworkers run`` serves the sum
over all its workers on ``metrics_port``; a worker serves its own directory on
``worker_metrics_port`` + its kind's offset when that is set (deployments, one
container per kind). The queue gauges come from Redis, not from the files, so
they are right however many exporters there are (alert on ``max``). The
endpoints themselves are in :mod:`workers.worker.metrics_export`.

Items in and run time come from Celery's ``task_prerun``/``task_postrun``
signals, crashes from ``task_failure``; out, failed and retried come from
:class:`workers.state.Stats`, where every stage already records its outcomes
with their reason (a task that dead-letters an item returns normally, so the
signals alone cannot tell). No task names a metric.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from workers.core.logs import get_logger
from workers.core.stages import metered_stage
from workers.pipeline.index.batch import index_payloads
from workers.settings import Settings
from workers.state import Stats
from workers.worker.metrics_export import start_metrics_server
from workers.worker.metrics_files import KIND_OFFSETS, forget_dead_workers, metrics_dir, run_owns

__all__ = ["EXPORTED", "install_metrics"]

EXPORTED = frozenset({
    "newsworkers_items_in_total", "newsworkers_items_out_total", "newsworkers_items_failed_total",
    "newsworkers_items_retried_total", "newsworkers_task_crashes_total", "newsworkers_task_seconds_bucket",
    "newsworkers_task_seconds_count", "newsworkers_task_seconds_sum", "newsworkers_queue_depth",
    "newsworkers_queue_inflight", "newsworkers_dead_letters", "newsworkers_redis_up", "newsworkers_backpressure_held",
})
"""Every series name the endpoints export (what dashboards and config/prometheus/alerts.yml may use)."""

_OUT = ("ok", "not_modified")  # outcomes that hand the item on; "from_feed" is a kind of ok, counted already
_LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

log = get_logger(__name__)


class _Instruments:
    """The metric objects of one worker process tree; created after PROMETHEUS_MULTIPROC_DIR is set."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram

        self.items_in = Counter("newsworkers_items_in", "Items a task received.", ["stage"], registry=None)
        self.items_out = Counter("newsworkers_items_out", "Items a stage finished.", ["stage"], registry=None)
        self.failed = Counter("newsworkers_items_failed", "Items that failed for good.", ["stage", "reason"],
                              registry=None)
        self.retried = Counter("newsworkers_items_retried", "Transient failures retried.", ["stage", "reason"],
                               registry=None)
        self.seconds = Histogram("newsworkers_task_seconds",
                                 "Run time per item, in seconds (a batch task's time shared by its items).", ["stage"],
                                 buckets=_LATENCY_BUCKETS, registry=None)
        self.crashes = Counter("newsworkers_task_crashes", "Tasks that raised.", ["stage"], registry=None)
        self.started: dict[str, tuple[float, int]] = {}

    def stat(self, stage: str, outcome: str, amount: int, reason: str | None) -> None:
        if outcome in _OUT:
            self.items_out.labels(stage).inc(amount)
        elif outcome == "failed":
            self.failed.labels(stage, reason or f"{stage}.unknown").inc(amount)
        elif outcome == "retried":
            self.retried.labels(stage, reason or f"{stage}.unknown").inc(amount)

    def prerun(self, task_id: str | None = None, task: Any = None, args: Any = None, **_: Any) -> None:
        stage = metered_stage(getattr(task, "name", ""))
        if stage is None:
            return
        # Batch tasks (index, extract_batch) get the list of requests as their first argument.
        items = len(args[0]) if args and isinstance(args[0], list) else 1
        if stage == "index" and args and isinstance(args[0], list):  # an extract batch's articles ride in one
            items = sum(len(index_payloads(r.args[0] if getattr(r, "args", None) else None)) for r in args[0])
        self.items_in.labels(stage).inc(items)
        if task_id:
            self.started[task_id] = (time.perf_counter(), max(1, items))

    def postrun(self, task_id: str | None = None, task: Any = None, **_: Any) -> None:
        stage = metered_stage(getattr(task, "name", ""))
        began = self.started.pop(task_id or "", None)
        if stage is not None and began is not None:
            started, items = began
            per_item = (time.perf_counter() - started) / items
            for _ in range(items):
                self.seconds.labels(stage).observe(per_item)

    def failure(self, sender: Any = None, exception: BaseException | None = None, **_: Any) -> None:
        # Only exceptions that escape a task reach here: crashes of ours. The stage has already counted
        # the item as failed through Stats where it could, so this is a count of its own.
        stage = metered_stage(getattr(sender, "name", ""))
        if stage is not None:
            self.crashes.labels(stage).inc()


_instruments: _Instruments | None = None


def install_metrics(app: Any) -> None:
    """Hook metrics into this process's Celery signals; they start counting once a worker starts."""
    from celery.signals import task_failure, task_postrun, task_prerun, worker_init

    worker_init.connect(_worker_started, weak=False, dispatch_uid="newsworkers.metrics.worker_init")
    task_prerun.connect(lambda **kw: _instruments and _instruments.prerun(**kw), weak=False,
                        dispatch_uid="newsworkers.metrics.prerun")
    task_postrun.connect(lambda **kw: _instruments and _instruments.postrun(**kw), weak=False,
                         dispatch_uid="newsworkers.metrics.postrun")
    task_failure.connect(lambda **kw: _instruments and _instruments.failure(**kw), weak=False,
                         dispatch_uid="newsworkers.metrics.failure")
    Stats.observe(_observe_stat)


def _observe_stat(stage: str, outcome: str, amount: int, reason: str | None) -> None:
    if _instruments is not None:
        _instruments.stat(stage, outcome, amount, reason)


def _worker_started(sender: Any = None, **_: Any) -> None:
    """In a worker's main process, before its pool forks: a files directory of its own, and maybe a server."""
    global _instruments
    worker_app = getattr(sender, "app", None)
    runtime = getattr(worker_app, "runtime", None)
    if runtime is None or _instruments is not None:
        return
    settings: Settings = runtime.settings
    queues = getattr(getattr(worker_app, "amqp", None), "queues", None)
    consumed = list(getattr(queues, "consume_from", None) or [])
    kind = next((q for q in consumed if q in KIND_OFFSETS), "worker")
    host = socket.gethostname()
    root = metrics_dir(settings)
    own = root / f"{kind}-{host}-{os.getpid()}"
    try:
        if not run_owns(settings.data_dir):  # under a run, the run clears them when it starts
            forget_dead_workers(root, [kind], host)
        own.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a read-only data directory costs the metrics, not the worker
        log.warning("metrics off: cannot write their files", directory=str(own), error=str(exc))
        return
    # prometheus_client picks its value class from this variable when it is imported; it is set before our
    # first import of it, and the class is picked again in case something imported it earlier. The forked
    # children inherit both, and their values go to files named by their own pid.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(own)
    from prometheus_client import values

    values.ValueClass = values.get_value_class()
    _instruments = _Instruments()
    if settings.worker_metrics_port:
        port = settings.worker_metrics_port + KIND_OFFSETS.get(kind, 0)
        start_metrics_server(settings, port, [own], redis_url=lambda: settings.redis_url)
