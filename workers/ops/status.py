"""What ``newsworkers status`` reports: one dict with stable keys, read from Redis, Celery and the index.

The keys (documented in the README) are::

    queues    {<queue>: {"depth", "inflight", "workers"}}   waiting, delivered-not-acked, workers consuming it
    workers   {"alive": N, "nodes": [...]}                  Celery nodes that answered inspect in time
    index     {"documents": N | None, "error": str | None}
    feeds     {"registered", "due", "failing"}
    items     {"in_flight", "seen"}
    failures  {"last_hour": {<stage>: N}, "last_hour_by_reason": {...}, "dead_letters": N,
               "dead_letters_by_stage": {...}, "dead_letters_by_reason": {...}, "dropped": N}
    rate      {"window_min": N, "articles_per_min": x, "per_minute": [N, ...]}   oldest minute first
    counters  {"<stage>.<outcome>": N}                      running totals since the Redis was new
    backpressure {"held": bool, "backlog": N, "since": epoch | None, "high_water": N, "low_water": N}
    errors    {<part>: message}                             each part that could not be read ("redis", "index")

It works with or without a run going: no worker answering means ``workers: 0`` per queue. A part that
cannot be read does not stop the others: with Redis down the index is still counted (and every Redis
number is null); with the index down the queues are still listed (``index.documents`` null, ``index.error``).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from celery import Celery
from redis.exceptions import RedisError

from workers.broker.delivery import inflight_per_queue, queue_depths
from workers.broker.routing import broker_is_redis
from workers.core.errors import NewsworkersError
from workers.core.stages import QUEUES
from workers.pipeline.poll.backpressure import BackPressure
from workers.runtime import Runtime
from workers.search.backend import open_backend

__all__ = ["collect_status", "workers_per_queue"]


def collect_status(app: Celery, runtime: Runtime, *, redis_error: str | None = None) -> dict[str, Any]:
    """Everything status reports; ``redis_error`` (Redis known to be unreachable) reports the rest alone."""
    index = _index_documents(runtime)
    errors = {"index": index["error"]} if index["error"] else {}
    if redis_error is None:
        try:
            data = _redis_parts(app, runtime)
        except (RedisError, OSError) as exc:
            redis_error = f"cannot read Redis: {exc}"
    if redis_error is not None:
        data = {"queues": {q: {"depth": None, "inflight": None, "workers": None} for q in QUEUES},
                "workers": {"alive": None, "nodes": []}, "feeds": None, "items": None, "failures": None,
                "rate": None, "counters": None, "backpressure": None}
        errors = {"redis": redis_error, **errors}
    return {**data, "index": index, "errors": errors}


def _redis_parts(app: Celery, runtime: Runtime) -> dict[str, Any]:
    settings = runtime.settings
    depths = queue_depths(runtime.redis, runtime.keys, broker_url=settings.broker_url)
    # With RabbitMQ as broker the unacknowledged messages live there, out of our sight: unknown, not zero.
    inflight: dict[str, int | None] = (
        dict(inflight_per_queue(runtime.redis, runtime.keys)) if broker_is_redis(settings) else dict.fromkeys(QUEUES)
    )
    consumers, nodes = workers_per_queue(app, timeout_s=settings.status_ping_timeout_s,
                                         prefix=f"{settings.namespace}.")
    hour = runtime.stats.window(60)
    window = settings.status_rate_window_min
    per_minute = [bucket.get("index.ok", 0) for bucket in runtime.stats.per_minute(window)]
    letters = runtime.dead_letters.counts()
    return {
        "queues": {q: {"depth": depths.get(q, 0), "inflight": inflight.get(q, 0), "workers": consumers.get(q, 0)}
                   for q in QUEUES},
        "workers": {"alive": len(nodes), "nodes": sorted(nodes)},
        "feeds": _feeds(runtime),
        "items": {"in_flight": runtime.tracker.inflight_count(), "seen": runtime.tracker.seen_count()},
        "failures": {
            "last_hour": {k.removesuffix(".failed"): v for k, v in sorted(hour.items()) if k.endswith(".failed")},
            "last_hour_by_reason": {k.removeprefix("reason:"): v for k, v in sorted(hour.items())
                                    if k.startswith("reason:")},
            "dead_letters": letters.total,
            "dead_letters_by_stage": dict(sorted(letters.by_stage.items())),
            "dead_letters_by_reason": dict(sorted(letters.by_reason.items())),
            "dropped": letters.dropped,
        },
        "rate": {"window_min": window, "articles_per_min": round(sum(per_minute) / window, 2),
                 "per_minute": per_minute},
        "counters": dict(sorted(runtime.stats.snapshot().items())),
        "backpressure": _backpressure(runtime),
    }


def workers_per_queue(app: Celery, *, timeout_s: float, prefix: str = "") -> tuple[dict[str, int], list[str]]:
    """Celery nodes consuming each of our stage queues, and the nodes that consume any of them.

    On RabbitMQ our queues are named ``<namespace>.<stage>`` and every worker on the vhost answers the
    broadcast, other deployments' too: only nodes consuming one of our queues count.
    """
    try:
        replies = app.control.inspect(timeout=timeout_s).active_queues() or {}
    except Exception:  # a broker that refuses the broadcast is "no workers seen", not a failed status
        return {}, []
    ours = {f"{prefix}{stage}": stage for stage in QUEUES} | {stage: stage for stage in QUEUES}
    counts: Counter[str] = Counter()
    nodes: list[str] = []
    for node, queues in replies.items():
        stages = {ours[name] for name in (str(q.get("name", "")) for q in queues or []) if name in ours}
        counts.update(stages)
        if stages:
            nodes.append(node)
    return dict(counts), nodes


def _backpressure(runtime: Runtime) -> dict[str, Any]:
    state = BackPressure(runtime).state()
    settings = runtime.settings
    return {"held": state.held, "backlog": state.backlog, "since": state.since,
            "high_water": settings.backlog_high_water_msgs, "low_water": settings.backlog_low_water_msgs}


def _index_documents(runtime: Runtime) -> dict[str, Any]:
    settings = runtime.settings
    if not settings.elasticsearch_url and not (settings.index_dir / "meta.json").exists():
        return {"documents": 0, "error": None}  # nothing indexed yet; opening it would create it
    try:
        backend = open_backend(settings)
        try:
            return {"documents": backend.count(), "error": None}
        finally:
            backend.close()
    except NewsworkersError as exc:
        return {"documents": None, "error": f"{exc} ({exc.reason})"}
    except Exception as exc:  # the client library's own errors (a refused connection): the part, not the command
        return {"documents": None, "error": f"{type(exc).__name__}: {exc}"}


def _feeds(runtime: Runtime) -> dict[str, int]:
    keys, redis = runtime.keys, runtime.redis
    urls = list(redis.hkeys(keys.feeds))
    pipe = redis.pipeline(transaction=False)
    for url in urls:
        pipe.hget(keys.feed_state(url), "error_streak")
    failing = sum(1 for streak in pipe.execute() if streak and int(streak) > 0) if urls else 0
    due = int(redis.zcount(keys.schedule, "-inf", time.time()))
    return {"registered": len(urls), "due": due, "failing": failing}
