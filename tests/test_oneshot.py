"""The one-shot runner (backfill, reprocess): enqueue only when it does not own the data directory, start the
workers and follow the work to its end when it does; backfill items ride queues of their own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis as redis_lib
from rich.console import Console

from tests.conftest import LOOPBACK_SETTINGS
from tests.site import FixtureSite
from workers.core.ids import document_id
from workers.core.models import FeedItem
from workers.ops.oneshot import Job, run_oneshot
from workers.search.tantivy.backend import TantivyBackend
from workers.settings import Settings
from workers.worker.app import create_app
from workers.worker.pools import worker_argv, worker_spec


def _items(site: FixtureSite, count: int, *, backfill: str | None) -> list[FeedItem]:
    urls = [site.url(f"/gen/77/{n}.html") for n in range(count)]
    return [FeedItem(doc_id=document_id(u), url=u, feed_url=site.url("/urls.txt"), backfill=backfill) for u in urls]


def _enqueuer(items: list[FeedItem]):  # type: ignore[no-untyped-def]
    def enqueue(job: Job) -> int:
        sent = 0
        for item in items:
            payload = item.model_dump(mode="json")
            if job.runtime.tracker.claim(item.doc_id, json.dumps(payload)):
                job.app.tasks["newsworkers.fetch"].apply_async((payload,))
                job.track([item.doc_id])
                sent += 1
        return sent
    return enqueue


def test_backfill_items_go_to_the_backfill_queues_and_live_ones_do_not(settings: Settings, site: FixtureSite,
                                                                     redis_client: redis_lib.Redis) -> None:
    app = create_app(settings)
    live, history = _items(site, 2, backfill=None), _items(site, 3, backfill="b1")[:3]
    history = [h.model_copy(update={"doc_id": h.doc_id + "x"}) for h in history]
    for item in (*live, *history):
        app.tasks["newsworkers.fetch"].apply_async((item.model_dump(mode="json"),))
    page = {"item": history[0].model_dump(mode="json"), "final_url": history[0].url, "status": 200}
    app.tasks["newsworkers.extract_batch"].apply_async((page,))
    ns = settings.namespace
    assert redis_client.llen(f"{ns}:fetch") == 2
    assert redis_client.llen(f"{ns}:backfill_fetch") == 3
    assert redis_client.llen(f"{ns}:backfill_extract") == 1
    assert redis_client.llen(f"{ns}:extract") == 0


def test_history_is_read_after_live_news_or_by_a_worker_of_its_own_at_the_lowest_priority(
        settings: Settings) -> None:
    fetch = worker_argv(worker_spec("fetch", settings))
    assert fetch[fetch.index("--queues") + 1] == "fetch,backfill_fetch"  # live first, history while it is empty
    extract = worker_argv(worker_spec("extract", settings))
    assert extract[extract.index("--queues") + 1] == "extract,backfill_extract"
    own = settings.model_copy(update={"backfill_own_worker": True})
    assert worker_spec("extract", own).after == ()
    backfill = worker_argv(worker_spec("backfill", own))
    assert backfill[:3] == ["nice", "-n", "19"] and backfill[backfill.index("--queues") + 1] == "backfill_extract"
    assert worker_spec("index", settings).after == ()
    app = create_app(settings)
    assert app.conf.broker_transport_options["queue_order_strategy"] == "priority"


def test_with_a_broker_given_it_only_enqueues(settings: Settings, site: FixtureSite,
                                              redis_client: redis_lib.Redis) -> None:
    items = _items(site, 4, backfill="b2")
    result = run_oneshot(settings, _enqueuer(items), wait=False, console=Console(quiet=True))
    assert (result.mode, result.tracked, result.value, result.interrupted) == ("attach", 4, 4, False)
    assert not result.finished  # nobody waited for the workers
    assert redis_client.llen(f"{settings.namespace}:backfill_fetch") == 4
    assert redis_client.zcard(f"{settings.namespace}:inflight") == 4


def test_wait_without_workers_gives_up_at_its_timeout(settings: Settings, site: FixtureSite) -> None:
    result = run_oneshot(settings, _enqueuer(_items(site, 2, backfill="b3")), wait=True,
                         console=Console(quiet=True), timeout_s=1.5)
    assert result.interrupted and not result.finished
    assert 1.4 < result.elapsed_s < 10


@pytest.mark.slow
def test_on_embedded_defaults_it_starts_the_workers_and_returns_once_all_is_indexed(
        tmp_path: Path, site: FixtureSite, namespace: str) -> None:
    settings = Settings(data_dir=tmp_path / "data", redis_url=None, namespace=namespace, index_flush_interval_s=0.2,
                        **LOOPBACK_SETTINGS)
    items = _items(site, 6, backfill="b4")
    result = run_oneshot(settings, _enqueuer(items), wait=False, console=Console(quiet=True), timeout_s=180)
    assert (result.mode, result.finished, result.interrupted, result.worker_deaths) == ("own", True, False, 0)
    assert result.indexed == 6
    backend = TantivyBackend(tmp_path / "data" / "index")
    assert backend.count() == 6
    assert {backend.get(i.doc_id) is not None for i in items} == {True}
