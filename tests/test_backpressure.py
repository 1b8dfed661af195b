"""Back-pressure against a real Redis: the hysteresis between the marks, polls held (not failed) while
the backlog is long, the scheduler standing still, and what status reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import cli_environment, run_cli
from tests.site import FixtureSite
from workers.core.models import Feed
from workers.ops.scheduler import Scheduler
from workers.pipeline.poll.backpressure import BackPressure
from workers.pipeline.poll.cycle import poll_or_hold
from workers.runtime import Runtime
from workers.settings import Settings
from workers.worker.app import create_app


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings with the marks low, so conftest's ``runtime`` works under them."""
    return settings.model_copy(update={"backlog_high_water_msgs": 10, "backlog_low_water_msgs": 4,
                                       "backpressure_retry_s": 30.0, "status_ping_timeout_s": 0.2})


@pytest.fixture
def marked(settings: Settings) -> Settings:
    return settings


def fill(rt: Runtime, fetch: int, extract: int) -> None:
    for stage, count in (("fetch", fetch), ("extract", extract)):
        rt.redis.delete(rt.keys.queue(stage))
        if count:
            rt.redis.rpush(rt.keys.queue(stage), *(["m"] * count))


def test_holds_above_the_high_mark_and_resumes_only_under_the_low_one(runtime: Runtime) -> None:
    pressure = BackPressure(runtime)
    fill(runtime, 5, 5)
    assert not pressure.check().held  # at the mark is not above it
    fill(runtime, 6, 5)
    state = pressure.check()
    assert state.held and state.backlog == 11 and state.since is not None
    fill(runtime, 3, 2)  # under the high mark, still above the low one: stays held
    assert pressure.check().held
    assert BackPressure(runtime).state().held  # shared through Redis: another process sees it
    fill(runtime, 2, 2)
    assert not pressure.check().held
    fill(runtime, 6, 2)  # back between the marks from below: not held
    assert not pressure.check().held
    counts = runtime.stats.snapshot()
    assert counts.get("backpressure.held") == 1 and counts.get("backpressure.resumed") == 1


def test_a_poll_under_back_pressure_is_held_not_failed_and_touches_nothing(runtime: Runtime,
                                                                            site: FixtureSite) -> None:
    feed = Feed(url=site.url("/gen/7.xml?m=3"))
    runtime.registry.add(feed)
    before = site.hits.copy()
    fill(runtime, 11, 0)
    outcome = poll_or_hold(runtime, feed, lambda _item: None, gate=runtime.domain_gate)
    assert outcome["status"] == "held" and outcome["reason"] == "backpressure" and outcome["backlog"] == 11
    assert site.hits == before  # nothing requested from the feed's host
    state = runtime.registry.state(feed.url)
    assert state.error_streak == 0 and state.last_polled_at is None
    held = runtime.delayed
    assert held.count() == 1
    assert runtime.redis.zscore(runtime.keys.pending_polls, feed.url) is not None  # still under way for --once
    assert runtime.stats.snapshot().get("poll.held") == 1
    assert "poll.failed" not in runtime.stats.snapshot()
    fill(runtime, 0, 0)
    outcome = poll_or_hold(runtime, feed, lambda _item: None, gate=runtime.domain_gate)
    assert outcome["status"] == 200 and outcome["new"] == 3


def test_the_scheduler_hands_out_nothing_while_held(marked: Settings) -> None:
    app = create_app(marked)
    rt: Runtime = app.runtime  # type: ignore[attr-defined]
    rt.registry.add(Feed(url="https://example.org/held.xml"))
    scheduler = Scheduler(app, rt)
    fill(rt, 11, 0)
    assert scheduler.tick() == 0
    fill(rt, 5, 0)  # between the marks: still held
    assert scheduler.tick() == 0
    fill(rt, 0, 0)
    assert scheduler.tick() == 1


def test_status_shows_the_held_state(marked: Settings, tmp_path: Path, redis_url: str, namespace: str) -> None:
    # Through the command, in its own process: an in-process Celery inspect leaves threads behind that
    # break later tests which fork.
    rt = Runtime(marked)
    env = cli_environment(tmp_path / "data", redis_url, namespace)
    env.update(NEWSWORKERS_BACKLOG_HIGH_WATER_MSGS="10", NEWSWORKERS_BACKLOG_LOW_WATER_MSGS="4",
               NEWSWORKERS_STATUS_PING_TIMEOUT_S="0.2")
    fill(rt, 20, 0)
    BackPressure(rt).check()
    result = run_cli(env, "status", "--json")
    assert result.returncode == 0, result.stderr
    pressure = json.loads(result.stdout)["backpressure"]
    assert pressure["held"] and pressure["backlog"] == 20 and pressure["since"] is not None
    assert (pressure["high_water"], pressure["low_water"]) == (10, 4)
    assert "polling held by back-pressure" in run_cli(env, "status").stdout
    fill(rt, 0, 0)
    BackPressure(rt).check()
    assert not json.loads(run_cli(env, "status", "--json").stdout)["backpressure"]["held"]
    rt.close()
