"""Search: one backend-neutral query and result, and the backends behind them."""

from workers.search.backend import SearchBackend, open_backend
from workers.search.model import FACETS, FacetCount, Hit, SearchQuery, SearchResult, Sort

__all__ = ["FACETS", "FacetCount", "Hit", "SearchBackend", "SearchQuery", "SearchResult", "Sort", "open_backend"]
