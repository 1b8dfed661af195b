"""Move a Tantivy index written under an older schema version to the current one, in place of a re-ingest.

Every document keeps its whole Article in the stored ``source`` field, so the index can be rebuilt from
itself: each stored Article is read back (fields a newer Article gained take their defaults; values only a
re-extraction can fill, such as countries and places, come with ``newsworkers reprocess``) and written into
a fresh index beside the old one; then the old directory is renamed ``<name>.v<old version>`` (kept, as
``index migrate`` keeps the old Elasticsearch index) and the new one takes its name. Nothing is swapped
unless every document was read: an Article that no longer validates stops the migration, naming it.
It needs the index to itself: the caller holds the data directory (no ``newsworkers run``).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import tantivy
from pydantic import ValidationError

from workers.core.errors import IndexingError
from workers.core.models import Article
from workers.search.tantivy.backend import VERSION_FILE, TantivyBackend
from workers.search.tantivy.schema import SCHEMA_VERSION

__all__ = ["index_version", "migrate_index"]

_BATCH = 1000


def index_version(path: Path) -> int | None:
    """The schema version of the index at ``path``; None when there is no index (0 when it is unmarked)."""
    if not (path / "meta.json").exists():
        return None
    marker = path / VERSION_FILE
    text = marker.read_text().strip() if marker.exists() else ""
    return int(text) if text.isdigit() else 0


def migrate_index(path: Path) -> dict[str, Any]:
    """Rebuild the index at ``path`` under the current schema; returns what it did."""
    found = index_version(path)
    if found is None or found == SCHEMA_VERSION:
        return {"path": str(path), "from_version": found, "to_version": SCHEMA_VERSION, "copied": 0,
                "kept": None, "current": True}
    fresh = path.with_name(f"{path.name}.migrating")
    kept = path.with_name(f"{path.name}.v{found}")
    if kept.exists():
        raise IndexingError(f"{kept} exists from an earlier migration: move it away first", reason="index.migrate")
    try:
        # Held, never used: nobody writes the old index while it is copied (a worker that holds it is running).
        lock = tantivy.Index.open(str(path)).writer(15 * 2**20, 1)
    except ValueError as exc:
        raise IndexingError(f"cannot take the index at {path} for migration ({exc}): stop the workers first",
                            reason="index.locked") from exc
    shutil.rmtree(fresh, ignore_errors=True)  # what an interrupted run left; the old index is untouched
    copied = 0
    target = TantivyBackend(fresh, writer=True)
    try:
        batch: list[Article] = []
        for article in _stored_articles(path):
            batch.append(article)
            if len(batch) >= _BATCH:
                target.upsert(batch)
                copied, batch = copied + len(batch), []
        if batch:
            target.upsert(batch)
            copied += len(batch)
    except BaseException:
        target.close()
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    finally:
        del lock
    target.close()
    path.rename(kept)
    fresh.rename(path)
    return {"path": str(path), "from_version": found, "to_version": SCHEMA_VERSION, "copied": copied,
            "kept": str(kept), "current": False}


def _stored_articles(path: Path) -> Any:
    try:
        index = tantivy.Index.open(str(path))
    except (OSError, ValueError) as exc:
        raise IndexingError(f"cannot open the Tantivy index at {path}: {exc}", reason="index.open") from exc
    searcher = index.searcher()
    if not searcher.num_docs:
        return
    # One request for every address: the index is one machine's, and an address is a few bytes.
    found = searcher.search(tantivy.Query.all_query(), searcher.num_docs, count=False)
    for _score, address in found.hits:
        doc = searcher.doc(address)
        source = doc["source"][0] if doc["source"] else None
        try:
            if source is None:
                raise ValueError("no stored source")
            yield Article.model_validate_json(bytes(source))
        except (ValidationError, ValueError) as exc:
            doc_id = doc["id"][0] if doc["id"] else "?"
            raise IndexingError(f"document {doc_id} of {path} cannot be read back as an Article ({exc}); "
                                "nothing was changed", reason="index.migrate") from exc
