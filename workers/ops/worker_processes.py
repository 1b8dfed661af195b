"""The worker processes of ``newsworkers run``: one Celery worker per kind, restarted if one dies."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time

from redis import Redis, RedisError

from workers.broker.routing import broker_is_redis
from workers.core.processes import die_with_parent, stop_group
from workers.core.stages import BACKFILL_QUEUES
from workers.settings import Settings
from workers.state import Keys
from workers.worker.pools import BACKFILL_KIND, KINDS, worker_argv, worker_spec

__all__ = ["WorkerProcesses"]


class WorkerProcesses:
    """One Celery worker process per kind, restarted if one dies."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.log_dir = settings.data_dir / "logs"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.deaths = 0
        self._next_backfill_look = 0.0

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for kind in KINDS:
            self._spawn(kind)
        if self.settings.backfill_own_worker and not broker_is_redis(self.settings):  # not cheaply watched there
            self._spawn(BACKFILL_KIND)

    def _backfill_waiting(self) -> bool:
        """Pages of a backfill wait for extraction (looked at once a second): time for the backfill worker."""
        if time.monotonic() < self._next_backfill_look or not self.settings.redis_url:
            return False
        self._next_backfill_look = time.monotonic() + 1.0
        try:
            with Redis.from_url(self.settings.redis_url) as client:
                return bool(client.llen(Keys(self.settings.namespace).queue(BACKFILL_QUEUES["extract"])))
        except RedisError:
            return False

    def _spawn(self, kind: str) -> None:
        env = {**os.environ, **self.settings.as_environment()}
        argv = worker_argv(worker_spec(kind, self.settings), logfile=str(self.log_dir / f"{kind}.log"))
        # A session of their own: the terminal's Ctrl-C reaches only us, and we stop them in order.
        with (self.log_dir / f"{kind}.err").open("ab") as stderr:
            self.procs[kind] = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                                stderr=stderr, start_new_session=True, preexec_fn=die_with_parent)

    def check(self) -> None:
        """Restart any worker that died (an OOM kill, a crash); start the backfill worker when it has work."""
        for kind, proc in list(self.procs.items()):
            if proc.poll() is not None:
                self.deaths += 1
                self._spawn(kind)
        if self.settings.backfill_own_worker and BACKFILL_KIND not in self.procs and self._backfill_waiting():
            self._spawn(BACKFILL_KIND)

    def stop(self, timeout_s: float = 60.0, *, idle: bool = False, hurry: threading.Event | None = None) -> None:
        """Warm shutdown: each worker finishes or requeues what it holds, then exits.

        ``idle`` (nothing queued, held or in flight) lets the stateless kinds go at once: Celery's own
        goodbye takes seconds (the prefork pool most), and there is nothing for them to finish. The
        index worker always stops warm, so its writer closes cleanly. ``hurry`` set (a second Ctrl-C)
        kills every worker at once: what they held is unacknowledged, so it is given back (at the next
        start with the embedded Redis, after the visibility timeout otherwise, at once by RabbitMQ),
        and an index batch killed before its commit was never acknowledged either.
        """
        for kind, proc in self.procs.items():
            if proc.poll() is not None:
                continue
            if idle and kind != "index":
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while hurry is not None and time.monotonic() < deadline:
            if all(proc.poll() is not None for proc in self.procs.values()):
                break
            if hurry.wait(0.1):
                self.kill()
                break
        for proc in self.procs.values():
            stop_group(proc, max(0.1, deadline - time.monotonic()))

    def kill(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
