"""Send dead letters back into the pipeline, at the stage that can redo them.

A fetch or lost item goes back to fetch; an extract failure is fetched
again (dead letters keep the feed item, not the HTML); an index failure
goes back to index with its attempts reset. The item is in flight again
until it finishes, like any other.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from celery import Celery

from workers.core.logs import get_logger
from workers.core.stages import FETCH_TASK, dead_letter_stage
from workers.runtime import Runtime
from workers.state import DeadLetter

__all__ = ["redrive"]

log = get_logger(__name__)


def redrive(app: Celery, runtime: Runtime, letters: Iterable[DeadLetter]) -> int:
    """Re-enqueue ``letters`` and remove them from the store; returns how many went back."""
    sent = 0
    for letter in letters:
        try:
            task, payload = letter.retry_message()
        except (KeyError, TypeError):
            log.warning("dead letter cannot be retried: it kept no message", id=letter.key, stage=letter.stage)
            continue
        # A feed is no item, nor is a webhook delivery: neither has a seen/in-flight mark.
        if dead_letter_stage(letter.stage).tracked:
            runtime.tracker.reopen(letter.key, json.dumps(payload) if task == FETCH_TASK else "")
        app.tasks[task].apply_async((payload,))
        runtime.dead_letters.remove(letter.key)
        sent += 1
    return sent
