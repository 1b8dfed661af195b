"""Waits and readings the browser tests share: the page is ready, settled, and what its summary says."""

from __future__ import annotations

from typing import Any


def settle(page: Any) -> None:
    page.wait_for_function("!document.body.classList.contains('loading')")
    page.wait_for_load_state("networkidle")


def open_page(page: Any, url: str) -> None:
    """Go to ``url`` and wait for the page's script to have run its first search.

    Typing before then races the script: on a loaded machine Enter submits the bare form and the query is lost.
    """
    page.goto(url)
    page.wait_for_selector("#summary:not(:empty)")
    settle(page)


def summary_total(page: Any) -> int:
    text = page.inner_text("#summary")
    return 0 if text.startswith("No ") else int(text.split()[0].replace(",", ""))
