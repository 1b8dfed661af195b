"""Logs: JSON lines from a real process writing a real log file, with every secret masked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from workers.core.logs import redact_secrets

PASSWORD = "Hunter2-s3cret-Pa55"


def test_a_password_in_a_url_never_reaches_a_log_line(tmp_path: Path) -> None:
    """The redaction itself, in a real worker-like process writing a real log file."""
    code = (
        "import logging\n"
        "from workers.core.logs import configure_logging, get_logger, _setup_worker_logging\n"
        "from workers.settings import Settings\n"
        f"s = Settings(redis_url='redis://:{PASSWORD}@h:1/0', elasticsearch_url='https://elastic:{PASSWORD}x@es:9200')\n"
        "configure_logging(s)\n"
        f"_setup_worker_logging(loglevel='INFO', logfile={str(tmp_path / 'w.log')!r})\n"
        "log = get_logger('t')\n"
        f"log.warning('cannot reach', url='redis://:{PASSWORD}@h:1/0', note='key {PASSWORD}x in text')\n"
        f"logging.getLogger('kombu').error('Cannot connect to amqp://guest:{PASSWORD}@mq:5672//')\n"
        f"logging.getLogger('celery.app.trace').error('Task failed', extra={{'data': {{'args': '{PASSWORD}x'}}}})\n"
        "try:\n"
        f"    raise ConnectionError('redis://:{PASSWORD}@h:1/0 refused')\n"
        "except ConnectionError:\n"
        "    log.exception('boom')\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
    text = (tmp_path / "w.log").read_text()
    assert PASSWORD not in text
    events = [json.loads(line) for line in text.splitlines()]
    assert [e["event"] for e in events] == ["cannot reach", "Cannot connect to amqp://guest:***@mq:5672//",
                                            "Task failed", "boom"]
    assert events[0]["url"] == "redis://:***@h:1/0" and "refused" in events[3]["exception"]
    assert "***" in events[2]["data"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("redis://:pw1234@h:1/0", "redis://:***@h:1/0"),
        ("amqp://guest:guest@127.0.0.1:5672//", "amqp://guest:***@127.0.0.1:5672//"),
        ("see https://elastic:p%40ss@es:9200/_bulk failed", "see https://elastic:***@es:9200/_bulk failed"),
        ("redis://127.0.0.1:6379/0 has no password", "redis://127.0.0.1:6379/0 has no password"),
        ("user@example.org wrote: a:b", "user@example.org wrote: a:b"),
    ],
)
def test_url_passwords_are_masked(text: str, expected: str) -> None:
    assert redact_secrets(text) == expected
