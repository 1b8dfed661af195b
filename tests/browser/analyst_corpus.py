"""A corpus for the analyst's page, written straight into a real Tantivy index: dates relative to now (for the
24 h / 7 days / 30 days presets), sources of different sizes, groups, events, tags, collections and
countries, two words to compare over time, and bodies long enough to be cut into snippets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conformance.corpus import article
from workers.core.models import Article
from workers.search.tantivy.backend import TantivyBackend

SOURCES = ("Alpha Wire", "Beta Daily", "Gamma Post", "Delta Times")
# Hours before now of each article, by how it should fall into the presets.
WITHIN_24H = (1, 5, 20)
WITHIN_7D = (30, 50, 80, 120, 150)
WITHIN_30D = (200, 300, 400, 500, 600, 650, 700)
OLDER = tuple(24 * d for d in (40, 60, 90, 120, 200, 260, 300, 330, 360, 400))
COUNTRIES = (["IQ", "US"], ["FR"], ["IQ"], ["US", "GB"], ["DE"], ["IQ", "IR"], [])
FILLER = ("Officials met again on Tuesday to review the figures, and the discussion ran well past the hour "
          "set for it while reporters waited outside the building for a statement that came late. ")


def analyst_articles(now: datetime) -> list[Article]:
    hours = [*WITHIN_24H, *WITHIN_7D, *WITHIN_30D, *OLDER]
    out = []
    for i, h in enumerate(hours):
        topic = "drought" if i % 3 == 0 else "flood" if i % 3 == 1 else "election"
        source = SOURCES[0] if i % 2 == 0 else SOURCES[1 + (i // 2) % 3]
        body = (FILLER * 2 + f"The {topic} dominated the day in the region, number {i}. " + FILLER * 2).strip()
        out.append(article(
            f"analyst-{i}", title=f"Story {i} on the {topic}", body=body,
            domain=source.lower().replace(" ", "") + ".example",
            published_at=now - timedelta(hours=h), fetched_at=now, source_name=source,
            locations=["Basra"] if i % 4 == 0 else ["Lyon"],
            groups=["Farmers"] if i % 2 == 0 else ["Unions"], events=["Harvest Summit"] if i % 5 == 0 else [],
            tags=["weather"] if topic != "election" else ["politics"], collections=["World"] if i % 3 else ["Europe"],
            countries=COUNTRIES[i % len(COUNTRIES)],
        ))
    return out


def write_index(index_dir: Path, now: datetime | None = None) -> list[Article]:
    now = now or datetime.now(UTC).replace(microsecond=0)
    articles = analyst_articles(now)
    writer = TantivyBackend(index_dir, writer=True)
    try:
        writer.upsert(articles)
    finally:
        writer.close()
    return articles
