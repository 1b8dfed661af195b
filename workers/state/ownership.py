"""One owner per data directory: the embedded Redis and the index writer.

``newsworkers run`` takes ``<data_dir>/owner.lock`` (an OS file lock, released
by the kernel if the process dies) and publishes its Redis URL in
``<data_dir>/redis.url``. Other commands attach to that Redis; when no owner
runs they take the lock themselves and start the embedded Redis briefly.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from workers.core.errors import ConfigError
from workers.settings import Settings
from workers.state.embedded_redis import EmbeddedRedis

__all__ = ["DataDirLock", "data_dir_holds_nothing", "is_owned", "missing_data_message", "owned_redis",
           "redis_for_command"]


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "owner.lock"
        self._file: IO[str] | None = None

    def acquire(self, wait_s: float = 0.0) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.close()
                    return False
                time.sleep(0.1)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return True

    def owner_pid(self) -> int | None:
        try:
            return int(self.path.read_text().strip() or 0) or None
        except (OSError, ValueError):
            return None

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def _url_file(settings: Settings) -> Path:
    return settings.data_dir / "redis.url"


@contextlib.contextmanager
def owned_redis(settings: Settings, lock: DataDirLock) -> Iterator[str]:
    """For the owner (who holds ``lock``): the Redis URL, starting the embedded one if needed."""
    if settings.redis_url:
        yield settings.redis_url
        return
    server = EmbeddedRedis(settings.data_dir / "redis", appendfsync=settings.redis_appendfsync)
    url = server.start()
    url_file = _url_file(settings)
    url_file.write_text(url)
    url_file.chmod(0o600)
    try:
        yield url
    finally:
        url_file.unlink(missing_ok=True)
        server.stop()


@contextlib.contextmanager
def redis_for_command(settings: Settings, *, attach_wait_s: float = 15.0) -> Iterator[str]:
    """For any other command: the running owner's Redis, or a brief embedded one."""
    if settings.redis_url:
        yield settings.redis_url
        return
    lock = DataDirLock(settings.data_dir)
    if lock.acquire():
        try:
            with owned_redis(settings, lock) as url:
                yield url
        finally:
            lock.release()
        return
    # Someone owns the directory: wait for it to publish its Redis (it may be starting).
    deadline = time.monotonic() + attach_wait_s
    url_file = _url_file(settings)
    while not url_file.exists():
        if time.monotonic() > deadline:
            raise ConfigError(
                f"{settings.data_dir} is owned by process {lock.owner_pid()} but it published no Redis URL; "
                "is it still starting? Try again, or stop it."
            )
        time.sleep(0.1)
    yield url_file.read_text().strip()


def is_owned(data_dir: Path) -> bool:
    """Whether a process holds the data directory's lock now; looks without creating anything."""
    path = data_dir / "owner.lock"
    try:
        handle = path.open("r")
    except OSError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def _has_entries(path: Path) -> bool:
    try:
        return any(path.iterdir())
    except OSError:
        return False


def data_dir_holds_nothing(data_dir: Path, *, what: str = "any") -> bool:
    """True when the data directory has no owner and nothing a run leaves: ``what`` is "index" (the Tantivy
    index alone counts) or "any" (the index or the embedded Redis's files)."""
    if is_owned(data_dir):
        return False
    if _has_entries(data_dir / "index"):
        return False
    return what == "index" or not _has_entries(data_dir / "redis")


def missing_data_message(data_dir: Path) -> str:
    shown = str(data_dir) if data_dir.is_absolute() or str(data_dir).startswith(".") else f"./{data_dir}"
    return f"no index at {shown}: pass --data-dir or run `newsworkers run` first"
