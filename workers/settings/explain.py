"""Settings problems in plain words: which setting, what is wrong with its value, where the value came from,
and the setting meant when a name is misspelt ("did you mean")."""

from __future__ import annotations

import difflib
import os
from collections.abc import Collection, Mapping
from typing import Any

from pydantic import ValidationError

from workers.settings.environment import CONFIG_FILE_VARIABLE, CONVENTIONAL_NAMES, ENV_PREFIX, environment_variable

__all__ = ["closest_setting", "describe_invalid", "misspelt_environment"]


def closest_setting(name: str, fields: Collection[str]) -> str | None:
    """The setting ``name`` most likely meant, when one is close enough to be a typo."""
    found = difflib.get_close_matches(name.strip().lower(), list(fields), n=1, cutoff=0.8)
    return found[0] if found else None


def _source(name: str, overrides: Mapping[str, Any], environ: Mapping[str, str]) -> str:
    if name in overrides:
        return "from --set" if name != "data_dir" else "from --data-dir"
    for variable in {environment_variable(name), f"{ENV_PREFIX}{name.upper()}"}:
        if variable in environ:
            return f"from {variable}"
    return "from the config file"


def describe_invalid(exc: ValidationError, overrides: Mapping[str, Any],
                     environ: Mapping[str, str] | None = None) -> str:
    """One line per bad value: ``fetch_timeout_s = '-3' (from --set): must be greater than 0``."""
    environ = os.environ if environ is None else environ
    lines = []
    for error in exc.errors(include_url=False):
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        message = str(error["msg"]).removeprefix("Value error, ")
        if message.startswith("Input should be"):
            message = "must be" + message.removeprefix("Input should be")
        value = error.get("input")
        shown = f" = {value!r}" if isinstance(value, str | int | float | bool) else ""
        lines.append(f"{name}{shown} ({_source(name, overrides, environ)}): {message}")
    return "; ".join(lines)


def misspelt_environment(fields: Collection[str], environ: Mapping[str, str] | None = None) -> list[str]:
    """Warnings for NEWSWORKERS_* variables that set nothing but look like a setting's variable: the typo
    that would otherwise be ignored in silence. Variables close to no setting belong to someone else."""
    environ = os.environ if environ is None else environ
    known = {environment_variable(f) for f in fields} | {f"{ENV_PREFIX}{f.upper()}" for f in fields}
    known |= {CONFIG_FILE_VARIABLE, *CONVENTIONAL_NAMES.values()}
    warnings = []
    for variable in sorted(environ):
        if not variable.startswith(ENV_PREFIX) or variable in known:
            continue
        meant = closest_setting(variable.removeprefix(ENV_PREFIX).lower(), fields)
        if meant is not None:
            warnings.append(f"{variable} is not a setting and is ignored; did you mean "
                            f"{environment_variable(meant)}?")
    return warnings
