"""The pipeline's topology, declared once: its stages, their queues, and the Celery tasks on them.

Everything that names a queue, a task or a stage reads it from here: the Celery routes and queues
(:mod:`workers.broker.routing`), the worker pools (:mod:`workers.worker.pools`), the metric labels
(:mod:`workers.worker.metrics`), the status rows (:mod:`workers.ops.status`) and what a dead letter is
retried with (:mod:`workers.state.deadletters`, :mod:`workers.ops.redrive`).

Task names are part of the wire format: messages already queued name them, so they never change
(``tests/test_topology.py`` pins them).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ALERT_WEBHOOK_TASK",
    "BACKFILL_QUEUES",
    "DEAD_LETTER_STAGES",
    "EXTRACT",
    "EXTRACT_BATCH_TASK",
    "EXTRACT_TASK",
    "FETCH",
    "FETCH_TASK",
    "INDEX",
    "INDEX_DELETE_TASK",
    "INDEX_TASK",
    "PIPELINE",
    "POLL",
    "POLL_TASK",
    "QUEUES",
    "TASKS",
    "DeadLetterStage",
    "Stage",
    "TaskRoute",
    "dead_letter_stage",
    "metered_stage",
]


@dataclass(frozen=True, slots=True)
class Stage:
    """One box of poll → fetch → extract → index: a queue, the worker pool that reads it, its history queue."""

    name: str
    """The stage's name: its queue's, its worker kind's, and its label in metrics, status and dead letters."""
    pool: str
    """Celery pool of its worker: threads for network waits, prefork for CPU, solo for the single index writer."""
    backfill_queue: str | None = None
    """History (``newsworkers backfill``) waits here, read only while the live queue is empty."""
    metrics_offset: int = 0
    """Added to ``worker_metrics_port`` so the worker kinds of one machine do not collide."""


POLL = Stage("poll", pool="threads", metrics_offset=0)
FETCH = Stage("fetch", pool="threads", backfill_queue="backfill_fetch", metrics_offset=1)
EXTRACT = Stage("extract", pool="prefork", backfill_queue="backfill_extract", metrics_offset=2)
INDEX = Stage("index", pool="solo", metrics_offset=3)

PIPELINE = (POLL, FETCH, EXTRACT, INDEX)
"""The stages in the order an article travels."""

QUEUES = tuple(stage.name for stage in PIPELINE)
"""Each stage's live queue (named as the stage; the broker adds the namespace, see broker/routing.py)."""

BACKFILL_QUEUES = {stage.name: stage.backfill_queue for stage in PIPELINE if stage.backfill_queue}
"""Each stage that history enters at, and its backfill queue."""


@dataclass(frozen=True, slots=True)
class TaskRoute:
    """A Celery task: its pinned name, the stage it works for, and the queue it is routed to."""

    name: str
    stage: str
    queue: str
    metered: bool = True
    """Counted in the per-stage metrics (a takedown or a webhook delivery is not a stage's item)."""


TASKS = (
    TaskRoute("newsworkers.poll", stage="poll", queue="poll"),
    TaskRoute("newsworkers.fetch", stage="fetch", queue="fetch"),
    TaskRoute("newsworkers.extract", stage="extract", queue="extract"),
    # Pages in batches for nlp.pipe: the same queue and pool as one-page extract.
    TaskRoute("newsworkers.extract_batch", stage="extract", queue="extract"),
    TaskRoute("newsworkers.index", stage="index", queue="index"),
    # Takedowns and pruning on the index queue, so the one process holding the Tantivy writer applies them.
    TaskRoute("newsworkers.index_delete", stage="index", queue="index", metered=False),
    # Alert webhooks are network waits: the I/O pool's threads, beside the page fetches.
    TaskRoute("newsworkers.alert_webhook", stage="alert", queue="fetch", metered=False),
)
_BY_NAME = {task.name: task for task in TASKS}
(POLL_TASK, FETCH_TASK, EXTRACT_TASK, EXTRACT_BATCH_TASK, INDEX_TASK, INDEX_DELETE_TASK,
 ALERT_WEBHOOK_TASK) = (task.name for task in TASKS)


@dataclass(frozen=True, slots=True)
class DeadLetterStage:
    """Where a dead letter of one stage came from and what sends its work through again."""

    task: str
    """The task that failed (recorded with the letter)."""
    redo_task: str
    """The task a retry sends the letter's message to: an extract failure is fetched again, since the letter
    keeps the feed item and not the page."""
    tracked: bool = True
    """The redone work is an item with a seen/in-flight mark (a feed or a webhook delivery is not)."""


DEAD_LETTER_STAGES = {
    "poll": DeadLetterStage(POLL_TASK, POLL_TASK, tracked=False),
    "fetch": DeadLetterStage(FETCH_TASK, FETCH_TASK),
    "extract": DeadLetterStage(EXTRACT_TASK, FETCH_TASK),
    "index": DeadLetterStage(INDEX_TASK, INDEX_TASK),
    # Items lost in flight (their message never came back): fetched again.
    "pipeline": DeadLetterStage(FETCH_TASK, FETCH_TASK),
    "alert": DeadLetterStage(ALERT_WEBHOOK_TASK, ALERT_WEBHOOK_TASK, tracked=False),
}


def metered_stage(task_name: str) -> str | None:
    """The stage whose metrics count a task's items, or None for a task that is not ours or not metered."""
    task = _BY_NAME.get(task_name)
    return task.stage if task is not None and task.metered else None


def dead_letter_stage(stage: str) -> DeadLetterStage:
    """Where a dead letter of ``stage`` came from and what redoes it; an unknown stage's item is fetched again."""
    return DEAD_LETTER_STAGES.get(stage, DEAD_LETTER_STAGES["fetch"])
