"""The HTTP API and the search page of ``newsworkers serve``."""

from workers.api.app import EXTRA_ROUTERS, create_app
from workers.api.deps import get_backend, get_settings

__all__ = ["EXTRA_ROUTERS", "create_app", "get_backend", "get_settings"]
