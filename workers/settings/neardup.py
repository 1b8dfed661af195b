"""Near-duplicates: MinHash fingerprints of article bodies and the clusters of near-identical stories.

Candidates come from LSH bands; a pair joins one cluster when its estimated Jaccard similarity or its
containment reaches the thresholds here.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["NearDuplicateSettings"]


class NearDuplicateSettings(BaseModel):
    """Near-duplicates: whether bodies are fingerprinted, how finely, and when two are one story."""

    near_dup_enabled: bool = Field(
        True, description="Fingerprint bodies and group near-duplicate stories into clusters (in Redis)."
    )
    near_dup_num_perm: int = Field(
        128, ge=16, le=1024, description="MinHash permutations per body fingerprint (more: finer, slower)."
    )
    near_dup_shingle_words: int = Field(5, ge=1, le=20, description="Words per shingle of a body fingerprint.")
    near_dup_min_words: int = Field(
        30, ge=1, description="Shortest body, in words, that is fingerprinted; shorter ones stay alone."
    )
    near_dup_lsh_threshold: float = Field(
        0.3, gt=0, lt=1, description="Jaccard similarity the LSH bands are tuned to find as candidates."
    )
    near_dup_jaccard_threshold: float = Field(
        0.5, gt=0, le=1, description="Estimated Jaccard similarity from which two bodies are near-duplicates."
    )
    near_dup_containment_threshold: float = Field(
        0.7, gt=0, le=1,
        description="Share of the shorter body found in the longer one from which they are near-duplicates.",
    )
    near_dup_window_days: float = Field(
        30.0, gt=0,
        description="Days a fingerprint and its cluster stay in Redis after their last write; copies further "
                    "apart are not grouped.",
    )
