"""Search beyond English after real runs: `newsworkers run --once` over the project's own multilingual seed
pages (seeds/international, no ../shared needed), and over real German and Japanese news pages from
../shared/data/multilingual-news served by the loopback site. Inflected German forms find their pages,
Japanese words inside running text find theirs."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, newsworkers_cli
from tests.site import Canned, FixtureSite
from workers.core.models import Article
from workers.net.decoding import decode_html
from workers.search.model import SearchQuery
from workers.search.tantivy.backend import TantivyBackend

pytestmark = pytest.mark.slow

MULTILINGUAL = ROOT.parent / "shared" / "data" / "multilingual-news"
NO_SHARED = f"{MULTILINGUAL} is absent: the real-page leg needs ../shared/data/multilingual-news"


def cli(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*newsworkers_cli(), *args], env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT)


def base_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ELASTICSEARCH_URL")}
    env["NEWSWORKERS_DATA_DIR"] = str(data_dir)
    return env


def search(env: dict[str, str], query: str, *extra: str) -> dict:
    result = cli("search", query, "--json", "--limit", "100", *extra, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def slugs(env: dict[str, str], query: str, *extra: str) -> set[str]:
    return {Path(hit["url"]).stem for hit in search(env, query, *extra)["hits"]}


# -- the project's own pages ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A run over seeds/international alone (its feed and pages, copied as laid out in seeds/)."""
    root = tmp_path_factory.mktemp("international")
    (root / "seeds" / "feeds").mkdir(parents=True)
    shutil.copy(ROOT / "seeds" / "feeds" / "international.xml", root / "seeds" / "feeds")
    shutil.copytree(ROOT / "seeds" / "international", root / "seeds" / "international")
    env = base_env(root / "data")
    env["NEWSWORKERS_SEEDS_DIR"] = str(root / "seeds")
    result = cli("run", "--once", "--timeout", "180", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 articles indexed" in " ".join(result.stdout.split())
    return env


DE, FR, ES, JA, RU = ("bahnstrecken-bund-laender-einigung", "greve-trains-regionaux-bretagne",
                      "sequia-embalses-andalucia", "hokkaido-ooyuki-sapporo-kotsu", "novosibirsk-novyi-most-ob")


def test_seed_pages_are_detected_in_their_languages(seeded: dict[str, str]) -> None:
    result = search(seeded, "", "--facet", "language")
    assert {f["value"]: f["count"] for f in result["facets"]["language"]} == {"de": 1, "fr": 1, "es": 1, "ja": 1,
                                                                           "ru": 1}


@pytest.mark.parametrize(("query", "page"), [
    ("Regierungen", DE),  # the page says "Regierung"
    ("Bahnstrecke", DE),  # "Bahnstrecken"
    ("Stellwerk", DE),  # "Stellwerke"
    ("grèves", FR),  # "grève"
    ("contrôleur", FR),  # "contrôleurs"
    ("embalse", ES),  # "embalses"
    ("sequias", ES),  # "sequía": stemmed and accent-folded
    ("мосты", RU),  # "мост", "мосту", "мостов"
    ("Новосибирск", RU),  # "Новосибирске"
    ("除雪作業", JA),  # words inside running Japanese text
    ("欠航", JA),
    ("記者会見", JA),
    ("新千歳空港", JA),
])  # fmt: skip
def test_inflected_and_unspaced_words_find_their_seed_page(seeded: dict[str, str], query: str, page: str) -> None:
    assert slugs(seeded, query) == {page}


def test_language_narrows_and_snippets_mark_the_words(seeded: dict[str, str]) -> None:
    assert slugs(seeded, "Rennes OR Kassel OR 札幌") == {DE, FR, JA}
    assert slugs(seeded, "(Rennes OR Kassel OR 札幌) language:ja") == {JA}
    assert slugs(seeded, "Rennes OR Kassel OR 札幌", "--filter", "language=de") == {DE}
    [hit] = search(seeded, "除雪作業")["hits"]
    assert "<b>除雪作業</b>" in hit["snippet"]
    [hit] = search(seeded, '"Regierungen in Berlin"')["hits"]
    assert "<b>Regierung</b> <b>in</b> <b>Berlin</b>" in hit["snippet"]


# -- real pages from ../shared ------------------------------------------------------------------------------------


def _pages() -> dict[str, str]:
    """German- and Japanese-speaking publishers' pages (by country; the language is checked after extraction)."""
    rows = [json.loads(line) for line in (MULTILINGUAL / "truth.jsonl").read_text().splitlines() if line.strip()]
    chosen = [r["id"] for r in rows if r["country"] in ("at", "ch")][:6] + \
             [r["id"] for r in rows if r["country"] == "de"][::6] + [r["id"] for r in rows if r["country"] == "jp"]
    pages = {}
    for page_id in chosen:
        raw = gzip.decompress((MULTILINGUAL / "html" / f"{page_id}.html.gz").read_bytes())
        pages[page_id] = decode_html(raw, None)
    return pages


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory, site: FixtureSite,
             redis_url: str) -> Iterator[tuple[dict[str, str], list[Article]]]:
    if not (MULTILINGUAL / "truth.jsonl").is_file():
        pytest.skip(NO_SHARED)
    pages = _pages()
    for page_id, text in pages.items():
        site.dynamic[f"ml/{page_id}.html"] = Canned(body=text, content_type="text/html; charset=utf-8")
    items = "".join(f"<item><title>{page_id}</title><link>{site.url(f'/dyn/ml/{page_id}.html')}</link></item>"
                    for page_id in pages)
    site.dynamic["ml.xml"] = Canned(body=f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                                         f"<title>Multilingual</title>{items}</channel></rss>")
    env = base_env(tmp_path_factory.mktemp("multilingual") / "data")
    env.update({"REDIS_URL": redis_url, "NEWSWORKERS_NAMESPACE": f"ml{os.getpid()}"})
    added = cli("feeds", "add", site.url("/dyn/ml.xml"), env=env)
    assert added.returncode == 0, added.stderr
    result = cli("run", "--once", "--timeout", "240", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    backend = TantivyBackend(Path(env["NEWSWORKERS_DATA_DIR"]) / "index")
    found = backend.search(SearchQuery(limit=100))
    articles = [a for h in found.hits if (a := backend.get(h.id)) is not None]
    backend.close()
    assert len(articles) >= len(pages) - 2, result.stdout
    yield env, articles


def found_urls(env: dict[str, str], text: str) -> set[str]:
    """What a search finds, asked in process (the CLI's startup, paid per word, would dominate the test)."""
    backend = TantivyBackend(Path(env["NEWSWORKERS_DATA_DIR"]) / "index")
    try:
        return {hit.url for hit in backend.search(SearchQuery(text=text, limit=100)).hits}
    finally:
        backend.close()


_UNG = re.compile(r"\b([A-ZÄÖÜ][a-zäöüß]{3,}ung)\b")
_KANJI_RUN = re.compile(r"[\u4e00-\u9fff]{2}")


@pytest.mark.timeout(900)  # the first test using real_run pays for the run over the pages
def test_german_plurals_find_the_pages_that_say_the_singular(real_run: tuple[dict[str, str], list[Article]]) -> None:
    """Every German -ung noun has its plural in -ungen: searched in the plural, the page is found."""
    env, articles = real_run
    checked = 0
    for article in (a for a in articles if a.language == "de"):
        # Only singulars whose plural the article never writes: found through stemming alone.
        text = f"{article.title}\n{article.body}"
        words = list(dict.fromkeys(w for w in _UNG.findall(article.body) if f"{w}en" not in text))[:2]
        for word in words:
            assert article.url in found_urls(env, f"{word}en"), (word, article.url)
            checked += 1
    assert checked >= 8


@pytest.mark.timeout(900)
def test_japanese_words_inside_running_text_find_their_pages(real_run: tuple[dict[str, str],
                                                                              list[Article]]) -> None:
    """Two-kanji words taken from the middle of unspaced runs of text: each finds its page."""
    env, articles = real_run
    checked = 0
    for article in (a for a in articles if a.language == "ja"):
        runs = [run for run in re.split(r"\s+", article.body) if len(run) >= 12]
        words = []
        for run in runs:
            inner = run[4:-4]  # never at a run's edge: a whitespace tokenizer would find those
            words.extend(m.group(0) for m in _KANJI_RUN.finditer(inner))
        for word in list(dict.fromkeys(words))[:3]:
            assert article.url in found_urls(env, word), (word, article.url)
            checked += 1
    assert checked >= 9
