"""What every router relies on: the app's settings and backend as dependencies, and one error shape.

- ``app.state.settings``: the :class:`~workers.settings.Settings` the app was made with
  (dependency :func:`get_settings`);
- ``app.state.backend``: one read-only :class:`~workers.search.backend.SearchBackend`, shared by every
  request and closed at shutdown (dependency :func:`get_backend`). The Tantivy backend reloads its searcher
  on each search, so documents that ``newsworkers run`` indexes meanwhile are found;
- the error handlers (:func:`add_error_handlers`): a router raises a ``NewsworkersError`` (or lets a
  ``RedisError`` through) and the client gets the status its reason code maps to (:func:`status_for`), as
  :class:`~workers.api.schemas.ApiError` JSON: a query we cannot run is a 400, a backend that is down a 503;
  nothing a user types becomes a 500.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException as StarletteHTTPException

from workers.core.errors import NewsworkersError, QuerySyntaxError
from workers.search.backend import SearchBackend
from workers.settings import Settings

__all__ = ["ATTACH_WAIT_S", "add_error_handlers", "get_backend", "get_settings", "status_for"]

ATTACH_WAIT_S = 2.0
"""How long a request waits for a starting owner of the data directory to publish its Redis."""


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_backend(request: Request) -> SearchBackend:
    backend: SearchBackend = request.app.state.backend
    return backend


def add_error_handlers(app: FastAPI) -> None:
    """Our errors and Redis being away answered as :class:`~workers.api.schemas.ApiError` JSON; routers raise
    them and rely on this (an APIRouter cannot carry exception handlers of its own)."""
    app.add_exception_handler(NewsworkersError, _our_error)  # type: ignore[arg-type]
    app.add_exception_handler(RedisError, _redis_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]


async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    # The framework's own refusals (a body that does not parse, no such path, a method not allowed) in our shape
    # too, so a client reads every error one way; FastAPI's 422 keeps its own, which lists each bad field.
    return JSONResponse({"error": str(exc.detail), "reason": f"http.{exc.status_code}"},
                        status_code=exc.status_code, headers=exc.headers)


async def _our_error(_request: Request, exc: NewsworkersError) -> JSONResponse:
    body: dict[str, object] = {"error": str(exc), "reason": exc.reason}
    if isinstance(exc, QuerySyntaxError):
        body["position"] = exc.position
    status = status_for(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


async def _redis_error(_request: Request, exc: RedisError) -> JSONResponse:
    # Saved searches live in Redis: one that is away is the same 503 as a search backend that is.
    return JSONResponse({"error": f"Redis is unavailable: {type(exc).__name__}", "reason": "redis.unavailable"},
                        status_code=503)


# By the last part of the reason code, so each router names its own reasons (article.not_found, alert.exists).
_STATUS_BY_REASON_END = {"not_found": 404, "exists": 409, "key_required": 401, "write_forbidden": 403,
                         "bad_input": 400}


def status_for(exc: NewsworkersError) -> int:
    """400 for a request we cannot run, 401/403 for a write without the right, 404 for what is not there,
    409 for a name taken, 503 for a backend, Redis or broker in trouble."""
    if isinstance(exc, QuerySyntaxError) or exc.reason.startswith("query."):
        return 400
    return _STATUS_BY_REASON_END.get(exc.reason.rpartition(".")[2], 503)
