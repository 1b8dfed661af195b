"""The Tantivy index layout: one schema, one English analyzer, shared by
the writer and every reader.

Full-text fields go through ``en_news`` (lowercase, ASCII folding, English
Snowball stemming). Facet fields keep their values whole (raw) as fast
fields for terms aggregations; ``facet_terms`` holds ``field=value`` in
lower case so ``locations:baghdad`` and ``--filter locations=Baghdad`` match
whatever the case. Places' points are kept in ``coordinates`` (JSON ``[[lat, lon], ...]``, stored only) and
indexed as grid cells in ``geo_cells`` (see :mod:`workers.search.geofilter`), which distance and box filters
look up.
"""

from __future__ import annotations

import tantivy

from workers.search.model import FACETS

__all__ = ["ANALYZER", "SCHEMA_VERSION", "TEXT_FIELDS", "build_schema", "english_analyzer", "facet_term"]

SCHEMA_VERSION = 4  # 3: archive_path, pipeline_version (to find what to reprocess); 4: countries and the geo fields
ANALYZER = "en_news"
TEXT_FIELDS = ("title", "body", "summary", "entity_aliases")


def english_analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("url", stored=True, tokenizer_name="raw")
    for name in TEXT_FIELDS:
        # Body is not stored here: the full Article lives in `source`, snippets are made from it.
        builder.add_text_field(name, stored=name not in ("body", "entity_aliases"), tokenizer_name=ANALYZER)
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
