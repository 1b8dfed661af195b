"""Index stage: batches of Articles into the search backend, and deletions applied there."""

__all__: list[str] = []
