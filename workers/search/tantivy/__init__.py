"""The embedded backend: a Tantivy index on disk, one writer, readers anywhere."""

__all__: list[str] = []
