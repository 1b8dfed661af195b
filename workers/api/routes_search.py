"""Search, one article with its cluster, and exports: the read side of the index."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from workers.api.deps import get_backend, get_settings
from workers.api.export import FORMATS, export_lines
from workers.api.params import SearchParams, facet_filters, reject_unknown
from workers.api.schemas import ApiError, ArticleResponse, SearchResponse
from workers.core.errors import NewsworkersError
from workers.search.backend import SearchBackend
from workers.search.model import FACETS, SearchQuery, Sort
from workers.search.query_syntax import query_notes
from workers.settings import Settings

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["search"])

_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ApiError, "description": "A query we cannot run, and why (reason query.*)."},
    503: {"model": ApiError, "description": "The search backend cannot answer now."},
}
_SEARCH_PARAMS = {"q", "since", "until", "sort", "facets", "facet_size", "collapse", "histogram", "near", "bbox",
                  *FACETS}
_CLUSTER_MAX = 100


# Unset fields stay out (histogram unless asked, notes unless any), so the body is the CLI's --json exactly.
@router.get("/search", response_model=SearchResponse, response_model_exclude_unset=True, responses=_ERRORS)
def search(
    request: Request,
    params: Annotated[SearchParams, Depends()],
    filters: Annotated[dict[str, list[str]], Depends(facet_filters)],
    backend: Annotated[SearchBackend, Depends(get_backend)],
    settings: Annotated[Settings, Depends(get_settings)],
    page: Annotated[int, Query(ge=1, description="1-based page number.")] = 1,
    size: Annotated[int, Query(ge=0, description="Hits per page (0: only counts); at most api_max_page_size.")]
    = 10,
) -> dict[str, object]:
    """Hits, facet counts and (with ``histogram``) a date histogram: ``newsworkers search --json``'s shape."""
    reject_unknown(request, _SEARCH_PARAMS | {"page", "size"})
    if size > settings.api_max_page_size:
        raise NewsworkersError(f"size {size} is above the most a page holds ({settings.api_max_page_size})",
                               reason="query.size_too_big")
    offset = (page - 1) * size
    if offset + size > settings.api_max_result_window:
        raise NewsworkersError(
            f"page {page} of size {size} reaches past hit {settings.api_max_result_window:,}, the deepest a page "
            "goes; narrow the search, or take the whole result with /api/export",
            reason="query.window_too_deep",
        )
    notes = query_notes(params.q)
    result = backend.search(params.query(filters, limit=size, offset=offset))
    if page > 1 and offset >= result.total:
        pages = math.ceil(result.total / size) if size else 0
        raise NewsworkersError(f"page {page} is past the end: {result.total} hits make {pages} page(s) of {size}",
                               reason="query.page_past_end")
    return {**result.to_json(), **({"notes": notes} if notes else {})}


@router.get("/articles/{doc_id}", response_model=ArticleResponse,
            responses={404: {"model": ApiError, "description": "No article has this id."}, 503: _ERRORS[503]})
def article(doc_id: str, backend: Annotated[SearchBackend, Depends(get_backend)]) -> dict[str, object]:
    """The whole document (body, entities, metadata) and the members of its near-duplicate cluster."""
    found = backend.get(doc_id)
    if found is None:
        raise NewsworkersError(f"no article has the id {doc_id!r}", reason="article.not_found")
    members = backend.search(SearchQuery(cluster_id=found.cluster_id or found.id, sort=Sort.DATE,
                                         limit=_CLUSTER_MAX))
    cluster = sorted((h.to_json() for h in members.hits), key=lambda h: (h["published_at"] or "", h["id"]))
    return {"article": found.model_dump(mode="json"), "cluster": cluster}


@router.get(
    "/export", responses={
        **_ERRORS,
        200: {"description": "Every matching document, newest first: JSON Lines (one hit object a line, "
              "as in /api/search without the snippet) or CSV with a header row.",
              "content": {"application/x-ndjson": {"schema": {"type": "string"}},
                          "text/csv": {"schema": {"type": "string"}}}},
    },
    response_class=StreamingResponse,
)
def export(
    request: Request,
    params: Annotated[SearchParams, Depends()],
    filters: Annotated[dict[str, list[str]], Depends(facet_filters)],
    backend: Annotated[SearchBackend, Depends(get_backend)],
    settings: Annotated[Settings, Depends(get_settings)],
    format: Annotated[str, Query(pattern="^(jsonl|csv)$", description="jsonl or csv.")] = "jsonl",
) -> StreamingResponse:
    """The whole result set, streamed page by page (never held in memory), newest first."""
    reject_unknown(request, _SEARCH_PARAMS | {"format"})
    query = params.query(filters, limit=settings.api_export_page_size, offset=0)
    lines = export_lines(backend, query, format, page_size=settings.api_export_page_size,
                         max_docs=settings.api_export_max_docs)
    first = next(lines)  # runs the first search now, so a bad query is still a 400 and not a broken stream
    media, suffix = FORMATS[format]

    def stream() -> Iterator[str]:
        yield first
        yield from lines

    return StreamingResponse(stream(), media_type=media,
                             headers={"Content-Disposition": f'attachment; filename="newsworkers-export.{suffix}"'})

