"""Every tunable of newsworkers, in one pydantic-settings model built from one group per subsystem.

Precedence, highest first: values passed in code or by CLI flags, the environment (``NEWSWORKERS_<FIELD>``,
plus the conventional ``REDIS_URL`` and ``ELASTICSEARCH_URL``), the TOML file named by
``NEWSWORKERS_CONFIG_FILE`` (or ``config/newsworkers.toml`` in the working directory when it exists), then
the defaults. Settings are built once at process start and passed explicitly; nothing reads the
environment at import time.

Each subsystem's fields live in a module of their own (``workers.settings.polling`` and so on);
:class:`Settings` inherits them all, so every setting is a flat attribute. This package imports nothing
from workers but ``workers.core``.
"""

from __future__ import annotations

from workers.settings.config_file import DEFAULT_CONFIG_FILE, config_file_path
from workers.settings.entities import parse_model_map
from workers.settings.environment import environment_variable
from workers.settings.model import Settings, settings_from
from workers.settings.rendering import render_defaults_toml

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "Settings",
    "config_file_path",
    "environment_variable",
    "parse_model_map",
    "render_defaults_toml",
    "settings_from",
]
