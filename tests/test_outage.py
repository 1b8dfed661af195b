"""An outage mid-task is nobody's fault: it is never recorded against the item, and the message goes back."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import redis
from celery.exceptions import Reject
from kombu.exceptions import OperationalError

from tests.conftest import RedisServer
from workers.broker.outage import retry_through_outage, wait_for_redis
from workers.settings import Settings
from workers.worker.app import create_app
from workers.worker.middleware import retry_or_dead_letter


@pytest.mark.parametrize("exc", [redis.ConnectionError("gone"), redis.TimeoutError("slow"),
                                 redis.BusyLoadingError("loading"), OperationalError("publish failed")])
def test_an_outage_is_never_dead_lettered_nor_retried(settings: Settings, exc: Exception) -> None:
    app = create_app(settings)
    runtime = app.runtime
    with pytest.raises(type(exc)):
        retry_or_dead_letter(app.tasks["newsworkers.fetch"], runtime, exc, stage="fetch", key="doc-1",
                             url="https://x.example/1", payload={})
    assert runtime.dead_letters.get("doc-1") is None
    assert runtime.stats.snapshot() == {}
    assert not runtime.tracker.is_seen("doc-1")


def test_a_task_ended_by_an_outage_rejects_its_message_back_to_the_queue(settings: Settings) -> None:
    app = create_app(settings)

    @app.task(name="test.outage", shared=False)
    def broken() -> None:
        raise redis.ConnectionError("Redis went away")

    @app.task(name="test.bug", shared=False)
    def buggy() -> None:
        raise KeyError("a bug of ours")

    with pytest.raises(Reject) as rejected:
        broken()
    assert rejected.value.requeue is True
    with pytest.raises(KeyError):  # any other failure is the task's own, handled as before
        buggy()


def test_waiting_for_redis_ends_when_it_answers_or_at_the_timeout(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis")
    client = redis.Redis.from_url(server.url, socket_connect_timeout=1)
    started = time.monotonic()
    assert wait_for_redis(client, timeout_s=1.0) is False
    assert 0.9 < time.monotonic() - started < 5
    later = threading.Timer(1.0, server.start)
    later.start()
    try:
        assert retry_through_outage(client, lambda: client.set("k", "v")) is True
        assert client.get("k") == b"v"
    finally:
        later.join()
        server.stop()
