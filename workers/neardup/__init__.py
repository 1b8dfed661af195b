"""Near-duplicates: MinHash fingerprints of bodies and the clusters they form across workers."""

__all__: list[str] = []
