"""newsworkers: distributed news ingestion on Celery, Redis and a search index.

``celery -A workers worker`` finds the Celery app through the module-level
``__getattr__`` below, which builds it from the environment on first use and
not at import time, so importing the package stays cheap and side-effect free.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__"]

logging.getLogger("workers").addHandler(logging.NullHandler())

if TYPE_CHECKING:
    from celery import Celery

_app: Celery | None = None


def __getattr__(name: str) -> Any:
    global _app
    if name in ("app", "celery"):
        if _app is None:
            from workers.settings import Settings
            from workers.worker.app import create_app

            _app = create_app(Settings())
        return _app
    raise AttributeError(f"module 'workers' has no attribute {name!r}")
