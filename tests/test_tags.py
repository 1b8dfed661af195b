"""Tags as one facet value each: split where sites pack several, folded by case."""

from __future__ import annotations

from pathlib import Path

from workers.core.ids import document_id
from workers.core.models import FeedItem, FetchedPage
from workers.pipeline.extract.article import extract_article
from workers.pipeline.extract.metadata import fold_tags
from workers.settings import Settings

PAGE = """<!doctype html><html lang="en"><head><title>Video calls take over the office</title>
<meta name="keywords" content="Italy, Coronavirus; Health | Europe, zoom">
<meta property="article:published_time" content="2020-03-10T09:00:00Z"></head>
<body><article><h1>Video calls take over the office</h1>
<p>Companies across Europe moved their meetings to video calls this week as offices emptied.</p>
<p>Workers in Italy said the change came overnight, and that the calls now fill most of the day.</p>
<p>Health officials asked employers to keep staff at home wherever the work allowed it.</p>
</article></body></html>"""


def test_fold_tags_splits_and_folds() -> None:
    assert fold_tags(["Italy, Coronavirus, Health, Europe", "Zoom", "zoom", " ZOOM ", "a|b;c", None, " , ",
                      "New   York"]) == ["italy", "coronavirus", "health", "europe", "zoom", "a", "b", "c",
                                          "new york"]


def test_extracted_tags_are_one_value_each(tmp_path: Path) -> None:
    url = "https://paper.example/2020/03/10/video-calls"
    item = FeedItem(doc_id=document_id(url), url=url, feed_url="https://paper.example/rss", tags=["Zoom", "Work"])
    page = FetchedPage(item=item, final_url=url, status=200, html=PAGE)
    article = extract_article(page, Settings(data_dir=tmp_path), None)
    assert article.tags[:2] == ["zoom", "work"]
    assert set(article.tags) >= {"zoom", "work", "italy", "coronavirus", "health", "europe"}
    assert len(article.tags) == len(set(article.tags))
    assert all(t == t.lower() and "," not in t and ";" not in t and "|" not in t for t in article.tags)
