"""A small news site for the HTTP server fixture: feeds, pages and faults.

Routes (all under the server's base URL):

- ``/feeds/news.xml``     RSS 2.0 with ETag/Last-Modified (answers 304 when unchanged);
  items: four articles, a page that defeats extraction, a dead page, a
  tracking redirect to an article that ``/feeds/other.atom`` links directly
- ``/feeds/other.atom``   Atom feed linking one article of news.xml directly
- ``/feeds/missing.xml``  404;  ``/feeds/slow.xml`` answers after the client gave up;
  ``/feeds/notafeed.xml`` an HTML page;  ``/feeds/local-link.xml`` links a file: URL
- ``/articles/<slug>.html`` pages;  ``/articles/huge.html`` 3 MB;  ``/articles/gone.html`` 404
- ``/redirect/<slug>``    301 to ``/articles/<slug>.html``
- ``/feeds/sub/rel.xml``  relative links of every kind; ``/moved/rel.xml`` 301 to it;
  ``/feeds/echo.xml`` 304 only for its own validators; ``/feeds/flaky.xml`` 503
- ``/feeds/many.xml?n=N`` N items linking ``/slow/<i>.html``, pages that take 0.3 s each
- ``/feeds/links.xml?to=<path>&to=...`` one item per ``to``, linking that path here
- ``/feeds/growing.xml``  ``site.growing`` items linking ``/fast/<i>.html``: news arriving during a run
- ``/dyn/<name>``         whatever ``site.dynamic[name]`` (a :class:`Canned` response) says: a status, headers,
  a body, and a 304 for its ETag; tests change it between polls (Retry-After, redirects, JSON Feed, corrections)
- ``/home.html``          a home page linking its feeds with ``<link rel="alternate">`` (one of them dead);
  ``/plain.html`` a page linking none, on a site whose ``/feed.xml`` is a feed (found by its common path)
- ``/feeds/bench/<i>.xml``  feed number i of the poll benchmark: 20 items, an ETag, 304 when it matches
- ``/feeds/wire.xml``      one wire story syndicated as ``/wire/<i>.html`` by three outlets (copies trimmed,
  extended, in other templates, the earliest published not listed first) and a distinct same-event story
- ``/articles/gzip-bomb.html`` 64 KB of gzip that inflates to 64 MB;  ``/articles/gzipped.html`` a normal
  page, gzip-encoded;  ``/articles/drip.html`` a page sent one byte every 0.2 s
- ``/hostile/...`` and ``/robots.txt``: redirects, loops, drips, bombs, entity feeds, bad charsets
  (see :mod:`tests.hostile`)
- ``/gen/<f>.xml?m=M``    generated feed ``f`` of M items linking ``/gen/<f>/<i>.html``, small pages that are
  fast to extract, each titled ``Gen <f>-<i>: ...`` (the fault tests run a few hundred of them);
  ``/gen/poison.xml`` links ``/gen/poison/<kind>.html`` for each of ``POISON_KINDS``, pages carrying a
  ``newsworkers-test-fault`` meta tag that tests/faults/hooks turns into a raise, a hang, a runaway
  allocation or a killed worker (production code has no such rule)
"""

from __future__ import annotations

import functools
import gzip
import html
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote

from tests import hostile
from tests.sitemaps import sitemap_document

ARTICLES: dict[str, tuple[str, str, list[str]]] = {
    "berlin-budget": (
        "German cabinet agrees budget after marathon talks in Berlin",
        "2021-03-02",
        [
            "Chancellor Angela Merkel's cabinet agreed on the federal budget late on Tuesday after talks in Berlin "
            "that ran through the night, officials from the Finance Ministry said.",
            "Finance Minister Olaf Scholz told reporters that the plan keeps borrowing within the limits set by "
            "the Bundestag while funding new rail lines between Hamburg and Munich.",
            "The opposition Free Democrats criticised the spending, saying the plan relied on optimistic forecasts "
            "from the Bundesbank and ignored warnings from the European Commission in Brussels.",
            "The budget goes to parliament in April, where the governing coalition holds a comfortable majority.",
        ],
    ),
    "nairobi-drought": (
        "Drought pushes Kenyan farmers toward Nairobi as rains fail again",
        "2021-03-05",
        [
            "Thousands of farmers from northern Kenya have moved to the outskirts of Nairobi after a third "
            "failed rainy season, the Kenya Red Cross said on Friday.",
            "The World Food Programme warned that two million people in the region face hunger, and asked donors "
            "in Geneva for emergency funding before the next planting season.",
            "President Uhuru Kenyatta declared the drought a national disaster and ordered the Ministry of "
            "Agriculture to distribute seed and water to the worst-hit counties around Lake Turkana.",
            "Aid workers said the crisis had been building for months as livestock died across the Horn of Africa.",
        ],
    ),
    "tokyo-chip-plant": (
        "Sony and TSMC to build a chip plant near Tokyo",
        "2021-03-09",
        [
            "Sony Group and Taiwan Semiconductor Manufacturing Company will build a semiconductor plant near "
            "Tokyo, the companies announced on Tuesday, with support from the Japanese government.",
            "The factory is expected to employ 1,500 people and supply image sensors to carmakers such as Toyota, "
            "which has cut production because of a global shortage of chips.",
            "Analysts at Nomura said the deal marked a shift in Japan's industrial policy after years of decline "
            "in domestic chipmaking, and could draw more investment to Kumamoto and Osaka.",
            "Construction is due to begin next year, with production starting in 2024.",
        ],
    ),
    "lima-election": (
        "Peru heads to a runoff as Lima counts the last ballots",
        "2021-03-12",
        [
            "Peru's presidential election is heading to a runoff, the National Office of Electoral Processes said "
            "on Friday, as officials in Lima counted the last ballots from the Amazon region.",
            "Pedro Castillo, a rural schoolteacher, led the count ahead of Keiko Fujimori, whose Popular Force party "
            "campaigned on order and economic stability.",
            "Observers from the Organization of American States said the vote had been orderly, though turnout in "
            "Cusco and Arequipa was lower than in previous elections.",
            "The second round is scheduled for June, and both candidates began courting undecided voters at once.",
        ],
    ),
}



@functools.cache
def gzip_bomb() -> bytes:
    """About 64 KB on the wire, 64 MB inflated."""
    return gzip.compress(bytes(64 * 2**20), compresslevel=9)


REL_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Relative Gazette</title><link>https://gazette.example/</link>
<description>links relative to the feed</description>
<item><title>  Parent-relative link  </title><link>../articles/one.html</link>
<pubDate>Tue, 02 Mar 2021 11:00:00 +0200</pubDate>
<description>&lt;p&gt;First &lt;b&gt;summary&lt;/b&gt;&lt;/p&gt;</description></item>
<item><title>Root-relative link</title><link>/articles/two.html?x=1#frag</link>
<pubDate>Wed, 03 Mar 2021 23:30:00 -0500</pubDate></item>
<item><title>Same-folder link</title><link>three.html</link></item>
<item><title>No link at all</title><description>dropped: nothing to fetch</description></item>
</channel></rss>"""

EXTRACTION_DEFEATING_PAGE = b"\x00\x01\x02<html><body><script>var x = 1;</script></body></html>"


def article_page(slug: str) -> str:
    title, day, paragraphs = ARTICLES[slug]
    nav = "".join(f'<li><a href="/section/{s}">{s.title()}</a></li>' for s in
                  ("world", "politics", "business", "tech", "science", "sport", "culture", "opinion", "video"))
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    related = "".join(f'<li><a href="/articles/{s}.html">{html.escape(t)}</a></li>'
                      for s, (t, _d, _p) in ARTICLES.items() if s != slug)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)} | The Loopback Post</title>
<meta property="og:title" content="{html.escape(title)}">
<meta property="og:site_name" content="The Loopback Post">
<meta property="article:published_time" content="{day}T09:00:00Z">
<meta name="author" content="Staff Reporter">
</head><body>
<header class="site-header"><a href="/">The Loopback Post</a><nav><ul>{nav}</ul></nav>
<div class="cookie-banner">We use cookies to improve your experience. <button>Accept all</button></div></header>
<div class="ad-slot">Advertisement</div>
<main><article><h1>{html.escape(title)}</h1><p class="byline">By Staff Reporter</p>
<time datetime="{day}T09:00:00Z">{day}</time>{body}</article>
<aside class="related"><h2>Related stories</h2><ul>{related}</ul></aside>
<div class="newsletter">Sign up for our morning briefing. <input type="email"></div></main>
<footer><p>&copy; 2021 The Loopback Post. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
</body></html>"""


@dataclass
class Canned:
    """One response of ``/dyn/<name>``; a test edits it between polls."""

    status: int = 200
    body: str = ""
    content_type: str = "application/rss+xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None  # sent, and answered with 304 when the client sends it back


def rss(title: str, items: list[tuple[str, str]], *, channel_extra: str = "", item_extra: str = "") -> str:
    """An RSS 2.0 document of (title, link) items; extra XML may go into the channel and every item."""
    entries = "".join(f"<item><title>{html.escape(t)}</title><link>{html.escape(link)}</link>{item_extra}</item>"
                      for t, link in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            f'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel><title>{html.escape(title)}</title>'
            f"{channel_extra}{entries}</channel></rss>")


def bench_feed(base: str, number: int, items: int = 20) -> str:
    return rss(f"Bench {number}", [(f"Story {number}-{i}", f"{base}/b/{number}/{i}.html") for i in range(items)])
# (outlet, hour published on 2021-03-02, paragraphs of the berlin-budget story kept, own paragraph); the last
# entry is another outlet's own story on the same budget, quoting one sentence of the wire copy.
WIRE = [
    ("The Loopback Post", 12, 4, ""),
    ("Hamburg Herald", 8, 3, "The Hamburg Herald asked readers in the port city what the new rail line would "
                             "mean for their daily commute; most welcomed it but doubted the timetable."),
    ("Rhine Courier", 10, 4, "Read more: our full coverage of the federal budget and what it means for you."),
    ("Munich Evening", 9, 0, "Munich's mayor spent the morning at a kindergarten opening and said little about "
                             "money. Later, in a long interview with our reporters, he described the city's "
                             "housing shortage, the delays on the airport line and his hopes for the new "
                             "exhibition centre, which has been planned for a decade and still has no builder. "
                             "The opposition Free Democrats criticised the spending, saying the plan relied on "
                             "optimistic forecasts. Residents we spoke to cared more about rents than about "
                             "borrowing limits, and several said they had not followed the talks at all."),
]


def wire_page(number: int) -> str:
    outlet, hour, kept, own = WIRE[number]
    title, _day, paragraphs = ARTICLES["berlin-budget"]
    body = "".join(f"<p>{html.escape(p)}</p>" for p in [*paragraphs[:kept], own] if p)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} - {outlet}'
            f'</title><meta property="og:site_name" content="{outlet}">'
            f'<meta property="article:published_time" content="2021-03-02T{hour:02d}:00:00Z"></head><body>'
            f'<header><a href="/">{outlet}</a> <nav><a href="/world">World</a> <a href="/sport">Sport</a></nav>'
            f'</header><main><article><h1>{outlet}: {html.escape(title)}</h1>{body}</article></main>'
            f"<footer>&copy; 2021 {outlet}</footer></body></html>")
POISON_KINDS = ("raise", "hang", "memory", "crash")


def generated_page(feed: int, number: int, fault: str | None = None) -> str:
    slug = list(ARTICLES)[(feed + number) % len(ARTICLES)]
    title = html.escape(ARTICLES[slug][0])
    page = article_page(slug).replace(title, f"Gen {feed}-{number}: {title}")
    if fault:
        page = page.replace("<head>", f'<head><meta name="newsworkers-test-fault" content="{fault}">', 1)
    return page


class FixtureSite:
    def __init__(self) -> None:
        self.dynamic: dict[str, Canned] = {}
        self.base = ""
        self.hits: Counter[str] = Counter()
        self.seen_headers: dict[str, dict[str, str]] = {}
        self.release_slow = threading.Event()
        self.growing = 2  # items in /feeds/growing.xml: a test adds news while a run is going
        self.etag = '"news-v1"'
        self.last_modified = formatdate(1615000000, usegmt=True)
        # tests.hostile: robots.txt per host name, and downloads in progress / at most / started per host
        self.robots: dict[str, str] = {}
        self.lock = threading.Lock()
        self.running: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.started: list[tuple[float, str, str]] = []

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def news_feed(self) -> str:
        items = [(t, f"{self.base}/articles/{s}.html", d, "") for s, (t, d, _p) in ARTICLES.items()
                 if s != "tokyo-chip-plant"]
        items.append(("Sony and TSMC to build a chip plant near Tokyo", f"{self.base}/redirect/tokyo-chip-plant",
                      "2021-03-09", ""))
        items.append(("Live: markets react to the central bank's surprise rate cut",
                      f"{self.base}/articles/broken.html", "2021-03-15",
                      "The central bank cut its main rate by half a point on Monday. Shares in Frankfurt and "
                      "Paris rose sharply. Bond yields fell to their lowest level in a year."))
        items.append(("A story that was taken down", f"{self.base}/articles/gone.html", "2021-03-16", "Gone."))
        entries = "".join(
            f"<item><title>{html.escape(t)}</title><link>{html.escape(link)}</link>"
            f"<guid>{html.escape(link)}</guid><pubDate>{_rfc822(d)}</pubDate>"
            f"<description>{html.escape(desc or t)}</description></item>"
            for t, link, d, desc in items
        )
        return self._channel("Loopback Post", "Test news", entries)

    def _channel(self, title: str, description: str, entries: str) -> str:
        """An RSS 2.0 document of this site: ``entries`` (items, already escaped) in a channel."""
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
                f"<link>{self.base}/</link><description>{description}</description>{entries}</channel></rss>")

    def many_feed(self, count: int) -> str:
        slugs = list(ARTICLES)
        entries = "".join(
            f"<item><title>Dispatch {i}: {html.escape(ARTICLES[slugs[i % len(slugs)]][0])}</title>"
            f"<link>{self.base}/slow/{i}.html</link><pubDate>{_rfc822('2021-04-01')}</pubDate></item>"
            for i in range(count)
        )
        return self._channel("Many", "Many slow pages", entries)

    def wire_feed(self) -> str:
        entries = "".join(
            f"<item><title>{html.escape(outlet)}: budget agreed</title><link>{self.base}/wire/{i}.html</link>"
            f"<pubDate>Tue, 02 Mar 2021 {hour:02d}:00:00 +0000</pubDate></item>"
            for i, (outlet, hour, _k, _o) in enumerate(WIRE)
        )
        return self._channel("Wire", "One story, many outlets", entries)

    def generated_feed(self, feed: int, count: int) -> str:
        entries = "".join(
            f"<item><title>Gen {feed}-{i}</title><link>{self.base}/gen/{feed}/{i}.html</link>"
            f"<guid>{self.base}/gen/{feed}/{i}.html</guid><pubDate>{_rfc822('2021-05-01')}</pubDate></item>"
            for i in range(count)
        )
        return self._channel(f"Gen {feed}", "Generated", entries)

    def poison_feed(self) -> str:
        entries = "".join(
            f"<item><title>Poison {kind}</title><link>{self.base}/gen/poison/{kind}.html</link></item>"
            for kind in POISON_KINDS
        )
        return self._channel("Poison", "Hostile pages", entries)

    def links_feed(self, query: str) -> str:
        """A feed with one item per ``to=<path>`` of ``query``, linking that path on this site (any path)."""
        links = [unquote(v) for k, _, v in (p.partition("=") for p in query.split("&")) if k == "to"]
        entries = "".join(f"<item><title>Link {i}</title><link>{html.escape(self.base + link)}</link></item>"
                          for i, link in enumerate(links))
        return self._channel("Links", "Chosen links", entries)

    def other_feed(self) -> str:
        title, day, _p = ARTICLES["tokyo-chip-plant"]
        link = f"{self.base}/articles/tokyo-chip-plant.html"
        return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
                f"<title>Loopback Business</title><id>{self.base}/other</id><updated>{day}T10:00:00Z</updated>"
                f'<entry><title>{html.escape(title)}</title><link rel="alternate" href="{link}"/>'
                f"<id>{link}</id><updated>{day}T09:00:00Z</updated><summary>{html.escape(title)}</summary>"
                f"</entry></feed>")


def _rfc822(day: str) -> str:
    return time.strftime("%a, %d %b %Y 09:00:00 +0000", time.strptime(day, "%Y-%m-%d"))


def make_handler(site: FixtureSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes = b"", content_type: str = "text/html; charset=utf-8",
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            site.hits[path] += 1
            site.seen_headers[path] = {k.lower(): v for k, v in self.headers.items()}
            if path.startswith("/hostile/") or path == "/robots.txt":
                try:
                    return hostile.serve(site, self, self._send)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up on a bomb or a drip: as it should
                    return None
            if path.startswith("/sitemaps/"):
                status, body, content_type = sitemap_document(site.base, path.removeprefix("/sitemaps/"))
                return self._send(status, body, content_type)
            if path == "/feeds/news.xml":
                if self.headers.get("If-None-Match") == site.etag:
                    return self._send(304, headers={"ETag": site.etag})
                return self._send(200, site.news_feed().encode(), "application/rss+xml; charset=utf-8",
                                  {"ETag": site.etag, "Last-Modified": site.last_modified})
            if path.startswith("/dyn/") and path.removeprefix("/dyn/") in site.dynamic:
                canned = site.dynamic[path.removeprefix("/dyn/")]
                headers = dict(canned.headers)
                if canned.etag:
                    headers["ETag"] = canned.etag
                    if self.headers.get("If-None-Match") == canned.etag:
                        return self._send(304, headers=headers)
                return self._send(canned.status, canned.body.encode(), canned.content_type, headers)
            if path.startswith("/feeds/bench/"):
                number = int(path.removeprefix("/feeds/bench/").removesuffix(".xml"))
                etag = f'"bench-{number}"'
                if self.headers.get("If-None-Match") == etag:
                    return self._send(304, headers={"ETag": etag})
                return self._send(200, bench_feed(site.base, number).encode(), "application/rss+xml",
                                  {"ETag": etag})
            if path in ("/home.html", "/plain.html"):
                links = ('<link rel="alternate" type="application/rss+xml" title="News" href="/feeds/news.xml">'
                         '<link rel="alternate" type="application/atom+xml" href="feeds/other.atom">'
                         '<link rel="alternate" type="application/rss+xml" href="/feeds/missing.xml">'
                         '<link rel="stylesheet" href="/style.css">') if path == "/home.html" else ""
                return self._send(200, f"<html><head>{links}</head><body>Home</body></html>".encode())
            if path == "/feed.xml":
                return self._send(200, site.other_feed().encode(), "application/atom+xml")
            if path == "/feeds/growing.xml":
                return self._send(200, site.many_feed(site.growing).replace("/slow/", "/fast/").encode(),
                                  "application/rss+xml")
            if path.startswith("/fast/"):
                number = int(path.removeprefix("/fast/").removesuffix(".html"))
                slug = list(ARTICLES)[number % len(ARTICLES)]
                title = html.escape(ARTICLES[slug][0])
                return self._send(200, article_page(slug).replace(title, f"Dispatch {number}: {title}").encode())
            if path == "/feeds/wire.xml":
                return self._send(200, site.wire_feed().encode(), "application/rss+xml")
            if path.startswith("/wire/"):
                return self._send(200, wire_page(int(path.removeprefix("/wire/").removesuffix(".html"))).encode())
            if path == "/feeds/many.xml":
                count = int(self.path.partition("n=")[2] or 30)
                return self._send(200, site.many_feed(count).encode(), "application/rss+xml")
            if path.startswith("/slow/"):
                time.sleep(0.3)
                number = int(path.removeprefix("/slow/").removesuffix(".html"))
                slug = list(ARTICLES)[number % len(ARTICLES)]
                title = html.escape(ARTICLES[slug][0])
                page = article_page(slug).replace(title, f"Dispatch {number}: {title}")
                return self._send(200, page.encode())
            if path == "/gen/poison.xml":
                return self._send(200, site.poison_feed().encode(), "application/rss+xml")
            if path.startswith("/gen/poison/"):
                kind = path.removeprefix("/gen/poison/").removesuffix(".html")
                return self._send(200, generated_page(9999, POISON_KINDS.index(kind), kind).encode())
            if path.startswith("/gen/") and path.endswith(".xml"):
                count = int(self.path.partition("m=")[2] or 25)
                return self._send(200, site.generated_feed(int(path[5:-4]), count).encode(), "application/rss+xml")
            if path.startswith("/gen/"):
                feed, _, number = path.removeprefix("/gen/").removesuffix(".html").partition("/")
                return self._send(200, generated_page(int(feed), int(number)).encode())
            if path == "/feeds/links.xml":
                return self._send(200, site.links_feed(self.path.partition("?")[2]).encode(), "application/rss+xml")
            if path == "/feeds/sub/rel.xml":
                return self._send(200, REL_FEED.encode(), "application/rss+xml")
            if path == "/moved/rel.xml":
                return self._send(301, headers={"Location": "/feeds/sub/rel.xml"})
            if path == "/feeds/echo.xml":
                # 304 only for the exact validators we handed out, like a real server.
                if (self.headers.get("If-None-Match") == '"v7"'
                        and self.headers.get("If-Modified-Since") == "Sat, 06 Mar 2021 03:06:40 GMT"):
                    return self._send(304)
                return self._send(200, REL_FEED.encode(), "application/rss+xml",
                                  headers={"ETag": '"v7"', "Last-Modified": "Sat, 06 Mar 2021 03:06:40 GMT"})
            if path == "/feeds/flaky.xml":
                return self._send(503, b"busy", "text/plain")
            if path == "/feeds/other.atom":
                return self._send(200, site.other_feed().encode(), "application/atom+xml")
            if path == "/feeds/slow.xml":
                site.release_slow.wait(5)
                return self._send(200, site.news_feed().encode(), "application/rss+xml")
            if path == "/feeds/notafeed.xml":
                return self._send(200, b"<html><body><h1>Welcome</h1><p>No feed here.</p></body></html>")
            if path == "/feeds/local-link.xml":
                feed = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Sneaky</title>'
                        "<item><title>Secrets</title><link>file:///etc/passwd</link></item></channel></rss>")
                return self._send(200, feed.encode(), "application/rss+xml")
            if path.startswith("/redirect/"):
                return self._send(301, headers={"Location": f"/articles/{path.rsplit('/', 1)[1]}.html"})
            if path == "/articles/broken.html":
                return self._send(200, EXTRACTION_DEFEATING_PAGE)
            if path == "/articles/huge.html":
                return self._send(200, b"<html><body>" + b"<p>word </p>" * 300_000 + b"</body></html>")
            if path == "/articles/gzip-bomb.html":
                return self._send(200, gzip_bomb(), headers={"Content-Encoding": "gzip"})
            if path == "/articles/gzipped.html":
                return self._send(200, gzip.compress(article_page("lima-election").encode()),
                                  headers={"Content-Encoding": "gzip"})
            if path == "/articles/drip.html":
                return hostile.drip(self, article_page("lima-election").encode(), "text/html", every_s=0.2)
            if path == "/articles/latin1.html":
                page = "<html><body><article><p>Caf\u00e9 cr\u00e8me in M\u00fcnchen.</p></article></body></html>"
                return self._send(200, page.encode("cp1252"), "text/html; charset=windows-1252")
            if path.startswith("/articles/") and path.endswith(".html"):
                slug = path.removeprefix("/articles/").removesuffix(".html")
                if slug in ARTICLES:
                    return self._send(200, article_page(slug).encode())
            return self._send(404, b"<html><body>Not found</body></html>")

    return Handler
