"""Per-process resources of a worker, built once on first use.

Each worker process (and each prefork child) gets its own Redis pool, HTTP
clients, spaCy model and, in the index worker only, the index writer.
Nothing here is created at import time.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit, urlunsplit

import httpx
from redis import Redis
from redis import exceptions as redis_errors

from workers.archive.write import ArchiveWriter
from workers.broker.delayed import DelayedMessages
from workers.core.errors import ConfigError
from workers.core.logs import get_logger
from workers.entities.correction_store import CorrectionStore
from workers.entities.recognizer import EntityRecognizer, recognizer_for
from workers.neardup.clusters import ClusterStore
from workers.neardup.fingerprint import FingerprintParams
from workers.net.http import make_client
from workers.net.politeness import DomainGate
from workers.net.robots import RobotsRules
from workers.search.backend import SearchBackend, open_backend
from workers.settings import Settings
from workers.state import DeadLetters, FeedRegistry, ItemTracker, Keys, Stats
from workers.state.entries import FeedEntries
from workers.state.ownership import redis_for_command

__all__ = ["Runtime", "attached_runtime", "redact"]

log = get_logger(__name__)


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.keys = Keys(settings.namespace)

    @functools.cached_property
    def delayed(self) -> DelayedMessages:
        """Messages held in Redis until due: retries' backoff, polls and fetches waiting for their turn."""
        return DelayedMessages(self.redis, self.keys, lease_s=self.settings.delayed_lease_s)

    @functools.cached_property
    def redis(self) -> Redis:
        if not self.settings.redis_url:
            raise ConfigError("workers need REDIS_URL; `newsworkers run` sets it for the processes it starts")
        return Redis.from_url(self.settings.redis_url, decode_responses=True, health_check_interval=30)

    @functools.cached_property
    def raw_redis(self) -> Redis:
        """The same Redis without decoding responses, for state kept as binary (:mod:`workers.state.entries`)."""
        pool = self.redis.connection_pool
        return Redis(connection_pool=type(pool)(connection_class=pool.connection_class,
                                                **{**pool.connection_kwargs, "decode_responses": False}))

    @functools.cached_property
    def entries(self) -> FeedEntries:
        """What each feed remembers of the entries it lists."""
        return FeedEntries(self.raw_redis, self.keys)

    @functools.cached_property
    def registry(self) -> FeedRegistry:
        return FeedRegistry(self.redis, self.keys, host_spacing_s=self.settings.feed_host_spacing_s)

    @functools.cached_property
    def tracker(self) -> ItemTracker:
        return ItemTracker(self.redis, self.keys, self.settings.inflight_ttl_s, self.settings.seen_window_s)

    @functools.cached_property
    def dead_letters(self) -> DeadLetters:
        return DeadLetters(self.redis, self.keys, self.settings.dead_letters_max)

    @functools.cached_property
    def stats(self) -> Stats:
        return Stats(self.redis, self.keys)

    @functools.cached_property
    def feed_client(self) -> httpx.Client:
        return make_client(self.settings, timeout_s=self.settings.feed_timeout_s)

    @functools.cached_property
    def page_client(self) -> httpx.Client:
        return make_client(self.settings, timeout_s=self.settings.fetch_timeout_s)

    @functools.cached_property
    def domain_gate(self) -> DomainGate:
        return DomainGate(self.redis, self.settings)

    @functools.cached_property
    def robots(self) -> RobotsRules | None:
        return RobotsRules(self.redis, self.page_client, self.settings) if self.settings.obey_robots_txt else None

    @functools.cached_property
    def ner(self) -> EntityRecognizer:
        return recognizer_for(self.settings, self.redis)  # names canonical across the corpus, through Redis

    @functools.cached_property
    def entity_corrections(self) -> CorrectionStore:
        """Analysts' entity corrections, which the index stage applies last (cached, version-checked)."""
        return CorrectionStore(self.redis, self.settings.namespace)

    @functools.cached_property
    def clusters(self) -> ClusterStore:
        return ClusterStore(self.redis, self.settings.namespace, FingerprintParams.from_settings(self.settings),
                            window_s=round(self.settings.near_dup_window_days * 86400))

    @functools.cached_property
    def archive(self) -> ArchiveWriter | None:
        """Where fetch and poll keep what they download; None with archive_enabled off."""
        return ArchiveWriter(self.settings) if self.settings.archive_enabled else None

    @functools.cached_property
    def index_writer(self) -> SearchBackend:
        return open_backend(self.settings, writer=True)

    @functools.cached_property
    def index_reader(self) -> SearchBackend:
        """The index read-only: what pollers ask about documents older than the seen window."""
        return open_backend(self.settings)

    def seen_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are finished: in the seen window, or past it, indexed or dead-lettered.

        Ids found only in the older half of the window, or past it, are written again into its newest
        bucket, so what feeds keep listing stays in Redis and costs the index no second lookup."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return set()
        window = self.tracker.seen
        ages = window.ages(ids)
        window.refresh(ids, ages)
        seen = {doc_id for doc_id, age in zip(ids, ages, strict=True) if age is not None}
        rest = [doc_id for doc_id in ids if doc_id not in seen]
        if rest:
            letters = self.redis.hmget(self.keys.failed, rest)
            older = {doc_id for doc_id, letter in zip(rest, letters, strict=True) if letter}
            unlettered = [doc_id for doc_id in rest if doc_id not in older]
            if unlettered:
                older |= self._indexed(unlettered)
            if older:
                pipe = self.redis.pipeline(transaction=False)
                window.add(pipe, sorted(older))
                pipe.execute()
            seen |= older
        return seen

    def _indexed(self, ids: list[str]) -> set[str]:
        if not self.settings.elasticsearch_url and not self.settings.index_dir.exists():
            return set()  # nothing indexed yet (and a reader must not create the index)
        try:
            return self.index_reader.existing(ids)
        except Exception as exc:
            # Unknown is taken as unseen: a page fetched again is upserted under its id, never duplicated,
            # while a poll failed on it would hold back every new item until the index is back.
            log.warning("index lookup failed; items taken as new", error=str(exc)[:300], ids=len(ids))
            return set()

    def indexed_url(self, doc_id: str) -> str | None:
        """The URL a document was indexed from, or None (not indexed, or the index cannot say)."""
        if not self.settings.elasticsearch_url and not self.settings.index_dir.exists():
            return None
        try:
            article = self.index_reader.get(doc_id)
        except Exception as exc:  # as in _indexed: not knowing must not fail the poll
            log.warning("index lookup failed", error=str(exc)[:300], doc_id=doc_id)
            return None
        return article.url if article is not None else None

    def check_redis(self) -> None:
        """Fail with the fix named when Redis cannot be reached (rather than a traceback later)."""
        try:
            self.redis.ping()
        except (redis_errors.ConnectionError, redis_errors.TimeoutError) as exc:
            where = redact(self.settings.redis_url or "")
            raise ConfigError(f"cannot reach Redis at {where}: {exc}; start it, or unset REDIS_URL to use "
                              "the embedded one") from exc
        except redis_errors.AuthenticationError as exc:
            raise ConfigError(f"Redis refused the credentials in REDIS_URL: {exc}") from exc

    def close(self) -> None:
        for name in ("feed_client", "page_client"):
            if name in self.__dict__:
                self.__dict__[name].close()
        for name in ("index_writer", "index_reader"):
            if name in self.__dict__:
                self.__dict__[name].close()
        if self.__dict__.get("archive") is not None:
            self.__dict__["archive"].close()
        for name in ("raw_redis", "redis"):
            if name in self.__dict__:
                self.__dict__[name].close()


def redact(url: str) -> str:
    """A URL fit for messages and logs: its password replaced."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


@contextlib.contextmanager
def attached_runtime(settings: Settings, *, attach_wait_s: float = 15.0) -> Iterator[Runtime]:
    """A Runtime on the data directory's Redis (the owner's, or a brief embedded one), checked and closed after."""
    with redis_for_command(settings, attach_wait_s=attach_wait_s) as url:
        runtime = Runtime(settings.model_copy(update={"redis_url": url}))
        try:
            runtime.check_redis()
            yield runtime
        finally:
            runtime.close()
