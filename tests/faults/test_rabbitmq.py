"""The worker-kill test with RabbitMQ as broker (feed state stays in Redis), when one answers at 127.0.0.1:5672.

Each run's queues are named ``<namespace>.<stage>`` (a namespace of the test's own), so runs never share a
queue; they are deleted afterwards. Skipped, saying why, where no RabbitMQ is reachable.
"""

from __future__ import annotations

import contextlib
import os

import pytest
from kombu import Connection

from tests.faults.test_worker_kills import kill_run
from tests.site import FixtureSite
from workers.core.stages import QUEUES
from workers.settings import Settings

pytestmark = pytest.mark.slow

AMQP_URL = os.environ.get("NEWSWORKERS_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


def rabbitmq_reachable() -> bool:
    try:
        with Connection(AMQP_URL, connect_timeout=3) as connection:
            connection.connect()
            return True
    except Exception:  # refused, timed out, or refused our credentials: all mean "not here"
        return False


def test_workers_killed_mid_run_with_rabbitmq_as_broker(settings: Settings, site: FixtureSite, pipeline) -> None:  # type: ignore[no-untyped-def]
    if not rabbitmq_reachable():
        pytest.skip(f"no RabbitMQ answers at {AMQP_URL} (set NEWSWORKERS_TEST_AMQP_URL to point at one)")
    try:
        kill_run((("fetch", 30), ("extract", 60), ("index", 100)), settings, site, pipeline, broker_url=AMQP_URL)
    finally:
        with Connection(AMQP_URL, connect_timeout=3) as connection:
            for stage in QUEUES:
                name = f"{settings.namespace}.{stage}"
                with contextlib.suppress(Exception):
                    connection.default_channel.queue_delete(name)
                with contextlib.suppress(Exception):
                    connection.default_channel.exchange_delete(name)
