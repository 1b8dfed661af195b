"""The one ISO-8601 parser and formatter: a ``Z`` or no zone at all means UTC, other offsets are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from workers.core.dates import iso_utc, parse_iso

PLUS_TWO = timezone(timedelta(hours=2))


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-05-01T09:30:00Z", datetime(2024, 5, 1, 9, 30, tzinfo=UTC)),
    ("2024-05-01T09:30:00.250Z", datetime(2024, 5, 1, 9, 30, 0, 250_000, tzinfo=UTC)),
    ("2024-05-01T09:30:00+00:00", datetime(2024, 5, 1, 9, 30, tzinfo=UTC)),
    ("2024-05-01T09:30:00", datetime(2024, 5, 1, 9, 30, tzinfo=UTC)),  # naive: UTC, never local time
    ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
    ("2024-05-01Z", datetime(2024, 5, 1, tzinfo=UTC)),  # a Z after a bare date, as some feeds write it
    ("20240501T093000Z", datetime(2024, 5, 1, 9, 30, tzinfo=UTC)),  # the basic format
])
def test_a_z_or_no_zone_means_utc(text: str, expected: datetime) -> None:
    parsed = parse_iso(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


def test_another_offset_is_kept_not_converted() -> None:
    parsed = parse_iso("2024-05-01T11:30:00+02:00")
    assert parsed.tzinfo == PLUS_TWO and parsed.hour == 11
    assert parsed == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "yesterday", "2024-13-01", "2024-05-01T25:00:00Z", " 2024-05-01",
                                  "2024-05-01T09:30:00Z ", "2024-05-01T09:30:00z", "Z"])
def test_anything_else_is_a_value_error_naming_the_value(text: str) -> None:
    with pytest.raises(ValueError, match="is not an ISO-8601 date or time") as caught:
        parse_iso(text)
    assert repr(text) in str(caught.value)
    assert isinstance(caught.value.__cause__, ValueError)  # fromisoformat's own words stay in the chain


@pytest.mark.parametrize("value", [None, 20240501, b"2024-05-01"])
def test_a_non_string_is_a_type_error_as_from_fromisoformat(value: object) -> None:
    with pytest.raises(TypeError, match="takes a str"):
        parse_iso(value)  # type: ignore[arg-type]


def test_iso_utc_writes_utc_with_a_z() -> None:
    assert iso_utc(datetime(2024, 5, 1, 9, 30, tzinfo=UTC)) == "2024-05-01T09:30:00Z"
    assert iso_utc(datetime(2024, 5, 1, 11, 30, tzinfo=PLUS_TWO)) == "2024-05-01T09:30:00Z"
    assert iso_utc(datetime(2024, 5, 1, 9, 30)) == "2024-05-01T09:30:00Z"  # naive: UTC
    assert iso_utc(datetime(2024, 5, 1, 9, 30, 0, 250_000, tzinfo=UTC)) == "2024-05-01T09:30:00.250000Z"


def test_iso_utc_takes_isoformats_timespec() -> None:
    when = datetime(2024, 5, 1, 9, 30, 15, 250_000, tzinfo=PLUS_TWO)
    assert iso_utc(when, timespec="seconds") == "2024-05-01T07:30:15Z"
    assert iso_utc(when, timespec="milliseconds") == "2024-05-01T07:30:15.250Z"


@pytest.mark.parametrize("when", [
    datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=PLUS_TWO),
    datetime(2024, 2, 29, 0, 0),
])
def test_what_iso_utc_writes_parse_iso_reads_back(when: datetime) -> None:
    expected = when if when.tzinfo else when.replace(tzinfo=UTC)
    assert parse_iso(iso_utc(when)) == expected
    assert parse_iso(when.isoformat()) == expected
