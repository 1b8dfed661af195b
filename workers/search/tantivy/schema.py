"""The Tantivy index layout: one schema, shared by the writer and every reader.

Full-text fields come once per analysis group (:mod:`workers.search.languages`): an article's title, body
and summary go into ``title_<group>``, ``body_<group>`` and ``summary_<group>`` of its language's group
only, each field analysed by that group's analyzer (:mod:`workers.search.tantivy.analysis`). The other
groups' fields stay empty for it. ``entity_aliases`` (names, in whatever language) has one field.
Facet fields keep their values whole (raw) as fast fields for terms aggregations; ``facet_terms`` holds
``field=value`` in lower case so ``locations:baghdad`` and ``--filter locations=Baghdad`` match
whatever the case. Places' points are kept in ``coordinates`` (JSON ``[[lat, lon], ...]``, stored
only) and indexed as grid cells in ``geo_cells`` (see :mod:`workers.search.geofilter`), which distance and box
filters look up.
"""

from __future__ import annotations

import tantivy

from workers.search.languages import GROUPS
from workers.search.model import FACETS
from workers.search.tantivy.analysis import analyzer_name

__all__ = [
    "ALIASES_FIELD", "ALIASES_GROUP", "GROUPED_FIELDS", "SCHEMA_VERSION", "build_schema", "facet_term",
    "field_name", "group_marker",
]  # fmt: skip

# 3: archive_path and pipeline_version, to find what to reprocess. 4: countries and the geo fields.
# 5: per-language analysis groups.
SCHEMA_VERSION = 5

# -- language analysis (issue 19): the grouped text fields ---------------------------------------------------
GROUPED_FIELDS = ("title", "body", "summary")
"""The article's texts, indexed once per analysis group; a query's ``title:`` means every ``title_<group>``."""
ALIASES_FIELD = "entity_aliases"
ALIASES_GROUP = "en"  # names, stemmed as English, as before the groups


def field_name(field: str, group: str) -> str:
    return f"{field}_{group}"


def group_marker(group: str) -> str:
    """The ``facet_terms`` term every document of ``group`` carries, so a search can skip the groups an index
    has no document in (each searched field costs a lookup per segment, found or not). Not a facet name."""
    return f"analysis_group={group}"


def _add_text_fields(builder: tantivy.SchemaBuilder) -> None:
    for group in GROUPS:
        for field in GROUPED_FIELDS:
            # Nothing stored: the full Article lives in `source`, snippets are made from it.
            builder.add_text_field(field_name(field, group), stored=False, tokenizer_name=analyzer_name(group))
    builder.add_text_field(ALIASES_FIELD, stored=False, tokenizer_name=analyzer_name(ALIASES_GROUP))
# -- end of language analysis ------------------------------------------------------------------------------------


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("url", stored=True, tokenizer_name="raw")
    _add_text_fields(builder)
    for name in FACETS:
        builder.add_text_field(name, stored=True, tokenizer_name="raw", fast=True)
    builder.add_text_field("facet_terms", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("cluster_id", stored=True, tokenizer_name="raw", fast=True)
    builder.add_unsigned_field("duplicates", stored=True, indexed=True, fast=True)
    builder.add_date_field("published_at", stored=True, indexed=True, fast=True)
    builder.add_text_field("archive_path", stored=True, tokenizer_name="raw")
    builder.add_unsigned_field("pipeline_version", stored=True, indexed=True, fast=True)
    builder.add_text_field("geo_cells", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_bytes_field("coordinates", stored=True, indexed=False)
    builder.add_bytes_field("source", stored=True, indexed=False)
    return builder.build()


def facet_term(field: str, value: str) -> str:
    return f"{field}={' '.join(value.split()).casefold()}"
