"""What every command shares: the consoles, the common options, and how a command gets its settings.

Command modules import from here and never from each other or from :mod:`workers.cli.main`, which only
assembles them.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from workers.core.errors import ConfigError
from workers.runtime import Runtime, attached_runtime
from workers.settings import Settings, settings_from
from workers.settings.explain import closest_setting, misspelt_environment
from workers.state.ownership import data_dir_holds_nothing, missing_data_message

__all__ = ["AsJson", "Bbox", "DataDir", "Near", "attached", "console", "err", "global_options", "print_json",
           "require_index", "require_state", "settings_for", "when"]

console = Console()
err = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default ./data).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Near = Annotated[str | None, typer.Option("--near", metavar="LAT,LON,KM",
                                          help="Only articles with a place within KM km of LAT,LON.")]
Bbox = Annotated[str | None, typer.Option("--bbox", metavar="SOUTH,WEST,NORTH,EAST",
                                          help="Only articles with a place inside this box (degrees).")]

# --set NAME=VALUE given before the command: one process runs one command, so one table serves it.
_overrides: dict[str, str] = {}


def global_options(
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="NAME=VALUE", help="Override any setting for this command, e.g. --set fetch_timeout_s=5.",
    )] = None,
) -> None:
    for warning in misspelt_environment(Settings.model_fields):
        err.print(f"[yellow]warning:[/] {escape(warning)}")
    for spec in set_ or []:
        name, sep, value = spec.partition("=")
        if not sep or name.strip() not in Settings.model_fields:
            meant = closest_setting(name, Settings.model_fields) if sep else None
            hint = f"; did you mean {meant}?" if meant else " (see `newsworkers settings`)"
            raise ConfigError(f"--set takes NAME=VALUE with NAME a setting, got {spec!r}{hint}")
        _overrides[name.strip()] = value.strip()


def settings_for(data_dir: Path | None) -> Settings:
    """The settings of this command: --set values, then the environment, the config file and the defaults."""
    return settings_from({**_overrides, "data_dir": data_dir})


def require_index(settings: Settings) -> Settings:
    """Refuse a read of an embedded index that is not there (a typo in --data-dir must not read as "no
    coverage"), before anything is created."""
    if not settings.elasticsearch_url and data_dir_holds_nothing(settings.data_dir, what="index"):
        raise ConfigError(missing_data_message(settings.data_dir), reason="data.missing")
    return settings


def require_state(settings: Settings) -> Settings:
    """Refuse to start an embedded Redis in a data directory that holds nothing: there is nothing to read."""
    if not settings.redis_url and data_dir_holds_nothing(settings.data_dir):
        raise ConfigError(missing_data_message(settings.data_dir), reason="data.missing")
    return settings


@contextlib.contextmanager
def attached(data_dir: Path | None, *, existing: bool = False) -> Iterator[Runtime]:
    """A runtime on the data directory's Redis: the running owner's, or the embedded one started briefly.
    ``existing``: a read command, refused on a data directory that holds nothing."""
    settings = settings_for(data_dir)
    if existing:
        require_state(settings)
    with attached_runtime(settings) as runtime:
        yield runtime


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")


def when(epoch: float | None) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M") if epoch else "never"
