"""The Elasticsearch backend: template and alias, bulk writes, queries, percolator, Kibana."""

__all__: list[str] = []
