"""Backfill sources against the test Redis, without workers: what is read, filtered, deduped, queued on the
backfill queues and checkpointed. The end-to-end runs (real workers, a SIGKILL mid-file) are in
tests/test_backfill_e2e.py."""

from __future__ import annotations

import base64
import io
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import redis as redis_lib
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.conftest import cli_environment, run_cli
from tests.site import FixtureSite, generated_page
from tests.sitemaps import NEWS_PAGES, PLAIN_PAGES
from workers.archive.read import page_with_html
from workers.backfill.checkpoint import Checkpoint, backfill_id
from workers.backfill.enqueue import Sender, Tally, is_news_url
from workers.backfill.warc import WarcFilters, backfill_warc
from workers.core.ids import document_id
from workers.core.models import FetchedPage
from workers.ops.oneshot import Job
from workers.settings import Settings
from workers.worker.app import create_app

HOST = "news.example"


def page_url(number: int, host: str = HOST) -> str:
    return f"https://{host}/2021/03/02/story-{number}.html"


def write_warc(path: Path, pages: int, *, compress: bool = True, extras: bool = True, corrupt: int | None = None,
               truncated_tail: bool = False, host: str = HOST) -> int:
    """A WARC of ``pages`` news pages (and, with ``extras``, five records that are not news pages); ``corrupt``
    spoils that page's record in place and ``truncated_tail`` adds one page cut short. Returns the records."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=compress)
    starts: dict[int, tuple[int, int]] = {}
    records = 0

    def response(url: str, body: bytes, content_type: str = "text/html; charset=utf-8", status: str = "200 OK",
                 date: str = "2021-03-02T09:00:00Z") -> None:
        nonlocal records
        headers = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
        record = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers,
                                           warc_headers_dict={"WARC-Date": date})
        writer.write_record(record)
        records += 1

    for number in range(pages):
        start = buffer.tell()
        response(page_url(number, host), generated_page(90, number).replace("Gen 90-", f"Story {host} ").encode())
        starts[number] = (start, buffer.tell())
        if extras and number % 20 == 5:
            response(f"https://{host}/img/{number}.jpg", b"\xff\xd8\xff" * 50, "image/jpeg")
            response(f"https://{host}/tag/politics-{number}", b"<html><body>section</body></html>")
            response(f"https://{host}/2021/gone-{number}.html", b"<html>gone</html>", status="404 Not Found")
            request = writer.create_warc_record(page_url(number, host), "request", payload=io.BytesIO(b""),
                                                http_headers=StatusAndHeaders(f"GET /{number} HTTP/1.1", [],
                                                                              is_http_request=True))
            writer.write_record(request)
            records += 2
            writer.write_record(writer.create_warc_record(page_url(number, host), "metadata",
                                                          payload=io.BytesIO(b"via: test"),
                                                          warc_content_type="text/plain"))
    data = bytearray(buffer.getvalue())
    if corrupt is not None:
        start, end = starts[corrupt]
        middle = (start + end) // 2
        data[middle:middle + 40] = b"\x00" * 40
    if truncated_tail:
        tail = io.BytesIO()
        WARCWriter(tail, gzip=compress).write_record(WARCWriter(tail).create_warc_record(
            page_url(10_000, host), "response", payload=io.BytesIO(generated_page(91, 1).encode()),
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")))
        data += tail.getvalue()[: len(tail.getvalue()) // 2]
        records += 1
    path.write_bytes(bytes(data))
    return records


def _env(tmp_path: Path, redis_url: str, namespace: str, **settings: str) -> dict[str, str]:
    env = cli_environment(tmp_path / "data", redis_url, namespace)
    env.update({f"NEWSWORKERS_{k.upper()}": v for k, v in settings.items()})
    return env


def _backfill_json(env: dict[str, str], *args: str) -> dict:
    result = run_cli(env, "backfill", *args, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def _queued(redis_client: redis_lib.Redis, namespace: str, stage: str) -> list[dict]:
    """The first argument of every message waiting in a backfill queue (kombu's envelope, base64 JSON body)."""
    raw = redis_client.lrange(f"{namespace}:backfill_{stage}", 0, -1)
    return [json.loads(base64.b64decode(json.loads(m)["body"]))[0][0] for m in raw]


def test_a_warc_is_read_once_into_pointers_with_its_bad_records_reported(
        tmp_path: Path, redis_url: str, namespace: str, redis_client: redis_lib.Redis) -> None:
    warc = tmp_path / "news.warc.gz"
    write_warc(warc, 60, corrupt=30, truncated_tail=True)
    env = _env(tmp_path, redis_url, namespace)
    summary = _backfill_json(env, "warc", str(warc))
    assert summary["mode"] == "attach" and summary["read_all"]
    assert summary["queued"] == 59  # every page but the spoilt one
    assert summary["skipped"] == {"non_html": 3, "non_news": 3, "not_ok": 3} | {
        k: v for k, v in summary["skipped"].items() if k not in ("non_html", "non_news", "not_ok")}
    assert summary["failed"].get("archive.corrupt", 0) >= 1
    assert any("news.warc.gz@" in e for e in summary["errors"])
    pages = [FetchedPage.model_validate(p) for p in _queued(redis_client, namespace, "extract")]
    assert len(pages) == 59 and redis_client.llen(f"{namespace}:extract") == 0
    assert {p.item.url for p in pages} == {page_url(n) for n in range(60) if n != 30}
    for page in pages:  # no HTML rode the broker: each pointer reads back its own page
        number = page.item.url.rsplit("-", 1)[1].removesuffix(".html")
        assert page.html == "" and f"Story {HOST} {number}:" in page_with_html(page).html
    assert {p.item.backfill for p in pages} == {summary["backfill"]}
    again = _backfill_json(env, "warc", str(warc))  # the same command: finished, nothing read again
    assert (again["backfill"], again["records_read"], again["queued"]) == (summary["backfill"], 0, 0)
    assert again["resumed_after"] == summary["records_read"]


def test_domain_and_date_filters_and_dedupe_against_the_index(
        tmp_path: Path, settings: Settings, redis_client: redis_lib.Redis) -> None:
    one, two = tmp_path / "a.warc", tmp_path / "b.warc.gz"
    write_warc(one, 10, compress=False, extras=False)
    write_warc(two, 10, extras=False, host="other.example")
    app = create_app(settings)
    runtime = app.runtime  # type: ignore[attr-defined]
    runtime.tracker.finish([document_id(page_url(3))])  # already indexed
    tally = Tally()
    job = Job(app, runtime, threading.Event())
    sender = Sender(job, "bf-test", tally)
    checkpoint = Checkpoint(runtime.redis, runtime.keys, "bf-test")
    backfill_warc(sender, checkpoint, [one, two], WarcFilters(domains=(HOST,)), every=5)
    assert (tally.records_read, tally.queued, tally.skipped["duplicate"], tally.skipped["filtered"]) == (20, 9, 1, 10)
    tally2 = Tally()
    backfill_warc(Sender(job, "bf-2", tally2), Checkpoint(runtime.redis, runtime.keys, "bf-2"), [one],
                  WarcFilters(since=datetime(2022, 1, 1, tzinfo=UTC)), every=5)
    assert tally2.skipped["filtered"] == 10 and tally2.queued == 0
    assert job.tracked == 9


def test_a_stopped_warc_backfill_continues_at_its_checkpoint_and_reads_nothing_twice(
        tmp_path: Path, settings: Settings) -> None:
    warc = tmp_path / "c.warc.gz"
    total = write_warc(warc, 50)
    app = create_app(settings)
    runtime = app.runtime  # type: ignore[attr-defined]
    stop = threading.Event()
    first, second = Tally(), Tally()

    class StopAfter(Sender):
        def send_extract(self, page: FetchedPage) -> bool:
            sent = super().send_extract(page)
            if self.tally.queued == 20:
                stop.set()  # as Ctrl-C would, between two records
            return sent

    backfill_warc(StopAfter(Job(app, runtime, stop), "bf-c", first), Checkpoint(runtime.redis, runtime.keys, "bf-c"),
                  [warc], WarcFilters(), every=7)
    assert first.queued == 20 and first.records_read < total
    job = Job(app, runtime, threading.Event())
    backfill_warc(Sender(job, "bf-c", second), Checkpoint(runtime.redis, runtime.keys, "bf-c"), [warc],
                  WarcFilters(), every=7)
    assert second.resumed == first.records_read  # it saved where it stopped
    assert first.records_read + second.records_read == total
    assert first.queued + second.queued == 50 and second.skipped["duplicate"] == 0


def test_a_news_sitemap_index_is_walked_with_since_gzip_and_a_missing_child(
        tmp_path: Path, redis_url: str, namespace: str, redis_client: redis_lib.Redis, site: FixtureSite) -> None:
    env = _env(tmp_path, redis_url, namespace)
    summary = _backfill_json(env, "sitemap", site.url("/sitemaps/index.xml"), "--since", "2020-01-01")
    assert summary["queued"] == len(NEWS_PAGES) + len(PLAIN_PAGES)
    assert summary["skipped"] == {"filtered": 1, "non_news": 1}
    assert summary["failed"] == {"sitemap.http_404": 1}
    items = _queued(redis_client, namespace, "fetch")
    assert {i["url"] for i in items} == {site.url(p) for p in (*NEWS_PAGES, *PLAIN_PAGES)}
    story = next(i for i in items if i["url"].endswith("/gen/55/2.html"))
    assert (story["title"], story["source_name"], story["published_at"][:19]) == (
        "Backfill story 2", "The Loopback Post", "2021-03-02T02:00:00")
    again = _backfill_json(env, "sitemap", site.url("/sitemaps/index.xml"), "--since", "2020-01-01")
    assert again["queued"] == 0 and again["records_read"] == 0  # finished sitemaps are passed over


def test_a_url_file_skips_comments_bad_lines_non_news_and_repeats(
        tmp_path: Path, redis_url: str, namespace: str, redis_client: redis_lib.Redis, site: FixtureSite) -> None:
    urls = tmp_path / "urls.txt"
    lines = ["# history", site.url("/gen/60/1.html"), "", site.url("/gen/60/2.html"), "ftp://example.com/x",
             site.url("/gen/60/1.html?utm_source=x"), site.url("/"), site.url("/gen/60/3.html")]
    urls.write_text("\n".join(lines) + "\n")
    summary = _backfill_json(_env(tmp_path, redis_url, namespace), "urls", str(urls))
    assert summary["queued"] == 3
    assert summary["skipped"] == {"duplicate": 1, "non_news": 1}
    assert summary["failed"] == {"urls.invalid": 1} and ":5:" in summary["errors"][0]
    assert redis_client.llen(f"{namespace}:backfill_fetch") == 3


def test_backfill_ids_follow_the_arguments() -> None:
    assert backfill_id("warc", {"paths": ["/a"]}) == backfill_id("warc", {"paths": ["/a"]})
    assert backfill_id("warc", {"paths": ["/a"]}) != backfill_id("warc", {"paths": ["/b"]})
    assert is_news_url("https://x.example/2021/03/02/budget.html")
    assert not any(map(is_news_url, ["https://x.example/", "https://x.example/tag/a", "https://x.example/a.pdf",
                                      "mailto:a@b", "https://x.example/page/2"]))
