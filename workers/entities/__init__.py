"""Named entities: spaCy models per language, mentions normalized and merged, one canonical spelling."""

__all__: list[str] = []
