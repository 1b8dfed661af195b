"""The search page in headless Chromium over the offline corpus: query, facet on and off, histogram, article,
back button, a phone-sized screen, and hostile article text that stays text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import ARTIFACTS, HOSTILE_TITLE
from tests.browser.pages import open_page, settle, summary_total

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SEED_TITLE = "Rocket attack hits US embassy in Baghdad"


@pytest.fixture
def page(browser: Any, served: str) -> Iterator[Any]:
    # Playwright's waits evaluate strings, which the page's strict CSP forbids; the escaping is tested without it.
    context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=served, bypass_csp=True)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(str(exc)))
    tab.problems = problems
    yield tab
    context.close()
    assert problems == [], "the page raised JavaScript errors"


def facet_button(page: Any, facet: str, value: str) -> Any:
    return page.locator(f'section.facet[data-facet="{facet}"] button.facet-value', has_text=value).first


def facet_count(page: Any, facet: str, value: str) -> int:
    return int(facet_button(page, facet, value).locator(".count").inner_text())


def api_total(served: str, **params: str) -> int:
    return int(httpx.get(f"{served}/api/search", params={"size": 0, "collapse": "true", **params}).json()["total"])


def test_query_finds_the_seed_article(page: Any, served: str) -> None:
    open_page(page, "/")
    page.fill("#q", "Baghdad embassy")
    page.press("#q", "Enter")
    page.wait_for_selector(f"#results .hit .title:has-text('{SEED_TITLE}')")
    settle(page)
    first = page.locator("#results .hit").first
    assert SEED_TITLE in first.locator(".title").inner_text()
    assert first.locator(".snippet b").count() > 0, "the matched words are highlighted"
    assert "2020-01-27" in first.locator("time").inner_text()
    assert "q=Baghdad+embassy" in page.url
    # "Save this search" shows exactly when the saved-searches API is there (it hides on a 404).
    has_alerts = httpx.get(f"{served}/api/alerts").status_code != 404
    assert page.locator("#save-box").is_visible() == has_alerts
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "search-baghdad-embassy.png"), full_page=True)


def test_clicking_a_facet_filters_and_clicking_again_removes_it(page: Any, served: str) -> None:
    page.goto("/?q=attack")
    page.wait_for_selector("#results .hit")
    settle(page)
    before = summary_total(page)
    iraq = facet_count(page, "locations", "Iraq")
    germany = facet_count(page, "locations", "Germany")
    assert 0 < iraq < before and germany > 0
    facet_button(page, "locations", "Iraq").click()
    page.wait_for_selector('#chips .chip:has-text("Iraq")')
    settle(page)
    assert "locations=Iraq" in page.url
    assert summary_total(page) == iraq == api_total(served, q="attack", locations="Iraq")
    assert facet_button(page, "locations", "Iraq").get_attribute("aria-pressed") == "true"
    assert facet_count(page, "locations", "Iraq") == iraq
    # The other counts follow: Germany is in the other attack story only, so it leaves the sidebar.
    assert facet_button(page, "locations", "Germany").count() == 0
    for count in page.locator("#facets .count").all_inner_texts():
        assert int(count) <= iraq
    assert any(SEED_TITLE in t for t in page.locator("#results .hit .title").all_inner_texts())
    # Click it again: the filter goes, the hits and counts come back.
    facet_button(page, "locations", "Iraq").click()
    page.wait_for_function("document.querySelectorAll('#chips .chip').length === 0")
    settle(page)
    assert summary_total(page) == before
    assert facet_count(page, "locations", "Germany") == germany
    assert "locations=" not in page.url
    # The back button restores the filtered search, from the URL alone.
    page.go_back()
    page.wait_for_selector('#chips .chip:has-text("Iraq")')
    settle(page)
    assert summary_total(page) == iraq


def test_the_article_view_shows_its_entities(page: Any, served: str) -> None:
    page.goto("/?q=Baghdad+embassy")
    page.locator("#results .hit .title", has_text=SEED_TITLE).click()
    page.wait_for_selector("#article-view:not([hidden]) .entities")
    assert "article=" in page.url
    view = page.locator("#article-body")
    assert SEED_TITLE in view.locator("h1").inner_text()
    places = view.locator('.entities button[data-kind="locations"]').all_inner_texts()
    assert {"Iraq", "Baghdad"} <= set(places)
    assert view.locator('.entities button[data-kind="persons"]').count() > 0
    assert "embassy" in view.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "article-view.png"))
    # A place in the article filters the search by it.
    view.locator('.entities button[data-kind="locations"]', has_text="Iraq").first.click()
    page.wait_for_selector('#chips .chip:has-text("Iraq")')
    assert page.locator("#article-view").is_hidden()


def test_a_histogram_bar_narrows_the_dates(page: Any, served: str) -> None:
    page.goto("/")
    page.wait_for_selector("#histogram .slot")
    settle(page)
    everything = summary_total(page)
    bars = page.locator("#histogram .slot")
    tallest = max(range(bars.count()), key=lambda i: float(bars.nth(i).locator(".bar").evaluate(
        "b => parseFloat(b.style.height) || 0")))
    label = bars.nth(tallest).get_attribute("aria-label") or ""
    expected = int(label.rsplit(": ", 1)[1].split()[0])
    bars.nth(tallest).click()
    page.wait_for_selector("#clear-dates:not([hidden])")
    settle(page)
    assert "since=" in page.url and "until=" in page.url
    # The bar counts documents; the page counts stories (near-duplicates grouped), so at most that many.
    assert 0 < summary_total(page) <= expected < everything
    page.click("#clear-dates")
    page.wait_for_selector("#clear-dates[hidden]", state="attached")
    settle(page)
    assert summary_total(page) == everything
    # Drag from the first bar to the third: the range covers exactly those three weeks.
    labels = [bars.nth(i).get_attribute("aria-label") or "" for i in range(3)]
    first, third = bars.nth(0).bounding_box(), bars.nth(2).bounding_box()
    page.mouse.move(first["x"] + first["width"] / 2, first["y"] + first["height"] - 2)
    page.mouse.down()
    page.mouse.move(third["x"] + third["width"] / 2, third["y"] + third["height"] - 2, steps=5)
    page.mouse.up()
    page.wait_for_selector("#clear-dates:not([hidden])")
    settle(page)
    in_three = sum(int(label.rsplit(": ", 1)[1].split()[0]) for label in labels)
    start = labels[0].removeprefix("week of ")[:10]
    assert f"since={start}" in page.url
    assert 0 < summary_total(page) <= in_three
    assert api_total(served, since=start, until=page.url.split("until=")[1].split("&")[0].replace("%3A", ":"),
                     ) == summary_total(page)


def test_a_phone_gets_one_column_with_the_filters_behind_a_button(browser: Any, served: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=served, is_mobile=True,
                                  bypass_csp=True)
    try:
        tab = context.new_page()
        tab.goto("/?q=Baghdad+embassy")
        tab.wait_for_selector("#results .hit")
        width = tab.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, "nothing sticks out sideways"
        # The facets no longer come after the results, thousands of pixels down: a button near the top opens them.
        button = tab.locator("#filters-toggle")
        assert button.is_visible() and button.bounding_box()["y"] < 200
        assert tab.locator("#facets").is_hidden()
        button.click()
        hit = tab.locator("#results .hit").first.bounding_box()
        facets = tab.locator("#facets").bounding_box()
        assert facets["y"] < hit["y"], "opened, the filters come before the results"
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / "phone.png"))
    finally:
        context.close()


def test_hostile_article_text_stays_text(page: Any, served: str) -> None:
    page.goto("/?q=zanzibar")
    hit = page.locator("#results .hit").first
    hit.wait_for()
    settle(page)
    assert page.evaluate("window.__pwned") is None
    assert HOSTILE_TITLE in hit.locator(".title").inner_text()
    assert page.locator("#results img, #results script").count() == 0
    assert "<script>" in hit.locator(".snippet").inner_text()
    hit.locator(".title").click()
    page.wait_for_selector("#article-view:not([hidden]) h1")
    assert page.locator("#article-body img, #article-body script").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#article-body a[href^='javascript']").count() == 0


def test_save_this_search_gives_an_atom_feed_with_the_seed_article(page: Any, served: str) -> None:
    if httpx.get(f"{served}/api/alerts").status_code == 404:
        pytest.skip("this server has no saved-searches API")
    page.on("dialog", lambda dialog: dialog.accept("soleimani-watch"))
    page.goto("/?q=Soleimani")
    page.wait_for_selector(f"#results .hit .title:has-text('{SEED_TITLE}')")
    settle(page)
    page.click("#save")
    link = page.locator("#feed-link")
    link.wait_for(state="visible")
    assert link.get_attribute("href") == "/feeds/soleimani-watch.atom"
    feed = httpx.get(f"{served}/feeds/soleimani-watch.atom")
    assert feed.status_code == 200 and "atom" in feed.headers["content-type"]
    assert SEED_TITLE in feed.text
    saved = {a["name"]: a for a in httpx.get(f"{served}/api/alerts").json()}
    assert saved["soleimani-watch"]["query"] == "Soleimani"
