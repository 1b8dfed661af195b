"""A real `newsworkers run --once` over the offline corpus, `newsworkers serve` over it, and headless Chromium.

The browser is Debian's system Chromium (never a downloaded one); without it these tests skip, saying so.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.conformance.corpus import article
from tests.conftest import ROOT, newsworkers_cli, wait_until
from workers.search.tantivy.backend import TantivyBackend

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium")
ARTIFACTS = ROOT / "test-artifacts"
HOSTILE_TITLE = '<img src=x onerror="window.__pwned=1">Zanzibar headline'


def chromium_path() -> str | None:
    found = os.environ.get("NEWSWORKERS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    return found or next((p for p in CHROMIUM_PATHS if Path(p).is_file()), None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/api/search", params={"size": 0}, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip("no system Chromium found (apt-get install chromium; .ci/run installs it where apt is available)")
    return path


@pytest.fixture(scope="session")  # read only: the search page and entity tests share one run
def seeded_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The README's first command on embedded defaults: the offline corpus through the real pipeline."""
    data_dir = tmp_path_factory.mktemp("browser") / "data"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ELASTICSEARCH_URL")}
    env["NEWSWORKERS_DATA_DIR"] = str(data_dir)
    result = subprocess.run([*newsworkers_cli(), "run", "--once", "--timeout", "180"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    # One hostile article beside the corpus (the run has ended, so the index writer is free).
    writer = TantivyBackend(data_dir / "index", writer=True)
    try:
        writer.upsert([article("hostile", title=HOSTILE_TITLE, domain="hostile.example",
                               published_at=datetime(2020, 2, 3, 9, 0, tzinfo=UTC),
                               body='<script>window.__pwned=2</script> Zanzibar <b onclick="x()">news</b>',
                               url="javascript:window.__pwned=3", locations=['<svg onload="window.__pwned=4">'])])
    finally:
        writer.close()
    return env


@contextlib.contextmanager
def serving(env: dict[str, str]) -> Iterator[str]:
    """A real `newsworkers serve` on a free port with ``env``; its base URL once it answers."""
    port = _free_port()
    server = subprocess.Popen([*newsworkers_cli(), "serve", "--port", str(port)], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(base), timeout_s=30, what="newsworkers serve")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="session")
def served(seeded_env: dict[str, str], chromium: str) -> Iterator[str]:
    with serving(seeded_env) as base:
        yield base


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()
