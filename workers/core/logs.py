"""Structured logs: one event per line, JSON when not on a terminal, secrets never printed.

structlog shapes our events; a stdlib ``ProcessorFormatter`` renders them and
every other library's records (Celery's, kombu's) the same way, so a worker
log is one JSON object per line that a log shipper can read. Celery's
``setup_logging`` signal hands us the worker's ``--logfile`` and level, which
makes Celery leave the handlers to us.

Redaction: every line passes :func:`redact_secrets`, which masks the password
of any ``scheme://user:password@host`` URL and every secret value found in the
settings (passwords in ``REDIS_URL``, ``ELASTICSEARCH_URL`` or a broker URL,
API keys, tokens), wherever it appears in the line.

Third-party extractors are quieted to errors: trafilatura logs a warning for
every page it discards, which at news volumes buries everything else.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any
from urllib.parse import unquote, urlsplit

import structlog

__all__ = ["configure_logging", "get_logger", "redact_secrets"]

_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)(?P<secret>[^\s@/]+)(?P<at>@)")
_SECRET_FIELD = re.compile(r"password|passwd|secret|token|api_key|apikey", re.IGNORECASE)
_MASK = "***"

_secrets: set[str] = set()
_configured = False


def redact_secrets(text: str) -> str:
    """``text`` with URL passwords and known secret values masked."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}{_MASK}{m['at']}", text)
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, _MASK)
    return text


def _remember_secrets(settings: Any) -> None:
    """Collect the secret values of ``settings``: passwords in its URLs and fields named like secrets."""
    for name, value in settings.model_dump().items():
        if not isinstance(value, str) or not value:
            continue
        if _SECRET_FIELD.search(name):
            _secrets.add(value)
        if "://" in value:
            try:
                password = urlsplit(value).password
            except ValueError:
                continue
            if password and len(password) >= 4:  # shorter ones would mask ordinary words
                _secrets.update({password, unquote(password)})


def _redact_event(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = redact_secrets(value)
        elif isinstance(value, BaseException | list | tuple | dict):
            event[key] = redact_secrets(str(value))
    return event


def _redact_rendered(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    # Tracebacks are rendered into "exception" by format_exc_info, after the first pass.
    for key in ("exception", "stack"):
        if isinstance(event.get(key), str):
            event[key] = redact_secrets(event[key])
    return event


def _shared_processors() -> list[Any]:
    return [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact_event,
    ]


def _renderer(log_format: str, stream: Any) -> Any:
    as_json = log_format == "json" or (log_format == "auto" and not getattr(stream, "isatty", lambda: False)())
    if as_json:
        return structlog.processors.JSONRenderer(sort_keys=False)
    return structlog.processors.KeyValueRenderer(key_order=["timestamp", "level", "event"], drop_missing=True)


def _formatter(log_format: str, stream: Any) -> logging.Formatter:
    return structlog.stdlib.ProcessorFormatter(
        # Extras first (Celery passes a task's arguments as extra "data"), so they are redacted too.
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *_shared_processors()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _redact_rendered,
            _renderer(log_format, stream),
        ],
    )


def configure_logging(settings: Any = None) -> None:
    """Shape our events and take over Celery's worker logging; idempotent. ``settings`` adds its secrets."""
    global _configured
    if settings is not None:
        _remember_secrets(settings)
        _install_celery_handler(getattr(settings, "log_format", "auto"))
    if _configured:
        return
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    root = logging.getLogger()
    if not root.handlers:  # a command line process: our warnings on stderr, shaped and redacted like the rest
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_formatter(getattr(settings, "log_format", "auto"), sys.stderr))
        handler.setLevel(logging.WARNING)
        root.addHandler(handler)
        logging.captureWarnings(True)  # Python warnings (Celery's, at worker start) become lines like the rest
        # The Elasticsearch client warns, with a traceback, at each retry of a node; a command reports the
        # outcome once, as its own error, so the retries would only bury it.
        logging.getLogger("elastic_transport").setLevel(logging.ERROR)
    for noisy in ("trafilatura", "htmldate", "courlan", "justext", "readability"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    _configured = True


_celery_format = "auto"


def _install_celery_handler(log_format: str) -> None:
    global _celery_format
    from celery.signals import setup_logging

    _celery_format = log_format
    setup_logging.connect(_setup_worker_logging, weak=False, dispatch_uid="newsworkers.logs.setup_logging")


def _setup_worker_logging(loglevel: Any = None, logfile: str | None = None, **_: Any) -> None:
    """Celery's hook: one handler on the root logger, to the worker's log file (or stderr)."""
    handler: logging.Handler
    if logfile:
        handler = logging.FileHandler(logfile, encoding="utf-8")
        stream: Any = handler.stream
    else:
        handler = logging.StreamHandler(sys.stderr)
        stream = sys.stderr
    handler.setFormatter(_formatter(_celery_format, stream))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    logging.captureWarnings(True)
    level = loglevel if isinstance(loglevel, int) else logging.getLevelName(str(loglevel or "WARNING").upper())
    root.setLevel(level if isinstance(level, int) else logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
