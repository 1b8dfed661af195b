"""Unacknowledged messages, as the Redis broker keeps them, go back to their queues."""

from __future__ import annotations

from workers.broker.delivery import backlog, restore_unacked, unacked_count
from workers.settings import Settings
from workers.worker.app import create_app


def test_a_message_a_dead_worker_held_goes_back_to_its_queue(settings: Settings) -> None:
    app = create_app(settings)
    runtime = app.runtime
    app.tasks["newsworkers.fetch"].apply_async(({"doc_id": "x"},))
    assert runtime.redis.llen(runtime.keys.queue("fetch")) == 1
    connection = app.connection_for_read()
    message = connection.default_channel.basic_get("fetch", no_ack=False)  # delivered, never acknowledged
    assert message is not None
    assert runtime.redis.llen(runtime.keys.queue("fetch")) == 0
    assert unacked_count(runtime.redis, runtime.keys) == 1
    assert backlog(runtime.redis, runtime.keys) == 1
    assert restore_unacked(app, runtime.redis, runtime.keys) == 1
    assert runtime.redis.llen(runtime.keys.queue("fetch")) == 1
    assert unacked_count(runtime.redis, runtime.keys) == 0
    connection.release()
    assert runtime.redis.llen(runtime.keys.queue("fetch")) == 1  # restored once, not twice
