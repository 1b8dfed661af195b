"""Rebuild a Tantivy index written by another schema version from the articles it stores.

Every document keeps its whole Article (``source``), so nothing needs fetching or extracting again: the
articles are read from the old index with the schema stored beside it, written into a new index next to
it with this version's schema and analyzers, and the two directories are swapped. The old one is kept
as ``<index>.v<old version>-old`` until its owner removes it. Tantivy's writer lock is held on the old
index throughout, so a running index worker (which holds it) makes the migration refuse, and no worker
can write to the old index while it is copied.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import tantivy

from workers.core.errors import IndexingError
from workers.core.models import Article
from workers.search.tantivy.backend import TantivyBackend, index_version
from workers.search.tantivy.schema import SCHEMA_VERSION

__all__ = ["migrate_index"]

_BATCH = 500


def migrate_index(path: Path) -> dict[str, Any]:
    """Bring the index at ``path`` to SCHEMA_VERSION; returns what was done (nothing when it already is)."""
    found = index_version(path)
    if found is None:
        return {"path": str(path), "from": None, "to": SCHEMA_VERSION, "copied": 0, "kept": None}
    if found == str(SCHEMA_VERSION):
        return {"path": str(path), "from": found, "to": SCHEMA_VERSION, "copied": 0, "kept": None}
    try:
        old = tantivy.Index.open(str(path))
        lock = old.writer(15 * 2**20, 1)  # held, never used: no one else writes the old index meanwhile
    except ValueError as exc:
        raise IndexingError(f"cannot take the index at {path} for migration ({exc}): stop the workers first",
                            reason="index.locked") from exc
    building = path.with_name(f"{path.name}.v{SCHEMA_VERSION}-building")
    kept = path.with_name(f"{path.name}.v{found}-old")
    if kept.exists():
        raise IndexingError(f"{kept} exists from an earlier migration: remove it first", reason="index.migrate")
    shutil.rmtree(building, ignore_errors=True)  # an interrupted earlier attempt
    try:
        copied = _copy(old, TantivyBackend(building, writer=True))
    finally:
        del lock
    path.rename(kept)
    building.rename(path)
    return {"path": str(path), "from": found, "to": SCHEMA_VERSION, "copied": copied, "kept": str(kept)}


def _copy(old: tantivy.Index, new: TantivyBackend) -> int:
    try:
        old.reload()
        searcher = old.searcher()
        copied = 0
        total = searcher.num_docs
        if total:
            found = searcher.search(tantivy.Query.all_query(), total, count=False)
            batch: list[Article] = []
            for _score, address in found.hits:
                stored = searcher.doc(address).to_dict().get("source")
                if not stored:
                    raise IndexingError("the old index keeps no article to rebuild from", reason="index.migrate")
                batch.append(Article.model_validate_json(bytes(stored[0])))
                if len(batch) >= _BATCH:
                    new.upsert(batch)
                    copied += len(batch)
                    batch = []
            if batch:
                new.upsert(batch)
                copied += len(batch)
        return copied
    finally:
        new.close()
