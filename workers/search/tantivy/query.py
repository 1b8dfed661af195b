"""Compile the backend-neutral query AST and filters into Tantivy queries."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import UTC, datetime

import tantivy

from workers.core.errors import QuerySyntaxError
from workers.search.geofilter import ANY_POINT, Area, cover
from workers.search.model import ENTITY_FACETS, FACETS, SearchQuery, alias_field, facet_value
from workers.search.query_syntax import And, MatchAll, Node, Not, Or, Phrase, Term, parse_query
from workers.search.tantivy.schema import ALIASES_FIELD, ALIASES_GROUP, GROUPED_FIELDS, facet_term, field_name

__all__ = ["QueryCompiler"]

_TITLE_BOOST = 2.0
Occur = tantivy.Occur


class QueryCompiler:
    def __init__(self, schema: tantivy.Schema, analyzers: dict[str, tantivy.TextAnalyzer]) -> None:
        """``analyzers``: each analysis group's analyzer, as :func:`~workers.search.tantivy.analysis.all_analyzers`."""
        self.schema = schema
        self.analyzers = analyzers
        self._groups: list[str] = list(analyzers)

    def compile(self, query: SearchQuery, searcher: tantivy.Searcher | None = None, *,
                groups: Collection[str] | None = None) -> tuple[tantivy.Query, tantivy.Query]:
        """(query used for scoring and snippets, same query with filters) for ``query``; a distance or box
        filter needs the ``searcher`` its edge cells are checked against. ``groups`` limits the text fields
        searched to those analysis groups (the ones the index holds documents of); None, all."""
        self._groups = [g for g in self.analyzers if groups is None or g in groups]
        text_query = self.node(parse_query(query.text))
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = [(Occur.Must, text_query)]
        for facet, values in query.filters.items():
            alternatives = [(Occur.Should, self._facet(facet, v)) for v in values if v.strip()]
            if alternatives:
                clauses.append((Occur.Must, tantivy.Query.boolean_query(alternatives)))
        if query.cluster_id:
            clauses.append((Occur.Must, tantivy.Query.term_query(self.schema, "cluster_id", query.cluster_id)))
        if query.since or query.until:
            clauses.append((Occur.Must, tantivy.Query.range_query(
                self.schema, "published_at", tantivy.FieldType.Date,
                _utc(query.since), _utc(query.until), True, True,
            )))
        filtered = text_query if len(clauses) == 1 else tantivy.Query.boolean_query(clauses)
        areas = [area for area in (query.near, query.bbox) if area is not None]
        if areas:
            if searcher is None:
                raise QuerySyntaxError("a distance or box filter needs an index to check its edges against")
            # Each area narrows what the next one has to check; scored 0, so a filter leaves relevance alone.
            for area in areas:
                within = tantivy.Query.const_score_query(self._area(area, filtered, searcher), 0.0)
                filtered = tantivy.Query.boolean_query([(Occur.Must, filtered), (Occur.Must, within)])
        return text_query, filtered

    def _area(self, area: Area, filtered: tantivy.Query, searcher: tantivy.Searcher) -> tantivy.Query:
        """The documents with a point in ``area``: its inside cells as they are, and of the documents ``filtered``
        finds in its edge cells those whose stored points pass the exact check, by id."""
        cells = cover(area)
        inside, edge = (cells.inside, cells.edge) if cells else ((), (ANY_POINT,))
        matched: list[str] = []
        if edge:
            candidates = tantivy.Query.boolean_query([
                (Occur.Must, filtered), (Occur.Must, self._cells(edge)),
                *([(Occur.MustNot, self._cells(inside))] if inside else []),
            ])
            found = searcher.search(candidates, max(searcher.num_docs, 1), count=False)
            for _score, address in found.hits:
                doc = searcher.doc(address)
                points = json.loads(bytes(doc["coordinates"][0])) if doc["coordinates"] else []
                if any(area.contains(lat, lon) for lat, lon in points):
                    matched.append(doc["id"][0])
        parts = []
        if inside:
            parts.append((Occur.Should, self._cells(inside)))
        if matched:
            parts.append((Occur.Should, tantivy.Query.term_set_query(self.schema, "id", matched)))
        return tantivy.Query.boolean_query(parts) if parts else tantivy.Query.empty_query()

    def _cells(self, cells: tuple[str, ...]) -> tantivy.Query:
        return tantivy.Query.term_set_query(self.schema, "geo_cells", list(cells))

    def node(self, node: Node) -> tantivy.Query:
        match node:
            case MatchAll():
                return tantivy.Query.all_query()
            case Term(text=text, field=field) | Phrase(text=text, field=field):
                return self._leaf(text, field)
            case And(children=children):
                clauses = [
                    (Occur.MustNot, self.node(c.child)) if isinstance(c, Not) else (Occur.Must, self.node(c))
                    for c in children
                ]
                if all(occur == Occur.MustNot for occur, _ in clauses):
                    clauses.append((Occur.Must, tantivy.Query.all_query()))
                return tantivy.Query.boolean_query(clauses)
            case Or(children=children):
                return tantivy.Query.boolean_query([(Occur.Should, self.node(c)) for c in children])
            case Not(child=child):
                return tantivy.Query.boolean_query(
                    [(Occur.Must, tantivy.Query.all_query()), (Occur.MustNot, self.node(child))]
                )
        raise QuerySyntaxError(f"cannot compile query node {node!r}")

    def _leaf(self, text: str, field: str | None) -> tantivy.Query:
        if field in ENTITY_FACETS:
            # A name or any spelling merged into one: persons:Soleimani finds "Qassem Suleimani" called so.
            return tantivy.Query.boolean_query([(Occur.Should, self._facet(field, text)),
                                                (Occur.Should, self._facet(alias_field(field), text))])
        if field in FACETS:
            return self._facet(field, text)
        if field == "url":
            return tantivy.Query.term_query(self.schema, "url", text)
        # Each analysis group reads the text its own way (stems, CJK characters) and looks in its own fields:
        # one query finds its words in every language.
        fields = (field,) if field else GROUPED_FIELDS
        per_field = []
        for group in self._groups:
            tokens = [t for t in self.analyzers[group].analyze(text) if t]
            per_field.extend(self._match(field_name(name, group), name, tokens) for name in fields)
        if field is None:
            per_field.append(self._match(ALIASES_FIELD, ALIASES_FIELD,
                                         [t for t in self.analyzers[ALIASES_GROUP].analyze(text) if t]))
        clauses = [(Occur.Should, q) for q in per_field if q is not None]
        if not clauses:
            # A word that analyses to nothing (pure punctuation) matches nothing, like in Elasticsearch.
            return tantivy.Query.empty_query()
        return clauses[0][1] if len(clauses) == 1 else tantivy.Query.boolean_query(clauses)

    def _match(self, name: str, field: str, tokens: list[str]) -> tantivy.Query | None:
        if not tokens:
            return None
        if len(tokens) == 1:
            q = tantivy.Query.term_query(self.schema, name, tokens[0])
        else:
            q = tantivy.Query.phrase_query(self.schema, name, tokens)
        return tantivy.Query.boost_query(q, _TITLE_BOOST) if field == "title" else q

    def _facet(self, field: str, value: str) -> tantivy.Query:
        return tantivy.Query.term_query(self.schema, "facet_terms", facet_term(field, facet_value(field, value)))


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
