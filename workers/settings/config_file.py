"""Which TOML settings file is in force: the one NEWSWORKERS_CONFIG_FILE names, else config/newsworkers.toml."""

from __future__ import annotations

import os
from pathlib import Path

from workers.core.errors import ConfigError
from workers.settings.environment import CONFIG_FILE_VARIABLE

__all__ = ["DEFAULT_CONFIG_FILE", "config_file_path"]

DEFAULT_CONFIG_FILE = Path("config/newsworkers.toml")


def config_file_path() -> Path | None:
    """The TOML settings file in force, or None when there is none."""
    named = os.environ.get(CONFIG_FILE_VARIABLE)
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"{CONFIG_FILE_VARIABLE} names {path}, which is not a file")
        return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None
