"""Hostile and awkward routes of the fixture site, under ``/hostile/``, plus ``/robots.txt``.

- ``/hostile/chain?codes=301,302,308``  one redirect per code, then the lima-election article
- ``/hostile/loop/a``  redirects to ``/hostile/loop/b``, which redirects back
- ``/hostile/redirect?code=302&to=URL``  a redirect anywhere (127.0.0.1, 169.254.169.254...)
- ``/hostile/status/<code>``  that status; 429 and 503 carry ``Retry-After: 7``
- ``/hostile/drip?every=1.0``  a page (or, with ``&feed=1``, a feed) sent one byte per ``every`` seconds
- ``/hostile/huge.xml``  a 3 MB feed;  ``/hostile/bomb.xml``  a feed-typed gzip bomb
- ``/hostile/laughs.xml``  billion laughs;  ``/hostile/xxe.xml``  an external entity reading /etc/passwd
- ``/hostile/charset/<case>``  pages and feeds whose charset label is wrong or missing
- ``/hostile/slow/<i>.html``  0.3 s pages (``<i>.xml``: feeds); the site counts downloads in progress per host
- ``/hostile/mixed.xml``  four good pages among hostile ones (``MIXED_LINKS``)
- ``/hostile/good.xml``  a plain feed linking three ``/hostile/slow/`` pages of the host it was asked on
- ``/robots.txt``  ``site.robots[host]`` when set (``"HTTP 503"`` answers that status), else 404
"""

from __future__ import annotations

import contextlib
import gzip
import html
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.site import FixtureSite

LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol0 "lol">\n'
          + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n' for i in range(1, 10))
          + ']>\n<rss version="2.0"><channel><title>&lol9;</title>'
          '<item><title>&lol9;</title><link>http://example.org/a</link></item></channel></rss>')
XXE = ('<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
       '<rss version="2.0"><channel><title>&xxe;</title>'
       '<item><title>&xxe;</title><link>http://example.org/a</link></item></channel></rss>')
CAFE = "Caf\u00e9 cr\u00e8me in M\u00fcnchen"
# /hostile/mixed.xml: four good pages among hostile ones, all on the host the feed is asked from
MIXED_LINKS = [
    *(f"/hostile/slow/m{i}.html" for i in range(4)),
    "/hostile/drip?every=1.0",
    "/articles/gzip-bomb.html",
    "/hostile/loop/a",
    "/hostile/redirect?code=302&to=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data%2F",
    "/hostile/slow/secret.html",
]


def _feed(base: str, title: str, links: list[str], encoding: str = "utf-8") -> str:
    items = "".join(f"<item><title>{html.escape(title)} {i}</title><link>{html.escape(base + link)}</link></item>"
                    for i, link in enumerate(links))
    return (f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel><title>{html.escape(title)}'
            f"</title><link>{base}/</link><description>d</description>{items}</channel></rss>")


def _page(text: str) -> str:
    return f"<html><head><title>{text}</title></head><body><article><p>{text}.</p></article></body></html>"


# case -> (body bytes, Content-Type header)
CHARSET_CASES: dict[str, tuple[bytes, str]] = {
    "page-utf8-labelled-latin1": (_page(CAFE).encode("utf-8"), "text/html; charset=iso-8859-1"),
    "page-cp1252-labelled-utf8": (_page(CAFE).encode("cp1252"), "text/html; charset=utf-8"),
    "page-cp1252-unlabelled": (_page(CAFE).encode("cp1252"), "text/html"),
    "feed-cp1252-declared-utf8": (_feed("", CAFE, ["/a"]).encode("cp1252"), "application/rss+xml"),
    "feed-utf8-labelled-latin1": (_feed("", CAFE, ["/a"], "iso-8859-1").encode("utf-8"),
                                  "application/rss+xml; charset=iso-8859-1"),
    "feed-cp1252-undeclared": (_feed("", CAFE, ["/a"]).replace(' encoding="utf-8"', "").encode("cp1252"),
                               "application/rss+xml"),
}


def serve(site: FixtureSite, handler: BaseHTTPRequestHandler, send: Callable[..., None]) -> None:
    """Answer one request to a hostile route (``send`` is the handler's ``_send``)."""
    parts = urllib.parse.urlsplit(handler.path)
    path, query = parts.path, dict(urllib.parse.parse_qsl(parts.query))
    host = (handler.headers.get("Host") or "").rsplit(":", 1)[0]
    base = f"http://{handler.headers.get('Host')}"
    if path == "/robots.txt":
        if site.robots.get(host, "").startswith("HTTP "):
            return send(int(site.robots[host].split()[1]), b"robots unavailable", "text/plain")
        if host in site.robots:
            return send(200, site.robots[host].encode(), "text/plain")
        return send(404, b"no robots here", "text/plain")
    if path == "/hostile/chain":
        codes = [c for c in query.get("codes", "").split(",") if c]
        if not codes:
            return send(302, headers={"Location": "/articles/lima-election.html"})
        rest = ",".join(codes[1:])
        return send(int(codes[0]), headers={"Location": f"/hostile/chain?codes={rest}"})
    if path.startswith("/hostile/loop/"):
        other = "b" if path.endswith("/a") else "a"
        return send(302, headers={"Location": f"/hostile/loop/{other}"})
    if path == "/hostile/redirect":
        return send(int(query.get("code", "302")), headers={"Location": query["to"]})
    if path.startswith("/hostile/status/"):
        code = int(path.rsplit("/", 1)[1])
        headers = {"Retry-After": "7"} if code in (429, 503) else {}
        return send(code, f"status {code}".encode(), "text/plain", headers)
    if path == "/hostile/drip":
        return _drip(handler, float(query.get("every", "1.0")), feed=bool(query.get("feed")), base=base)
    if path == "/hostile/huge.xml":
        links = [f"/articles/n{i}.html" for i in range(30_000)]
        return send(200, _feed(base, "Huge", links).encode(), "application/rss+xml")
    if path == "/hostile/bomb.xml":
        return send(200, _bomb(), "application/rss+xml", {"Content-Encoding": "gzip"})
    if path == "/hostile/laughs.xml":
        return send(200, LAUGHS.encode(), "application/rss+xml")
    if path == "/hostile/xxe.xml":
        return send(200, XXE.encode(), "application/rss+xml")
    if path.startswith("/hostile/charset/"):
        body, content_type = CHARSET_CASES[path.rsplit("/", 1)[1]]
        return send(200, body, content_type)
    if path == "/hostile/good.xml":
        links = [f"/hostile/slow/{i}.html" for i in range(int(query.get("n", "3")))]
        return send(200, _feed(base, f"Good news from {host}", links).encode(), "application/rss+xml")
    if path == "/hostile/mixed.xml":
        return send(200, _feed(base, "Mixed", MIXED_LINKS).encode(), "application/rss+xml")
    if path.startswith("/hostile/slow/"):
        with site.lock:
            site.running[host] += 1
            site.peak[host] = max(site.peak[host], site.running[host])
            site.started.append((time.monotonic(), host, path))
        try:
            time.sleep(0.3)
        finally:
            with site.lock:
                site.running[host] -= 1
        number = path.rsplit("/", 1)[1].removesuffix(".html")
        if path.endswith(".xml"):  # a slow feed, its request counted like the pages' (feed politeness)
            links = [f"/hostile/slow/{number.removesuffix('.xml')}-{i}.html" for i in range(2)]
            return send(200, _feed(base, f"Section {number} of {host}", links).encode(), "application/rss+xml")
        text = (f"Dispatch {number} from {host}: the harbour authority said on Monday that ships would be "
                "inspected before entering the port, and officials in the city council welcomed the decision. ")
        return send(200, _page(text * 3).encode())
    return send(404, b"<html><body>Not found</body></html>")


def _bomb() -> bytes:
    return gzip.compress(b"<rss>" + bytes(64 * 2**20), compresslevel=9)


def _drip(handler: BaseHTTPRequestHandler, every_s: float, *, feed: bool, base: str) -> None:
    body = (_feed(base, "Drip", ["/articles/lima-election.html"]) if feed else _page(CAFE)).encode()
    drip(handler, body, "application/rss+xml" if feed else "text/html", every_s=every_s)


def drip(handler: BaseHTTPRequestHandler, body: bytes, content_type: str, *, every_s: float) -> None:
    """Answer 200 with ``body`` one byte every ``every_s`` seconds: slow, but never silent long enough to time out."""
    handler.send_response(200)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    try:
        for i in range(len(body)):
            handler.wfile.write(body[i : i + 1])
            handler.wfile.flush()
            time.sleep(every_s)
    except (BrokenPipeError, ConnectionResetError):
        pass


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1") -> Iterator[str]:
    """A threaded HTTP server for ``handler`` on ``host`` and a free port; yields its base URL, shut down after."""
    server = ThreadingHTTPServer((host, 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def served_on(site: FixtureSite, host: str) -> Iterator[str]:
    """The same fixture site on another loopback address (127.0.0.2...), for a second "domain"; yields its base."""
    from tests.site import make_handler  # site imports this module

    with serving(make_handler(site), host) as base:
        yield base
