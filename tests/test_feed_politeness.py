"""Feed polls share their domain's politeness budget with its pages: against real Redis and the fixture
server on several loopback addresses, polled from several threads as a poll worker does."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.hostile import served_on
from tests.site import FixtureSite
from tests.test_politeness import in_threads, starts
from workers.core.models import Feed
from workers.core.stages import POLL_TASK
from workers.pipeline.poll.cycle import poll_or_hold
from workers.runtime import Runtime
from workers.settings import Settings


@pytest.fixture(scope="module")
def hosts(site: FixtureSite) -> Iterator[dict[str, str]]:
    with served_on(site, "127.0.0.2") as second, served_on(site, "127.0.0.3") as third:
        yield {"127.0.0.2": second, "127.0.0.3": third}


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    # 0.5 s between requests to one domain; a poll thread waits at most 1.2 s for its turn.
    rt = Runtime(settings.model_copy(update={"domain_min_interval_s": 0.5, "domain_max_concurrency": 10,
                                             "politeness_max_wait_s": 1.2}))
    try:
        yield rt
    finally:
        rt.close()


def poll_in_threads(rt: Runtime, feeds: list[Feed]) -> list[dict[str, Any]]:
    """One poll per feed, all at once from their own threads (a poll worker's pool), gated like the task."""
    return in_threads(len(feeds), lambda i: poll_or_hold(rt, feeds[i], lambda _item: None,  # type: ignore[return-value]
                                                         gate=rt.domain_gate))


def feed_starts(site: FixtureSite, host: str, since: float) -> list[float]:
    return starts(site, host, since, suffix=".xml")


def test_feeds_of_one_host_are_spaced_and_held_not_failed(site: FixtureSite, hosts: dict[str, str],
                                                          runtime: Runtime) -> None:
    busy = [Feed(url=f"{hosts['127.0.0.2']}/hostile/slow/section{i}.xml") for i in range(6)]
    other = [Feed(url=f"{hosts['127.0.0.3']}/hostile/slow/other{i}.xml") for i in range(2)]
    for feed in busy + other:
        runtime.registry.add(feed)
    since = time.monotonic()
    outcomes = poll_in_threads(runtime, busy + other)
    # Turns at 0, 0.5 and 1.0 s are waited for; the rest are further off than 1.2 s, so they are held.
    held = [o["feed"] for o in outcomes if o["status"] == "held"]
    assert len(held) == 3 and set(held) <= {f.url for f in busy}, outcomes
    assert all(o["status"] == 200 for o in outcomes if o["feed"] not in held), outcomes
    # The other host is not held up by the busy one: its two feeds start about 0 and 0.5 s in (behind the
    # busy host's six turns they would start 3 s in), on a loaded two-core machine too.
    other_starts = feed_starts(site, "127.0.0.3", since)
    assert len(other_starts) == 2 and other_starts[-1] - since < 1.4, other_starts
    # Held is neither an error nor a request: no streak, no backoff, and the host saw only three.
    for url in held:
        state = runtime.registry.state(url)
        assert (state.error_streak, state.last_reason, state.last_status) == (0, None, None)
    assert len(feed_starts(site, "127.0.0.2", since)) == 3
    assert runtime.redis.hget(runtime.keys.stats, "poll.held") in (b"3", "3")
    assert runtime.redis.zcard(runtime.keys.pending_polls) == 3  # still under way for `run --once`
    # The held polls wait in the delayed set (no broker countdown) and run when due, still spaced.
    delayed = runtime.delayed
    again: list[Feed] = []
    deadline = time.monotonic() + 10
    while len(again) < 3 and time.monotonic() < deadline:
        for member in delayed.take_due():
            entry = json.loads(member)
            assert entry["task"] == POLL_TASK
            again.append(Feed.model_validate(entry["args"][0]))
            delayed.done(member)
        time.sleep(0.05)
    assert sorted(f.url for f in again) == sorted(held)
    assert all(o["status"] == 200 for o in poll_in_threads(runtime, again))
    times = feed_starts(site, "127.0.0.2", since)
    assert len(times) == 6 and all(site.hits[f"/hostile/slow/section{i}.xml"] == 1 for i in range(6))
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) > 0.4, gaps  # the gate spaces starts 0.5 s apart; the server sees them with thread jitter
