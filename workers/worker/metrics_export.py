"""The metrics endpoints: what one scrape reads, and who serves it.

A scrape sums the multiprocess files of the workers it covers (one worker's
own directory, or every worker of a data directory for ``newsworkers run``)
and reads the queue gauges from Redis at that moment. See
:mod:`workers.worker.metrics` for the metrics and why multiprocess mode.
"""

from __future__ import annotations

import contextlib
import glob
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from redis import Redis

from workers.broker.delivery import inflight_per_queue, queue_depths
from workers.core.logs import get_logger
from workers.core.stages import QUEUES
from workers.runtime import Runtime
from workers.settings import Settings
from workers.worker.metrics_files import KIND_OFFSETS, forget_dead_workers, metrics_dir

__all__ = ["serve_run_metrics", "start_metrics_server"]

log = get_logger(__name__)


class _FilesCollector:
    """The sum of every multiprocess file under some directories (read at scrape time)."""

    def __init__(self, directories: Callable[[], list[Path]]) -> None:
        self.directories = directories

    def collect(self) -> Iterator[Any]:
        from prometheus_client.multiprocess import MultiProcessCollector

        files: list[str] = []
        for directory in self.directories():
            files += glob.glob(str(directory / "*.db"))
        return iter(MultiProcessCollector.merge(files, accumulate=True))


class _RedisCollector:
    """Queue depths, unacknowledged messages and dead letters, read from Redis at scrape time."""

    def __init__(self, settings: Settings, redis_url: Callable[[], str | None]) -> None:
        self.settings, self.redis_url = settings, redis_url
        self._client: Redis | None = None
        self._client_url: str | None = None

    def _redis(self) -> Redis | None:
        url = self.redis_url()
        if not url:
            return None
        if self._client is None or url != self._client_url:
            self._client = Redis.from_url(url, decode_responses=True, socket_timeout=2, socket_connect_timeout=2)
            self._client_url = url
        return self._client

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        up = GaugeMetricFamily("newsworkers_redis_up", "1 when the exporter could read Redis at this scrape.")
        client = self._redis()
        if client is None:
            up.add_metric([], 0)
            yield up
            return
        runtime = Runtime(self.settings)
        runtime.__dict__["redis"] = client  # borrow our connection: a scrape must not open a pool each time
        try:
            depths = queue_depths(client, runtime.keys, broker_url=self.settings.broker_url)
            inflight = inflight_per_queue(client, runtime.keys)
            letters = runtime.dead_letters.counts()
            pressure_held = client.exists(runtime.keys.backpressure)
        except Exception as exc:  # Redis down is a metric (newsworkers_redis_up 0), not a failed scrape
            log.warning("metrics could not read redis", error=str(exc)[:200])
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        depth = GaugeMetricFamily("newsworkers_queue_depth", "Messages waiting in each queue.", labels=["queue"])
        held = GaugeMetricFamily("newsworkers_queue_inflight", "Messages delivered and not yet acknowledged.",
                                 labels=["queue"])
        for queue in QUEUES:
            depth.add_metric([queue], depths.get(queue, 0))
            held.add_metric([queue], inflight.get(queue, 0))
        dead = GaugeMetricFamily("newsworkers_dead_letters", "Dead letters held, per stage.", labels=["stage"])
        for stage, count in sorted(letters.by_stage.items()):
            dead.add_metric([stage], count)
        pressure = GaugeMetricFamily("newsworkers_backpressure_held",
                                     "1 while polling holds back because the fetch+extract backlog is too long.")
        pressure.add_metric([], 1 if pressure_held else 0)
        yield from (depth, held, dead, pressure)


def start_metrics_server(settings: Settings, port: int, directories: list[Path] | Callable[[], list[Path]],
                         *, redis_url: Callable[[], str | None]) -> Any | None:
    """Serve the files under ``directories`` plus the Redis gauges on ``port``; None (logged) if it is taken."""
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_FilesCollector(directories if callable(directories) else lambda: list(directories)))
    registry.register(_RedisCollector(settings, redis_url))
    try:
        server, _thread = start_http_server(port, addr=settings.metrics_addr, registry=registry)
    except OSError as exc:
        log.warning("metrics endpoint not started", port=port, error=str(exc))
        return None
    return server


def serve_run_metrics(settings: Settings) -> Any | None:
    """``newsworkers run``'s endpoint: every worker of this data directory, summed, plus the Redis gauges.

    With the embedded Redis, its URL is only known once the run has started it: it is read from the
    data directory at each scrape.
    """
    if not settings.metrics_port:
        return None
    root = metrics_dir(settings)
    # The files of workers of earlier runs (dead processes only: never a live run's workers).
    forget_dead_workers(root, [*KIND_OFFSETS, "worker"], socket.gethostname())
    url_file = settings.data_dir / "redis.url"

    def redis_url() -> str | None:
        if settings.redis_url:
            return settings.redis_url
        with contextlib.suppress(OSError):
            return url_file.read_text().strip() or None
        return None

    return start_metrics_server(settings, settings.metrics_port, lambda: [p for p in root.glob("*") if p.is_dir()],
                                redis_url=redis_url)
