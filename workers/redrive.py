"""Send dead letters back into the pipeline, at the stage that can redo them.

A fetch or lost item goes back to fetch; an extract failure is fetched
again (dead letters keep the feed item, not the HTML); an index failure
goes back to index with its attempts reset. The item is in flight again
until it finishes, like any other.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from celery import Celery

from workers.runtime import Runtime
from workers.state import DeadLetter

__all__ = ["redrive"]


def redrive(app: Celery, runtime: Runtime, letters: Iterable[DeadLetter]) -> int:
    """Re-enqueue ``letters`` and remove them from the store; returns how many went back."""
    sent = 0
    for letter in letters:
        task, payload = _message(letter.stage, letter.payload or {})
        runtime.tracker.reopen(letter.key, json.dumps(payload) if task == "newsworkers.fetch" else "")
        app.tasks[task].apply_async((payload,))
        runtime.dead_letters.remove(letter.key)
        sent += 1
    return sent


def _message(stage: str, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if stage == "extract":
        return "newsworkers.fetch", payload["item"]
    if stage == "index":
        return "newsworkers.index", {**payload, "attempts": 0}
    return "newsworkers.fetch", payload  # fetch, and items lost in flight ("pipeline")
