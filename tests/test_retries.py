"""The failure policy: what is retried, what is dead-lettered with which reason, what fails a run."""

from __future__ import annotations

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from workers.core.errors import FetchError, RetryableFetchError
from workers.ops.runner import RunSummary, is_expected
from workers.settings import Settings
from workers.worker.app import create_app
from workers.worker.middleware import retry_or_dead_letter


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (FetchError("gone", reason="fetch.http_404"), "fetch.http_404"),
        (SoftTimeLimitExceeded(), "extract.timeout"),
        (KeyError("a bug"), "extract.crash"),
    ],
)
def test_final_failures_are_dead_lettered_with_their_reason(settings: Settings, exc: BaseException,
                                                            reason: str) -> None:
    app = create_app(settings)
    runtime = app.runtime
    retry_or_dead_letter(app.tasks["newsworkers.extract"], runtime, exc, stage="extract", key="doc-1",
                         url="https://x.example/1", payload={"url": "https://x.example/1"})
    letter = runtime.dead_letters.get("doc-1")
    assert letter is not None and letter.reason == reason and letter.stage == "extract"
    assert runtime.tracker.is_seen("doc-1")
    assert runtime.stats.reasons() == {reason: 1}


def test_transient_failures_are_retried_not_dead_lettered(settings: Settings) -> None:
    import json


    app = create_app(settings)
    # The retry waits in Redis (workers/broker/delayed.py), not as a countdown in the broker.
    retry_or_dead_letter(app.tasks["newsworkers.fetch"], app.runtime,
                         RetryableFetchError("slow", reason="fetch.timeout"),
                         stage="fetch", key="doc-2", url="https://x.example/2", payload={})
    assert app.runtime.dead_letters.get("doc-2") is None
    assert app.runtime.stats.snapshot() == {"fetch.retried": 1}
    held = app.runtime.delayed
    assert held.count() == 1
    assert json.loads(held.take_due(now=1e12)[0])["options"]["retries"] == 1


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("feed.http_404", True), ("feed.not_a_feed", True), ("fetch.timeout", True), ("fetch.file_refused", True),
        ("extract.empty", True), ("extract.timeout", True), ("fetch.crash", False), ("extract.crash", False),
        ("index.rejected", False), ("index.crash", False), ("config.invalid", False), ("pipeline.lost", False),
    ],
)
def test_which_failures_a_run_once_may_meet_and_still_succeed(reason: str, expected: bool) -> None:
    assert is_expected(reason) is expected
    summary = RunSummary(elapsed_s=1.0, failed=[{"stage": "x", "url": "u", "reason": reason, "error": ""}])
    assert summary.exit_code == (0 if expected else 1)


def test_undrained_or_dead_workers_fail_a_run() -> None:
    assert RunSummary(elapsed_s=1.0, drained=False).exit_code == 1
    assert RunSummary(elapsed_s=1.0, worker_deaths=1).exit_code == 1
    assert RunSummary(elapsed_s=1.0).exit_code == 0


def test_a_page_that_keeps_killing_its_worker_is_recorded_not_looped(settings: Settings) -> None:
    from workers.core.ids import document_id
    from workers.core.models import FeedItem, FetchedPage

    app = create_app(settings)
    runtime = app.runtime
    url = "https://x.example/poison"
    page = FetchedPage(item=FeedItem(doc_id=document_id(url), url=url, feed_url="https://x.example/rss",
                                     title="Poison"), final_url=url, status=200, html="<p>x</p>")
    for _ in range(3):  # three deliveries that died with their worker before finishing
        runtime.tracker.count_delivery("extract", page.item.doc_id)
    app.tasks["newsworkers.extract"].apply(args=(page.model_dump(mode="json"),))  # the fourth, run for real
    letter = runtime.dead_letters.get(page.item.doc_id)
    assert letter is not None and letter.reason == "extract.poison"
    assert runtime.redis.llen(runtime.keys.queue("index")) == 0
    assert is_expected("extract.poison")


@pytest.mark.parametrize(("reason", "code"), [("feed.http_404", 0), ("feed.timeout", 0), ("feed.crash", 1)])
def test_a_crash_in_our_poll_code_fails_the_run(reason: str, code: int) -> None:
    summary = RunSummary(elapsed_s=1.0, feeds_failed={"https://x.example/rss": (reason, "boom")})
    assert summary.exit_code == code


def test_a_poll_that_crashes_is_recorded_on_its_feed(settings: Settings) -> None:
    app = create_app(settings)
    url = "https://x.example/rss"
    result = app.tasks["newsworkers.poll"].apply(args=({"url": url, "local": "not a boolean"},))
    assert result.failed()
    state = app.runtime.registry.state(url)
    assert state.last_reason == "feed.crash" and state.error_streak == 1
    assert app.runtime.stats.reasons() == {"feed.crash": 1}
