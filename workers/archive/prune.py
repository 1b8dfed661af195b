"""Removing old WARC files from the page archive.

WARC files are append-only and shared by many pages, so pruning works on whole files: a file goes
when its newest record is older than the cut-off (and, with a domain, when every page and feed
document in it is from that domain; a file that mixes domains is kept whole, never rewritten).
Files still being written (``.open``) are never touched, except those a crashed writer of this
machine left behind (its pid is gone): those are closed first, then judged like any other.
Articles whose page went with a file keep their pointer; reading it gives ``archive.missing`` and
``newsworkers reprocess`` counts them as having no archived page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from workers.archive.write import OPEN_SUFFIX, archive_root, close_abandoned
from workers.core.dates import parse_iso
from workers.core.logs import get_logger
from workers.settings import Settings

__all__ = ["FileSummary", "prune_archive", "summarize_file"]

log = get_logger(__name__)


@dataclass(slots=True)
class FileSummary:
    """What one WARC file holds, as far as pruning cares: its newest record and the domains of its records."""

    newest: datetime | None
    domains: set[str]
    complete: bool  # False when the file ends in a cut or corrupt record


def summarize_file(path: Path) -> FileSummary:
    newest: datetime | None = None
    domains: set[str] = set()
    complete = True
    try:
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type not in ("response", "resource", "request", "revisit"):
                    continue
                when = _warc_date(record.rec_headers.get_header("WARC-Date"))
                if when is not None and (newest is None or when > newest):
                    newest = when
                host = urlsplit(record.rec_headers.get_header("WARC-Target-URI") or "").hostname
                domains.add(_bare(host or ""))
    except (ArchiveLoadFailed, ValueError, OSError, EOFError) as exc:
        log.warning("archive file unreadable to its end", path=str(path), error=str(exc))
        complete = False
    return FileSummary(newest, domains, complete)


def prune_archive(settings: Settings, before: datetime, domain: str | None = None) -> int:
    """Remove closed WARC files whose newest record is older than ``before``; returns how many went.

    With ``domain``, only files holding nothing but that domain's (and its subdomains') pages go.
    """
    before = before if before.tzinfo else before.replace(tzinfo=UTC)
    root = archive_root(settings)
    if not root.is_dir():
        return 0
    wanted = _bare(domain) if domain else None
    removed = 0
    for path in sorted(root.rglob("*.warc.gz*")):
        if path.name.endswith(OPEN_SUFFIX):
            closed = close_abandoned(path)
            if closed is None:
                continue
            path = closed
        if not path.name.endswith(".warc.gz"):
            continue
        if domain is None and datetime.fromtimestamp(path.stat().st_mtime, UTC) < before:
            # Every record was written before the file was last modified: no need to read it.
            removed += _remove(path)
            continue
        summary = summarize_file(path)
        newest = summary.newest or datetime.fromtimestamp(path.stat().st_mtime, UTC)
        if newest >= before:
            continue
        if wanted is not None and not (summary.domains and all(_within(d, wanted) for d in summary.domains)):
            continue
        removed += _remove(path)
    for folder in sorted((p for p in root.iterdir() if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    return removed


def _remove(path: Path) -> int:
    try:
        path.unlink()
    except FileNotFoundError:
        return 0
    return 1


def _bare(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    return host.removeprefix("www.")


def _within(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def _warc_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None
