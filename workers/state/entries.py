"""What a feed remembers of the entries it lists: one small hash per feed.

For every entry a feed listed within ``feed_item_memory_s`` the poll cycle keeps the document it was first
seen as (its id and id version: a GUID whose link changed is still that document) and its revision (a
changed one is a correction). Earlier versions kept this in three namespace-wide structures, a ``guids``
hash, a ``revisions`` hash and an ``item-memory`` sorted set of when each field was last listed, at about
590 bytes an entry: most of what Redis held per feed. Now it is one hash per feed (:meth:`Keys.feed_entries`)
whose fields are 8-byte digests and whose values are 30 packed bytes (when the entry was last listed,
id version, document id and revision as binary), so the hash of a feed listing up to 128 entries stays
listpack-encoded, about 40 bytes an entry with no pointer or per-field allocation.

Forgetting needs no sorted set: a poll that parsed the document reads its feed's whole hash (it is small)
and drops the entries no longer listed and last listed more than ``feed_item_memory_s`` ago. Forgetting is
safe: whether an item was fetched is the seen window's business (past it, the index's), so a forgotten
entry that comes back is still not fetched again; only a GUID alias under another link, or a correction on
the first poll after it returned, would go unnoticed. A feed that is removed takes its hash with it.

An entry is known by its GUID within its own feed (earlier versions: within its feed's host); an entry
without a GUID by the document id of its link. 64-bit digests of what a feed lists collide with
probability about n²/2⁶⁵ for n entries of one feed: never, in practice.

The fields and values are binary, so they are read with a client that does not decode responses.
:func:`upgrade_entry_memory` moves the namespace-wide structures of earlier versions into these hashes.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass

from redis import Redis
from redis.client import Pipeline

from workers.state.keys import Keys

__all__ = ["Entry", "FeedEntries", "entry_field", "upgrade_entry_memory"]

_HEAD = struct.Struct(">IBB")  # when last listed (epoch seconds), id version, flags
_FIXED = 1  # flag: the id (16 bytes) and the revision (8, or none) stored as bytes in fixed width


@dataclass(frozen=True, slots=True)
class Entry:
    """One listed entry as its feed remembers it."""

    doc_id: str
    id_version: int
    revision: str | None
    listed_at: int  # epoch seconds

    def pack(self) -> bytes:
        # The common case, a 32-hex-digit id and a 16-hex-digit revision, in fixed width (29 bytes);
        # anything else with a length byte before each string.
        if _is_lower_hex(self.doc_id, 32) and (self.revision is None or _is_lower_hex(self.revision, 16)):
            return (_HEAD.pack(self.listed_at, self.id_version, _FIXED) + bytes.fromhex(self.doc_id)
                    + (bytes.fromhex(self.revision) if self.revision else b""))
        head = _HEAD.pack(self.listed_at, self.id_version, 0)
        return head + _pack_text(self.doc_id) + _pack_text(self.revision or "")

    @classmethod
    def unpack(cls, raw: bytes) -> Entry:
        listed_at, version, flags = _HEAD.unpack_from(raw)
        if flags & _FIXED:
            doc_id, revision = raw[_HEAD.size:_HEAD.size + 16].hex(), raw[_HEAD.size + 16:].hex() or None
        else:
            doc_id, at = _unpack_text(raw, _HEAD.size)
            revision = _unpack_text(raw, at)[0] or None
        return cls(doc_id=doc_id, id_version=version, revision=revision, listed_at=listed_at)


def entry_field(guid: str | None, doc_id: str) -> bytes:
    """The field of an entry in its feed's hash: a digest of its GUID, or of its link's document id."""
    label = f"g\x1f{guid}" if guid else f"d\x1f{doc_id}"
    return hashlib.blake2b(label.encode(), digest_size=8).digest()


class FeedEntries:
    """The entry memory of each feed. ``raw`` must not decode responses (the hashes are binary)."""

    def __init__(self, raw: Redis, keys: Keys) -> None:
        self._raw = raw
        self._keys = keys

    def read(self, feed_url: str) -> dict[bytes, Entry]:
        raw = self._raw.hgetall(self._keys.feed_entries(feed_url))
        return {field: Entry.unpack(value) for field, value in raw.items()}

    def count(self, feed_url: str) -> int:
        return int(self._raw.hlen(self._keys.feed_entries(feed_url)))

    def write(self, pipe: Pipeline, feed_url: str, *, known: Mapping[bytes, Entry], listed: Mapping[bytes, Entry],
              now: float, memory_s: float) -> int:
        """Queue on ``pipe`` the entries just ``listed`` and the forgetting of those of ``known`` (as read
        before this poll) not listed for ``memory_s``; returns how many are forgotten."""
        key = self._keys.feed_entries(feed_url)
        if listed:
            pipe.hset(key, mapping={field: entry.pack() for field, entry in listed.items()})
        gone = [field for field, entry in known.items() if field not in listed and entry.listed_at < now - memory_s]
        if gone:
            pipe.hdel(key, *gone)
        return len(gone)


def upgrade_entry_memory(raw: Redis, keys: Keys, *, batch: int = 1_000) -> int:
    """Move the ``guids``, ``revisions`` and ``item-memory`` of earlier versions into the per-feed hashes,
    then delete them; returns the entries written. Safe to run again, and while pollers run (an entry a
    poll wrote already is left as it is).

    The old revisions say which feed listed which document; a GUID alias goes to the feeds that listed its
    document. A GUID alias no revision places in a feed is dropped, as forgetting it would.
    """
    listed_at = {member.decode(): int(score) for member, score in raw.zscan_iter(keys.item_memory, count=batch)}
    aliases: dict[str, list[tuple[str, int]]] = {}  # document id → (GUID, id version) of the aliases naming it
    for field, value in raw.hscan_iter(keys.guids, count=batch):
        host_guid = field.decode()
        version, doc_id, _url = json.loads(value)
        aliases.setdefault(doc_id, []).append((host_guid.split(" ", 1)[1], int(version)))
    written = 0
    pipe = raw.pipeline(transaction=False)
    for field, value in raw.hscan_iter(keys.revisions, count=batch):
        doc_id, feed_url = field.decode().split(" ", 1)
        seen_at = listed_at.get(f"r {doc_id} {feed_url}", 0)
        for guid, version in aliases.get(doc_id, [(None, 0)]):
            entry = Entry(doc_id=doc_id, id_version=version or 2, revision=value.decode(), listed_at=seen_at)
            pipe.hsetnx(keys.feed_entries(feed_url), entry_field(guid, doc_id), entry.pack())
            written += 1
        if len(pipe) >= batch:
            pipe.execute()
    pipe.delete(keys.guids, keys.revisions, keys.item_memory)
    pipe.execute()
    return written


def _pack_text(text: str) -> bytes:
    data = text.encode()
    if len(data) > 0x7F:
        raise ValueError(f"too long for an entry field ({len(data)} bytes): {text[:40]!r}")
    return bytes([len(data)]) + data


def _unpack_text(raw: bytes, at: int) -> tuple[str, int]:
    size = raw[at]
    return raw[at + 1:at + 1 + size].decode(), at + 1 + size


def _is_lower_hex(text: str, length: int) -> bool:
    return len(text) == length and all(c in "0123456789abcdef" for c in text)

