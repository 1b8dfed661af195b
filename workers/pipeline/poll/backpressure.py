"""Back-pressure: polling holds back while fetch and extract are behind, and resumes once they caught up.

The backlog is the messages waiting in the fetch and extract queues (Redis list lengths, or RabbitMQ's
passive declare: :func:`workers.broker.delivery.queue_depths`). Above ``backlog_high_water_msgs`` the pipeline
is *held*: the scheduler hands out no feed and a poll that arrives is held in the delayed set
(:func:`workers.pipeline.poll.cycle.hold_poll`, status "held": not failed, no error streak, nothing requested from
the feed's host) and tried again ``backpressure_retry_s`` later. It stays held until the backlog is at or
below ``backlog_low_water_msgs`` (hysteresis: resuming at the high mark would flap around it, one poll at a
time). The held state lives in Redis, so every poller, the scheduler, ``status`` and the metrics see one
answer.

Messages in the delayed set (politeness deferrals, retries, held polls themselves) are not counted:
held polls must not keep the pipeline held, and the rest is bounded by the items already polled.

A poll reads the depths afresh (one pipelined round trip, small beside a feed download), so the backlog
exceeds the high-water mark by at most what the polls running at that moment enqueue: one poll's worth
of items per poll thread.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from workers.broker.delivery import queue_depths
from workers.core.logs import get_logger
from workers.runtime import Runtime

__all__ = ["BackPressure", "PressureState"]

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class PressureState:
    held: bool
    backlog: int
    since: float | None  # epoch seconds the current hold began


class BackPressure:
    """The hysteresis gate over the fetch+extract backlog, shared through one Redis key."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.key = runtime.keys.backpressure

    def backlog(self) -> int:
        depths = queue_depths(self.runtime.redis, self.runtime.keys, broker_url=self.runtime.settings.broker_url)
        return depths["fetch"] + depths["extract"]

    def check(self) -> PressureState:
        """Read the backlog and move the shared state across the marks; the state after this check."""
        settings, redis = self.runtime.settings, self.runtime.redis
        backlog = self.backlog()
        since = redis.get(self.key)
        held = since is not None
        if not held and backlog > settings.backlog_high_water_msgs:
            # nx: of several pollers crossing the mark at once, one starts the hold and counts it.
            if redis.set(self.key, repr(time.time()), nx=True):
                self.runtime.stats.incr("backpressure", "held")
                log.info("back-pressure: polling holds back", backlog=backlog,
                         high_water=settings.backlog_high_water_msgs)
            since, held = redis.get(self.key), True
        elif held and backlog <= min(settings.backlog_low_water_msgs, settings.backlog_high_water_msgs):
            if redis.delete(self.key):
                self.runtime.stats.incr("backpressure", "resumed")
                log.info("back-pressure: polling resumes", backlog=backlog,
                         low_water=settings.backlog_low_water_msgs)
            since, held = None, False
        return PressureState(held=held, backlog=backlog, since=float(since) if since else None)

    def state(self) -> PressureState:
        """The shared state as it stands, without moving it (``status``, metrics)."""
        since = self.runtime.redis.get(self.key)
        return PressureState(held=since is not None, backlog=self.backlog(), since=float(since) if since else None)
