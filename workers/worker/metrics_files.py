"""Where a worker's metrics live on disk: one directory of multiprocess files per worker process tree.

Written by :mod:`workers.worker.metrics` in each worker, summed by :mod:`workers.worker.metrics_export`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from workers.core.processes import pid_alive
from workers.core.stages import PIPELINE
from workers.settings import Settings
from workers.state.ownership import DataDirLock

__all__ = ["KIND_OFFSETS", "forget_dead_workers", "metrics_dir", "run_owns"]

KIND_OFFSETS = {stage.name: stage.metrics_offset for stage in PIPELINE}
"""Added to ``worker_metrics_port`` so the four worker kinds of one machine do not collide."""


def metrics_dir(settings: Settings) -> Path:
    """Where the worker processes of this data directory write their multiprocess files."""
    return settings.data_dir.resolve() / "metrics"


def forget_dead_workers(root: Path, kinds: list[str], host: str) -> None:
    """Drop the files of this machine's earlier workers of ``kinds`` whose process is gone.

    Never while a run sums them: a sum that drops when one worker is replaced would read as a counter
    reset followed by a jump. A run clears them at its start, a worker serving its own files at its start;
    either way it is a process restart to Prometheus, which ``rate`` handles.
    """
    if not root.is_dir():
        return
    for path in root.iterdir():
        pid = path.name.rsplit("-", 1)[-1]
        if (any(path.name.startswith(f"{kind}-{host}-") for kind in kinds) and pid.isdigit()
                and not pid_alive(int(pid))):
            shutil.rmtree(path, ignore_errors=True)


def run_owns(data_dir: Path) -> bool:
    """Whether a `newsworkers run` holds this data directory (its lock is taken)."""
    lock = DataDirLock(data_dir)
    if lock.acquire():
        lock.release()
        return False
    return True
