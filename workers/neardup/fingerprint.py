"""Near-duplicate fingerprints of article bodies: MinHash signatures over word shingles.

Pure and free of Redis: :mod:`workers.neardup.clusters` stores the fingerprints and
finds candidates. Two bodies are near-duplicates when their estimated Jaccard
similarity reaches a threshold, or when the shorter one is mostly contained in
the longer one (a syndicated copy with its ending trimmed, or with extra
paragraphs of the outlet's own added).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash
from datasketch.lsh import _optimal_param

from workers.settings import Settings

__all__ = ["Fingerprint", "FingerprintParams", "fingerprint", "similar"]

_WORD = re.compile(r"\w+")
# datasketch 2's "affine32" scheme: a bijective permutation per slot (no collisions added on long bodies),
# 32-bit values, so a signature travels as 4 bytes a slot. Named, because stored signatures depend on it.
_SCHEME = "affine32"
_SLOT = np.dtype("<u4")


@dataclass(frozen=True, slots=True)
class FingerprintParams:
    """How bodies are fingerprinted and compared (see the near_dup_* settings)."""

    num_perm: int = 128
    shingle_words: int = 5
    min_words: int = 30
    lsh_threshold: float = 0.3
    jaccard_threshold: float = 0.5
    containment_threshold: float = 0.7

    @classmethod
    def from_settings(cls, settings: Settings) -> FingerprintParams:
        return cls(settings.near_dup_num_perm, settings.near_dup_shingle_words, settings.near_dup_min_words,
                   settings.near_dup_lsh_threshold, settings.near_dup_jaccard_threshold,
                   settings.near_dup_containment_threshold)

    @property
    def tag(self) -> str:
        """What stored signatures and bands depend on: a change starts a new LSH index, never mixes two."""
        bands, rows = self.bands
        return f"{_SCHEME}-{self.num_perm}p-{self.shingle_words}w-{bands}x{rows}"

    @property
    def bands(self) -> tuple[int, int]:
        """(bands, rows per band) of the LSH index, tuned by datasketch for ``lsh_threshold``."""
        return _bands(self.lsh_threshold, self.num_perm)


@functools.cache
def _bands(threshold: float, num_perm: int) -> tuple[int, int]:
    bands, rows = _optimal_param(threshold, num_perm, 0.5, 0.5)
    return int(bands), int(rows)


@functools.cache
def _template(num_perm: int) -> MinHash:
    # Building the random permutations is the costly part of a MinHash; every signature shares them.
    return MinHash(num_perm=num_perm, seed=1, scheme=_SCHEME)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A body's MinHash signature and how many distinct shingles it has."""

    hashvalues: np.ndarray
    shingles: int

    def band_digests(self, params: FingerprintParams) -> list[str]:
        """One short digest per LSH band: equal digests make two bodies candidates."""
        bands, rows = params.bands
        values = self.hashvalues.astype(_SLOT)
        return [hashlib.blake2b(values[i * rows:(i + 1) * rows].tobytes(), digest_size=8).hexdigest()
                for i in range(bands)]

    def encode(self) -> str:
        return f"{self.shingles}:{base64.b64encode(self.hashvalues.astype(_SLOT).tobytes()).decode('ascii')}"

    @classmethod
    def decode(cls, value: str) -> Fingerprint:
        count, _, data = value.partition(":")
        return cls(np.frombuffer(base64.b64decode(data), dtype=_SLOT), int(count))


def fingerprint(text: str, params: FingerprintParams) -> Fingerprint | None:
    """The body's fingerprint, or None when it is too short to tell a copy from a coincidence."""
    words = _WORD.findall(text.casefold())
    if len(words) < max(params.min_words, params.shingle_words):
        return None
    k = params.shingle_words
    shingles = {" ".join(words[i:i + k]).encode() for i in range(len(words) - k + 1)}
    minhash = _template(params.num_perm).copy()
    minhash.update_batch(shingles)
    return Fingerprint(minhash.hashvalues.copy(), len(shingles))


def similar(a: Fingerprint, b: Fingerprint, params: FingerprintParams) -> bool:
    """Near-duplicates: Jaccard similarity, or containment of the smaller body, reaches its threshold."""
    if len(a.hashvalues) != len(b.hashvalues):
        return False
    jaccard = float(np.count_nonzero(a.hashvalues == b.hashvalues)) / len(a.hashvalues)
    if jaccard >= params.jaccard_threshold:
        return True
    # |A∩B| = J(|A|+|B|)/(1+J): the share of the smaller body found in the larger one.
    shared = jaccard * (a.shingles + b.shingles) / (1 + jaccard)
    return shared / min(a.shingles, b.shingles) >= params.containment_threshold
