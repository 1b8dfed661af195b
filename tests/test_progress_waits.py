"""What a one-shot command's progress says it waits on: host, reason, next attempt, attempts left."""

from __future__ import annotations

import time

from workers.ops.progress import Progress
from workers.runtime import Runtime


def test_held_retries_are_shown_soonest_first_with_host_and_attempts_left(runtime: Runtime) -> None:
    progress = Progress(runtime)
    assert progress.waiting() == []
    now = time.time()
    runtime.delayed.hold("newsworkers.fetch", [{}], due_at=now + 8, note={
        "stage": "fetch", "url": "http://dead.example:8080/a.html", "reason": "fetch.connect", "attempts_left": 3})
    runtime.delayed.hold("newsworkers.fetch", [{}], due_at=now + 2, note={
        "stage": "fetch", "url": "https://gone.example/b", "reason": "fetch.dns", "attempts_left": 1})
    runtime.delayed.hold("newsworkers.poll", [{}], due_at=now + 30)  # held before notes existed: still counted
    assert progress.waiting(now=now, shown=2) == [
        "waiting: fetch gone.example (fetch.dns), next attempt in 2s, 1 attempt left",
        "waiting: fetch dead.example:8080 (fetch.connect), next attempt in 8s, 3 attempts left",
        "waiting: 1 more held for a later attempt",
    ]
    assert "waiting: fetch gone.example (fetch.dns)" in progress.line()
