"""Task names and routes are part of the wire format: messages queued by an earlier version name them."""

from __future__ import annotations

from workers.broker.routing import celery_routes
from workers.core.stages import BACKFILL_QUEUES, DEAD_LETTER_STAGES, QUEUES, TASKS
from workers.settings import Settings
from workers.state import DeadLetter
from workers.worker.app import create_app
from workers.worker.pools import worker_spec

PINNED_ROUTES = {
    "newsworkers.poll": "poll",
    "newsworkers.fetch": "fetch",
    "newsworkers.extract": "extract",
    "newsworkers.extract_batch": "extract",
    "newsworkers.index": "index",
    "newsworkers.index_delete": "index",
    "newsworkers.alert_webhook": "fetch",
}


def test_task_names_and_queues_are_pinned() -> None:
    assert {task.name: task.queue for task in TASKS} == PINNED_ROUTES
    assert QUEUES == ("poll", "fetch", "extract", "index")
    assert BACKFILL_QUEUES == {"fetch": "backfill_fetch", "extract": "backfill_extract"}


def test_the_app_registers_every_task_on_its_route(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0", namespace="pin")
    app = create_app(settings)
    try:
        ours = {name for name in app.tasks if name.startswith("newsworkers.")}
        assert ours == set(PINNED_ROUTES)
        assert {name: route["queue"] for name, route in celery_routes(settings).items()} == PINNED_ROUTES
        backfill = app.conf.task_routes[0]
        assert backfill("newsworkers.fetch", ({"backfill": True},), {}, {}) == {"queue": "backfill_fetch"}
        assert backfill("newsworkers.fetch", ({"backfill": False},), {}, {}) is None
        assert backfill("newsworkers.extract_batch", ({"item": {"backfill": True}},), {}, {}) == {
            "queue": "backfill_extract"}
        assert {q.name for q in app.conf.task_queues} == {*QUEUES, *BACKFILL_QUEUES.values()}
    finally:
        app.runtime.close()  # type: ignore[attr-defined]


def test_amqp_queue_names_carry_the_namespace(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0", broker_url="amqp://guest@127.0.0.1//",
                        namespace="pin")
    assert celery_routes(settings)["newsworkers.index"] == {"queue": "pin.index"}
    assert worker_spec("extract", settings).queues == ("pin.extract",)


def test_every_dead_letter_stage_is_retried_by_a_registered_task() -> None:
    names = {task.name for task in TASKS}
    for stage, where in DEAD_LETTER_STAGES.items():
        assert {where.task, where.redo_task} <= names, stage
    letter = DeadLetter(stage="extract", key="k", url="u", reason="extract.crash", error="x",
                        payload={"item": {"url": "u"}})
    assert letter.task == "newsworkers.extract"
    assert letter.retry_message() == ("newsworkers.fetch", {"url": "u"})
