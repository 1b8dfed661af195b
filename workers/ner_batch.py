"""NER for several articles at once: one ``nlp.pipe`` pass instead of one call per article.

``nlp.pipe`` runs the model on batches of documents, which is several times
faster than calling ``nlp`` per text. Each pass runs inside
``nlp.memory_zone()`` (spaCy 3.8) so the strings a long-running worker meets
(every new name, URL and number) are freed after the batch instead of piling
up in the vocabulary forever; nothing spaCy made outlives the zone, only the
plain lists of names built from it.
"""

from __future__ import annotations

from collections.abc import Sequence

from workers.entities import EntityRecognizer, entities_from_doc
from workers.models import ENTITY_KINDS, Article

__all__ = ["ner_text", "tag_articles", "tag_texts"]

_PIPE_BATCH = 16  # spaCy's own batch inside one pipe() call; ours are rarely larger


def ner_text(article: Article) -> str:
    """The text NER reads for an article: the same as the one-by-one path (title, blank line, body)."""
    return f"{article.title}\n\n{article.body}"


def tag_texts(ner: EntityRecognizer, texts: Sequence[str]) -> list[dict[str, list[str]]]:
    """Entity lists by kind for each text, in order, tagged in one pass."""
    if not texts:
        return []
    nlp = ner.nlp
    with nlp.memory_zone():
        return [entities_from_doc(doc)
                for doc in nlp.pipe((text[: ner.max_chars] for text in texts), batch_size=_PIPE_BATCH)]


def tag_articles(articles: Sequence[Article], ner: EntityRecognizer) -> list[Article]:
    """The articles with their entity lists filled in; text in a language without a model gets none."""
    wanted = [i for i, a in enumerate(articles) if a.body or a.title]
    wanted = [i for i in wanted if ner.supports(articles[i].language)]
    found = tag_texts(ner, [ner_text(articles[i]) for i in wanted])
    out = [a.model_copy(update={kind: [] for kind in ENTITY_KINDS}) for a in articles]
    for i, entities in zip(wanted, found, strict=True):
        out[i] = out[i].model_copy(update=entities)
    return out
