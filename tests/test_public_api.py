"""Each module's public surface is declared, sorted and importable."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import workers

MODULES = sorted(m.name for m in pkgutil.walk_packages(workers.__path__, "workers."))


def _isort_key(name: str) -> tuple[int, str]:
    """isort's order, as ruff applies it: CONSTANTS, then Classes, then functions."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} declares no __all__"
    assert list(exported) == sorted(exported, key=_isort_key), f"{name}.__all__ is not sorted"
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == []


def test_importing_the_package_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://not-used:1/0")
    module = importlib.reload(workers)
    assert "_app" in vars(module) and module._app is None
