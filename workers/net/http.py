"""The HTTP client shared by poll and fetch, and the one place httpx errors
become ours.

Every connection goes through the address guard (:mod:`workers.net.addresses`);
redirects are followed here, hop by hop, each hop guarded, limited and
checked for loops; bodies are streamed, inflated by us within a size cap and
cut at a whole-download deadline; feed bodies are refused when they declare
XML entities (:mod:`workers.net.xmlguard`). Every transport failure is mapped to
a reason code (``fetch.timeout``, ``feed.http_404``,
``fetch.blocked_address``...) with the retryable ones marked by class.
"""

from __future__ import annotations

import contextlib
import socket
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from workers.core.errors import FeedError, FetchError, RetryableFeedError, RetryableFetchError
from workers.net.addresses import BlockedAddress, GuardedBackend, NetworkPolicy, UnresolvedHost, parse_networks
from workers.net.xmlguard import refuse_xml_entities
from workers.settings import Settings

__all__ = ["HttpResponse", "get", "make_client", "retry_after_seconds"]

# Statuses worth another try later; everything else 4xx/5xx is final.
_TRANSIENT_STATUSES = {408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524}
_REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(slots=True)
class HttpResponse:
    status: int
    url: str
    headers: httpx.Headers
    content: bytes
    # True only when at least one redirect was followed and every hop was a 301/308: one temporary hop
    # anywhere means the publisher may send us elsewhere next time, so the stored feed URL must not move.
    permanent_redirect: bool


def make_client(settings: Settings, *, timeout_s: float) -> httpx.Client:
    """A client whose every connection is checked by the SSRF guard; redirects are followed by :func:`get`."""
    transport = httpx.HTTPTransport(
        # No proxies from the environment: a proxy would connect for us, out of the guard's sight.
        trust_env=False,
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
    )
    pool = transport._pool
    if not hasattr(pool, "_network_backend"):  # fail loudly rather than fetch unguarded after an httpcore upgrade
        raise RuntimeError("httpcore's connection pool changed: cannot install the address guard")
    pool._network_backend = GuardedBackend(NetworkPolicy(parse_networks(settings.allowed_networks)))
    return httpx.Client(
        transport=transport,
        trust_env=False,
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
        follow_redirects=False,
        max_redirects=settings.fetch_max_redirects,  # read back by get(), which follows redirects itself
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
    )


def _errors(stage: str) -> tuple[type[FeedError] | type[FetchError], type[FeedError] | type[FetchError]]:
    return (FeedError, RetryableFeedError) if stage == "feed" else (FetchError, RetryableFetchError)


@contextlib.contextmanager
def _mapped(stage: str, url: str, deadline: float | None = None) -> Iterator[None]:
    final, transient = _errors(stage)
    try:
        yield
    except BlockedAddress as exc:
        raise final(str(exc), reason=f"{stage}.blocked_address", url=url) from exc
    except httpx.TimeoutException as exc:
        if deadline is not None and time.monotonic() >= deadline - 0.1:
            # The read timeout was cut to what was left of the whole-download deadline: that is what ran out.
            raise transient("the download did not finish in time", reason=f"{stage}.deadline", url=url) from exc
        raise transient(f"timed out: {exc.__class__.__name__}", reason=f"{stage}.timeout", url=url) from exc
    except httpx.TooManyRedirects as exc:
        raise final("too many redirects", reason=f"{stage}.redirects", url=url) from exc
    except httpx.UnsupportedProtocol as exc:
        raise final(f"unsupported URL scheme: {exc}", reason=f"{stage}.scheme", url=url) from exc
    except httpx.InvalidURL as exc:
        raise final(f"invalid URL: {exc}", reason=f"{stage}.invalid_url", url=url) from exc
    except (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as exc:
        if _unresolved(exc):
            raise transient(f"{exc}", reason=f"{stage}.dns", url=url) from exc
        raise transient(f"connection failed: {exc}", reason=f"{stage}.connect", url=url) from exc
    except httpx.DecodingError as exc:
        raise final(f"undecodable response body: {exc}", reason=f"{stage}.decoding", url=url) from exc
    except httpx.HTTPError as exc:
        raise transient(f"HTTP error: {exc}", reason=f"{stage}.http", url=url) from exc


def _unresolved(exc: BaseException) -> bool:
    """Whether a connect error was a host name without an address (our guard's, or the plain socket's)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, UnresolvedHost | socket.gaierror):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def get(
    client: httpx.Client,
    url: str,
    *,
    stage: str,
    max_bytes: int,
    deadline_s: float,
    headers: dict[str, str] | None = None,
    max_redirects: int | None = None,
    on_redirect: Callable[[str], None] | None = None,
) -> HttpResponse:
    """GET ``url``, following redirects hop by hop; 2xx and 304 return, any other status raises with its reason.

    Every hop connects through the address guard, shares one deadline, and counts toward the redirect limit
    (``fetch_max_redirects`` unless given); a URL seen twice is a loop. ``on_redirect`` sees each redirect
    target before it is requested and may refuse it by raising (robots.txt of the site redirected to).
    """
    final, transient = _errors(stage)
    deadline = time.monotonic() + deadline_s
    limit = client.max_redirects if max_redirects is None else max_redirects
    seen = {url}
    permanent = True  # until a temporary hop is seen; only meaningful once a redirect was followed
    current = url
    for hop in range(limit + 1):
        if hop and on_redirect is not None:
            on_redirect(current)
        with _mapped(stage, url, deadline), client.stream("GET", current, headers=headers,
                                                timeout=_hop_timeout(client, deadline)) as response:
            status = response.status_code
            location = response.headers.get("location")
            if status in _REDIRECTS and location:
                target = _redirect_target(response, location, stage=stage, url=url)
                if target in seen:
                    raise final(f"redirect loop at {target}", reason=f"{stage}.redirect_loop", url=url)
                seen.add(target)
                permanent = permanent and status in (301, 308)
                current = target
                continue
            if status == 304 or 200 <= status < 300:
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise final(f"body of {declared} bytes is over the {max_bytes}-byte cap",
                                reason=f"{stage}.too_large", url=url)
                content = _read_capped(response, stage=stage, url=url, max_bytes=max_bytes, deadline=deadline)
                if stage == "feed":
                    # Every remote feed body passes here: refuse entity tricks before any parser sees them.
                    refuse_xml_entities(content, url=url)
                return HttpResponse(status=status, url=str(response.url), headers=response.headers,
                                    content=content, permanent_redirect=permanent and hop > 0)
            error = transient if status in _TRANSIENT_STATUSES else final
            raise error(f"HTTP {status}", reason=f"{stage}.http_{status}", url=url,
                        retry_after_s=retry_after_seconds(response.headers.get("retry-after")))
    raise final(f"more than {limit} redirects", reason=f"{stage}.redirects", url=url)


def _hop_timeout(client: httpx.Client, deadline: float) -> httpx.Timeout:
    """The client's timeouts, cut to what is left of the whole-download deadline."""
    left = max(0.05, deadline - time.monotonic())
    base = client.timeout
    return httpx.Timeout(connect=min(base.connect or left, left), read=min(base.read or left, left),
                         write=min(base.write or left, left), pool=min(base.pool or left, left))


def _redirect_target(response: httpx.Response, location: str, *, stage: str, url: str) -> str:
    final, _transient = _errors(stage)
    try:
        target = response.url.join(location.strip())
    except httpx.InvalidURL as exc:
        raise final(f"invalid redirect target {location!r}", reason=f"{stage}.invalid_url", url=url) from exc
    if target.scheme not in ("http", "https"):
        raise final(f"redirect to unsupported scheme {target.scheme!r}", reason=f"{stage}.scheme", url=url)
    return str(target.copy_with(fragment=None))


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _read_capped(response: httpx.Response, *, stage: str, url: str, max_bytes: int, deadline: float) -> bytes:
    """The decoded body, refused past ``max_bytes`` *decoded* bytes or past the deadline.

    We inflate gzip/deflate ourselves, bounded, because a 2 MB gzip of zeros inflates to gigabytes
    before a cap on httpx's decoded chunks could see it; and we keep a wall-clock deadline because
    timeouts are per read, so a server dripping a byte at a time could hold a worker for hours.
    """
    final, transient = _errors(stage)
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        decoder = None
    elif encoding in ("gzip", "x-gzip", "deflate"):
        decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)  # +32: zlib or gzip header, detected
    else:
        raise final(f"unsupported content encoding {encoding!r}", reason=f"{stage}.decoding", url=url)
    chunks: list[bytes] = []
    size = 0
    for raw in response.iter_raw():
        if time.monotonic() > deadline:
            raise transient("the download did not finish in time", reason=f"{stage}.deadline", url=url)
        pending = raw
        while pending:
            if decoder is None:
                data, pending = pending, b""
            else:
                try:
                    data = decoder.decompress(pending, max_bytes - size + 1)
                except zlib.error as exc:
                    raise final(f"corrupt {encoding} body: {exc}", reason=f"{stage}.decoding", url=url) from exc
                if decoder.unconsumed_tail:  # more output than the cap allows is waiting
                    size = max_bytes + 1
                pending = b""
                if decoder.eof and decoder.unused_data:  # gzip may be several members back to back
                    pending = decoder.unused_data
                    decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)
            size += len(data)
            if size > max_bytes:
                raise final(f"body is over the {max_bytes}-byte cap", reason=f"{stage}.too_large", url=url)
            chunks.append(data)
    return b"".join(chunks)
