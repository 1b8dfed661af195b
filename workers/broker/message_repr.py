"""What a task message says about its arguments, in one short line.

Celery puts ``argsrepr`` and ``kwargsrepr`` into every message's headers for
logs and monitors, and makes them with ``saferepr`` walking the arguments up
to 1 KiB of text. Our arguments are whole feed items, pages and batches of
articles: that walk was the largest single cost of publishing a message (a
fifth of a fetch task's CPU, measured with cProfile), and its output, a dict
cut off mid-way, tells a reader less than the URL the message is about.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from celery.app.amqp import AMQP
from celery.utils.saferepr import saferepr

__all__ = ["SummarizingAMQP", "summarize_args"]

_MAX_CHARS = 200


def summarize_args(args: Sequence[Any] | None) -> str:
    """The message's subject: its page's or feed's URL, or how many articles it carries."""
    first = args[0] if args else None
    if isinstance(first, Mapping):
        batch = first.get("batch")
        if isinstance(batch, list):
            return f"({len(batch)} articles)"
        for holder in (first, first.get("item"), first.get("article")):
            if isinstance(holder, Mapping) and isinstance(holder.get("url"), str):
                return f"({holder['url'][:_MAX_CHARS]!r})"
    return saferepr(tuple(args or ()), _MAX_CHARS)


class SummarizingAMQP(AMQP):
    """Celery's message building, with :func:`summarize_args` for the argument summaries it did not get."""

    def as_task_v2(self, task_id: str, name: str, args: Any = None, kwargs: Any = None, *rest: Any,
                   argsrepr: str | None = None, kwargsrepr: str | None = None, **options: Any) -> Any:
        if argsrepr is None:
            argsrepr = summarize_args(args if isinstance(args, list | tuple) else None)
        if kwargsrepr is None:
            kwargsrepr = saferepr(kwargs or {}, _MAX_CHARS)
        return super().as_task_v2(task_id, name, args, kwargs, *rest, argsrepr=argsrepr, kwargsrepr=kwargsrepr,
                                  **options)
