"""Entity facets and analysts' corrections over HTTP: ``/api/entities`` and ``/api/entities/corrections``.

Reads need no key. Making or undoing a correction is a write, guarded like saved searches (an API key when
``api_keys`` is set, else loopback clients only; see :mod:`workers.api.routes_alerts`). Either one updates the
indexed articles it touches before it answers (see :mod:`workers.ops.entity_corrections`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from workers.api.deps import ATTACH_WAIT_S, get_backend, get_settings
from workers.api.routes_alerts import WRITE_ERRORS, Writer
from workers.api.schemas import ApiError
from workers.core.errors import ConfigError
from workers.core.models import ENTITY_KINDS
from workers.entities.correction_store import CorrectionStore
from workers.entities.corrections import CorrectionAction
from workers.ops.entity_corrections import correct, entity_counts, undo
from workers.runtime import attached_runtime
from workers.search.backend import SearchBackend
from workers.settings import Settings

__all__ = ["CorrectionIn", "CorrectionOut", "router"]

router = APIRouter(tags=["entities"])


class CorrectionIn(BaseModel):
    action: CorrectionAction = Field(description="merge (name into target), rename (name as target) or block.")
    name: str = Field(description="The name merged away, renamed or blocked.")
    target: str | None = Field(None, description="merge: the name kept; rename: the new spelling; block: none.")
    kind: str | None = Field(None, description=f"One of {', '.join(ENTITY_KINDS)}; none: every kind.")


class CorrectionOut(BaseModel):
    id: int
    action: CorrectionAction
    name: str
    target: str | None
    kind: str | None
    created_at: datetime


class CorrectionResult(BaseModel):
    correction: CorrectionOut
    undone: bool
    found: int = Field(description="Indexed articles carrying one of its names.")
    updated: int = Field(description="Of those, the ones whose entity fields changed.")
    where: str = Field(description="here, elasticsearch, or index worker (sent on the index queue).")


class EntityCount(BaseModel):
    name: str
    articles: int


def _store(request: Request) -> Iterator[CorrectionStore]:
    settings = request.app.state.settings
    with attached_runtime(settings, attach_wait_s=ATTACH_WAIT_S) as runtime:
        yield CorrectionStore(runtime.redis, settings.namespace)


Store = Annotated[CorrectionStore, Depends(_store)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ApiError, "description": "A bad name, kind or correction (entities.bad_input)."}, **WRITE_ERRORS,
}


@router.get("/api/entities", response_model=dict[str, list[EntityCount]], responses={400: _ERRORS[400]})
def list_entities(
    backend: Annotated[SearchBackend, Depends(get_backend)],
    kind: Annotated[str | None, Query(description="One kind; default every kind.")] = None,
    size: Annotated[int, Query(ge=1, le=10_000, description="Names per kind, most articles first.")] = 50,
    q: Annotated[str, Query(description="Count only over the articles this search finds.")] = "",
) -> dict[str, list[EntityCount]]:
    """The names of each entity kind (the facet values: canonical, corrected names) with their article counts."""
    if kind is not None and kind not in ENTITY_KINDS:
        raise ConfigError(f"unknown entity kind {kind!r}; kinds are: {', '.join(ENTITY_KINDS)}",
                          reason="entities.bad_input")
    counts = entity_counts(backend, [kind] if kind else list(ENTITY_KINDS), size=size, text=q)
    return {k: [EntityCount(name=n, articles=c) for n, c in v] for k, v in counts.items()}


@router.get("/api/entities/corrections", response_model=list[CorrectionOut])
def list_corrections(store: Store) -> list[Any]:
    """The corrections in force, oldest first."""
    return [c.model_dump() for c in store.all()]


@router.post("/api/entities/corrections", status_code=201, response_model=CorrectionResult, responses={
    **_ERRORS,
    409: {"model": ApiError, "description": "The same correction is in force (entities.correction.exists)."}})
def add_correction(body: CorrectionIn, settings: Annotated[Settings, Depends(get_settings)], _: Writer) -> Any:
    """Make a correction: it applies to new articles at once, and to the indexed ones it touches before this answers."""
    return correct(settings, body.action, body.name, body.target, body.kind).to_json()


@router.delete("/api/entities/corrections/{correction_id}", response_model=CorrectionResult, responses={
    **_ERRORS, 404: {"model": ApiError, "description": "No correction has that id (entities.correction.not_found)."}})
def undo_correction(correction_id: int, settings: Annotated[Settings, Depends(get_settings)], _: Writer) -> Any:
    """Undo a correction: the articles it touched get their entity fields without it."""
    return undo(settings, correction_id).to_json()
