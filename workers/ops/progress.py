"""Live progress of a run: per-stage counts, rates, errors and queue depths."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from rich.console import Group
from rich.table import Table
from rich.text import Text

from workers.broker.delivery import queue_depths
from workers.runtime import Runtime

__all__ = ["Progress"]

_STAGES = (
    ("poll", ("ok", "not_modified", "failed"), "items_new"),
    ("fetch", ("ok", "retried", "failed"), None),
    ("extract", ("ok", "from_feed", "failed"), None),
    ("index", ("ok", "retried", "failed"), None),
)


class Progress:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.started = time.monotonic()
        self.baseline = runtime.stats.snapshot()

    def counts(self) -> dict[str, int]:
        now = self.runtime.stats.snapshot()
        return {k: v - self.baseline.get(k, 0) for k, v in now.items()}

    def render(self) -> Group:
        counts = self.counts()
        elapsed = max(time.monotonic() - self.started, 1e-6)
        depths = queue_depths(self.runtime.redis, self.runtime.keys, broker_url=self.runtime.settings.broker_url)
        table = Table(title="newsworkers", expand=False)
        for column in ("stage", "done", "other", "failed", "queued", "per s"):
            table.add_column(column, justify="right" if column != "stage" else "left")
        for stage, (ok, other, failed), _extra in _STAGES:
            done = counts.get(f"{stage}.{ok}", 0)
            table.add_row(
                stage,
                str(done),
                f"{counts.get(f'{stage}.{other}', 0)} {other}",
                Text(str(counts.get(f"{stage}.{failed}", 0)), style="red" if counts.get(f"{stage}.{failed}") else ""),
                str(depths.get(stage, 0)),
                f"{done / elapsed:.1f}",
            )
        footer = Text(
            f"{elapsed:.0f}s  new items {counts.get('poll.items_new', 0)}  "
            f"in flight {self.runtime.tracker.inflight_count()}  dead letters {self.runtime.dead_letters.count()}",
            style="dim",
        )
        waits = self.waiting()
        return Group(table, footer, *(Text(w, style="yellow") for w in waits))

    def waiting(self, *, now: float | None = None, shown: int = 3) -> list[str]:
        """What the run waits on: the soonest held retries, each with its host, reason, next attempt and
        attempts left, so a wait on a dead host is seen for what it is."""
        delayed = self.runtime.delayed
        soonest = delayed.soonest(shown)
        if not soonest:
            return []
        now = time.time() if now is None else now
        lines = []
        for due, note in soonest:
            host = urlsplit(str(note.get("url") or "")).netloc or str(note.get("url") or "?")
            left = note.get("attempts_left")
            attempts = f", {left} attempt{'s' if left != 1 else ''} left" if left is not None else ""
            lines.append(f"waiting: {note.get('stage', 'retry')} {host} ({note.get('reason', '?')}), next attempt "
                         f"in {max(0.0, due - now):.0f}s{attempts}")
        held = delayed.count()
        if held > len(soonest):
            lines.append(f"waiting: {held - len(soonest)} more held for a later attempt")
        return lines

    def line(self) -> str:
        counts = self.counts()
        elapsed = time.monotonic() - self.started
        parts = [f"{stage} {counts.get(f'{stage}.{ok}', 0)}/{counts.get(f'{stage}.{failed}', 0)} failed"
                 for stage, (ok, _o, failed), _e in _STAGES]
        waits = self.waiting(shown=1)
        return (f"[{elapsed:5.0f}s] " + ", ".join(parts) + f", in flight {self.runtime.tracker.inflight_count()}"
                + "".join(f"; {w}" for w in waits))
