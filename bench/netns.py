"""Hosts as Linux network namespaces, for the cluster harness (bench/cluster.py).

One namespace per host, named ``nwc<pid>-h<N>``. Host 1 is also the switch:
a bridge ``br0`` holds its address, and each other host is one veth pair, its
``eth0`` inside the host and the peer ``v<N>`` on host 1's bridge. Every link
is created inside the namespaces (none in the caller's), so link names only
need to be unique per namespace, and deleting the namespaces deletes the
links with them. Addresses come from 198.18.0.0/24 (RFC 2544's benchmarking
range): host N is 198.18.0.N. Nothing routes out of the namespaces, so the
traffic stays between them.

Cleanup: :meth:`Network.close` runs from the harness's ``finally``, from
``atexit`` and on SIGTERM; :func:`sweep_stale` deletes namespaces of earlier
runs whose process is gone (a ``kill -9`` of the harness).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

__all__ = ["PREFIX", "SUBNET", "Network", "can_create_namespaces", "in_namespace", "sweep_stale"]

PREFIX = "nwc"
"""Every namespace this harness creates starts with it (then the harness's pid)."""

SUBNET = "198.18.0"
"""Host N is ``198.18.0.N/24``."""

_CLONE_NEWNET = 0x40000000
_NETNS_DIR = Path("/run/netns")


def _ip(*args: str) -> None:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")


def can_create_namespaces() -> str | None:
    """None when this process can make namespaces, else why not (the reason a test skips with)."""
    if shutil.which("ip") is None:
        return "no `ip` command (Debian package iproute2)"
    if os.geteuid() != 0:
        return "network namespaces need root"
    probe = f"{PREFIX}{os.getpid()}-probe"
    try:
        _ip("netns", "add", probe)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot create a network namespace: {exc}"
    try:
        _ip("netns", "del", probe)
    except RuntimeError as exc:
        return f"cannot delete a network namespace: {exc}"
    return None


def _owner_alive(name: str) -> bool:
    pid = name.removeprefix(PREFIX).split("-", 1)[0]
    if not pid.isdigit():
        return True  # not ours by our naming: leave it
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped) answers signal 0 but owns nothing any more
        return "\tZ" not in Path(f"/proc/{pid}/status").read_text().partition("State:")[2][:4]
    except OSError:
        return True


def sweep_stale() -> list[str]:
    """Delete the namespaces of earlier harness runs whose process is gone, and what still runs in them;
    returns their names."""
    result = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=30)
    stale = [line.split()[0] for line in result.stdout.splitlines()
             if line.startswith(PREFIX) and not _owner_alive(line.split()[0])]
    for name in stale:
        # A harness killed with -9 leaves its workers running in its namespaces: they were ours, and go first.
        pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True, timeout=30).stdout
        for pid in (int(p) for p in pids.split() if p.isdigit()):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(RuntimeError):
            _ip("netns", "del", name)
    return stale


@contextlib.contextmanager
def in_namespace(name: str) -> Iterator[None]:
    """Run the calling thread inside namespace ``name`` for the block.

    setns(2) moves only the calling thread; sockets made inside keep their namespace after it returns
    (how the harness serves the fixture site on host 1's address from its own process).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(str(_NETNS_DIR / name), os.O_RDONLY)
    try:
        if libc.setns(target, _CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into {name}")
        try:
            yield
        finally:
            if libc.setns(own, _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back to the harness's namespace")
    finally:
        os.close(target)
        os.close(own)


class Network:
    """Host 1 (bridge, 198.18.0.1) and worker hosts attached to it, each a namespace."""

    def __init__(self) -> None:
        self.run_id = f"{PREFIX}{os.getpid()}"
        self.hosts: list[int] = []
        self._closed = False
        atexit.register(self.close)

    def name(self, host: int) -> str:
        return f"{self.run_id}-h{host}"

    @staticmethod
    def address(host: int) -> str:
        return f"{SUBNET}.{host}"

    def add_host(self, host: int) -> str:
        """Create host ``host``'s namespace (host 1 first: it carries the bridge); returns its name."""
        name = self.name(host)
        _ip("netns", "add", name)
        self.hosts.append(host)
        _ip("-n", name, "link", "set", "lo", "up")
        if host == 1:
            _ip("-n", name, "link", "add", "br0", "type", "bridge")
            _ip("-n", name, "addr", "add", f"{self.address(1)}/24", "dev", "br0")
            _ip("-n", name, "link", "set", "br0", "up")
            return name
        hub = self.name(1)
        _ip("-n", hub, "link", "add", f"v{host}", "type", "veth", "peer", "name", "eth0", "netns", name)
        _ip("-n", hub, "link", "set", f"v{host}", "master", "br0")
        _ip("-n", hub, "link", "set", f"v{host}", "up")
        _ip("-n", name, "addr", "add", f"{self.address(host)}/24", "dev", "eth0")
        _ip("-n", name, "link", "set", "eth0", "up")
        return name

    def cut(self, host: int) -> None:
        """Take host ``host`` off the network: its link down on both ends."""
        _ip("-n", self.name(host), "link", "set", "eth0", "down")
        _ip("-n", self.name(1), "link", "set", f"v{host}", "down")

    def exec_argv(self, host: int, argv: list[str]) -> list[str]:
        """``argv`` run inside host ``host``."""
        return ["ip", "netns", "exec", self.name(host), *argv]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for host in reversed(self.hosts):
            with contextlib.suppress(RuntimeError, OSError, subprocess.TimeoutExpired):
                _ip("netns", "del", self.name(host))
        self.hosts.clear()
