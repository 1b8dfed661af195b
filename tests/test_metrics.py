"""Metrics without a run: what the instruments and the Redis collector export, and the shipped
Prometheus config and alert rules (parsed with a real PromQL parser; promtool is not installed here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import promql_parser
import pytest
import yaml

from tests.conftest import ROOT
from workers.runtime import Runtime
from workers.settings import Settings
from workers.state import DeadLetter
from workers.state.embedded_redis import free_port
from workers.worker.app import create_app
from workers.worker.metrics import EXPORTED, _Instruments
from workers.worker.metrics_export import start_metrics_server
from workers.worker.metrics_files import KIND_OFFSETS

PROMETHEUS = ROOT / "config" / "prometheus"


def _series(metrics: list[Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for family in metrics:
        for sample in family.samples:
            key = sample.name + "".join(f",{k}={v}" for k, v in sorted(sample.labels.items()))
            out[key] = sample.value
    return out


def test_instruments_count_what_the_stages_report(settings: Settings) -> None:
    tasks = create_app(settings).tasks
    inst = _Instruments()
    inst.prerun(task_id="t1", task=tasks["newsworkers.fetch"], args=({"url": "u"},))
    inst.postrun(task_id="t1", task=tasks["newsworkers.fetch"])
    inst.prerun(task_id="t2", task=tasks["newsworkers.index"], args=([1, 2, 3],))  # a batch of three
    inst.stat("fetch", "ok", 1, None)
    inst.stat("fetch", "failed", 1, "fetch.http_404")
    inst.stat("extract", "retried", 2, "extract.timeout")
    inst.stat("extract", "from_feed", 1, None)  # a kind of ok already counted: not counted twice
    inst.failure(sender=tasks["newsworkers.poll"], exception=KeyError("bug"))
    inst.prerun(task_id="t3", task=tasks["celery.chord_unlock"])  # not ours: ignored
    series = _series([*inst.items_in.collect(), *inst.items_out.collect(), *inst.failed.collect(),
                      *inst.retried.collect(), *inst.seconds.collect(), *inst.crashes.collect()])
    assert series["newsworkers_items_in_total,stage=fetch"] == 1
    assert series["newsworkers_items_in_total,stage=index"] == 3
    assert series["newsworkers_items_out_total,stage=fetch"] == 1
    assert series["newsworkers_items_failed_total,reason=fetch.http_404,stage=fetch"] == 1
    assert series["newsworkers_items_retried_total,reason=extract.timeout,stage=extract"] == 2
    assert series["newsworkers_task_seconds_count,stage=fetch"] == 1
    assert series["newsworkers_task_crashes_total,stage=poll"] == 1
    assert "newsworkers_items_out_total,stage=extract" not in series
    names = {key.split(",")[0] for key in series if not key.split(",")[0].endswith("_created")}
    assert names <= EXPORTED


def test_the_endpoint_serves_redis_gauges(settings: Settings, tmp_path: Path) -> None:
    runtime = Runtime(settings)
    runtime.redis.rpush(runtime.keys.queue("extract"), "a", "b", "c")
    runtime.dead_letters.record(DeadLetter(stage="index", key="k", url="u", reason="index.rejected", error="E: e"))
    port = free_port()
    server = start_metrics_server(settings, port, [tmp_path], redis_url=lambda: settings.redis_url)
    assert server is not None
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert start_metrics_server(settings, port, [tmp_path], redis_url=lambda: None) is None  # port taken
    finally:
        server.shutdown()
        runtime.close()
    assert 'newsworkers_queue_depth{queue="extract"} 3.0' in text
    assert 'newsworkers_queue_inflight{queue="fetch"} 0.0' in text
    assert 'newsworkers_dead_letters{stage="index"} 1.0' in text
    assert "newsworkers_redis_up 1.0" in text


def test_an_unreachable_redis_is_a_metric_not_a_failed_scrape(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    port = free_port()
    server = start_metrics_server(settings, port, [tmp_path], redis_url=lambda: settings.redis_url)
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    finally:
        server.shutdown()
    assert response.status_code == 200 and "newsworkers_redis_up 0.0" in response.text


def _selectors(node: Any) -> list[str]:
    """Metric names of every vector selector in a parsed PromQL expression."""
    if isinstance(node, promql_parser.VectorSelector):
        return [node.name] if node.name else []
    found: list[str] = []
    for attribute in ("lhs", "rhs", "expr", "vector_selector", "param"):
        child = getattr(node, attribute, None)
        if child is not None:
            found += _selectors(child)
    for arg in getattr(node, "args", None) or []:
        found += _selectors(arg)
    return found


def _rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def test_alert_rules_parse_and_name_only_metrics_we_export() -> None:
    rules = _rules()
    assert {"NewsworkersPipelineStalled", "NewsworkersFailureRatioHigh"} <= {r["alert"] for r in rules}
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        expression = promql_parser.parse(rule["expr"])  # raises on a syntax error
        names = _selectors(expression)
        assert names, rule["alert"]
        assert set(names) <= EXPORTED, (rule["alert"], set(names) - EXPORTED)
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}


def test_a_broken_expression_would_be_caught() -> None:
    with pytest.raises(ValueError):
        promql_parser.parse("sum(rate(newsworkers_items_in_total[5m])")
    assert _selectors(promql_parser.parse("rate(nope_total[5m])")) == ["nope_total"]


def test_scrape_config_loads_the_rules_and_targets_every_worker_kind() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    for rule_file in config["rule_files"]:
        assert (PROMETHEUS / rule_file).is_file()
    targets = {t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    base = Settings.model_fields["metrics_port"].default
    assert f"localhost:{base}" in targets
    assert {f"{kind}:{base + 1 + offset}" for kind, offset in KIND_OFFSETS.items()} <= targets


def test_files_of_dead_workers_are_dropped_only_when_nobody_sums_them(tmp_path: Path) -> None:
    import os
    import socket
    import subprocess
    import sys

    from workers.state.ownership import DataDirLock
    from workers.worker.metrics_files import forget_dead_workers, run_owns

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    host = socket.gethostname()
    root = tmp_path / "metrics"
    for name in (f"extract-{host}-{gone.pid}", f"extract-{host}-{os.getpid()}", f"fetch-{host}-{gone.pid}",
                 f"extract-otherhost-{gone.pid}"):
        (root / name).mkdir(parents=True)
    forget_dead_workers(root, ["extract"], host)
    assert sorted(p.name for p in root.iterdir()) == sorted(
        [f"extract-{host}-{os.getpid()}", f"fetch-{host}-{gone.pid}", f"extract-otherhost-{gone.pid}"])
    assert run_owns(tmp_path) is False
    lock = DataDirLock(tmp_path)
    assert lock.acquire()
    try:
        assert run_owns(tmp_path) is True
    finally:
        lock.release()
