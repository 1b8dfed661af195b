"""The environment variable of every setting, in one place.

Each setting reads ``NEWSWORKERS_<FIELD>``; the locations of Redis and Elasticsearch also answer to the
conventional names other tools use. The settings model reads these names, ``Settings.as_environment()``
writes them for the worker processes it spawns, and ``render_defaults_toml()`` documents them: all three
ask :func:`environment_variable`.
"""

from __future__ import annotations

from pydantic import AliasChoices

__all__ = [
    "CONFIG_FILE_VARIABLE",
    "CONVENTIONAL_NAMES",
    "ENV_PREFIX",
    "conventional_alias",
    "environment_variable",
]

ENV_PREFIX = "NEWSWORKERS_"
CONFIG_FILE_VARIABLE = f"{ENV_PREFIX}CONFIG_FILE"
# Settings whose environment variable is a name other tools already use, not NEWSWORKERS_<FIELD>.
CONVENTIONAL_NAMES: dict[str, str] = {"redis_url": "REDIS_URL", "elasticsearch_url": "ELASTICSEARCH_URL"}


def environment_variable(name: str) -> str:
    """The environment variable that sets the field ``name``: its conventional name, else NEWSWORKERS_<NAME>."""
    return CONVENTIONAL_NAMES.get(name, f"{ENV_PREFIX}{name.upper()}")


def conventional_alias(name: str) -> AliasChoices:
    """The names a conventionally named field accepts: the conventional one, NEWSWORKERS_<NAME>, its own."""
    return AliasChoices(CONVENTIONAL_NAMES[name], f"{ENV_PREFIX}{name.upper()}", name)
