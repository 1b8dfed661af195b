"""celery-batches' ``Batches`` with a time limit and redelivery when the pool child dies.

Plain ``Batches`` hands a batch to the pool with no time limit and acknowledges
only on success: a child killed mid-batch (a parser crash, the OOM killer, a
page that hangs lxml) would leave its messages unacknowledged until the
broker's visibility timeout, an hour by default. Here the batch has a hard
time limit, and a lost or timed-out batch is rejected back to the queue at
once; the task then sends pages seen more than once through the one-page task,
so the page at fault ends alone, and dead-lettered, while the rest go on.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from celery.worker.request import Request
from celery_batches import Batches, SimpleRequest
from celery_batches.trace import apply_batches_task

__all__ = ["TimedBatches"]


class TimedBatches(Batches):
    batch_time_limit_s: float | None = None

    def flush(self, requests: Collection[Request]) -> Any:
        serializable = ([SimpleRequest.from_request(r) for r in requests],)

        def on_return(_result: object) -> None:
            for request in requests:
                request.acknowledge()

        def on_error(_exc: object) -> None:
            for request in requests:
                request.reject(requeue=True)

        return self._pool.apply_async(
            apply_batches_task, (self, serializable, 0, None),
            callback=on_return, error_callback=on_error, timeout=self.batch_time_limit_s,
        )
