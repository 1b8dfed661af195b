"""Batched extract: nlp.pipe over several pages gives what one page at a time gives, and keeps memory flat."""

from __future__ import annotations

import base64
import json

import pytest

from tests.conftest import ROOT
from tests.test_extract import page_for
from workers.core.errors import ExtractionError
from workers.core.models import ENTITY_KINDS, Article
from workers.entities.batch import tag_texts
from workers.entities.recognizer import EntityRecognizer
from workers.pipeline.extract.article import extract_article
from workers.pipeline.extract.batch import extract_pages
from workers.settings import Settings

PAGES = sorted(p for p in (ROOT / "seeds" / "articles").glob("*.html") if p.stem != "broken-page")


@pytest.fixture(scope="module")
def bsettings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def ner(bsettings: Settings) -> EntityRecognizer:
    recognizer = EntityRecognizer(bsettings.spacy_model, max_chars=bsettings.ner_max_chars)
    _ = recognizer.nlp
    return recognizer


def test_batched_extract_finds_the_same_entities_as_one_by_one(bsettings: Settings, ner: EntityRecognizer) -> None:
    pages = [page_for(path) for path in PAGES[::2]]  # every other seed page keeps the quick loop quick
    batched = extract_pages(pages, bsettings, ner, None)
    tagged = 0
    for page, result in zip(pages, batched, strict=True):
        alone = extract_article(page, bsettings, ner)
        assert isinstance(result, Article), result
        for kind in ENTITY_KINDS:
            assert getattr(result, kind) == getattr(alone, kind), (page.item.url, kind)
        tagged += bool(result.persons or result.locations)
    assert tagged >= len(pages) - 2  # the comparison is not between two empty lists


def test_a_page_that_fails_costs_its_batch_neighbours_nothing(bsettings: Settings, ner: EntityRecognizer) -> None:
    german = ("<html><body><article><p>" + "Die Bundesregierung in Berlin hat am Dienstag nach langen Verhandlungen "
              "den Haushalt beschlossen, teilte das Finanzministerium mit. " * 6 + "</p></article></body></html>")
    pages = [page_for(PAGES[0]), page_for(None, html="   "), page_for(None, html=german)]
    good, empty, other_language = extract_pages(pages, bsettings, ner, None)
    assert isinstance(good, Article) and good.persons
    assert isinstance(empty, ExtractionError) and empty.reason == "extract.empty"
    # No model for German: no entities rather than English NER's guesses.
    assert isinstance(other_language, Article) and other_language.language == "de"
    assert all(getattr(other_language, kind) == [] for kind in ENTITY_KINDS)


def test_memory_zone_keeps_the_vocabulary_flat_across_batches(ner: EntityRecognizer) -> None:
    def batch(n: int) -> list[str]:
        # Names and numbers never seen before, as a long-running worker meets them every day.
        return [f"Minister Zorblax{n}q{i} met Qwertania{n}x{i} officials in Vlorpstad{n}y{i} on {n * 1000 + i}."
                for i in range(20)]

    found = tag_texts(ner, batch(0))
    assert any(found_one["persons"] or found_one["locations"] for found_one in found)
    after_first = len(ner.nlp.vocab.strings)
    for n in range(1, 6):
        tag_texts(ner, batch(n))
    assert len(ner.nlp.vocab.strings) == after_first


def test_the_batch_task_sends_pages_delivered_before_through_the_one_page_task(settings: Settings) -> None:
    """A batch whose child died comes back whole: its pages then go one by one, so the page at fault ends alone."""
    from celery_batches import SimpleRequest

    from workers.worker.app import create_app

    app = create_app(settings)
    runtime = app.runtime
    fresh, again = page_for(PAGES[0]), page_for(PAGES[1])
    runtime.tracker.count_delivery("extract-batch", again.item.doc_id)  # it was in a batch that never finished
    requests = [SimpleRequest(id=f"r{i}", name="newsworkers.extract_batch", args=(p.model_dump(mode="json"),),
                              kwargs={}, delivery_info={}, hostname="test", ignore_result=True, reply_to=None,
                              correlation_id=None, request_dict={}) for i, p in enumerate([fresh, again])]
    app.tasks["newsworkers.extract_batch"].run(requests)
    def queued(queue: str) -> list[tuple[str, dict]]:
        messages = [json.loads(m) for m in runtime.redis.lrange(runtime.keys.queue(queue), 0, -1)]
        return [(m["headers"]["task"], json.loads(base64.b64decode(m["body"]))[0][0]) for m in messages]

    assert [(task, args["item"]["url"]) for task, args in queued("extract")] == [
        ("newsworkers.extract", again.item.url)]
    assert [(task, [p["article"]["url"] for p in args["batch"]]) for task, args in queued("index")] == [
        ("newsworkers.index", [fresh.item.url])]  # the batch's articles ride in one index message
    assert not runtime.redis.hgetall(runtime.keys.deliveries)  # the batch's own delivery marks are cleared


def _batch_requests(pages: list) -> list:
    from celery_batches import SimpleRequest

    return [SimpleRequest(id=f"r{i}", name="newsworkers.extract_batch", args=(p.model_dump(mode="json"),),
                          kwargs={}, delivery_info={}, hostname="test", ignore_result=True, reply_to=None,
                          correlation_id=None, request_dict={}) for i, p in enumerate(pages)]


def test_copies_of_one_message_in_a_batch_are_one_delivery(settings: Settings) -> None:
    """A broker restart may restore an unacknowledged message twice: one page, extracted and counted once."""
    from workers.worker.app import create_app

    app = create_app(settings)
    runtime = app.runtime
    page = page_for(PAGES[0])
    app.tasks["newsworkers.extract_batch"].run(_batch_requests([page, page, page]))
    assert runtime.redis.llen(runtime.keys.queue("extract")) == 0  # no copy taken for a page delivered before
    assert runtime.redis.llen(runtime.keys.queue("index")) == 1
    assert not runtime.redis.hgetall(runtime.keys.deliveries)


def test_the_one_page_task_clears_its_count_when_it_finishes(settings: Settings) -> None:
    """Redelivered copies that each finished are not deaths: only deliveries that never ended make poison."""
    from workers.worker.app import create_app

    app = create_app(settings)
    runtime = app.runtime
    page = page_for(PAGES[0])
    for _ in range(settings.max_deliveries + 2):
        app.tasks["newsworkers.extract"].run(page.model_dump(mode="json"))
    assert not runtime.redis.hgetall(runtime.keys.failed)
    assert runtime.redis.llen(runtime.keys.queue("index")) == settings.max_deliveries + 2
    assert not runtime.redis.hgetall(runtime.keys.deliveries)
