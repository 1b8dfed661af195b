"""The extract stage over several pages at once: extraction per page, NER in one pass, places, then near-duplicates.

Plain and free of Celery. Each page ends either as an Article or as the
exception that stopped it; one bad page never costs the others their result.
"""

from __future__ import annotations

from collections.abc import Sequence

from workers.archive.read import page_with_html
from workers.archive.write import archive_root
from workers.broker.outage import OUTAGE
from workers.core.models import Article, FeedItem, FetchedPage
from workers.entities.batch import tag_articles
from workers.entities.recognizer import EntityRecognizer
from workers.neardup.clusters import ClusterStore
from workers.pipeline.extract.article import extract_article
from workers.pipeline.extract.places import with_places
from workers.settings import Settings

__all__ = ["extract_pages", "warm_up"]


def extract_pages(pages: Sequence[FetchedPage], settings: Settings, ner: EntityRecognizer | None,
                  clusters: ClusterStore | None) -> list[Article | Exception]:
    """One result per page, in order: its Article (entities, cluster) or the error that stopped it."""
    results: list[Article | Exception] = []
    archive = archive_root(settings)
    for page in pages:
        try:
            results.append(_from_page(extract_article(page_with_html(page, archive), settings, None, places=False),
                                      page))
        except Exception as exc:  # extract_article's own errors and parser crashes alike: that page's result
            results.append(exc)
    done = [i for i, r in enumerate(results) if isinstance(r, Article)]
    if ner is not None and done:
        try:
            for i, article in zip(done, tag_articles([results[i] for i in done], ner), strict=True):  # type: ignore[misc]
                results[i] = article
        except Exception:
            # One text spaCy chokes on must not fail its neighbours: tag them one by one to find it.
            for i in done:
                try:
                    results[i] = tag_articles([results[i]], ner)[0]  # type: ignore[list-item]
                except Exception as exc:
                    results[i] = exc
    for i, article in enumerate(results):
        if isinstance(article, Article):
            try:
                results[i] = with_places(article, settings, ner)
            except Exception as exc:  # a text the geoparser chokes on is that page's result, not its neighbours'
                results[i] = exc
    if clusters is not None:
        for i, article in enumerate(results):
            if not isinstance(article, Article):
                continue
            try:
                cluster = clusters.add(article.id, article.body, article.published_at)
            except OUTAGE:
                raise  # Redis away: the batch goes back whole; no page is indexed without its cluster
            except Exception as exc:
                results[i] = exc
                continue
            if cluster is not None:
                results[i] = article.model_copy(update={"cluster_id": cluster.cluster_id,
                                                        "duplicates": cluster.duplicates})
    return results


_WARM_UP_PARAGRAPH = ("The mayor of Springfield, Jane Porter, told reporters on Monday that the city council would "
                      "vote on the new transit plan in March, after months of talks with the state of Illinois. ")
_WARM_UP_HTML = (f"<html><head><title>Council to vote on transit plan</title></head><body><article>"
                 f"<h1>Council to vote on transit plan</h1>{('<p>' + _WARM_UP_PARAGRAPH * 3 + '</p>') * 4}"
                 "</article></body></html>")


def warm_up(settings: Settings, ner: EntityRecognizer | None) -> None:
    """One page through the stage, so what its libraries load on first use (the language identifier's model,
    the NER pipeline, parsers' tables) is loaded in the extract worker's parent, before its pool forks, and
    shared by the children instead of loaded by each one on its first article."""
    url = "http://warm-up.invalid/article.html"
    item = FeedItem(doc_id="warm-up", url=url, feed_url="http://warm-up.invalid/feed.xml", title="Warm-up")
    extract_pages([FetchedPage(item=item, final_url=url, status=200, html=_WARM_UP_HTML)], settings, ner, None)


def _from_page(article: Article, page: FetchedPage) -> Article:
    """The article, noting where its raw page lives (so it can be re-extracted from there); a reprocessed
    page's article keeps its document's id, even when today's extraction finds another canonical URL."""
    update: dict[str, object] = {}
    if page.archive is not None:
        update.update(archive_path=page.archive.path, archive_offset=page.archive.offset,
                      archive_length=page.archive.length)
    if page.reprocess and article.id != page.item.doc_id:
        update.update(id=page.item.doc_id, id_version=page.item.id_version)
    return article.model_copy(update=update) if update else article
