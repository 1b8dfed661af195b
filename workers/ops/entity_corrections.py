"""Analysts' entity corrections: made or undone in Redis, then brought to the articles already indexed.

New articles take a correction at once (every extract worker checks the corrections' version per article,
see :mod:`workers.entities.correction_store`). Indexed ones are updated in place: the backend finds the
documents that carry one of the correction's names (as listed, as a spelling merged away, or as found before
any correction), each one's entity fields are computed again from what its recognizer found with the
corrections now in force, and the documents that changed are written back by id (a bulk index on
Elasticsearch). An undo is the same walk after the correction is gone, so it restores exactly what the
article would have without it, whatever other corrections came before or after.

Who writes the embedded Tantivy index: this process when it can take the data directory and the writer;
otherwise (``newsworkers run`` holds it) the updated documents go on the index queue to the index worker,
like any article.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from workers.broker.routing import queue_name
from workers.core.errors import ConfigError, IndexingError, NewsworkersError, RetryableIndexingError
from workers.core.models import ENTITY_KINDS, Article
from workers.core.stages import INDEX, INDEX_TASK
from workers.entities.correction_store import CorrectionStore
from workers.entities.corrections import Correction, CorrectionAction, CorrectionSet, corrected_fields, kinds_of
from workers.runtime import Runtime, attached_runtime
from workers.search.backend import SearchBackend, open_backend
from workers.search.model import SearchQuery, alias_field, found_field
from workers.settings import Settings
from workers.state.ownership import DataDirLock, owned_redis
from workers.worker.app import create_app

__all__ = ["CorrectionReport", "affected_ids", "correct", "entity_counts", "refresh", "undo", "update_in_place"]

_BATCH = 200  # documents read and written back per round


@dataclass(slots=True)
class CorrectionReport:
    correction: Correction | None  # None: a refresh of the articles carrying a name
    undone: bool
    found: int = 0  # documents carrying one of its names
    updated: int = 0  # of those, the ones whose entity fields changed
    where: str = "here"  # "here", "index worker" (sent on the index queue), "elasticsearch"

    def to_json(self) -> dict[str, Any]:
        return {"correction": self.correction.model_dump(mode="json") if self.correction else None,
                "undone": self.undone,
                "found": self.found, "updated": self.updated, "where": self.where}


def correct(settings: Settings, action: CorrectionAction | str, name: str, target: str | None = None,
            kind: str | None = None) -> CorrectionReport:
    """Record a correction and update the indexed articles it touches."""
    return _run(settings, lambda store: store.add(action, name, target, kind), undone=False)


def undo(settings: Settings, correction_id: int) -> CorrectionReport:
    """Remove a correction and give the articles it touched their fields without it."""
    return _run(settings, lambda store: store.undo(correction_id), undone=True)


def refresh(settings: Settings, name: str, kind: str | None = None) -> CorrectionReport:
    """Give the indexed articles carrying ``name`` (in ``kind``, or any kind) their entity fields with the
    corrections in force: after an update in place that an outage cut short, or a restore of an older index."""
    if kind is not None and kind not in ENTITY_KINDS:
        raise ConfigError(f"unknown entity kind {kind!r}; kinds are: {', '.join(ENTITY_KINDS)}",
                          reason="entities.bad_input")
    return _run(settings, lambda _store: None, undone=False, names=[name], kinds=(kind,) if kind else ENTITY_KINDS)


def _run(settings: Settings, change: Any, *, undone: bool, names: list[str] | None = None,
         kinds: Sequence[str] = ENTITY_KINDS) -> CorrectionReport:
    """Make the change (a function of the store returning the correction made or undone), then walk the
    articles carrying its names (or ``names``) where this process may reach the index."""
    def walk(runtime: Runtime, where: str) -> CorrectionReport:
        correction = change(CorrectionStore(runtime.redis, settings.namespace))
        report = CorrectionReport(correction, undone, where=where)
        looked_up = names or [n for n in (correction.name, correction.target) if n]
        scope = kinds_of(correction) if correction is not None else kinds
        try:
            if where == "index worker":
                return _through_index_worker(runtime, looked_up, scope, report)
            writer = runtime.index_writer
            return update_in_place(writer, runtime, looked_up, scope, report)
        except RetryableIndexingError:
            if where != "here":
                raise _unfinished(report) from None
            # A deployment's index worker holds the writer.
            return _through_index_worker(runtime, looked_up, scope, replace(report, where="index worker"))
        except NewsworkersError as exc:
            raise _unfinished(report, exc) from exc

    if settings.elasticsearch_url:
        with attached_runtime(settings) as runtime:
            return walk(runtime, "elasticsearch")
    lock = DataDirLock(settings.data_dir)
    if not lock.acquire():  # `newsworkers run` owns the directory: its index worker holds the writer
        with attached_runtime(settings) as runtime:
            return walk(runtime, "index worker")
    try:
        with owned_redis(settings, lock) as url:
            runtime = Runtime(settings.model_copy(update={"redis_url": url}))
            try:
                return walk(runtime, "here")
            finally:
                runtime.close()
    finally:
        lock.release()


def _unfinished(report: CorrectionReport, exc: NewsworkersError | None = None) -> NewsworkersError:
    """The error of an update in place cut short, saying what was kept and how to finish it."""
    name = report.correction.name if report.correction else "the name"
    done = ""
    if report.correction:
        done = f"correction {report.correction.id} is {'undone' if report.undone else 'kept'}; "
    return IndexingError(f"{exc or 'the index writer is taken'}; {done}{report.updated} articles were updated: "
                         f"`newsworkers entities refresh {name!r}` finishes the update in place",
                         reason=exc.reason if exc else "index.locked")


def affected_ids(backend: SearchBackend, names: Sequence[str], kinds: Sequence[str]) -> list[str]:
    """The documents carrying one of ``names`` in one of ``kinds``: listed, merged away, or found before any
    correction. (A correction looks up its target too, so a later correction chained onto it is seen again.)"""
    ids: dict[str, None] = {}
    for kind in kinds:
        for key in (kind, alias_field(kind), found_field(kind)):
            ids.update(dict.fromkeys(backend.ids_where(SearchQuery(filters={key: names}))))
    return list(ids)


def update_in_place(backend: SearchBackend, runtime: Runtime, names: Sequence[str], kinds: Sequence[str],
                    report: CorrectionReport) -> CorrectionReport:
    """Write back, through ``backend``, the documents carrying ``names`` whose entity fields change."""
    corrections = CorrectionSet(CorrectionStore(runtime.redis, runtime.settings.namespace).all())
    for changed in _changed(backend, affected_ids(backend, names, kinds), corrections, report):
        backend.upsert(changed)
        report.updated += len(changed)
    return report


def _through_index_worker(runtime: Runtime, names: Sequence[str], kinds: Sequence[str],
                          report: CorrectionReport) -> CorrectionReport:
    reader = open_backend(runtime.settings)
    app = create_app(runtime.settings)
    try:
        corrections = CorrectionSet(CorrectionStore(runtime.redis, runtime.settings.namespace).all())
        for changed in _changed(reader, affected_ids(reader, names, kinds), corrections, report):
            for article in changed:
                app.send_task(INDEX_TASK, args=({"article": article.model_dump(mode="json"), "done": []},),
                              queue=queue_name(runtime.settings, INDEX.name))
            report.updated += len(changed)
    finally:
        app.close()
        reader.close()
    return report


def _changed(backend: SearchBackend, ids: list[str], corrections: CorrectionSet,
             report: CorrectionReport) -> Iterator[list[Article]]:
    for start in range(0, len(ids), _BATCH):
        changed = []
        for doc_id in ids[start: start + _BATCH]:
            article = backend.get(doc_id)
            if article is None:
                continue
            report.found += 1
            fields = corrected_fields(article, corrections)
            updated = article.model_copy(update=fields)
            if _entity_view(updated) != _entity_view(article):
                changed.append(updated)
        if changed:
            yield changed


def _entity_view(article: Article) -> tuple[Any, ...]:
    """What a reader and a search see of the entities: the lists by kind in order, the spellings as sets (their
    order means nothing, so an article is not rewritten for it)."""
    return (*(getattr(article, kind) for kind in ENTITY_KINDS), frozenset(article.entity_aliases),
            {k: frozenset(v) for k, v in article.aliases_by_kind.items() if v}, article.extracted_entities)


def entity_counts(backend: SearchBackend, kinds: Sequence[str], *, size: int,
                  text: str = "") -> dict[str, list[tuple[str, int]]]:
    """The facet values of each kind over the index (or over the articles ``text`` finds), most articles first."""
    result = backend.search(SearchQuery(text=text, limit=0, facets=list(kinds), facet_size=size))
    return {kind: [(c.value, c.count) for c in result.facets.get(kind, [])] for kind in kinds}
