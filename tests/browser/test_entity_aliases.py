"""The article view names the spellings merged into each entity (they still find the article)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SEED_TITLE = "Rocket attack hits US embassy in Baghdad"


@pytest.fixture
def page(browser: Any, served: str) -> Iterator[Any]:
    # Playwright's waits evaluate strings, which the page's strict CSP forbids (as in test_search_page.py).
    context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=served, bypass_csp=True)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(str(exc)))
    yield tab
    context.close()
    assert problems == [], "the page raised JavaScript errors"


def test_the_article_view_lists_each_kinds_merged_spellings(page: Any, served: str) -> None:
    page.goto("/?q=persons%3ASoleimani")
    page.locator("#results .hit .title", has_text=SEED_TITLE).click()
    page.wait_for_selector("#article-view:not([hidden]) .entities")
    aliases = page.locator("#article-body .entities .aliases").all_inner_texts()
    assert any("Soleimani" in text for text in aliases), aliases
