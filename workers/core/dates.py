"""ISO-8601 dates in and out, with one rule for zones: UTC unless the value says otherwise.

Feeds, sitemaps, WARC headers, command-line options and our own stored JSON
all carry ISO-8601 text, some ending in ``Z``, some with no zone at all. Every
date newsworkers indexes or compares is timezone-aware, so a value without a
zone is read as UTC (never as the machine's local time), and a naive datetime
is written as UTC the same way. Parsing and formatting live here once so that
a feed date and a ``--since`` option can never disagree about what a bare
``2024-05-01`` means.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

__all__ = ["Timespec", "iso_utc", "parse_iso"]

Timespec = Literal["auto", "hours", "minutes", "seconds", "milliseconds", "microseconds"]
"""The precisions ``datetime.isoformat`` takes."""


def parse_iso(value: str) -> datetime:
    """The aware datetime of an ISO-8601 date or date-time such as ``2024-05-01``, ``2024-05-01T09:30:00Z`` or
    ``2024-05-01T11:30:00+02:00``; a trailing ``Z`` and a missing offset both mean UTC; any other offset is kept.

    Raises ValueError, naming the value, for text that is not ISO-8601 (surrounding whitespace included: strip
    first where the input may carry it), and TypeError for anything but a str, as ``datetime.fromisoformat`` does.
    """
    if not isinstance(value, str):
        raise TypeError(f"parse_iso takes a str, not {type(value).__name__}")
    # fromisoformat takes "Z" only after a time; feeds also write it after a bare date ("2024-05-01Z").
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an ISO-8601 date or time such as 2024-05-01T09:30:00Z") from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def iso_utc(value: datetime, *, timespec: Timespec = "auto") -> str:
    """``value`` in UTC as ISO-8601 with a ``Z`` (``2024-05-01T09:30:00Z``); a naive value is taken as UTC.

    ``timespec`` is ``datetime.isoformat``'s: ``"seconds"`` for formats that want no fraction (Atom, WARC).
    """
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat(timespec=timespec).replace("+00:00", "Z")
