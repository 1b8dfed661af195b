"""``newsworkers settings``: the settings in force, or every default as TOML."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from workers.cli.options import DataDir, settings_for

__all__: list[str] = []

commands = typer.Typer()


@commands.command("settings")
def show_settings(
    toml: Annotated[bool, typer.Option("--toml", help="Print every setting's default as TOML.")] = False,
    data_dir: DataDir = None,
) -> None:
    """The settings in force (secrets hidden), or the documented defaults with --toml."""
    from workers.runtime import redact
    from workers.settings import render_defaults_toml

    if toml:
        sys.stdout.write(render_defaults_toml())
        return
    values = settings_for(data_dir).model_dump(mode="json")
    for key in ("redis_url", "elasticsearch_url"):
        if values.get(key):
            values[key] = redact(values[key])
    for key in ("elasticsearch_api_key", "elasticsearch_password"):
        values[key] = "***" if values.get(key) else values.get(key)
    sys.stdout.write(json.dumps(values, indent=2) + "\n")
