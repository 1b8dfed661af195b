"""The dead-letter store: work that failed for good, with its reason.

A person lists it (``newsworkers failed list``) and can retry it; a dead
letter also marks its item as seen so polls stop re-sending it.

The store is bounded (``dead_letters_max``): when full, the letters whose
last failure is oldest are dropped first and counted (``dropped``), so a
month of a broken site cannot fill Redis. Counts per stage and reason are
kept beside the letters, updated in the same Lua script, so ``status`` reads
them without loading every letter.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from redis import Redis

from workers.core.dates import parse_iso
from workers.core.logs import get_logger
from workers.core.stages import DEAD_LETTER_STAGES, dead_letter_stage
from workers.state.keys import Keys

__all__ = ["DEFAULT_MAX_LETTERS", "DeadLetter", "DeadLetters", "FailureCounts"]

DEFAULT_MAX_LETTERS = 100_000
"""Dead letters kept when the caller names no bound."""

log = get_logger(__name__)


# Forget one letter: its record, its place in the age order and its count; 1 if there was a record.
_FORGET_ONE = """
local function forget(id)
  local raw = redis.call('HGET', KEYS[1], id)
  local found = 0
  if raw then
    local old = cjson.decode(raw)
    local group = tostring(old.stage) .. '|' .. tostring(old.reason)
    if redis.call('HINCRBY', KEYS[3], group, -1) <= 0 then redis.call('HDEL', KEYS[3], group) end
    redis.call('HDEL', KEYS[1], id)
    found = 1
  end
  redis.call('ZREM', KEYS[2], id)
  return found
end
"""

# Store (or replace) one letter and drop the oldest beyond the bound, in one step, so the counts
# never disagree with the letters even when many workers write at once.
_RECORD = _FORGET_ONE + """
forget(ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('HINCRBY', KEYS[3], ARGV[5], 1)
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if over <= 0 then return 0 end
local victims = redis.call('ZRANGE', KEYS[2], 0, over - 1)
for _, id in ipairs(victims) do forget(id) end
redis.call('INCRBY', KEYS[4], #victims)
return #victims
"""

_FORGET = _FORGET_ONE + """
local n = 0
for _, id in ipairs(ARGV) do n = n + forget(id) end
return n
"""


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(slots=True)
class DeadLetter:
    """One item that failed for good. ``key`` is its id: the document id for articles, the URL for feeds.

    ``failed_at`` is the last failure, ``first_failed_at`` the first one (kept when the same item fails
    again after a retry). ``task`` and ``payload`` are what a retry needs: the failing task and its message.
    """

    stage: str
    key: str
    url: str
    reason: str
    error: str  # "<ErrorClass>: <message>"
    attempts: int = 1
    traceback_tail: str | None = None
    payload: dict[str, Any] | None = None
    failed_at: str = field(default_factory=_now_iso)
    first_failed_at: str | None = None
    feed_url: str | None = None
    error_class: str | None = None
    task: str | None = None

    def __post_init__(self) -> None:
        self.first_failed_at = self.first_failed_at or self.failed_at
        if self.error_class is None and ": " in self.error:
            self.error_class = self.error.split(": ", 1)[0]
        self.feed_url = self.feed_url or _feed_of(self.payload)
        self.task = self.task or (DEAD_LETTER_STAGES[self.stage].task if self.stage in DEAD_LETTER_STAGES else None)

    @property
    def message(self) -> str:
        """The error without its class name."""
        prefix = f"{self.error_class}: " if self.error_class else ""
        return self.error.removeprefix(prefix)

    def retry_message(self) -> tuple[str, dict[str, Any]]:
        """The task and message that redo this item: an extract failure is fetched again (the letter keeps
        the feed item, not the HTML); an index failure goes back to index with its attempts reset."""
        payload = self.payload or {}
        redo = dead_letter_stage(self.stage).redo_task
        if self.stage == "extract":
            return redo, payload["item"]
        if self.stage == "index":
            return redo, {**payload, "attempts": 0}
        return redo, payload  # a feed, a page, an item lost in flight, a webhook delivery: sent again as it was

    @property
    def failed_epoch(self) -> float:
        return _epoch(self.failed_at)

    def to_json(self, *, payload: bool = True) -> dict[str, Any]:
        data = asdict(self)
        data["id"] = self.key
        data["last_failed_at"] = self.failed_at
        data["message"] = self.message
        if not payload:
            data.pop("payload")
        else:
            task, message = self.retry_message()
            data["retry"] = {"task": task, "payload": message}
        return data


@dataclass(frozen=True, slots=True)
class FailureCounts:
    """Dead letters held, per stage and per reason, and how many the bound has dropped."""

    by_stage: dict[str, int]
    by_reason: dict[str, int]
    dropped: int

    @property
    def total(self) -> int:
        return sum(self.by_stage.values())


class DeadLetters:
    def __init__(self, redis: Redis, keys: Keys, max_letters: int = DEFAULT_MAX_LETTERS) -> None:
        self._redis = redis
        self._keys = keys
        self.max_letters = max_letters
        self._record = redis.register_script(_RECORD)
        self._forget = redis.register_script(_FORGET)

    def _script_keys(self) -> list[str]:
        k = self._keys
        return [k.failed, k.failed_order, k.failed_counts, k.failed_dropped]

    def record(self, letter: DeadLetter) -> DeadLetter:
        """Store ``letter`` (replacing an earlier one of the same key, whose first failure time it keeps);
        returns the letter as stored."""
        earlier = self.get(letter.key)
        if earlier is not None and earlier.first_failed_at and earlier.first_failed_at < (letter.first_failed_at
                                                                                          or letter.failed_at):
            letter = replace(letter, first_failed_at=earlier.first_failed_at)
        raw = json.dumps(asdict(letter), default=str)
        dropped = self._record(keys=self._script_keys(), args=[letter.key, raw, letter.failed_epoch,
                                                               self.max_letters, f"{letter.stage}|{letter.reason}"])
        # Every failure for good passes here, whatever the stage: its one log line.
        log.warning("dead-lettered", stage=letter.stage, reason=letter.reason, url=letter.url,
                    feed_url=letter.feed_url, attempts=letter.attempts, error=letter.error[:300], id=letter.key)
        if dropped:
            log.warning("dead letters dropped: the store is full", dropped=int(dropped), max=self.max_letters)
        return letter

    def remove(self, key: str) -> bool:
        return self.remove_many([key]) == 1

    def remove_many(self, keys: list[str]) -> int:
        removed = 0
        for start in range(0, len(keys), 500):  # bounded script runs: Redis is single-threaded
            removed += int(self._forget(keys=self._script_keys(), args=keys[start:start + 500]))
        return removed

    def get(self, key: str) -> DeadLetter | None:
        raw = self._redis.hget(self._keys.failed, key)
        return _load(raw) if raw else None

    def reasons_of(self, keys: list[str], *, since_epoch: float = 0.0) -> dict[str, int]:
        """Of ``keys``, those dead-lettered at or after ``since_epoch``, counted once each by reason: what a
        command reports as its own failures (never its retries, never other work's letters)."""
        counts: dict[str, int] = {}
        for start in range(0, len(keys), 5000):
            for raw in self._redis.hmget(self._keys.failed, keys[start:start + 5000]):
                if raw:
                    letter = _load(raw)
                    if letter.failed_epoch >= since_epoch:
                        counts[letter.reason] = counts.get(letter.reason, 0) + 1
        return dict(sorted(counts.items()))

    def list(self, stage: str | None = None, reason: str | None = None) -> list[DeadLetter]:
        """Letters oldest first, optionally of one stage and/or one reason (a trailing '*' matches a prefix)."""
        letters = [_load(v) for v in self._redis.hvals(self._keys.failed)]
        letters = [d for d in letters if (stage is None or d.stage == stage) and _matches(d.reason, reason)]
        return sorted(letters, key=lambda d: d.failed_at)

    def recent(self, limit: int, stage: str | None = None, reason: str | None = None) -> list[DeadLetter]:
        """The ``limit`` most recent letters matching the filters, oldest first, read newest first in chunks
        so a full store is never loaded for one page of it."""
        found: list[DeadLetter] = []
        start = 0
        while len(found) < limit:
            ids = self._redis.zrevrange(self._keys.failed_order, start, start + 499)
            if not ids:
                break
            start += len(ids)
            for raw in self._redis.hmget(self._keys.failed, ids):
                if raw:
                    letter = _load(raw)
                    if (stage is None or letter.stage == stage) and _matches(letter.reason, reason):
                        found.append(letter)
        return sorted(found[:limit], key=lambda d: d.failed_at)

    def older_than(self, seconds: float, *, now: float | None = None) -> list[str]:
        """Ids of letters whose last failure is more than ``seconds`` ago."""
        cutoff = (time.time() if now is None else now) - seconds
        return list(self._redis.zrangebyscore(self._keys.failed_order, "-inf", f"({cutoff}"))

    def purge(self, older_than_s: float | None = None) -> int:
        """Forget letters (all, or those last failed more than ``older_than_s`` ago); returns how many.

        Their items stay seen: purging is "we know, stop listing it", not a retry.
        """
        ids = list(self._redis.hkeys(self._keys.failed)) if older_than_s is None else self.older_than(older_than_s)
        return self.remove_many(ids)

    def count(self) -> int:
        return int(self._redis.hlen(self._keys.failed))

    def counts(self) -> FailureCounts:
        by_stage: dict[str, int] = {}
        by_reason: dict[str, int] = {}
        for group, count in self._redis.hgetall(self._keys.failed_counts).items():
            stage, _, reason = group.partition("|")
            by_stage[stage] = by_stage.get(stage, 0) + int(count)
            by_reason[reason] = by_reason.get(reason, 0) + int(count)
        return FailureCounts(by_stage, by_reason, int(self._redis.get(self._keys.failed_dropped) or 0))


def _load(raw: str) -> DeadLetter:
    data = json.loads(raw)
    known = {k: v for k, v in data.items() if k in DeadLetter.__dataclass_fields__}
    return DeadLetter(**known)


def _matches(value: str, pattern: str | None) -> bool:
    if pattern is None:
        return True
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    return value == pattern


def _epoch(iso: str) -> float:
    return parse_iso(iso).timestamp()


def _feed_of(payload: dict[str, Any] | None) -> str | None:
    """The feed that announced the item, wherever the stage's message keeps it."""
    if not isinstance(payload, dict):
        return None
    for holder in (payload, payload.get("item"), payload.get("article")):
        if isinstance(holder, dict) and isinstance(holder.get("feed_url"), str):
            return holder["feed_url"]
    return None
