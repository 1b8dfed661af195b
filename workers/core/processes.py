"""Child processes that die with their parent.

``newsworkers run`` starts Redis and the workers in sessions of their own
(so the terminal's Ctrl-C reaches only the runner, which stops them in
order). If the runner itself is killed, Linux's parent-death signal still
sends them SIGTERM: no orphaned workers, no second Redis on the same files.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess

__all__ = ["die_with_parent", "pid_alive", "stop_group"]

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """``preexec_fn``: ask the kernel to SIGTERM this child when its parent dies (Linux; a no-op elsewhere)."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def stop_group(proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    """SIGTERM a child that leads its own process group; SIGKILL the whole group if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # takes the prefork children along
        proc.wait()


def pid_alive(pid: int) -> bool:
    """Whether a process of this machine still holds ``pid`` (one we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
