"""Elasticsearch's side of per-language analysis: the analyzers, the grouped text fields, the reindex script.

Mirrors :mod:`workers.search.tantivy.analysis` group by group (:mod:`workers.search.languages`): words are
runs of letters, marks and digits; tokens of 40+ characters are dropped; lower case; ASCII folding; the
group's Snowball stemmer (the same algorithms as Tantivy's). Two differences, both because Elasticsearch has
no equivalent: Greek uses Lucene's Greek stemmer (the Snowball filter has no Greek), and Tamil, for which
Elasticsearch ships no stemmer, is folded only. ``cjk`` is Elasticsearch's ``cjk`` analyzer (width
normalisation, lower case, overlapping bigrams), without its English stop words, which Tantivy does not drop.

The article's title, body and summary are written a second time into ``<field>_<group>`` of its language's
group (:func:`grouped_fields`), which is what queries search; the plain ``title``, ``body`` and ``summary``
stay in the document as the Article's own fields, kept but not indexed (``title`` keeps its keyword).
:func:`regroup_script` fills the grouped fields during a reindex, for documents written before them.
"""

from __future__ import annotations

import copy
from typing import Any

from workers.core.models import Article
from workers.search.languages import CJK, FOLDED, GROUPS, STEMMED, group_of

__all__ = [
    "ALIASES_ANALYZER", "ALIASES_FIELD", "GROUPED_FIELDS", "analysis_settings", "analyzer_name", "field_name",
    "grouped_fields", "regroup_script", "with_language_analysis",
]  # fmt: skip

GROUPED_FIELDS = ("title", "body", "summary")
ALIASES_FIELD = "entity_aliases"
ALIASES_ANALYZER = "news_en"  # names; index-template.json maps entity_aliases with it
_TOKENIZER = "news_words"
_LENGTH = "news_length"
# Elasticsearch's Snowball filter knows these by the capitalised name; the two others are handled apart.
_UNSTEMMED = frozenset({"ta"})
_LUCENE_STEMMERS = {"el": {"type": "stemmer", "language": "greek"}}
_OWN_LOWERCASE = {"el": {"type": "lowercase", "language": "greek"}}


def analyzer_name(group: str) -> str:
    return f"news_{group}"


def field_name(field: str, group: str) -> str:
    return f"{field}_{group}"


def _stemmer_filter(group: str) -> dict[str, Any]:
    return _LUCENE_STEMMERS.get(group) or {"type": "snowball", "language": STEMMED[group].capitalize()}


def analysis_settings() -> dict[str, Any]:
    """``settings.analysis``: one analyzer per group."""
    filters: dict[str, Any] = {_LENGTH: {"type": "length", "min": 0, "max": 39}}
    analyzers: dict[str, Any] = {}
    for group in GROUPS:
        if group == CJK:
            analyzers[analyzer_name(group)] = {"type": "cjk", "stopwords": "_none_"}
            continue
        chain = [_LENGTH, "lowercase", "asciifolding"]
        if group in _OWN_LOWERCASE:
            filters[f"news_lowercase_{group}"] = _OWN_LOWERCASE[group]
            chain[1] = f"news_lowercase_{group}"
        if group != FOLDED and group not in _UNSTEMMED:
            filters[f"news_stem_{group}"] = _stemmer_filter(group)
            chain.append(f"news_stem_{group}")
        analyzers[analyzer_name(group)] = {"type": "custom", "tokenizer": _TOKENIZER, "filter": chain}
    return {
        # Marks belong to words (Tamil, Hindi vowel signs), as in the Tantivy tokenizer.
        "tokenizer": {_TOKENIZER: {"type": "pattern", "pattern": "[^\\p{L}\\p{M}\\p{N}]+"}},
        "filter": filters,
        "analyzer": analyzers,
    }


def _grouped_properties() -> dict[str, Any]:
    return {
        field_name(field, group): {"type": "text", "analyzer": analyzer_name(group)}
        for group in GROUPS for field in GROUPED_FIELDS
    }


def with_language_analysis(template: dict[str, Any]) -> dict[str, Any]:
    """The articles template of the file, with the analyzers and grouped fields added (a new copy)."""
    merged = copy.deepcopy(template)
    inner = merged["template"]
    inner.setdefault("settings", {})["analysis"] = analysis_settings()
    inner["mappings"]["properties"].update(_grouped_properties())
    return merged


def grouped_fields(article: Article) -> dict[str, str]:
    """The grouped copies of an article's texts, for its stored document."""
    group = group_of(article.language)
    texts = {"title": article.title, "body": article.body, "summary": article.summary}
    return {field_name(field, group): text for field, text in texts.items() if text}


# Painless: the language's group (as group_of does it), then each text copied into that group's field and any
# other group's copy removed. Values in `params` must be objects, so the lists travel as maps.
_REGROUP = """
String code = ctx._source.language == null ? '' : ctx._source.language.toString().trim().toLowerCase();
code = code.replace('_', '-');
int cut = code.indexOf('-');
if (cut >= 0) { code = code.substring(0, cut); }
String group = params.groups.containsKey(code) ? params.groups.get(code) : params.fallback.group;
for (String field : params.fields.keySet()) {
  for (String other : params.all.keySet()) { ctx._source.remove(field + '_' + other); }
  def text = ctx._source.get(field);
  if (text != null && text != '') { ctx._source.put(field + '_' + group, text); }
}
""".strip()


def regroup_script() -> dict[str, Any]:
    """The reindex script that writes the grouped fields of a document from its own texts and language."""
    codes = {code: group_of(code) for code in (*STEMMED, "zh", "ja", "ko", "nb", "nn")}
    return {
        "lang": "painless",
        "source": _REGROUP,
        "params": {
            "groups": codes,
            "fallback": {"group": FOLDED},
            "fields": {field: True for field in GROUPED_FIELDS},
            "all": {group: True for group in GROUPS},
        },
    }
