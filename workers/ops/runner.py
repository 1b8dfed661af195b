"""``newsworkers run``: broker, workers and scheduler on this machine.

The run process owns the data directory: it starts the embedded Redis (when
REDIS_URL is unset), one worker process per queue kind, and the scheduler
loop; it shows progress until Ctrl-C or, with ``--once``, until every feed
was polled once and every queue is drained.
"""

from __future__ import annotations

import importlib.util
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redis import exceptions as redis_errors
from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from workers.broker.delayed import send_due
from workers.broker.delivery import backlog, delayed_count, queue_depths, restore_unacked
from workers.broker.routing import broker_is_redis
from workers.core.errors import ConfigError
from workers.entities.models import language_models
from workers.ops.progress import Progress
from workers.ops.scheduler import Scheduler, seed_feeds
from workers.ops.worker_processes import WorkerProcesses
from workers.runtime import Runtime
from workers.search.backend import open_backend
from workers.settings import Settings
from workers.state.ownership import DataDirLock, owned_redis
from workers.worker.app import create_app

__all__ = [
    "REDIS_DOWN",
    "OrphanWatch",
    "ProgressDisplay",
    "RedisOutage",
    "RunSummary",
    "WorkerProcesses",
    "check_before_start",
    "is_drained",
    "is_expected",
    "run",
]

# Failures that are the world's fault (a broken feed, a dead or hostile page),
# as opposed to ours: a run --once that met only these succeeded. Anything
# else (our crash, a refusing index, a bad setting, lost work) fails the run.
_EXPECTED_REASONS = ("feed.", "fetch.", "extract.empty", "extract.timeout", "extract.poison", "extract.memory",
                     "alert.")  # a webhook that is down or refuses


def is_expected(reason: str) -> bool:
    return reason.startswith(_EXPECTED_REASONS) and not reason.endswith(".crash")


@dataclass(slots=True)
class RunSummary:
    elapsed_s: float
    feeds_ok: int = 0
    feeds_failed: dict[str, tuple[str, str]] = field(default_factory=dict)  # url → (reason, error)
    indexed: int = 0
    from_feed: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    drained: bool = True
    worker_deaths: int = 0

    @property
    def crashed(self) -> bool:
        reasons = [f["reason"] for f in self.failed] + [reason for reason, _error in self.feeds_failed.values()]
        return self.worker_deaths > 0 or not all(is_expected(r) for r in reasons)

    @property
    def exit_code(self) -> int:
        return 0 if self.drained and not self.crashed else 1

    @property
    def articles_per_s(self) -> float:
        return self.indexed / self.elapsed_s if self.elapsed_s > 0 else 0.0


def run(settings: Settings, *, once: bool, timeout_s: float | None, console: Console) -> RunSummary:
    lock = DataDirLock(settings.data_dir)
    if not lock.acquire(wait_s=10):
        raise ConfigError(
            f"{settings.data_dir} is in use by process {lock.owner_pid()}: one `newsworkers run` per data "
            "directory; stop that one or pass another --data-dir"
        )
    try:
        with owned_redis(settings, lock) as url:
            return _run(settings.model_copy(update={"redis_url": url}), once=once, timeout_s=timeout_s,
                        console=console, embedded=settings.redis_url is None)
    finally:
        lock.release()


def _run(settings: Settings, *, once: bool, timeout_s: float | None, console: Console,
         embedded: bool) -> RunSummary:
    app = create_app(settings)
    runtime: Runtime = app.runtime  # type: ignore[attr-defined]
    runtime.check_redis()
    feeds = runtime.registry.all()
    seed = [] if feeds else seed_feeds(settings.resolved_seeds_dir())
    if not feeds and not seed:
        raise ConfigError("no feeds to poll: add some with `newsworkers feeds add URL` or "
                          "`newsworkers feeds import seeds/feeds.opml`")
    check_before_start(settings)
    if seed:
        console.print(f"feed registry is empty: polling the offline corpus ({len(seed)} feeds)")
    scheduler = Scheduler(app, runtime, seed=seed)
    delayed = runtime.delayed
    if embedded and broker_is_redis(settings):
        restored = restore_unacked(app, runtime.redis, runtime.keys)
        if restored:
            console.print(f"{restored} messages a previous run had not finished go back to their queues")
    progress = Progress(runtime)
    started_wall = time.time()
    stop, hurry = threading.Event(), threading.Event()

    def on_signal(*_: object) -> None:
        # The first Ctrl-C (or SIGTERM) stops warm; a second one while workers finish stops at once.
        if stop.is_set():
            hurry.set()
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    workers = WorkerProcesses(settings)
    workers.start()
    drained, idle = True, False
    try:
        if once:
            runtime.redis.delete(runtime.keys.pending_polls)
            scheduler.poll_all(feeds or seed)
        deadline = time.monotonic() + timeout_s if timeout_s else None
        orphans = OrphanWatch(runtime, scheduler)
        outage = RedisOutage(console)
        with ProgressDisplay(console, progress) as refresh:
            while not stop.is_set():
                workers.check()
                try:
                    if not once:
                        scheduler.tick()
                    send_due(app, delayed)
                    orphans.check()
                    refresh()
                    finished = once and is_drained(runtime, scheduler)
                    outage.end()
                except REDIS_DOWN as exc:
                    # Redis restarting (or a network blip): the workers reconnect on their own, and so do we.
                    outage.begin(exc)
                    stop.wait(1.0)
                    continue
                if finished:
                    idle = True
                    break
                if deadline and time.monotonic() > deadline:
                    drained = not once or is_drained(runtime, scheduler)
                    break
                stop.wait(0.2)
            else:
                drained = not once or is_drained(runtime, scheduler)
        finished_wall = time.time()
    finally:
        if stop.is_set() and not idle:
            console.print("stopping: workers finish or give back what they hold (Ctrl-C again to stop at once)")
        workers.stop(idle=idle, hurry=hurry)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    summary = _summary(runtime, progress, scheduler, started_wall, drained, workers.deaths)
    summary.elapsed_s = finished_wall - started_wall
    return summary


def check_before_start(settings: Settings) -> None:
    """Fail at boot, with the fix named, on what would otherwise fail every article later."""
    for language, model in language_models(settings).items():
        if not Path(model).exists() and importlib.util.find_spec(model) is None:
            raise ConfigError(f"spaCy model {model!r} ({language}) is not installed: pip install "
                              f"{model.replace('_', '-')}, or set NEWSWORKERS_SPACY_MODEL / NEWSWORKERS_NER_MODELS "
                              "to an installed pipeline")
    backend = open_backend(settings)  # the index opens, its schema is ours, and (Elasticsearch) it answers
    try:
        backend.count()
    finally:
        backend.close()


REDIS_DOWN = (redis_errors.ConnectionError, redis_errors.TimeoutError, redis_errors.BusyLoadingError)


class RedisOutage:
    """Says once when Redis went away and when it came back, instead of a traceback per loop."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.since: float | None = None

    def begin(self, exc: BaseException) -> None:
        if self.since is None:
            self.since = time.monotonic()
            self.console.print(f"[red]Redis unreachable[/] ({type(exc).__name__}); waiting for it to come back")

    def end(self) -> None:
        if self.since is not None:
            self.console.print(f"Redis is back after {time.monotonic() - self.since:.1f}s")
            self.since = None


class OrphanWatch:
    """Items in flight while no message anywhere could still be working on them are lost: re-send them.

    Quiet means no queued or unacknowledged message while polls or items are marked under way, seen twice
    a second apart (a worker moves a message from the queue to its unacknowledged set in two steps).
    """

    def __init__(self, runtime: Runtime, scheduler: Scheduler) -> None:
        self.runtime, self.scheduler = runtime, scheduler
        self.quiet_since: float | None = None

    def check(self) -> int:
        runtime = self.runtime
        quiet = (backlog(runtime.redis, runtime.keys, broker_url=runtime.settings.broker_url) == 0
                 and (self.scheduler.pending_polls() > 0 or runtime.tracker.inflight_count() > 0))
        now = time.monotonic()
        if not quiet:
            self.quiet_since = None
            return 0
        if self.quiet_since is None:
            self.quiet_since = now
            return 0
        if now - self.quiet_since < 1.0:
            return 0
        self.quiet_since = None
        # A poll under way holds an unacknowledged message, so with none anywhere a pending poll was lost too.
        return self.scheduler.requeue_lost_polls() + self.scheduler.resend_lost(any_age=True)


def is_drained(runtime: Runtime, scheduler: Scheduler) -> bool:
    if scheduler.pending_polls() or runtime.tracker.inflight_count():
        return False
    held = backlog(runtime.redis, runtime.keys, broker_url=runtime.settings.broker_url)
    if held is None:  # AMQP cannot count unacknowledged messages; nothing is in flight, so ready ones decide
        depths = queue_depths(runtime.redis, runtime.keys, broker_url=runtime.settings.broker_url)
        held = sum(depths.values()) + delayed_count(runtime.redis, runtime.keys)
    return held == 0


class ProgressDisplay:
    """Live table on a terminal; a plain line every few seconds elsewhere (logs, CI).

    ``extra`` adds a line of the caller's own under the table (a backfill's records read, say).
    """

    def __init__(self, console: Console, progress: Progress, extra: Callable[[], str] | None = None) -> None:
        self.console, self.progress, self.extra = console, progress, extra
        self.live: Live | None = None
        self.last_line = 0.0

    def _render(self) -> Any:
        table = self.progress.render()
        return Group(table, Text(self.extra())) if self.extra is not None else table

    def __enter__(self) -> Any:
        if self.console.is_terminal:
            self.live = Live(self._render(), console=self.console, refresh_per_second=2)
            self.live.__enter__()
        return self.refresh

    def refresh(self) -> None:
        if self.live is not None:
            self.live.update(self._render())
        elif time.monotonic() - self.last_line > 5:
            line = self.progress.line()
            self.console.print(f"{line}; {self.extra()}" if self.extra is not None else line)
            self.last_line = time.monotonic()

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.update(self._render())
            self.live.__exit__(None, None, None)


def _summary(runtime: Runtime, progress: Progress, scheduler: Scheduler, started: float, drained: bool,
             deaths: int) -> RunSummary:
    counts = progress.counts()
    summary = RunSummary(elapsed_s=time.time() - started, drained=drained, worker_deaths=deaths,
                         indexed=counts.get("index.ok", 0), from_feed=counts.get("extract.from_feed", 0))
    feeds = scheduler.seed or runtime.registry.all()
    for feed in feeds:
        state = runtime.registry.state(feed.url)
        if state.last_polled_at and state.last_polled_at >= started and state.error_streak:
            summary.feeds_failed[feed.url] = (state.last_reason or "feed.error", state.last_error or "")
        elif state.last_polled_at and state.last_polled_at >= started:
            summary.feeds_ok += 1
    for letter in runtime.dead_letters.list():
        if letter.failed_at >= _iso(started):
            summary.failed.append({"stage": letter.stage, "url": letter.url, "reason": letter.reason,
                                   "error": letter.error})
    return summary


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()
