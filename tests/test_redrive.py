"""Dead letters go back to the stage that can redo them, in flight again."""

from __future__ import annotations

import base64
import json

import pytest

from workers.ops.redrive import redrive
from workers.settings import Settings
from workers.state import DeadLetter
from workers.worker.app import create_app

ITEM = {"doc_id": "item-1", "url": "https://x.example/1", "feed_url": "https://x.example/rss"}


def _bodies(app, queue: str) -> list:  # type: ignore[no-untyped-def]
    raw = app.runtime.redis.lrange(app.runtime.keys.queue(queue), 0, -1)
    return [json.loads(base64.b64decode(json.loads(m)["body"]))[0][0] for m in raw]


@pytest.mark.parametrize(
    ("stage", "payload", "queue", "sent"),
    [
        ("fetch", ITEM, "fetch", ITEM),
        ("pipeline", ITEM, "fetch", ITEM),
        ("extract", {"item": ITEM, "final_url": ITEM["url"]}, "fetch", ITEM),
        ("index", {"article": {"id": "item-1"}, "done": ["item-1"], "attempts": 7}, "index",
         {"article": {"id": "item-1"}, "done": ["item-1"], "attempts": 0}),
    ],
)
def test_each_stage_goes_back_where_it_can_be_redone(settings: Settings, stage: str, payload: dict, queue: str,
                                                      sent: dict) -> None:
    app = create_app(settings)
    runtime = app.runtime
    letter = DeadLetter(stage=stage, key="item-1", url=ITEM["url"], reason=f"{stage}.x", error="e", payload=payload)
    runtime.dead_letters.record(letter)
    runtime.tracker.finish(["item-1"])
    assert redrive(app, runtime, [letter]) == 1
    assert _bodies(app, queue) == [sent]
    assert runtime.dead_letters.count() == 0
    assert not runtime.tracker.is_seen("item-1") and runtime.tracker.inflight_count() == 1
