"""`status` with RabbitMQ as broker: queue depths come from RabbitMQ itself, in-flight counts are unknown (None)."""

from __future__ import annotations

import contextlib

import pytest
from kombu import Connection

from tests.faults.test_rabbitmq import AMQP_URL, rabbitmq_reachable
from workers.broker.delivery import amqp_queue_depths
from workers.core.stages import QUEUES
from workers.ops.status import collect_status
from workers.runtime import Runtime
from workers.settings import Settings
from workers.worker.app import create_app


def test_status_reads_queue_depths_from_rabbitmq(settings: Settings) -> None:
    if not rabbitmq_reachable():
        pytest.skip(f"no RabbitMQ answers at {AMQP_URL} (set NEWSWORKERS_TEST_AMQP_URL to point at one)")
    amqp = settings.model_copy(update={"broker_url": AMQP_URL, "status_ping_timeout_s": 0.3})
    app = create_app(amqp)
    try:
        for n in range(3):
            app.tasks["newsworkers.poll"].apply_async(({"url": f"https://paper.example/{n}.xml"},))
        status = collect_status(app, Runtime(amqp))
        assert status["queues"]["poll"]["depth"] == 3
        assert status["queues"]["extract"]["depth"] == 0
        assert all(status["queues"][q]["inflight"] is None for q in QUEUES)
        assert status["workers"]["alive"] == 0
    finally:
        _delete_queues(settings)


def test_a_publish_to_rabbitmq_that_returned_is_in_the_queue(settings: Settings) -> None:
    # Without publisher confirms a publish returns before RabbitMQ has taken the message: a lost
    # message would raise nothing, and a depth read at once often comes up short.
    if not rabbitmq_reachable():
        pytest.skip(f"no RabbitMQ answers at {AMQP_URL} (set NEWSWORKERS_TEST_AMQP_URL to point at one)")
    amqp = settings.model_copy(update={"broker_url": AMQP_URL})
    app = create_app(amqp)
    try:
        short = []
        for round_ in range(1, 16):
            for n in range(20):
                app.tasks["newsworkers.poll"].apply_async(({"url": f"https://paper.example/{n}.xml"},))
            depth = amqp_queue_depths(AMQP_URL, amqp.namespace)["poll"]
            if depth != 20 * round_:
                short.append((20 * round_, depth))
        assert short == []
    finally:
        _delete_queues(settings)


def _delete_queues(settings: Settings) -> None:
    with Connection(AMQP_URL, connect_timeout=3) as connection:
        for stage in QUEUES:
            with contextlib.suppress(Exception):
                connection.default_channel.queue_delete(f"{settings.namespace}.{stage}")
            with contextlib.suppress(Exception):
                connection.default_channel.exchange_delete(f"{settings.namespace}.{stage}")
