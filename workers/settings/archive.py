"""Page archive and reprocess: the WARC files that keep every fetched page and feed document.

Extraction reads archived pages by pointer, and ``newsworkers reprocess`` reads them again later.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

__all__ = ["ArchiveSettings"]


class ArchiveSettings(BaseModel):
    """Page archive and reprocess: whether pages are archived, where, and when a WARC file is closed."""

    archive_enabled: bool = Field(
        True, description="Keep every fetched page and feed document in WARC files; extract then reads pages by "
        "pointer (file, offset, length) instead of taking their HTML through the broker.",
    )
    archive_dir: Path | None = Field(
        None, description="Directory of the WARC archive; unset: <data_dir>/archive. In a deployment, a volume "
        "every worker mounts at the same path.",
    )
    archive_max_file_bytes: int = Field(
        2**30, ge=2**16, description="Size in bytes at which a WARC file is closed and a new one started.",
    )
    archive_max_file_age_s: int = Field(
        3600, ge=1, description="Seconds after which an open WARC file is closed at its next record, however small.",
    )
    archive_fsync: bool = Field(
        False, description="fsync each record before its pointer is sent (survives a machine crash, costs a disk "
        "flush per page); off, a record is flushed to the OS, which survives a worker crash.",
    )
