"""The exceptions newsworkers raises, all under one root.

    NewsworkersError
    ├── ConfigError                 a setting is wrong; the message names the fix
    ├── QuerySyntaxError            a search query does not parse
    ├── FeedError                   a feed could not be fetched or parsed
    │   └── RetryableFeedError (+Retryable)
    ├── FetchError                  an article page could not be fetched
    │   └── RetryableFetchError (+Retryable)
    ├── ExtractionError             a page gave no usable article
    └── IndexingError               the search backend refused or failed
        └── RetryableIndexingError (+Retryable)

Every error carries a ``reason`` code such as ``"fetch.timeout"``: a stable,
greppable string that dead letters, counters and the CLI show. Whether a
failure is worth retrying is carried by the class (``Retryable``), so the
task layer never guesses from a message.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ExtractionError",
    "FeedError",
    "FetchError",
    "IndexingError",
    "NewsworkersError",
    "QuerySyntaxError",
    "Retryable",
    "RetryableFeedError",
    "RetryableFetchError",
    "RetryableIndexingError",
]


class NewsworkersError(Exception):
    """Raised for every failure newsworkers itself reports."""

    default_reason = "error"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        url: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason or self.default_reason
        self.url = url
        # What the other side asked for (an HTTP Retry-After, a backend's throttle): wait at least this long.
        self.retry_after_s = retry_after_s

    def __str__(self) -> str:
        message = super().__str__()
        return f"{message} ({self.url})" if self.url else message


class Retryable:
    """Mixin marking an error as transient: the same work may succeed later."""


class ConfigError(NewsworkersError):
    """Raised when a setting is missing or invalid; the message names the fix."""

    default_reason = "config.invalid"


class QuerySyntaxError(NewsworkersError):
    """Raised when a search query does not parse; ``position`` is the offending offset."""

    default_reason = "query.syntax"

    def __init__(self, message: str, *, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


class FeedError(NewsworkersError):
    """Raised when a feed cannot be fetched or yields nothing usable."""

    default_reason = "feed.error"


class RetryableFeedError(Retryable, FeedError):
    """Raised when a feed fetch failed in a way that may pass (timeout, 5xx, 429)."""

    default_reason = "feed.transient"


class FetchError(NewsworkersError):
    """Raised when an article page cannot be fetched (404, refused URL, too large)."""

    default_reason = "fetch.error"


class RetryableFetchError(Retryable, FetchError):
    """Raised when a page fetch failed in a way that may pass (timeout, 5xx, 429)."""

    default_reason = "fetch.transient"


class ExtractionError(NewsworkersError):
    """Raised when neither the page nor the feed item gives an article."""

    default_reason = "extract.empty"


class IndexingError(NewsworkersError):
    """Raised when the search backend rejects a document or a batch."""

    default_reason = "index.error"


class RetryableIndexingError(Retryable, IndexingError):
    """Raised when the search backend is unreachable, locked or overloaded."""

    default_reason = "index.transient"
