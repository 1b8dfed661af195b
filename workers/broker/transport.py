"""Kombu's Redis transport, keeping one client per channel instead of building one per command.

Kombu makes a new ``redis.Redis`` for every publish, acknowledgement and
unacked-message bookkeeping (``Channel.conn_or_acquire``), and each new client
copies redis-py's table of about 170 response callbacks into a fresh dict.
Profiled in the fetch stage (cProfile, ``bench/pipeline.py``), that copy cost
about a third of a publish. The client holds no connection of its own, only
the channel's connection pool, so one is kept per channel and pool; a channel
whose pool is replaced (after a broker outage) gets a new one.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis

__all__ = ["Transport"]


class Channel(kombu_redis.Channel):
    _kept_client: Any = None

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:  # the event loop's own client is kept by kombu already (Channel.client)
            return super()._create_client(asynchronous=True)
        kept = self._kept_client
        if kept is None or kept.connection_pool is not self.pool:
            kept = self._kept_client = super()._create_client()
        return kept


class Transport(kombu_redis.Transport):
    Channel = Channel
