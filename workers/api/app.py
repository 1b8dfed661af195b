"""``create_app(settings)``: the FastAPI application of ``newsworkers serve``.

The search, operations and saved-searches routers, the search page and its static files, and the error
handlers of :mod:`workers.api.deps`. Other packages may add routers by module name in
:data:`EXTRA_ROUTERS`, each exposing ``router``; a module that is not installed is skipped.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from workers.api import routes_alerts, routes_entities, routes_ops, routes_search
from workers.api.deps import add_error_handlers
from workers.search.backend import SearchBackend, open_backend
from workers.settings import Settings

__all__ = ["EXTRA_ROUTERS", "ROUTERS", "STATIC_DIR", "create_app"]

log = logging.getLogger(__name__)

ROUTERS: tuple[APIRouter, ...] = (routes_search.router, routes_ops.router, routes_alerts.router,
                                  routes_entities.router)
"""Ours: search and export, status and feeds, saved searches, entity corrections."""
EXTRA_ROUTERS: tuple[str, ...] = ()
"""Modules of other packages whose ``router`` joins the app when they can be imported (an extension point)."""
STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings, *, backend: SearchBackend | None = None) -> FastAPI:
    """The app over ``backend`` (default: the settings' backend, opened read-only)."""
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.backend.close()

    app = FastAPI(
        title="newsworkers", version="1", lifespan=lifespan,
        description="Search the articles newsworkers ingested: the same query syntax and results as "
        "`newsworkers search`, facets, a date histogram, near-duplicate clusters, and exports.",
    )
    app.state.settings = settings
    app.state.backend = backend if backend is not None else open_backend(settings)
    for router in ROUTERS:
        app.include_router(router)
    for name in EXTRA_ROUTERS:
        try:
            module = importlib.import_module(name)
        except ImportError:
            log.debug("router %s is not installed; skipped", name)
            continue
        app.include_router(module.router)
    add_error_handlers(app)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers=_PAGE_HEADERS)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


# The page renders hostile article text: a strict policy makes any escaping slip inert.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
