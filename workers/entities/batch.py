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

from workers.core.models import ENTITY_KINDS, Article
from workers.entities.recognizer import EntityRecognizer

__all__ = ["ner_text", "tag_articles", "tag_texts"]

_PIPE_BATCH = 16  # spaCy's own batch inside one pipe() call; ours are rarely larger


def ner_text(article: Article) -> str:
    """The text NER reads for an article: the same as the one-by-one path (title, blank line, body)."""
    return f"{article.title}\n\n{article.body}"


def tag_texts(ner: EntityRecognizer, texts: Sequence[str], language: str = "en") -> list[dict[str, list[str]]]:
    """Entity fields (lists by kind and ``entity_aliases``) for each text of one language, tagged in one pass."""
    if not texts:
        return []
    nlp = ner.models.get(language)
    with nlp.memory_zone():
        # from_doc returns plain strings (canonical through Redis when the recognizer has a canon), so
        # nothing spaCy made outlives the zone.
        return [ner.from_doc(doc, language).fields()
                for doc in nlp.pipe((text[: ner.max_chars] for text in texts), batch_size=_PIPE_BATCH)]


def tag_articles(articles: Sequence[Article], ner: EntityRecognizer) -> list[Article]:
    """The articles with their entity fields filled in, one pass per language; a language without a model gets none."""
    out = [a.model_copy(update={**{kind: [] for kind in ENTITY_KINDS}, "entity_aliases": []}) for a in articles]
    by_language: dict[str, list[int]] = {}
    for i, article in enumerate(articles):
        if (article.body or article.title) and ner.supports(article.language):
            by_language.setdefault(article.language or "", []).append(i)
    for language, wanted in by_language.items():
        found = tag_texts(ner, [ner_text(articles[i]) for i in wanted], language)
        for i, fields in zip(wanted, found, strict=True):
            out[i] = out[i].model_copy(update=fields)
    return out
