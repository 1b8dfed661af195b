"""celery-batches' ``Batches`` with a time limit, and a failed batch given back instead of acknowledged.

Plain ``Batches`` hands a batch to the pool with no time limit and acknowledges
it whatever happened: celery-batches' tracer logs an exception the batch
raised and returns as if it had succeeded, and a child killed mid-batch (a
parser crash, the OOM killer, a page that hangs lxml) leaves its messages
unacknowledged until the broker's visibility timeout, an hour by default. An
exception there is most often Redis or the broker out of reach (a restart):
acknowledged, the batch's articles would be lost in flight.

And after a lost broker connection celery-batches stops flushing on time:
Celery clears the event loop's timers when its consumer reconnects, but the
batch remembers its flush timer as started and never starts another, so a
batch short of ``flush_every`` waits in memory until more messages come, or
the visibility timeout hands them out again (observed: a run's last articles
held for minutes after a Redis restart). Here the timer is started again with
every new consumer.

Here the batch has a hard time limit; it is acknowledged only when the task
returned, and a batch that raised, timed out or lost its child is rejected
back to the queue at once (after Redis answers again, for an outage). The
tasks send pages seen more than once through the one-page task, and count
deliveries (workers/worker/middleware.py), so the page at fault ends alone, and
dead-lettered, while the rest go on.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from celery import Celery
from celery.worker.consumer import Consumer
from celery.worker.request import Request
from celery_batches import Batches, SimpleRequest
from celery_batches.trace import apply_batches_task

from workers.broker.outage import OUTAGE, before_giving_back
from workers.core.logs import get_logger

__all__ = ["TimedBatches"]

log = get_logger(__name__)

_DONE = "batch done"  # what a batch that returned gives back through the pool (the tasks' own value is None)


class TimedBatches(Batches):  # type: ignore[misc]
    batch_time_limit_s: float | None = None

    def Strategy(self, task: Batches, app: Celery, consumer: Consumer) -> Callable[..., None]:
        # Called for every (re)started consumer, after Celery dropped the old one's timers with the connection.
        if self._tref is not None:
            self._tref.cancel()
            self._tref = None
        handler = super().Strategy(task, app, consumer)
        if not self._buffer.empty():  # requests received before the connection was lost still flush on time
            self._tref = consumer.timer.call_repeatedly(self.flush_interval, self._do_flush)
        return handler

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            super().__call__(*args, **kwargs)
        except OUTAGE as exc:
            before_giving_back(self, exc, "batch")
            return None
        except Exception:
            log.exception("batch failed: given back", task=self.name)
            return None
        return _DONE

    def flush(self, requests: Collection[Request]) -> Any:
        serializable = ([SimpleRequest.from_request(r) for r in requests],)

        def on_return(result: object) -> None:
            for request in requests:
                if result == _DONE:
                    request.acknowledge()
                else:
                    request.reject(requeue=True)

        def on_error(_exc: object) -> None:
            for request in requests:
                request.reject(requeue=True)

        return self._pool.apply_async(
            apply_batches_task, (self, serializable, 0, None),
            callback=on_return, error_callback=on_error, timeout=self.batch_time_limit_s,
        )
