"""Structured logs: ``event key=value ...`` lines through the standard logging tree.

Celery owns the worker processes' handlers (``--logfile``, ``--loglevel``);
structlog only shapes our events, so a dead letter reads the same in a
worker log, a terminal and a log shipper. Third-party extractors are quieted
to errors: trafilatura logs a warning for every page it discards, which at
news volumes buries everything else.
"""

from __future__ import annotations

import logging

import structlog

__all__ = ["configure_logging", "get_logger"]

_configured = False


def configure_logging() -> None:
    global _configured
    if _configured:
        return
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.processors.format_exc_info,
            structlog.processors.KeyValueRenderer(key_order=["event"], drop_missing=True),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    for noisy in ("trafilatura", "htmldate", "courlan", "justext", "readability"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    _configured = True


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
