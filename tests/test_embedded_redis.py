"""The embedded Redis, the data-directory lock and how commands find their Redis; real processes only."""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from workers.core.errors import ConfigError
from workers.settings import Settings
from workers.state.embedded_redis import EmbeddedRedis
from workers.state.ownership import DataDirLock, owned_redis, redis_for_command


def no_retry() -> Retry:
    # redis-py retries connection errors (auth errors among them) with backoff by default: seconds per call.
    return Retry(NoBackoff(), 0)


def pings(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, retry=no_retry())
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False
    finally:
        client.close()


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    embedded = EmbeddedRedis(tmp_path / "redis")
    try:
        yield embedded
    finally:
        embedded.stop()


@pytest.fixture
def embedded_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "d", redis_url=None)


# -- EmbeddedRedis ---------------------------------------------------------------------------------------


def test_starts_and_answers_ping(server: EmbeddedRedis, tmp_path: Path) -> None:
    url = server.start()
    assert url == server.url
    parts = urlsplit(url)
    assert parts.hostname == "127.0.0.1"
    password = (tmp_path / "redis" / "password").read_text().strip()
    assert parts.password == password
    assert len(password) == 32
    assert stat.S_IMODE((tmp_path / "redis" / "password").stat().st_mode) == 0o600
    client = redis.Redis.from_url(url)
    try:
        assert client.ping() is True
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    finally:
        client.close()


def test_requires_the_password(server: EmbeddedRedis) -> None:
    url = server.start()
    port = urlsplit(url).port
    assert port is not None
    anonymous = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=2, retry=no_retry())
    wrong = redis.Redis(host="127.0.0.1", port=port, password="not-the-password", socket_connect_timeout=2,
                        retry=no_retry())
    try:
        with pytest.raises(redis.AuthenticationError):
            anonymous.ping()
        with pytest.raises(redis.AuthenticationError):
            wrong.set("k", "v")
    finally:
        anonymous.close()
        wrong.close()


def test_data_survives_stop_and_start(server: EmbeddedRedis, tmp_path: Path) -> None:
    first_url = server.start()
    client = redis.Redis.from_url(first_url, decode_responses=True)
    client.set("survivor", "still here")
    client.rpush("queue", "a", "b", "c")
    client.close()
    server.stop()
    assert not pings(first_url)
    assert list((tmp_path / "redis").glob("appendonly*")), "no AOF written"

    second_url = server.start()
    # Same password (kept in the directory), new free port.
    assert urlsplit(second_url).password == urlsplit(first_url).password
    client = redis.Redis.from_url(second_url, decode_responses=True)
    try:
        assert client.get("survivor") == "still here"
        assert client.lrange("queue", 0, -1) == ["a", "b", "c"]
    finally:
        client.close()


def test_stop_leaves_no_process(server: EmbeddedRedis) -> None:
    url = server.start()
    process = server.process
    assert process is not None
    pid = process.pid
    assert process.poll() is None
    server.stop()
    assert server.process is None
    assert process.poll() is not None
    assert process_gone(pid)
    assert not pings(url)
    server.stop()  # a second stop is harmless


def test_context_manager(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path / "cm") as embedded:
        assert embedded.url is not None
        assert pings(embedded.url)
        process = embedded.process
        assert process is not None
    assert process.poll() is not None
    assert not pings(embedded.url)


# -- DataDirLock -------------------------------------------------------------------------------------------


def test_lock_is_exclusive_until_released(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    first, second = DataDirLock(data_dir), DataDirLock(data_dir)
    assert first.acquire() is True
    try:
        assert first.path == data_dir / "owner.lock"
        assert first.owner_pid() == os.getpid()
        assert second.owner_pid() == os.getpid()
        assert second.acquire() is False
        started = time.monotonic()
        assert second.acquire(wait_s=0.3) is False
        assert time.monotonic() - started >= 0.29
    finally:
        first.release()
    assert second.acquire() is True
    try:
        assert first.acquire() is False
    finally:
        second.release()
    second.release()  # releasing twice is harmless


def test_lock_waits_for_a_release(tmp_path: Path) -> None:
    first, second = DataDirLock(tmp_path / "d"), DataDirLock(tmp_path / "d")
    assert first.acquire()
    timer = threading.Timer(0.3, first.release)
    timer.start()
    try:
        assert second.acquire(wait_s=5) is True
    finally:
        timer.join()
        second.release()


def test_owner_pid_without_a_lock_file(tmp_path: Path) -> None:
    assert DataDirLock(tmp_path / "nowhere").owner_pid() is None


# -- redis_for_command / owned_redis ---------------------------------------------------------------------------


def test_redis_for_command_uses_redis_url_as_is(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", redis_url="redis://127.0.0.1:1/5")
    with redis_for_command(settings) as url:
        assert url == "redis://127.0.0.1:1/5"
    assert not (tmp_path / "d" / "owner.lock").exists()


def test_redis_for_command_without_owner_starts_a_brief_redis(embedded_settings: Settings) -> None:
    data_dir = embedded_settings.data_dir
    with redis_for_command(embedded_settings) as url:
        assert pings(url)
        assert (data_dir / "redis.url").read_text() == url
        assert stat.S_IMODE((data_dir / "redis.url").stat().st_mode) == 0o600
        # It owns the directory while it runs.
        assert DataDirLock(data_dir).acquire() is False
        client = redis.Redis.from_url(url)
        client.set("written", "1")
        client.close()
    assert not pings(url)
    assert not (data_dir / "redis.url").exists()
    lock = DataDirLock(data_dir)
    assert lock.acquire() is True
    lock.release()
    # The next brief Redis finds what the last one wrote.
    with redis_for_command(embedded_settings) as again:
        client = redis.Redis.from_url(again, decode_responses=True)
        assert client.get("written") == "1"
        client.close()


def test_redis_for_command_attaches_to_the_owner(embedded_settings: Settings) -> None:
    lock = DataDirLock(embedded_settings.data_dir)
    assert lock.acquire()
    try:
        with owned_redis(embedded_settings, lock) as owner_url:
            assert pings(owner_url)
            with redis_for_command(embedded_settings) as url:
                assert url == owner_url
            # The attached command stopped nothing.
            assert pings(owner_url)
        assert not pings(owner_url)
        assert not (embedded_settings.data_dir / "redis.url").exists()
    finally:
        lock.release()


def test_redis_for_command_gives_up_when_the_owner_publishes_nothing(embedded_settings: Settings) -> None:
    lock = DataDirLock(embedded_settings.data_dir)
    assert lock.acquire()
    try:
        started = time.monotonic()
        with pytest.raises(ConfigError, match=str(os.getpid())), redis_for_command(
            embedded_settings, attach_wait_s=0.3
        ):
            pass
        assert time.monotonic() - started < 5
    finally:
        lock.release()


def test_owned_redis_with_redis_url_starts_nothing(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", redis_url="redis://127.0.0.1:1/0")
    lock = DataDirLock(settings.data_dir)
    assert lock.acquire()
    try:
        with owned_redis(settings, lock) as url:
            assert url == "redis://127.0.0.1:1/0"
            assert not (settings.data_dir / "redis.url").exists()
            assert not (settings.data_dir / "redis").exists()
    finally:
        lock.release()


# -- Settings ----------------------------------------------------------------------------------------------


def test_settings_redis_url_none_overrides_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://elsewhere.example:6379/0")
    monkeypatch.setenv("NEWSWORKERS_DATA_DIR", str(tmp_path / "env-dir"))
    assert Settings(data_dir=tmp_path / "d", redis_url=None).redis_url is None
    from_env = Settings()
    assert from_env.redis_url == "redis://elsewhere.example:6379/0"
    assert from_env.data_dir == tmp_path / "env-dir"
    assert Settings(data_dir=tmp_path / "d").data_dir == tmp_path / "d"


def test_settings_without_redis_url_in_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("NEWSWORKERS_REDIS_URL", raising=False)
    monkeypatch.setenv("NEWSWORKERS_REDIS_URL", "redis://prefixed.example:6379/2")
    assert Settings(data_dir=tmp_path / "d").redis_url == "redis://prefixed.example:6379/2"
    monkeypatch.delenv("NEWSWORKERS_REDIS_URL")
    settings = Settings(data_dir=tmp_path / "d")
    assert settings.redis_url is None
    assert settings.index_dir == tmp_path / "d" / "index"
