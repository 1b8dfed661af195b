"""Real parts for the tests: a Redis server, an HTTP server on 127.0.0.1, settings.

Redis: ``REDIS_URL`` when set (every test then works in its own key
namespace and deletes only its own keys), else a private ``redis-server`` on
a free port. HTTP: a threaded server on port 0 serving :mod:`tests.site`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.hostile import serving
from tests.site import FixtureSite, make_handler
from workers.net.http import make_client
from workers.runtime import Runtime
from workers.settings import Settings
from workers.state.embedded_redis import free_port, redis_server_binary

ROOT = Path(__file__).resolve().parent.parent


def documentation() -> str:
    """What a user reads: the README and every page of the guide in docs/."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(page.read_text() for page in pages)
SHARED_DATA = ROOT.parent / "shared" / "data"


class RedisServer:
    """A redis-server process of our own, on a free port, that a test may stop and start."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: _pings(self.url), timeout_s=10, what="redis-server")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def _pings(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url).ping())
    except redis.ConnectionError:
        return False


def wait_until(check, *, timeout_s: float, what: str, interval_s: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout_s}s")
        time.sleep(interval_s)


# The fixture server is on loopback, which the address guard refuses by default; and one loopback "domain"
# serves every page, which the default politeness limits would slow to a crawl. Tests that check the
# guard or the limits pass their own values.
LOOPBACK_SETTINGS: dict[str, str] = {
    "allowed_networks": "127.0.0.0/8",
    "domain_min_interval_s": "0",
    "domain_max_concurrency": "64",
}


@pytest.fixture(scope="session", autouse=True)
def _loopback_environment() -> Iterator[None]:
    """The same for every `newsworkers` subprocess, whose environment the tests copy from ours."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in LOOPBACK_SETTINGS.items():
            patch.setenv(f"NEWSWORKERS_{name.upper()}", value)
        yield


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("REDIS_URL")
    if external:
        yield external
        return
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def scratch_namespace(redis_url: str) -> Iterator[str]:
    """A fresh key namespace; only its keys are deleted afterwards."""
    name = f"t{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{name}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def namespace(redis_url: str) -> Iterator[str]:
    """A key namespace of this test's own."""
    yield from scratch_namespace(redis_url)


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client of the test Redis that answers in text; a test keeps to its own ``namespace`` in it."""
    connection = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture
def settings(tmp_path: Path, redis_url: str, namespace: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", redis_url=redis_url, namespace=namespace,
                    fetch_timeout_s=2.0, feed_timeout_s=2.0, retry_backoff_s=0.2, max_retries=1,
                    index_flush_interval_s=0.2, **LOOPBACK_SETTINGS)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime(settings)
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture
def http_settings(tmp_path: Path) -> Settings:
    """Settings for the stages that need no Redis, with short network timeouts."""
    return Settings(data_dir=tmp_path / "data", feed_timeout_s=2.0, fetch_timeout_s=2.0, **LOOPBACK_SETTINGS)


@pytest.fixture
def client(http_settings: Settings) -> Iterator[httpx.Client]:
    with make_client(http_settings, timeout_s=http_settings.fetch_timeout_s) as http_client:
        yield http_client


@pytest.fixture(scope="session")
def site() -> Iterator[FixtureSite]:
    """Feeds and pages on a real HTTP server at 127.0.0.1, faults included."""
    fixture_site = FixtureSite()
    with serving(make_handler(fixture_site)) as base:
        fixture_site.base = base
        try:
            yield fixture_site
        finally:
            fixture_site.release_slow.set()  # a slow response still held lets the server shut down


def newsworkers_cli() -> list[str]:
    """The installed console script, else the module (same code either way)."""
    script = shutil.which("newsworkers", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-c", "from workers.cli.main import main; main()"]


def cli_environment(data_dir: Path, redis_url: str, namespace: str) -> dict[str, str]:
    """The environment for the console script: this test's Redis namespace and data folder, no Elasticsearch."""
    environment = {**os.environ, "REDIS_URL": redis_url, "NEWSWORKERS_NAMESPACE": namespace,
                   "NEWSWORKERS_DATA_DIR": str(data_dir)}
    environment.pop("ELASTICSEARCH_URL", None)
    return environment


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``newsworkers *args`` as a subprocess, its output captured as text."""
    return subprocess.run([*newsworkers_cli(), *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
