"""Saved searches over HTTP: ``/api/alerts`` and each search's Atom feed at ``/feeds/NAME.atom``.

The API app (:mod:`workers.api`) includes :data:`router`; it gives routers ``app.state.settings`` and
``app.state.backend`` (the SearchBackend, a reader). Redis is reached per request
through :func:`workers.runtime.attached_runtime` (the data directory owner's, or the embedded one briefly).

Writes (POST, DELETE) are guarded: with ``api_keys`` set, a request must carry one of them as ``X-API-Key`` or
``Authorization: Bearer``; with none set, only loopback clients may write (the API binds to 127.0.0.1 by
default, so a host that exposes it must set keys to let anyone else write). Reads need no key, like the search
itself, but show webhook URLs without their query string or credentials (a hook's token often sits there).
"""

from __future__ import annotations

import hmac
import ipaddress
import threading
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from workers.alerts.atom import ATOM_MEDIA_TYPE, atom_feed
from workers.alerts.service import Alerts, UnknownAlert
from workers.alerts.store import NAME_PATTERN, AlertStore, SavedSearch
from workers.api.deps import ATTACH_WAIT_S
from workers.api.schemas import ApiError
from workers.core.errors import NewsworkersError
from workers.runtime import attached_runtime
from workers.settings import Settings

__all__ = ["AlertIn", "AlertOut", "feed_path", "redacted_webhook", "router"]

router = APIRouter(tags=["alerts"])


class AlertIn(BaseModel):
    # The pattern is documented, not enforced by pydantic: a bad name is our 400 with its reason, like a bad query.
    name: str = Field(description="1-64 letters, digits, '-' or '_'; the feed is /feeds/<name>.atom.",
                      json_schema_extra={"pattern": NAME_PATTERN.pattern})
    query: str = Field("", description="Our query syntax: words, \"phrases\", AND/OR/NOT, field:value.")
    filters: dict[str, list[str]] = Field(default_factory=dict, description="Facet → values (OR within a facet).")
    webhook: str | None = Field(None, description="http(s) URL each new match is POSTed to as JSON.")


class AlertOut(BaseModel):
    name: str
    query: str
    filters: dict[str, list[str]]
    webhook: str | None
    created_at: str
    feed_url: str
    matches: int


def feed_path(name: str) -> str:
    return f"/feeds/{name}.atom"


def redacted_webhook(url: str | None) -> str | None:
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "***" if parts.query else "", ""))


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


# With no owner running, a request takes the data directory and starts the embedded Redis for itself; a second
# request meanwhile found the directory owned (by this very process) and gave up when the first let go,
# answering 503 to a page that lists its saved searches right after saving one. One at a time, they all work.
_ATTACH = threading.Lock()


def _alerts(request: Request) -> Iterator[Alerts]:
    state = request.app.state
    # No Redis to be had is a ConfigError, which the app answers with a 503.
    with _ATTACH, attached_runtime(state.settings, attach_wait_s=ATTACH_WAIT_S) as runtime:
        store = AlertStore(runtime.redis, runtime.keys, matches_max=runtime.settings.alert_matches_max)
        yield Alerts(store, runtime.settings, lambda: state.backend)


def _out(saved: SavedSearch, matches: int, *, webhook: str | None) -> AlertOut:
    return AlertOut(name=saved.name, query=saved.query, filters=saved.filters, webhook=webhook,
                    created_at=saved.created_at, feed_url=feed_path(saved.name), matches=matches)


def _may_write(request: Request) -> None:
    keys = [k.strip() for k in _settings(request).api_keys.split(",") if k.strip()]
    if keys:
        given = request.headers.get("x-api-key") or ""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if not given and scheme.lower() == "bearer":
            given = token.strip()
        # compare_digest on every key: how long the check takes says nothing about which key is near.
        if not any(hmac.compare_digest(given.encode(), k.encode()) for k in keys):
            raise NewsworkersError("an API key is required to write (saved searches, entity corrections): "
                                   "X-API-Key or Bearer", reason="api.key_required")
        return
    host = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise NewsworkersError("no api_keys are configured, so only loopback clients may write (saved searches, "
                               "entity corrections)", reason="api.write_forbidden")


Writer = Annotated[None, Depends(_may_write)]
SavedSearches = Annotated[Alerts, Depends(_alerts)]
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ApiError, "description": "API keys are configured and none was given (api.key_required)."},
    403: {"model": ApiError, "description": "No API keys are configured and the client is not on loopback "
          "(api.write_forbidden)."},
    503: {"model": ApiError, "description": "Redis or the search backend is unavailable."},
}
"""The answers of every endpoint that writes behind :data:`Writer` (saved searches, entity corrections)."""
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ApiError, "description": "A bad name, query, facet or webhook URL."}, **WRITE_ERRORS,
}


@router.get("/api/alerts", response_model=list[AlertOut])
def list_alerts(alerts: SavedSearches) -> list[AlertOut]:
    """Every saved search, with its feed URL and how many matches it holds."""
    return [_out(s, alerts.store.match_count(s.name), webhook=redacted_webhook(s.webhook))
            for s in alerts.store.all()]


@router.post("/api/alerts", status_code=201, response_model=AlertOut,
             responses={**_ERRORS, 409: {"model": ApiError, "description": "The name is taken (alert.exists)."}})
def add_alert(body: AlertIn, alerts: SavedSearches, _: Writer) -> Any:
    """Save a search: it starts with the articles already indexed that match it, then grows as new ones are."""
    saved, matches = alerts.add(body.name, body.query, body.filters, body.webhook)
    return _out(saved, matches, webhook=saved.webhook)


@router.delete("/api/alerts/{name}", status_code=204, responses={
    **_ERRORS, 404: {"model": ApiError, "description": "No saved search has that name (alert.not_found)."}})
def remove_alert(name: str, alerts: SavedSearches, _: Writer) -> Response:
    alerts.remove(name)
    return Response(status_code=204)


@router.get("/feeds/{name}.atom", response_class=Response, responses={
    200: {"content": {"application/atom+xml": {}}, "description": "The saved search's Atom feed."},
    404: {"model": ApiError, "description": "No saved search has that name (alert.not_found)."},
    503: _ERRORS[503]})
def alert_feed(name: str, request: Request, alerts: SavedSearches) -> Response:
    """The saved search's newest matches as Atom, newest first (at most ``alert_feed_entries``)."""
    store = alerts.store
    saved = store.get(name)
    if saved is None:
        raise UnknownAlert(f"no saved search named {name!r}")
    entries = store.matches(name, limit=_settings(request).alert_feed_entries)
    body = atom_feed(saved, entries, self_url=str(request.url))
    return Response(body, media_type=ATOM_MEDIA_TYPE)
