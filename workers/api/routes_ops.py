"""What an operator reads: ``newsworkers status`` data and the feed registry, from the data directory's Redis.

Each request attaches to the running owner's Redis (or starts the embedded one briefly, as the CLI's
``status`` does), so ``serve`` never holds the data directory and ``run`` can start beside it at any time.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from workers.api.deps import ATTACH_WAIT_S, get_settings
from workers.api.schemas import ApiError
from workers.core.models import Feed
from workers.ops.status import collect_status
from workers.runtime import attached_runtime
from workers.settings import Settings
from workers.worker.app import create_app as create_celery

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["operations"])
_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": ApiError, "description": "Redis (or the data directory's owner) cannot answer now."},
}

@router.get("/status", responses=_UNAVAILABLE)
def status(settings: Annotated[Settings, Depends(get_settings)]) -> dict[str, Any]:
    """Queues, workers, index, feeds, failures and ingest rate: ``newsworkers status --json``."""
    with attached_runtime(settings, attach_wait_s=ATTACH_WAIT_S) as runtime:
        celery = create_celery(runtime.settings)
        try:
            return collect_status(celery, celery.runtime)  # type: ignore[attr-defined]
        finally:
            celery.runtime.close()  # type: ignore[attr-defined]


@router.get("/feeds", response_model=list[Feed], responses=_UNAVAILABLE)
def feeds(settings: Annotated[Settings, Depends(get_settings)]) -> list[Feed]:
    """The feed registry (``newsworkers feeds list --json``)."""
    with attached_runtime(settings, attach_wait_s=ATTACH_WAIT_S) as runtime:
        return runtime.registry.all()
