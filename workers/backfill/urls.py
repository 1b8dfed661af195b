"""Backfill from a file of URLs, one a line (blank lines and ``#`` comments are passed over).

Each http(s) URL becomes an item for the fetch stage; anything else is counted as failed
(``urls.invalid``) with its line number. The position is the number of the next line to read.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

from workers.backfill.checkpoint import Checkpoint
from workers.backfill.enqueue import Sender

__all__ = ["backfill_urls"]


def backfill_urls(sender: Sender, checkpoint: Checkpoint, path: Path, *, every: int) -> None:
    tally, unit = sender.tally, str(path)
    position = checkpoint.get(unit)
    start = int(position.get("line", 0))
    tally.resumed += start
    if position.get("done"):
        return
    saved_at, number = time.monotonic(), start
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            if number <= start:
                continue
            url = line.strip()
            if url and not url.startswith("#"):
                tally.records_read += 1
                if urlsplit(url).scheme.lower() not in ("http", "https") or not urlsplit(url).hostname:
                    tally.fail("urls.invalid", f"{path}:{number}: not an http(s) URL: {url[:200]!r}")
                else:
                    item = sender.item(url, feed_url=path.resolve().as_uri(), feed_title=path.name)
                    if item is not None:
                        sender.send_fetch(item)
            if (number - start) % every == 0 or time.monotonic() - saved_at > 1.0 or sender.job.stopping:
                checkpoint.save(unit, {"line": number})
                saved_at = time.monotonic()
            if sender.job.stopping:
                return
    checkpoint.save(unit, {"line": number, "done": True})
