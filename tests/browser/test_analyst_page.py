"""The analyst's controls of the search page in headless Chromium, over a real Tantivy index with dates
relative to now and a server with API keys set: date presets and range, downloads, saved searches, the
histogram's axis and keyboard, snippets, pager words, NOT chips, the new facets, top sources, Compare, the
phone's filters button, keyboard use and the article dialog, the world map, and an axe-core check."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.analyst_corpus import OLDER, SOURCES, WITHIN_7D, WITHIN_24H, WITHIN_30D, write_index
from tests.browser.conftest import ARTIFACTS, serving
from tests.browser.pages import open_page, settle, summary_total

pytestmark = [pytest.mark.browser, pytest.mark.slow]

API_KEY = "analyst-key-7f3c"
AXE = Path(__file__).parent / "fixtures" / "axe.min.js"
ELLIPSIS = "\u2026"
TOTAL = len(WITHIN_24H) + len(WITHIN_7D) + len(WITHIN_30D) + len(OLDER)


@pytest.fixture(scope="module")
def analyst(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("analyst") / "data"
    write_index(data_dir / "index")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ELASTICSEARCH_URL")}
    env.update(NEWSWORKERS_DATA_DIR=str(data_dir), NEWSWORKERS_API_KEYS=API_KEY)
    with serving(env) as base:
        yield base


def new_tab(browser: Any, base: str, width: int = 1400, height: int = 900, **options: Any) -> tuple[Any, Any]:
    # Playwright's waits evaluate strings, which the page's strict CSP forbids; the escaping is tested elsewhere.
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=base, bypass_csp=True,
                                  accept_downloads=True, **options)
    tab = context.new_page()
    tab.problems = []
    tab.requested = []
    tab.on("pageerror", lambda exc: tab.problems.append(str(exc)))
    tab.on("request", lambda request: tab.requested.append(request.url))
    return context, tab


@pytest.fixture
def page(browser: Any, analyst: str) -> Iterator[Any]:
    context, tab = new_tab(browser, analyst)
    yield tab
    context.close()
    assert tab.problems == [], "the page raised JavaScript errors"


def api(base: str, path: str = "/api/search", **params: Any) -> Any:
    response = httpx.get(base + path, params={"size": 0, **params}, timeout=10)
    response.raise_for_status()
    return response.json()


def test_date_presets_and_a_custom_range(page: Any, analyst: str) -> None:
    open_page(page, "/")
    assert summary_total(page) == TOTAL
    for label, expected in (("24 h", len(WITHIN_24H)), ("7 days", len(WITHIN_24H) + len(WITHIN_7D)),
                            ("30 days", len(WITHIN_24H) + len(WITHIN_7D) + len(WITHIN_30D))):
        page.click(f'.preset:text-is("{label}")')
        page.wait_for_selector(f'.preset[aria-pressed="true"]:text-is("{label}")')
        settle(page)
        assert summary_total(page) == expected, label
        assert "range=" in page.url and "since=" not in page.url, "a preset stays relative in the URL"
    assert page.inner_text("#range-label") == "Last 30 days"
    # A custom range from the date inputs: the same count as the API gives for those dates.
    page.fill("#since-input", "2026-01-01")
    page.fill("#until-input", "2026-06-30")
    page.click("#date-form button[type=submit]")
    page.wait_for_url("**since=2026-01-01**")
    settle(page)
    expected = api(analyst, since="2026-01-01", until="2026-06-30", collapse="true")["total"]
    assert summary_total(page) == expected
    assert page.locator('.preset[aria-pressed="true"]').count() == 0
    page.click('.preset:text-is("all")')
    page.wait_for_function("!location.search.includes('since')")
    settle(page)
    assert summary_total(page) == TOTAL


def test_downloads_are_the_result_set_through_the_export_api(page: Any, analyst: str) -> None:
    open_page(page, "/?q=drought&not_source_name=Gamma+Post")
    expected = api(analyst, q='drought -source_name:"Gamma Post"', size=100)
    ids = {hit["id"] for hit in expected["hits"]}
    assert 0 < len(ids) < api(analyst, q="drought")["total"]
    with page.expect_download() as csv_download:
        page.click("#download-csv")
    rows = list(csv.DictReader(io.StringIO(Path(csv_download.value.path()).read_text(encoding="utf-8"))))
    assert {row["id"] for row in rows} == ids
    assert "Gamma Post" not in {row["source_name"] for row in rows}
    with page.expect_download() as jsonl_download:
        page.click("#download-jsonl")
    lines = Path(jsonl_download.value.path()).read_text(encoding="utf-8").splitlines()
    assert {json.loads(line)["id"] for line in lines} == ids
    assert all("/api/export?" in page.get_attribute(f"#download-{f}", "href") for f in ("csv", "jsonl"))


def test_saved_searches_list_save_open_delete_with_an_api_key(page: Any, analyst: str) -> None:
    open_page(page, "/?q=flood")
    page.wait_for_selector("#save-box:not([hidden])")
    # Without the key the server refuses, and the panel asks for it.
    page.fill("#save-name", "flood-watch")
    page.click("#save")
    page.wait_for_selector("#error:not([hidden])")
    assert "API key" in page.inner_text("#error")
    assert page.locator("#key-box").get_attribute("open") is not None
    page.fill("#api-key", API_KEY)
    page.fill("#save-name", "flood-watch")
    page.click("#save")
    item = page.locator('#saved-list .saved-item[data-name="flood-watch"]')
    item.wait_for()
    assert page.locator("#error").is_hidden()
    flood = api(analyst, q="flood")["total"]
    assert f"{flood} matches" in item.inner_text()
    feed = item.locator("a.saved-feed").get_attribute("href")
    assert feed == "/feeds/flood-watch.atom"
    atom = httpx.get(analyst + feed, timeout=10)
    assert atom.status_code == 200 and "Story 1 on the flood" in atom.text
    # Open it from another search: its words come back.
    open_page(page, "/?q=drought")
    item.locator(".saved-open").click()
    page.wait_for_url("**q=flood**")
    settle(page)
    assert summary_total(page) == flood
    # Delete it: gone from the list and from the API.
    item.locator(".saved-delete").click()
    item.wait_for(state="detached")
    assert "flood-watch" not in {a["name"] for a in httpx.get(analyst + "/api/alerts", timeout=10).json()}
    # The key went in a header, never into a URL.
    assert all(API_KEY not in url for url in [page.url, *page.requested])
    assert API_KEY not in page.evaluate("location.href + document.cookie")


def test_histogram_has_a_y_axis_and_bars_work_by_keyboard(page: Any, analyst: str) -> None:
    open_page(page, "/")
    top = int(page.get_attribute("#histogram", "data-top"))
    labels = page.locator("#histogram .slot").evaluate_all("slots => slots.map(s => s.getAttribute('aria-label'))")
    counts = [int(label.rsplit(": ", 1)[1].split()[0]) for label in labels]
    ticks = [int(t.replace(",", "")) for t in page.locator("#histogram-y .tick").all_inner_texts()]
    assert ticks[0] == 0 and ticks[-1] == top >= max(counts) > 0
    # One bar is in the Tab order; arrows move along the bars, Enter narrows to the focused one.
    assert page.locator('#histogram .slot[tabindex="0"]').count() == 1
    page.locator('#histogram .slot[tabindex="0"]').focus()
    last = len(counts) - 1
    assert page.evaluate("document.activeElement.dataset.index") == str(last)
    page.keyboard.press("Home")
    assert page.evaluate("document.activeElement.dataset.index") == "0"
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.dataset.index") == "1"
    busiest = max(range(len(counts)), key=counts.__getitem__)
    page.keyboard.press("Home")
    for _ in range(busiest):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.wait_for_url("**until=**")
    settle(page)
    assert summary_total(page) == counts[busiest]


def test_snippets_end_on_word_boundaries_with_an_ellipsis(page: Any, analyst: str) -> None:
    open_page(page, "/?q=dominated")
    hits = page.locator("#results .hit")
    assert hits.count() > 0
    for i in range(hits.count()):
        text = hits.nth(i).locator(".snippet").inner_text()
        assert text.startswith(ELLIPSIS) and text.endswith(ELLIPSIS), text
        body = api(analyst, f"/api/articles/{hits.nth(i).get_attribute('data-id')}")["article"]["body"]
        # Every word shown is a whole word of the body: nothing cut in the middle at either end.
        assert set(text.strip(ELLIPSIS).split()) <= set(body.split()), text


def test_pager_words_follow_the_sort(page: Any, analyst: str) -> None:
    open_page(page, "/?q=Officials")  # every article, by relevance
    assert page.inner_text("#pager .pager-on") == "next →"
    page.click("#pager .pager-on")
    page.wait_for_url("**page=2**")
    settle(page)
    assert page.inner_text("#pager .pager-back") == "← previous"
    assert "newer" not in page.inner_text("#pager")
    open_page(page, "/?q=Officials&sort=date&page=2")
    assert page.inner_text("#pager .pager-back") == "← newer"
    open_page(page, "/")  # no words: newest first
    assert page.inner_text("#pager .pager-on") == "older →"


def test_excluding_a_facet_value_and_the_new_facets(page: Any, analyst: str) -> None:
    open_page(page, "/")
    for facet in ("groups", "events", "collections", "tags"):
        assert page.locator(f'section.facet[data-facet="{facet}"] .facet-value').count() > 0, facet
    page.locator('section.facet[data-facet="source_name"] button.exclude[data-value="Alpha Wire"]').click()
    page.wait_for_selector('#chips .chip-not:has-text("Alpha Wire")')
    settle(page)
    assert "not_source_name=Alpha+Wire" in page.url
    expected = api(analyst, q='-source_name:"Alpha Wire"', collapse="true")["total"]
    assert summary_total(page) == expected < TOTAL
    assert "Alpha Wire" not in page.locator("#results .source").all_inner_texts()
    excluded = page.locator('section.facet[data-facet="source_name"] button.facet-value[data-value="Alpha Wire"]')
    assert "excluded" in (excluded.get_attribute("class") or "")
    # A tags filter on top, then the NOT chip off: only the tag remains.
    page.locator('section.facet[data-facet="tags"] button.facet-value[data-value="politics"]').click()
    page.wait_for_selector('#chips .chip:not(.chip-not):has-text("politics")')
    page.locator("#chips .chip-not").click()
    page.wait_for_function("!location.search.includes('not_source_name')")
    settle(page)
    assert summary_total(page) == api(analyst, tags="politics")["total"]


def test_top_sources_panel(page: Any, analyst: str) -> None:
    open_page(page, "/")
    rows = page.locator("#top-sources .source-row")
    facet = api(analyst, facets="source_name")["facets"]["source_name"]
    assert [rows.nth(i).get_attribute("data-value") for i in range(rows.count())] == [f["value"] for f in facet]
    assert rows.first.get_attribute("data-value") == SOURCES[0]
    share = round(100 * facet[0]["count"] / TOTAL)
    assert rows.first.locator(".count").inner_text() == f"{facet[0]['count']} · {share}%"
    rows.nth(1).click()
    page.wait_for_url("**source_name=**")
    settle(page)
    assert summary_total(page) == facet[1]["count"]


def test_compare_queries_as_counts_and_as_shares(page: Any, analyst: str) -> None:
    open_page(page, "/")
    page.click("#compare summary")
    page.fill("#compare-1", "drought")
    page.fill("#compare-2", "flood")
    page.click("#compare-form button[type=submit]")
    page.wait_for_selector("#compare-chart path.series >> nth=1")
    assert "cmp=drought" in page.url and "cmp=flood" in page.url
    assert page.locator("#compare-chart path.series").count() == 2
    cells = page.locator("#compare-chart tbody tr")
    columns = [[int(cells.nth(r).locator("td").nth(c).get_attribute("data-count")) for r in range(cells.count())]
               for c in range(2)]
    assert sum(columns[0]) == api(analyst, q="drought")["total"]
    assert sum(columns[1]) == api(analyst, q="flood")["total"]
    # As a share of every article in each bucket: each article names one of drought, flood and election, so
    # the three shares of a bucket with articles add up to 100%.
    page.fill("#compare-3", "election")
    page.check('input[name="compare-mode"][value="share"]')
    page.click("#compare-form button[type=submit]")
    page.wait_for_url("**cmp_mode=share**")
    page.wait_for_selector("#compare-chart caption:has-text('Share')", state="attached")
    rows = [[float(cells.nth(r).locator("td").nth(c).text_content().rstrip("%")) for c in range(3)]
            for r in range(cells.count())]
    assert page.locator("#compare-chart path.series").count() == 3
    assert all(0 <= s <= 100 for row in rows for s in row)
    assert any(0 < s < 100 for row in rows for s in row)
    for row in rows:
        assert sum(row) == pytest.approx(100, abs=0.5) or sum(row) == 0, row
    # The URL alone brings the comparison back.
    page.reload()
    page.wait_for_selector("#compare[open] #compare-chart path.series >> nth=1")
    assert page.input_value("#compare-2") == "flood"


def test_a_phone_has_the_filters_behind_a_button_near_the_top(browser: Any, analyst: str) -> None:
    context, tab = new_tab(browser, analyst, width=390, height=844, is_mobile=True)
    try:
        open_page(tab, "/?q=drought")
        assert tab.evaluate("document.documentElement.scrollWidth") <= 390
        button = tab.locator("#filters-toggle")
        assert button.is_visible() and button.bounding_box()["y"] < 200
        assert tab.locator("#facets").is_hidden()
        button.click()
        assert button.get_attribute("aria-expanded") == "true"
        facets = tab.locator("#facets")
        facets.wait_for()
        assert facets.bounding_box()["y"] < tab.locator("#results .hit").first.bounding_box()["y"]
        tab.locator('section.facet[data-facet="source_name"] button.facet-value').first.click()
        tab.wait_for_url("**source_name=**")
        assert "Filters (1)" in button.inner_text()
        assert tab.problems == []
    finally:
        context.close()


def test_keyboard_skip_link_slash_and_the_article_dialog(page: Any, analyst: str) -> None:
    open_page(page, "/?q=drought")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "summary"
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    assert page.input_value("#q") == "drought", "/ focuses the box and types nothing"
    # Open the second result from the keyboard.
    title = page.locator("#results .hit .title").nth(1)
    title.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#article-view:not([hidden]) #article-title")
    dialog = page.locator("#article-view [role=dialog]")
    assert dialog.get_attribute("aria-modal") == "true"
    assert dialog.get_attribute("aria-labelledby") == "article-title"
    inside = "document.getElementById('article-view').contains(document.activeElement)"
    assert page.evaluate(inside), "focus moves into the dialog"
    for _ in range(12):
        page.keyboard.press("Tab")
        assert page.evaluate(inside), "Tab stays inside the dialog"
    for _ in range(3):
        page.keyboard.press("Shift+Tab")
        assert page.evaluate(inside)
    page.keyboard.press("/")
    assert page.evaluate(inside), "/ does not leave an open dialog"
    page.keyboard.press("Escape")
    page.wait_for_selector("#article-view", state="hidden")
    assert "article=" not in page.url
    assert page.evaluate("document.activeElement.textContent") == title.inner_text(), "focus returns to the opener"


def test_the_world_map_colours_countries_and_a_click_filters(page: Any, analyst: str) -> None:
    counts = {c["value"]: c["count"] for c in api(analyst, facets="countries", facet_size=100)["facets"]["countries"]}
    open_page(page, "/")
    page.wait_for_selector("#map-panel:not([hidden]) path.country")
    busiest = max(counts, key=counts.__getitem__)
    assert page.get_attribute(f'path.country[data-code="{busiest}"]', "class").split()[1] == "s5"
    for code, count in counts.items():
        if page.locator(f'path.country[data-code="{code}"]').count():
            assert page.get_attribute(f'path.country[data-code="{code}"]', "data-count") == str(count)
    assert page.get_attribute('path.country[data-code="BR"]', "class").split()[1] == "s0"
    page.locator(f'path.country[data-code="{busiest}"]').click()
    page.wait_for_url(f"**countries={busiest}**")
    settle(page)
    assert summary_total(page) == counts[busiest]
    assert page.locator("#chips .chip", has_text="Iraq" if busiest == "IQ" else busiest).count() == 1


def test_the_map_hides_when_the_backend_has_no_countries(page: Any, analyst: str) -> None:
    open_page(page, "/")
    has_countries = httpx.get(analyst + "/api/search", params={"size": 0, "facets": "countries"}).status_code == 200
    page.wait_for_load_state("networkidle")
    assert page.locator("#map-panel").is_visible() == has_countries
    outline = httpx.get(analyst + "/static/world.json", timeout=10).json()
    codes = {s["code"] for s in outline["shapes"] if s["code"]}
    assert {"IQ", "US", "FR", "GE", "GB", "IR"} <= codes and len(codes) > 170


def axe_violations(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_no_serious_accessibility_violations(browser: Any, analyst: str) -> None:
    found = {}
    for width in (1400, 390):
        context, tab = new_tab(browser, analyst, width=width, height=900)
        try:
            open_page(tab, "/?q=drought&cmp=drought&cmp=flood")
            tab.wait_for_selector("#compare-chart path.series")
            found[f"{width}px"] = axe_violations(tab)
            if width < 800:
                tab.click("#filters-toggle")
                tab.wait_for_selector("#facets .facet")
                found[f"{width}px, filters open"] = axe_violations(tab)
            tab.locator("#results .hit .title").first.click()
            tab.wait_for_selector("#article-view:not([hidden]) #article-title")
            found[f"{width}px, article open"] = axe_violations(tab)
            assert tab.problems == []
        finally:
            context.close()
    assert found == {k: [] for k in found}, json.dumps(found, indent=1)


def test_the_page_works_under_its_own_content_security_policy(browser: Any, analyst: str) -> None:
    # The other tests bypass the CSP for Playwright's waits; this one keeps it and watches for refusals.
    context = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=analyst)
    try:
        tab = context.new_page()
        problems: list[str] = []
        tab.on("pageerror", lambda exc: problems.append(str(exc)))
        tab.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
        tab.goto("/?q=drought&cmp=drought&cmp=flood")
        tab.locator("#compare-chart path.series").first.wait_for()
        tab.locator("#histogram .slot").first.wait_for()
        assert tab.locator("#results .hit").count() > 0
        assert tab.locator("#histogram .bar").evaluate_all("bars => bars.some(b => parseFloat(b.style.height) > 0)")
        tab.wait_for_load_state("networkidle")
        assert problems == []
    finally:
        context.close()


def test_screenshots_of_the_page(browser: Any, analyst: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height in ((1400, 1000), (390, 844)):
        context, tab = new_tab(browser, analyst, width=width, height=height)
        try:
            open_page(tab, "/?q=drought+OR+flood")
            tab.screenshot(path=str(ARTIFACTS / f"analyst-{width}.png"), full_page=width > 1000)
        finally:
            context.close()
