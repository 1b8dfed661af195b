"""One-shot jobs (``backfill``, ``reprocess``): enqueue a body of work, then follow it to the end.

How to use it: write an *enqueue* function that takes a :class:`Job`, sends its messages through
``job.app`` (``job.app.tasks["newsworkers.fetch"].apply_async(...)``), calls ``job.track(ids)`` with the
document ids it has put in flight (claimed in the tracker, so they are in ``runtime.tracker``'s in-flight
set until indexed or dead-lettered), and returns when it has sent everything, or early once
``job.stopping`` is set (Ctrl-C). Then::

    result = run_oneshot(settings, enqueue, wait=wait, console=console, timeout_s=3600,
                         status=lambda: "records read 120")

Where the work is done depends on who owns the data directory (:mod:`workers.state.ownership`):

- **own** (no ``REDIS_URL`` and no ``newsworkers run`` holds the data directory): like ``run --once``,
  it takes the directory, starts the embedded Redis and one worker process per kind, runs the enqueue
  function in a thread while the progress table shows, and returns once the enqueue function has
  returned and everything is indexed or failed (nothing in flight, every queue drained).
- **attach** (a ``run`` owns the directory, or ``REDIS_URL`` is set, i.e. a deployment): it only
  enqueues, for the workers already running; with ``wait=True`` it follows the tracked ids until none
  is in flight any more.

Ctrl-C (or SIGTERM) sets ``job.stopping``; the enqueue function should return at the next safe point
(after checkpointing what it has sent). What was sent stays queued for the workers (or for the next
one-shot run, which gives back what the killed workers held) and is never lost.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from celery import Celery
from rich.console import Console

from workers.broker.delayed import send_due
from workers.broker.delivery import restore_unacked
from workers.broker.routing import broker_is_redis
from workers.ops.progress import Progress
from workers.ops.runner import REDIS_DOWN, OrphanWatch, ProgressDisplay, RedisOutage, check_before_start, is_drained
from workers.ops.scheduler import Scheduler
from workers.ops.worker_processes import WorkerProcesses
from workers.runtime import Runtime
from workers.settings import Settings
from workers.state.ownership import DataDirLock, owned_redis, redis_for_command
from workers.worker.app import create_app

__all__ = ["Enqueue", "Job", "OneShotResult", "run_oneshot"]

Mode = Literal["own", "attach"]


class Job:
    """What an enqueue function gets: the app and runtime to send with, and where to report what it sent."""

    def __init__(self, app: Celery, runtime: Runtime, stop: threading.Event) -> None:
        self.app, self.runtime = app, runtime
        self._stop = stop
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._all: list[str] = []  # every id tracked, for the failures the summary counts as this job's own
        self.tracked = 0
        self.started_epoch = time.time()

    @property
    def stopping(self) -> bool:
        """Ctrl-C (or a timeout) asked the job to stop: return at the next safe point."""
        return self._stop.is_set()

    def track(self, doc_ids: Iterable[str]) -> None:
        """Document ids this job put in flight; ``wait`` follows them until they leave the in-flight set."""
        ids = list(doc_ids)
        with self._lock:
            self._pending.extend(ids)
            self._all.extend(ids)
            self.tracked += len(ids)

    def failures(self) -> dict[str, int]:
        """This job's items dead-lettered since it started, each counted once, by reason."""
        with self._lock:
            ids = list(dict.fromkeys(self._all))
        return self.runtime.dead_letters.reasons_of(ids, since_epoch=self.started_epoch - 1.0)

    def seen(self) -> int:
        """How many of this job's items are seen now: indexed, or dead-lettered (each once)."""
        with self._lock:
            ids = list(dict.fromkeys(self._all))
        window = self.runtime.tracker.seen  # finished during this job: well inside the seen window
        return sum(sum(window.contains(ids[start:start + 5000])) for start in range(0, len(ids), 5000))

    def in_flight(self) -> int:
        """How many tracked ids are still in flight (drops the others from the list it keeps)."""
        with self._lock:
            pending = list(self._pending)
        still: list[str] = []
        for start in range(0, len(pending), 5000):
            chunk = pending[start:start + 5000]
            scores = self.runtime.redis.zmscore(self.runtime.keys.inflight, chunk)
            still.extend(i for i, score in zip(chunk, scores, strict=True) if score is not None)
        with self._lock:
            # Ids tracked while we looked are kept as they are.
            self._pending = still + self._pending[len(pending):]
            return len(self._pending)


Enqueue = Callable[[Job], Any]


@dataclass(slots=True)
class OneShotResult:
    mode: Mode
    elapsed_s: float = 0.0
    tracked: int = 0
    indexed: int = 0  # this job's tracked items seen and not failed (index.ok over the run if it tracks none)
    failed: int = 0  # this job's items that failed for good, each once (its retries are not failures)
    finished: bool = False  # everything enqueued was indexed or failed (own mode, or attach with wait)
    interrupted: bool = False
    worker_deaths: int = 0
    reasons: dict[str, int] = field(default_factory=dict)  # failure reason → this job's items that failed so
    value: Any = None  # what the enqueue function returned

    @property
    def exit_code(self) -> int:
        return 0 if not self.interrupted and self.worker_deaths == 0 else 1


def run_oneshot(settings: Settings, enqueue: Enqueue, *, wait: bool, console: Console,
                timeout_s: float | None = None, status: Callable[[], str] | None = None) -> OneShotResult:
    """Enqueue with ``enqueue`` and, on embedded defaults (or with ``wait``), follow the work to its end."""
    if settings.redis_url is None:
        lock = DataDirLock(settings.data_dir)
        if lock.acquire():
            try:
                with owned_redis(settings, lock) as url:
                    return _own(settings.model_copy(update={"redis_url": url}), enqueue, console=console,
                                timeout_s=timeout_s, status=status)
            finally:
                lock.release()
    with redis_for_command(settings) as url:
        return _attach(settings.model_copy(update={"redis_url": url}), enqueue, wait=wait, console=console,
                       timeout_s=timeout_s, status=status)


class _Signals:
    """Ctrl-C / SIGTERM set ``stop``; a second one sets ``hurry`` (workers are killed, not drained)."""

    def __init__(self) -> None:
        self.stop, self.hurry = threading.Event(), threading.Event()
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> _Signals:
        if threading.current_thread() is threading.main_thread():
            self.previous = {sig: signal.signal(sig, self._on) for sig in (signal.SIGINT, signal.SIGTERM)}
        return self

    def _on(self, *_: object) -> None:
        if self.stop.is_set():
            self.hurry.set()
        self.stop.set()

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


class _Enqueuer(threading.Thread):
    """Runs the enqueue function beside the progress loop, keeping its result or its exception."""

    def __init__(self, enqueue: Enqueue, job: Job) -> None:
        super().__init__(name="oneshot-enqueue", daemon=True)
        self.enqueue, self.job = enqueue, job
        self.value: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.value = self.enqueue(self.job)
        except BaseException as exc:  # handed to the caller's thread, which re-raises it
            self.error = exc


def _own(settings: Settings, enqueue: Enqueue, *, console: Console, timeout_s: float | None,
         status: Callable[[], str] | None) -> OneShotResult:
    app = create_app(settings)
    runtime: Runtime = app.runtime  # type: ignore[attr-defined]
    runtime.check_redis()
    check_before_start(settings)
    if broker_is_redis(settings):
        restored = restore_unacked(app, runtime.redis, runtime.keys)
        if restored:
            console.print(f"{restored} messages a previous run had not finished go back to their queues")
    scheduler = Scheduler(app, runtime)
    delayed = runtime.delayed
    progress = Progress(runtime)
    result = OneShotResult(mode="own")
    started = time.monotonic()
    workers = WorkerProcesses(settings)
    with _Signals() as signals:
        job = Job(app, runtime, signals.stop)
        enqueuer = _Enqueuer(enqueue, job)
        workers.start()
        idle = False
        try:
            enqueuer.start()
            deadline = started + timeout_s if timeout_s else None
            orphans, outage = OrphanWatch(runtime, scheduler), RedisOutage(console)
            with ProgressDisplay(console, progress, status) as refresh:
                while not signals.stop.is_set():
                    workers.check()
                    try:
                        send_due(app, delayed)
                        orphans.check()
                        refresh()
                        done = not enqueuer.is_alive() and is_drained(runtime, scheduler)
                        outage.end()
                    except REDIS_DOWN as exc:
                        outage.begin(exc)
                        signals.stop.wait(1.0)
                        continue
                    if done:
                        idle = True
                        break
                    if enqueuer.error is not None or (deadline and time.monotonic() > deadline):
                        break
                    signals.stop.wait(0.2)
        finally:
            signals.stop.set()  # the enqueue function returns at its next safe point
            enqueuer.join()
            if not idle:
                console.print("stopping: workers finish or give back what they hold (Ctrl-C again to stop at once)")
            workers.stop(idle=idle, hurry=signals.hurry)
    if enqueuer.error is not None:
        raise enqueuer.error
    result.finished = idle
    result.interrupted = not idle
    result.worker_deaths = workers.deaths
    return _finish(result, job, enqueuer, progress, started)


def _attach(settings: Settings, enqueue: Enqueue, *, wait: bool, console: Console, timeout_s: float | None,
            status: Callable[[], str] | None) -> OneShotResult:
    app = create_app(settings)
    runtime: Runtime = app.runtime  # type: ignore[attr-defined]
    try:
        runtime.check_redis()
        progress = Progress(runtime)
        result = OneShotResult(mode="attach")
        started = time.monotonic()
        complete = False
        with _Signals() as signals:
            job = Job(app, runtime, signals.stop)
            enqueuer = _Enqueuer(enqueue, job)
            enqueuer.start()
            deadline = started + timeout_s if timeout_s else None
            with ProgressDisplay(console, progress, status) as refresh:
                while not signals.stop.is_set():
                    refresh()
                    if not enqueuer.is_alive() and (not wait or job.in_flight() == 0):
                        complete = True
                        break
                    if deadline and time.monotonic() > deadline:
                        break
                    signals.stop.wait(0.5)
            signals.stop.set()
            enqueuer.join()
        if enqueuer.error is not None:
            raise enqueuer.error
        result.finished = complete and wait
        result.interrupted = not complete
        return _finish(result, job, enqueuer, progress, started)
    finally:
        runtime.close()


def _finish(result: OneShotResult, job: Job, enqueuer: _Enqueuer, progress: Progress, started: float) -> OneShotResult:
    counts = progress.counts()
    # Dead letters of the ids this job tracked, not the reason counters: those count every retry, and every
    # other piece of work the workers did meanwhile (an item sent back by `failed retry`, another backfill).
    result.reasons = job.failures()
    result.elapsed_s = time.monotonic() - started
    result.tracked = job.tracked
    # This job's items that went through: seen and not failed. Without tracked ids (an enqueue function that
    # tracks none), the index counter over the run is all there is to say.
    result.failed = sum(result.reasons.values())
    result.indexed = max(0, job.seen() - result.failed) if job.tracked else counts.get("index.ok", 0)
    result.value = enqueuer.value
    return result
