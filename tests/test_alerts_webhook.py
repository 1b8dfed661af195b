"""Webhook delivery: a real HTTP receiver on 127.0.0.1 that fails N times then succeeds, the real task run in
process against real Redis, its retries taken from the real delayed set, dead letters in the real store."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from celery import Celery

from tests.hostile import serving
from tests.test_alerts import CORPUS
from workers.alerts.service import delivery_message
from workers.alerts.store import SavedSearch, entry_of
from workers.alerts.webhook import IDEMPOTENCY_HEADER
from workers.core.stages import ALERT_WEBHOOK_TASK as WEBHOOK_TASK
from workers.ops.redrive import redrive
from workers.settings import Settings
from workers.worker.alert_tasks import alert_store
from workers.worker.app import create_app


@dataclass
class Receiver:
    """Answers ``fail_status`` to the first ``failures`` POSTs, then 204; keeps every request it got."""

    failures: int = 0
    fail_status: int = 500
    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                with receiver.lock:
                    receiver.received.append((dict(self.headers), body))
                    failing = len(receiver.received) <= receiver.failures
                self.send_response(receiver.fail_status if failing else 204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    with serving(hook.handler()) as base:
        hook.url = f"{base}/hook?token=s3cret"
        yield hook


@pytest.fixture
def app(settings: Settings) -> Iterator[Celery]:
    celery = create_app(settings.model_copy(update={"alert_webhook_max_retries": 2, "alert_webhook_timeout_s": 2.0}))
    try:
        yield celery
    finally:
        celery.runtime.close()  # type: ignore[attr-defined]


def deliver_until_settled(app: Celery, message: dict[str, Any], *, rounds: int = 10) -> list[str]:
    """Run the delivery task, then each retry it held in the delayed set (as the run loop would send it)."""
    task = app.tasks[WEBHOOK_TASK]
    held = app.runtime.delayed  # type: ignore[attr-defined]
    outcomes = [task.apply(args=(message,)).get()]
    for _ in range(rounds):
        due = held.take_due(now=1e12)
        if not due:
            break
        for member in due:
            entry = json.loads(member)
            assert entry["task"] == WEBHOOK_TASK
            outcomes.append(task.apply(args=tuple(entry["args"]), retries=entry["options"]["retries"]).get())
            held.done(member)
    return outcomes


def saved_with_hook(app: Celery, url: str) -> dict[str, Any]:
    store = alert_store(app.runtime)  # type: ignore[attr-defined]
    store.add(SavedSearch(name="baghdad", query="Baghdad", webhook=url))
    return delivery_message("baghdad", entry_of(CORPUS[0]))


def test_a_failing_hook_is_retried_then_delivered_once(app: Celery, receiver: Receiver) -> None:
    receiver.failures = 2
    message = saved_with_hook(app, receiver.url)
    assert deliver_until_settled(app, message) == ["failed", "failed", "delivered"]
    assert len(receiver.received) == 3
    keys = {headers[IDEMPOTENCY_HEADER] for headers, _ in receiver.received}
    assert keys == {f"baghdad {CORPUS[0].id}"}  # one key for every attempt of one (alert, article) pair
    headers, body = receiver.received[-1]
    assert headers["Content-Type"] == "application/json"
    assert body["alert"] == "baghdad"
    article = body["article"]
    assert article["id"] == CORPUS[0].id and article["url"] == CORPUS[0].url and article["title"] == CORPUS[0].title
    assert article["source"] == "Example News" and article["published_at"].startswith("2020-01-05")
    assert article["entities"]["persons"] == ["Qassem Soleimani"]
    store = alert_store(app.runtime)  # type: ignore[attr-defined]
    assert store.delivered("baghdad", CORPUS[0].id)
    # Delivered means delivered: the same message again (a redelivery, a reprocess) posts nothing.
    assert app.tasks[WEBHOOK_TASK].apply(args=(message,)).get() == "delivered before"
    assert len(receiver.received) == 3
    assert app.runtime.dead_letters.count() == 0  # type: ignore[attr-defined]


def test_a_hook_that_keeps_failing_is_dead_lettered(app: Celery, receiver: Receiver) -> None:
    receiver.failures = 100
    message = saved_with_hook(app, receiver.url)
    assert deliver_until_settled(app, message) == ["failed"] * 3  # the first try and alert_webhook_max_retries
    letters = app.runtime.dead_letters.list(stage="alert")  # type: ignore[attr-defined]
    assert len(letters) == 1
    letter = letters[0]
    assert letter.reason == "alert.http_500" and letter.attempts == 3
    assert letter.retry_message() == (WEBHOOK_TASK, message)
    assert not alert_store(app.runtime).delivered("baghdad", CORPUS[0].id)  # type: ignore[attr-defined]
    # `failed retry`: the delivery goes back to the I/O queue as it was, and leaves no item in flight.
    runtime = app.runtime  # type: ignore[attr-defined]
    assert redrive(app, runtime, letters) == 1
    [sent] = [json.loads(m) for m in runtime.redis.lrange(runtime.keys.queue("fetch"), 0, -1)]
    assert sent["headers"]["task"] == WEBHOOK_TASK
    assert runtime.tracker.inflight_count() == 0 and runtime.dead_letters.count() == 0


def test_a_refusal_is_final_at_once(app: Celery, receiver: Receiver) -> None:
    receiver.failures, receiver.fail_status = 100, 410
    message = saved_with_hook(app, receiver.url)
    assert deliver_until_settled(app, message) == ["failed"]
    [letter] = app.runtime.dead_letters.list(stage="alert")  # type: ignore[attr-defined]
    assert letter.reason == "alert.http_410" and letter.attempts == 1


def test_webhooks_go_through_the_address_guard(settings: Settings, receiver: Receiver) -> None:
    guarded = create_app(settings.model_copy(update={"allowed_networks": ""}))
    try:
        message = saved_with_hook(guarded, receiver.url)
        assert deliver_until_settled(guarded, message) == ["failed"]
        assert receiver.received == []  # never connected
        [letter] = guarded.runtime.dead_letters.list(stage="alert")  # type: ignore[attr-defined]
        assert letter.reason == "alert.blocked_address"
    finally:
        guarded.runtime.close()  # type: ignore[attr-defined]


def test_a_removed_alert_delivers_nothing(app: Celery, receiver: Receiver) -> None:
    message = saved_with_hook(app, receiver.url)
    alert_store(app.runtime).remove("baghdad")  # type: ignore[attr-defined]
    assert deliver_until_settled(app, message) == ["no webhook"]
    assert receiver.received == []


@pytest.mark.parametrize(("reason", "expected"), [("alert.http_500", True), ("alert.blocked_address", True),
                                                  ("alert.crash", False)])
def test_a_dead_webhook_does_not_fail_a_run(reason: str, expected: bool) -> None:
    from workers.ops.runner import is_expected

    assert is_expected(reason) is expected
