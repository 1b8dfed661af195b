"""``newsworkers backup DIR`` / ``restore DIR``: the embedded data directory, taken while ``run`` goes on.

What a backup holds, in the order it is taken (the order is what makes it consistent without stopping
anything):

1. ``redis.jsonl``: every key of the namespace (feed registry and state, seen and in-flight items, dead
   letters, blocklist, entity corrections, queued messages), DUMPed in one MULTI/EXEC transaction, so Redis is
   copied as of one instant.
2. ``index/``: the Tantivy index as of a moment after that. Its segment files are immutable and ``meta.json``
   is replaced atomically, but merges delete files; so every file is first hard-linked into a snapshot folder
   beside the index (a link keeps a file a merge removes), and the snapshot counts when ``meta.json`` did not
   change while it was linked (files the current ``meta.json`` names are never removed); only ``meta.json``
   and the segments it names are copied.
   An item is marked seen only after its document is committed, so every item Redis calls seen is in this
   index copy; a document indexed between the two steps is at worst fetched again after a restore, and
   upserted by id into itself.
3. ``archive/``: the WARC files as of a moment after that. They are only appended to, so this copy holds every
   record the index copy points to (a record being written at that instant may be cut short at the end of
   its file, which the archive reader reports as ``archive.corrupt``).
4. ``manifest.json``: what was taken (namespace, key and document counts, feeds, files).

``restore`` puts a backup into a data directory that no process owns (it takes the directory's lock for
the whole restore), into the namespace of the settings in force (keys are renamed from the backup's).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redis import Redis

from workers.broker.delivery import restore_unacked
from workers.broker.routing import broker_is_redis
from workers.core.errors import ConfigError
from workers.settings import Settings
from workers.state import Keys
from workers.state.ownership import DataDirLock, owned_redis, redis_for_command
from workers.worker.app import create_app

__all__ = ["BackupManifest", "backup", "restore"]

FORMAT = 1
_MANIFEST = "manifest.json"
_REDIS_FILE = "redis.jsonl"
_LOCK_FILES = (".tantivy-writer.lock", ".tantivy-meta.lock")
_SNAPSHOT_TRIES = 20
_SEGMENT_FILE = re.compile(r"^[0-9a-f]{32}\.")  # <segment uuid>.<component>


@dataclass(slots=True)
class BackupManifest:
    format: int
    created_at: str
    namespace: str
    keys: int
    documents: int
    feeds: int
    index_files: int
    archive_files: int

    @classmethod
    def read(cls, directory: Path) -> BackupManifest:
        path = directory / _MANIFEST
        if not path.is_file():
            raise ConfigError(f"{directory} is not a newsworkers backup (no {_MANIFEST})", reason="backup.invalid")
        data = json.loads(path.read_text())
        if data.get("format") != FORMAT:
            raise ConfigError(f"{directory} is a backup of format {data.get('format')}, this newsworkers reads "
                              f"format {FORMAT}", reason="backup.invalid")
        return cls(**{name: data[name] for name in cls.__slots__})  # type: ignore[attr-defined]

    def write(self, directory: Path) -> None:
        data = {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]
        (directory / _MANIFEST).write_text(json.dumps(data, indent=2) + "\n")


def _archive_root(settings: Settings) -> Path:
    # The page archive's own setting when this build has it (a shared volume), else its default place.
    configured = getattr(settings, "archive_dir", None)
    return Path(configured) if configured else settings.data_dir / "archive"


def _embedded_only(settings: Settings) -> None:
    if settings.elasticsearch_url:
        raise ConfigError("backup and restore cover the embedded data directory (Redis state and the Tantivy "
                          "index); with Elasticsearch, use its snapshot API for the index",
                          reason="config.backup_backend")


# -- backup ------------------------------------------------------------------------------------------------


def backup(settings: Settings, target: Path) -> BackupManifest:
    """Copy Redis state, the index and the archive of ``settings.data_dir`` into ``target`` (new or empty)."""
    _embedded_only(settings)
    if target.exists() and any(target.iterdir()):
        raise ConfigError(f"{target} is not empty: back up into a new or empty folder", reason="backup.target")
    if target.resolve().is_relative_to(settings.data_dir.resolve()):
        raise ConfigError("the backup folder must lie outside the data directory", reason="backup.target")
    target.mkdir(parents=True, exist_ok=True)
    with redis_for_command(settings) as url:
        client = Redis.from_url(url)  # bytes: DUMP payloads are binary
        try:
            keys = _dump_redis(client, settings.namespace, target / _REDIS_FILE)
            feeds = int(client.hlen(Keys(settings.namespace).feeds))
        finally:
            client.close()
    index_files = _snapshot_index(settings.index_dir, target / "index")
    archive_files = _copy_archive(_archive_root(settings), target / "archive")
    manifest = BackupManifest(format=FORMAT, created_at=datetime.now(UTC).isoformat(), namespace=settings.namespace,
                              keys=keys, documents=_count(target / "index"), feeds=feeds, index_files=index_files,
                              archive_files=archive_files)
    manifest.write(target)
    return manifest


def _dump_redis(client: Redis, namespace: str, path: Path) -> int:
    names = sorted(set(client.scan_iter(match=Keys(namespace).pattern, count=1000)))
    pipe = client.pipeline(transaction=True)  # MULTI/EXEC: every DUMP of one instant
    for name in names:
        pipe.dump(name)
        pipe.pttl(name)
    answers = pipe.execute() if names else []
    written = 0
    with path.open("w") as out:
        for i, name in enumerate(names):
            payload, ttl_ms = answers[2 * i], answers[2 * i + 1]
            if payload is None:  # expired between the scan and the transaction
                continue
            out.write(json.dumps({"key": name.decode(), "ttl_ms": max(int(ttl_ms), 0),
                                  "dump": base64.b64encode(payload).decode("ascii")}) + "\n")
            written += 1
    return written


def _snapshot_index(index_dir: Path, target: Path) -> int:
    if not (index_dir / "meta.json").exists():
        target.mkdir(parents=True)
        return 0
    for _ in range(_SNAPSHOT_TRIES):
        snapshot = index_dir.parent / f".backup-snapshot-{os.getpid()}-{time.monotonic_ns()}"
        snapshot.mkdir()
        try:
            before = (index_dir / "meta.json").read_bytes()
            _link_all(index_dir, snapshot)
            # Files the current meta.json names are never removed (a merge removes only what no meta names),
            # so an unchanged meta.json across the linking means every file it names was linked.
            if (index_dir / "meta.json").read_bytes() == before == (snapshot / "meta.json").read_bytes():
                target.mkdir(parents=True)
                for path in _referenced(snapshot, before):
                    shutil.copy2(path, target / path.name)
                return sum(1 for _ in target.iterdir())
        finally:
            shutil.rmtree(snapshot, ignore_errors=True)
        time.sleep(0.05)
    raise ConfigError(f"the index at {index_dir} kept changing under the backup ({_SNAPSHOT_TRIES} tries); "
                      "try again", reason="backup.index_busy")


def _link_all(source: Path, snapshot: Path) -> None:
    for path in source.iterdir():
        if path.name in _LOCK_FILES or not path.is_file():
            continue
        with contextlib.suppress(FileNotFoundError):  # a file a merge removed: no meta.json we keep names it
            os.link(path, snapshot / path.name)


def _referenced(snapshot: Path, meta: bytes) -> list[Path]:
    """meta.json, the files of the segments it names, and the index's own small files (no segment's)."""
    segments = {s["segment_id"].replace("-", "") for s in json.loads(meta).get("segments", [])}
    return [p for p in sorted(snapshot.iterdir())
            if p.name.split(".")[0] in segments or not _SEGMENT_FILE.match(p.name)]


def _copy_archive(source: Path, target: Path) -> int:
    if not source.is_dir():
        return 0
    shutil.copytree(source, target)
    return sum(1 for p in target.rglob("*") if p.is_file())


def _count(index: Path) -> int:
    if not (index / "meta.json").exists():
        return 0
    from workers.search.tantivy.backend import TantivyBackend

    reader = TantivyBackend(index)
    try:
        return reader.count()
    finally:
        reader.close()


# -- restore -----------------------------------------------------------------------------------------------


def restore(settings: Settings, source: Path, *, force: bool = False) -> BackupManifest:
    """Put the backup at ``source`` into ``settings.data_dir`` and its Redis namespace; refuses a directory a
    running process owns, and (without ``force``) one that already holds an index or namespace keys."""
    _embedded_only(settings)
    manifest = BackupManifest.read(source)
    lock = DataDirLock(settings.data_dir)
    if not lock.acquire():
        raise ConfigError(f"{settings.data_dir} is owned by running process {lock.owner_pid()}: stop it before "
                          "restoring into it", reason="backup.in_use")
    try:
        with owned_redis(settings, lock) as url:
            client = Redis.from_url(url)
            try:
                existing = list(client.scan_iter(match=Keys(settings.namespace).pattern, count=1000))
                has_index = (settings.index_dir / "meta.json").exists()
                if (existing or has_index) and not force:
                    what = "an index" if has_index else f"{len(existing)} keys in namespace {settings.namespace!r}"
                    raise ConfigError(f"{settings.data_dir} already holds {what}: restore into a fresh data "
                                      "directory, or pass --force to replace it", reason="backup.target")
                _replace_tree(source / "index", settings.index_dir)
                if (source / "archive").is_dir():
                    _replace_tree(source / "archive", _archive_root(settings))
                if existing:
                    client.delete(*existing)
                _load_redis(client, source / _REDIS_FILE, manifest.namespace, settings.namespace)
                _requeue_unacked(settings.model_copy(update={"redis_url": url}))
            finally:
                client.close()
    finally:
        lock.release()
    return manifest


def _requeue_unacked(settings: Settings) -> None:
    """Messages workers held when the backup was taken go back to their queues: nothing holds them here."""
    if not broker_is_redis(settings):
        return  # an AMQP broker keeps its own messages; the backup has none of them
    app = create_app(settings)
    try:
        restore_unacked(app, app.runtime.redis, Keys(settings.namespace))  # type: ignore[attr-defined]
    finally:
        app.runtime.close()  # type: ignore[attr-defined]
        app.close()


def _replace_tree(source: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)


def _load_redis(client: Redis, path: Path, old: str, new: str) -> int:
    loaded = 0
    pipe = client.pipeline(transaction=False)
    with path.open() as lines:
        for line in lines:
            record: dict[str, Any] = json.loads(line)
            key = new + record["key"][len(old):] if record["key"].startswith(old + ":") else record["key"]
            pipe.restore(key, record["ttl_ms"], base64.b64decode(record["dump"]), replace=True)
            loaded += 1
            if loaded % 500 == 0:
                pipe.execute()
    pipe.execute()
    return loaded
