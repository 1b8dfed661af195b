"""The text of config/newsworkers.toml: every setting with its default, what it means and its variable.

One section per settings group, in the order of the model's fields; regenerate the shipped file with
``newsworkers settings --toml > config/newsworkers.toml``.
"""

from __future__ import annotations

import inspect

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from workers.settings.environment import CONVENTIONAL_NAMES, ENV_PREFIX, environment_variable
from workers.settings.model import GROUPS, Settings

__all__ = ["render_defaults_toml"]


def render_defaults_toml() -> str:
    """Every setting with its default and description: the text of config/newsworkers.toml."""
    lines = [
        "# newsworkers settings: every setting, its default and what it means.",
        f"# Environment variables override this file: {ENV_PREFIX}<NAME> (upper case), plus",
        f"# {' and '.join(CONVENTIONAL_NAMES.values())}. Regenerate with `newsworkers settings --toml`.",
        "",
    ]
    for group in GROUPS:
        lines += [f"# ==== {_heading(group)}", ""]
        for name in group.model_fields:
            lines += _entry(name, Settings.model_fields[name])
    return "\n".join(lines)


def _heading(group: type[BaseModel]) -> str:
    """A group's section heading: the first line of its docstring."""
    return (inspect.getdoc(group) or group.__name__).splitlines()[0]


def _entry(name: str, field: FieldInfo) -> list[str]:
    """One setting: its description and variable as a comment, then its default (commented out when None)."""
    lines = [f"# {field.description} [{environment_variable(name)}]"]
    default = field.default
    if default is None:
        lines.append(f"# {name} =")
    elif isinstance(default, bool):
        lines.append(f"{name} = {'true' if default else 'false'}")
    elif isinstance(default, int | float):
        lines.append(f"{name} = {default!r}")
    else:
        lines.append(f'{name} = "{default}"')
    return [*lines, ""]
