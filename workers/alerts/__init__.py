"""Saved searches and alerts: each new article matched as it is indexed, an Atom feed per saved search,
webhooks delivered once per (alert, article).

``store`` (Redis), ``matcher`` (the embedded path's in-memory Tantivy percolator), ``percolator``
(Elasticsearch's), ``service`` (add, remove, match a batch), ``webhook`` and ``tasks`` (delivery on the I/O
pool), ``atom`` (the feeds) and ``http`` (the FastAPI router).
"""

__all__: list[str] = []
