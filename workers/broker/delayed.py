"""Messages that must wait (a retry's backoff), held in Redis until they are due.

Celery's countdown/ETA keeps a delayed message *in the worker* that received
it, unacknowledged. On the Redis transport that message is handed to a second
worker once the visibility timeout passes, so any delay near or above that
timeout runs the task twice; and a worker killed while holding ETA messages
gives them all back at once. So nothing here ever carries a countdown: a
delayed message waits in a sorted set scored by its due time, and the runner's
loop (or ``newsworkers scheduler``) sends the due ones as plain messages.

Sending is at-least-once: due entries are leased (their score pushed ahead by
``delayed_lease_s``) before they are sent and removed after, so a sender that
dies in between leaves them to be sent again, never lost. Every task is
idempotent, so a rare second send costs work, not a duplicate.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from celery import Celery
from redis import Redis

from workers.core.logs import get_logger
from workers.state import Keys

__all__ = ["DelayedMessages", "send_due"]

log = get_logger(__name__)

# Take the due entries and lease them in one step, so two senders never send the same one.
_TAKE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], tonumber(ARGV[2]), member) end
return due
"""


class DelayedMessages:
    """A Redis sorted set of ``{task, args, options}`` entries scored by the epoch second they are due."""

    def __init__(self, redis: Redis, keys: Keys, *, lease_s: float) -> None:
        self._redis = redis
        self.key = keys.delayed
        self._lease_s = lease_s
        self._take_due = redis.register_script(_TAKE_DUE)

    def hold(self, task: str, args: list[Any], *, due_at: float, options: dict[str, Any] | None = None,
             note: dict[str, Any] | None = None) -> None:
        """``note``: what a person watching should read about this wait (url, reason, attempts left)."""
        # The entry id makes two identical messages two members instead of one.
        entry = {"id": uuid.uuid4().hex, "task": task, "args": args, "options": options or {}}
        if note:
            entry["note"] = note
        self._redis.zadd(self.key, {json.dumps(entry, separators=(",", ":")): due_at})

    def soonest(self, limit: int = 3) -> list[tuple[float, dict[str, Any]]]:
        """The next ``limit`` held messages, soonest first: (due epoch, note), for progress displays."""
        found = []
        for member, score in self._redis.zrange(self.key, 0, max(0, limit - 1), withscores=True):
            try:
                note = json.loads(member).get("note") or {}
            except (ValueError, AttributeError):
                note = {}
            found.append((float(score), note if isinstance(note, dict) else {}))
        return found

    def take_due(self, *, now: float | None = None, limit: int = 500) -> list[str]:
        """Due entries (raw members), leased to the caller; pass each to :meth:`done` once sent."""
        now = time.time() if now is None else now
        return list(self._take_due(keys=[self.key], args=[now, now + self._lease_s, limit]))

    def done(self, member: str) -> None:
        self._redis.zrem(self.key, member)

    def count(self) -> int:
        return int(self._redis.zcard(self.key))


def send_due(app: Celery, delayed: DelayedMessages, *, now: float | None = None) -> int:
    """Send every due delayed message to its queue; returns how many were sent."""
    sent = 0
    for member in delayed.take_due(now=now):
        try:
            entry = json.loads(member)
            task = app.tasks[entry["task"]]
        except (ValueError, KeyError) as exc:  # not ours or from another version: drop it loudly, do not loop
            log.error("unreadable delayed message dropped", error=str(exc)[:300], entry=member[:300])
            delayed.done(member)
            continue
        task.apply_async(tuple(entry["args"]), **entry.get("options", {}))
        delayed.done(member)
        sent += 1
    return sent
