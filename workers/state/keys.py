"""Redis key names, all under one namespace prefix."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Keys"]


@dataclass(frozen=True, slots=True)
class Keys:
    namespace: str

    def _k(self, *parts: str) -> str:
        return ":".join((self.namespace, *parts))

    @property
    def feeds(self) -> str:
        """Hash: feed URL → Feed JSON (the registry)."""
        return self._k("feeds")

    @property
    def schedule(self) -> str:
        """Sorted set: feed URL scored by its next poll time (epoch seconds)."""
        return self._k("schedule")

    def host_schedule(self, host: str) -> str:
        """Sorted set: the feeds of one host scored by their next poll time, to keep them apart."""
        return self._k("hostschedule", host)

    @property
    def guids(self) -> str:
        """Hash of earlier versions: '<feed host> <entry GUID>' → the document id the entry was first seen under.
        Read only by :func:`workers.state.entries.upgrade_entry_memory`, which deletes it."""
        return self._k("guids")

    @property
    def revisions(self) -> str:
        """Hash of earlier versions: '<document id> <feed URL>' → the revision last seen (upgrade only)."""
        return self._k("revisions")

    @property
    def item_memory(self) -> str:
        """Sorted set of earlier versions: when a poll last saw each guids/revisions field (upgrade only)."""
        return self._k("item-memory")

    def feed_entries(self, url: str) -> str:
        """Hash of the entries one feed listed lately: 8-byte digest → packed entry (:mod:`workers.state.entries`)."""
        return self._k("entries", url)

    def feed_state(self, url: str) -> str:
        """Hash of one feed's polling state (ETag, Last-Modified, error streak...)."""
        return self._k("feedstate", url)

    @property
    def seen(self) -> str:
        """Set of every document id ever indexed or dead-lettered, as versions before the seen window kept
        it: read, never written (:mod:`workers.state.seen`)."""
        return self._k("seen")

    def seen_bucket(self, bucket_s: int, bucket: int) -> str:
        """Set of the document ids finished in one ``bucket_s``-second bucket of the seen window, as versions
        before the sharded window kept them: read until it expires, never written."""
        return self._k("seen", str(bucket_s), str(bucket))

    def seen_shard_prefix(self, bucket_s: int) -> str:
        """What the shards of the seen window's buckets start with: ``<prefix><bucket>:<shard>`` is one shard,
        a set of 64-bit id digests (:mod:`workers.state.seen`; its Lua builds the rest of the name)."""
        return self._k("seen", str(bucket_s), "")

    def seen_shard(self, bucket_s: int, bucket: int, shard: int) -> str:
        """Set of the 64-bit digests of the ids finished in one bucket of the seen window, one shard of it."""
        return f"{self.seen_shard_prefix(bucket_s)}{bucket}:{shard}"

    @property
    def inflight(self) -> str:
        """Sorted set: document id scored by the epoch seconds it was handed to fetch."""
        return self._k("inflight")

    @property
    def inflight_items(self) -> str:
        """Hash: document id → the FeedItem JSON it was claimed with, to re-send it if lost."""
        return self._k("inflight-items")

    @property
    def deliveries(self) -> str:
        """Hash: '<stage>:<document id>' → how often that stage received the item."""
        return self._k("deliveries")

    @property
    def redeliveries(self) -> str:
        """Hash: document id → how often a lost item was re-sent."""
        return self._k("redeliveries")

    @property
    def failed(self) -> str:
        """Hash: document id (or feed URL) → dead letter JSON."""
        return self._k("failed")

    @property
    def failed_order(self) -> str:
        """Sorted set: dead letter id scored by its last failure (epoch seconds); the oldest is dropped first."""
        return self._k("failed-order")

    @property
    def failed_counts(self) -> str:
        """Hash: '<stage>|<reason>' → dead letters held with that stage and reason."""
        return self._k("failed-counts")

    @property
    def failed_dropped(self) -> str:
        """Counter: dead letters dropped because the store was full."""
        return self._k("failed-dropped")

    def stats_minute(self, minute: int) -> str:
        """Hash of one minute's counters ('<stage>.<outcome>', 'reason:<code>'); minute = epoch seconds // 60."""
        return self._k("stats-minute", str(minute))

    @property
    def stats(self) -> str:
        """Hash of counters: '<stage>.<outcome>' → count."""
        return self._k("stats")

    @property
    def reasons(self) -> str:
        """Hash of counters: failure reason code → count."""
        return self._k("reasons")

    @property
    def pending_polls(self) -> str:
        """Sorted set: feed URLs whose poll was enqueued and has not finished, scored by enqueue time."""
        return self._k("pending-polls")

    @property
    def unacked(self) -> str:
        """Kombu's hash of messages delivered to workers and not yet acknowledged (under our prefix)."""
        return self._k("unacked")

    def queue(self, name: str) -> str:
        """The broker's list for a Celery queue (kombu's key, under our prefix)."""
        return f"{self.namespace}:{name}"

    @property
    def alerts(self) -> str:
        """Hash: saved-search name → SavedSearch JSON (workers/alerts/store.py)."""
        return self._k("alerts")

    def alert_matches(self, name: str) -> str:
        """Sorted set: document ids a saved search matched, scored by published time (epoch seconds)."""
        return self._k("alert-matches", name)

    def alert_entries(self, name: str) -> str:
        """Hash: document id → the feed entry JSON of one saved search's match (title, URL, summary...)."""
        return self._k("alert-entries", name)

    @property
    def alert_delivered(self) -> str:
        """Hash: '<alert name> <document id>' → when its webhook delivery succeeded (epoch seconds)."""
        return self._k("alert-delivered")

    @property
    def prefix(self) -> str:
        """What every key of ours starts with (the broker's keys too: kombu's ``global_keyprefix``)."""
        return f"{self.namespace}:"

    @property
    def pattern(self) -> str:
        """A SCAN pattern matching every key of this namespace (backup, restore)."""
        return self._k("*")

    @property
    def delayed(self) -> str:
        """Sorted set of delayed message JSON, scored by the epoch second it is due (broker/delayed.py)."""
        return self._k("delayed")

    @property
    def backpressure(self) -> str:
        """Present while polling holds back for the fetch and extract backlog."""
        return self._k("backpressure")

    @property
    def retention_claimed(self) -> str:
        """The last retention run's claim, so one scheduler among many prunes."""
        return self._k("retention-claimed")

    def deletion_reply(self, token: str) -> str:
        """List the index worker answers a sent deletion on."""
        return self._k("deletion-reply", token)

    def polite_running(self, domain: str) -> str:
        """Requests to a domain under way now (its concurrency cap)."""
        return self._k("polite", "running", domain)

    def polite_next(self, domain: str) -> str:
        """When the next request to a domain may start (its rate)."""
        return self._k("polite", "next", domain)

    def robots(self, rules_url: str) -> str:
        """A site's robots.txt, cached."""
        return self._k("robots", rules_url)

    def backfill(self, backfill_id: str) -> str:
        """One backfill's checkpoint (what was read of its source, and its tallies)."""
        return self._k("backfill", backfill_id)

    def entity_canonical(self, kind: str) -> str:
        """Canonical spelling of each entity name of a kind, agreed across workers."""
        return self._k("entity", "canonical", kind)

    def entity_long_forms(self, kind: str) -> str:
        """Hash of one kind's short names and acronyms -> the long form an article joined them to ("" once two
        articles joined one to different long forms)."""
        return self._k("entity", "long-form", kind)

    def entity_block(self, kind: str, block: str) -> str:
        """Names of one kind sharing a blocking key, the candidates a new spelling is compared with."""
        return self._k("entity", "block", kind, block)

    @property
    def entity_corrections(self) -> str:
        """Hash of analysts' entity corrections: id -> correction JSON."""
        return self._k("entity", "corrections")

    @property
    def entity_corrections_seq(self) -> str:
        """The last entity correction id given out."""
        return self._k("entity", "corrections-seq")

    @property
    def entity_corrections_version(self) -> str:
        """Bumped on every change to the entity corrections, so extract workers reread them only then."""
        return self._k("entity", "corrections-version")

    @property
    def blocked_ids(self) -> str:
        """Document ids never ingested again (takedowns)."""
        return self._k("blocked-ids")

    @property
    def blocked_domains(self) -> str:
        """Domains never ingested again (takedowns)."""
        return self._k("blocked-domains")

    def near_duplicates(self, tag: str) -> str:
        """Prefix of the near-duplicate index of one fingerprint configuration (``tag``)."""
        return self._k("nd", tag) + ":"
