"""One webhook delivery: POST a match as JSON, once.

Every POST goes through the same address guard as feeds and pages (:func:`workers.net.http.make_client`), so a
webhook URL cannot reach the intranet or a cloud metadata service unless ``allowed_networks`` says so; the
client follows no redirects (a 3xx is a failure: a hook that moved must be saved again).

``Idempotency-Key: <alert> <article id>`` lets the receiver drop a second copy, since at-least-once delivery may
POST again when a worker dies between the receiver's answer and our record of it. Our own record (one success
per pair, :meth:`workers.alerts.store.AlertStore.mark_delivered`) is checked before every POST.

    NewsworkersError
    └── WebhookError                alert.http_<status>, alert.blocked_address, alert.invalid_url...
        └── RetryableWebhookError (+Retryable)   alert.timeout, alert.connect, alert.http_5xx/429/408
"""

from __future__ import annotations

from typing import Any

import httpx

from workers.alerts.store import FeedEntry
from workers.core.errors import FetchError, NewsworkersError, Retryable
from workers.net.http import _mapped, retry_after_seconds

__all__ = ["IDEMPOTENCY_HEADER", "RetryableWebhookError", "WebhookError", "idempotency_key", "payload", "post"]

IDEMPOTENCY_HEADER = "Idempotency-Key"
_TRANSIENT_STATUSES = {408, 425, 429, 500, 502, 503, 504}


class WebhookError(NewsworkersError):
    """Raised when a webhook refused a match, or could not be reached, for good."""

    default_reason = "alert.webhook"


class RetryableWebhookError(WebhookError, Retryable):
    """Raised when a webhook failed in a way that may pass: a timeout, a refused connection, a 5xx or 429."""


def idempotency_key(alert: str, doc_id: str) -> str:
    return f"{alert} {doc_id}"


def payload(alert: str, entry: FeedEntry) -> dict[str, Any]:
    """The JSON body: which saved search matched, and the article as its feed entry shows it."""
    return {
        "alert": alert,
        "article": {
            "id": entry.id, "url": entry.url, "title": entry.title, "published_at": entry.published_at,
            "source": entry.source, "summary": entry.summary, "entities": entry.entities,
        },
        "matched_at": entry.matched_at,
    }


def post(client: httpx.Client, url: str, alert: str, entry: FeedEntry) -> int:
    """POST one match to ``url``; returns the 2xx status, or raises :class:`WebhookError`."""
    headers = {IDEMPOTENCY_HEADER: idempotency_key(alert, entry.id), "Content-Type": "application/json"}
    try:
        # The page fetcher's mapping of httpx errors (timeouts, refused connections, the address guard)...
        with _mapped("alert", url):
            response = client.post(url, json=payload(alert, entry), headers=headers)
    except FetchError as exc:  # ...re-raised as ours, keeping its reason code (alert.timeout, ...)
        error = RetryableWebhookError if isinstance(exc, Retryable) else WebhookError
        raise error(exc.args[0] if exc.args else str(exc), reason=exc.reason, url=url) from exc
    status = response.status_code
    if 200 <= status < 300:
        return status
    error = RetryableWebhookError if status in _TRANSIENT_STATUSES else WebhookError
    raise error(f"the webhook answered HTTP {status}", reason=f"alert.http_{status}", url=url,
                retry_after_s=retry_after_seconds(response.headers.get("retry-after")))
