"""The page archive: every fetched page as a WARC record, read back by pointer (file, offset, length).

``write`` appends records (fetch and poll stages), ``read`` reads one back (extract, reprocess),
``prune`` removes old files (retention).
"""

from workers.archive.prune import prune_archive

__all__ = ["prune_archive"]
