"""The extract stage over several pages at once: extraction per page, NER in one pass, then near-duplicates.

Plain and free of Celery. Each page ends either as an Article or as the
exception that stopped it; one bad page never costs the others their result.
"""

from __future__ import annotations

from collections.abc import Sequence

from workers.clusters import ClusterStore
from workers.entities import EntityRecognizer
from workers.extract import extract_article
from workers.models import Article, FetchedPage
from workers.ner_batch import tag_articles
from workers.settings import Settings

__all__ = ["extract_pages"]


def extract_pages(pages: Sequence[FetchedPage], settings: Settings, ner: EntityRecognizer | None,
                  clusters: ClusterStore | None) -> list[Article | Exception]:
    """One result per page, in order: its Article (entities, cluster) or the error that stopped it."""
    results: list[Article | Exception] = []
    for page in pages:
        try:
            results.append(extract_article(page, settings, None))
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
    if clusters is not None:
        for i, article in enumerate(results):
            if not isinstance(article, Article):
                continue
            try:
                cluster = clusters.add(article.id, article.body, article.published_at)
            except Exception as exc:  # Redis away: the page is retried, not indexed without its cluster
                results[i] = exc
                continue
            if cluster is not None:
                results[i] = article.model_copy(update={"cluster_id": cluster.cluster_id,
                                                        "duplicates": cluster.duplicates})
    return results
