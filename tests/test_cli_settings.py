"""Settings problems as a user meets them: plain words, where the value came from, "did you mean"."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import cli_environment, run_cli
from workers.settings import Settings
from workers.settings.explain import closest_setting, misspelt_environment


@pytest.fixture
def env(tmp_path: Path, redis_url: str, namespace: str) -> dict[str, str]:
    return cli_environment(tmp_path / "data", redis_url, namespace)


def _said(result: object) -> str:
    return " ".join(result.stderr.split())  # type: ignore[attr-defined]


def test_a_misspelt_set_name_gets_the_setting_meant(env: dict[str, str]) -> None:
    result = run_cli(env, "--set", "fetch_timout_s=5", "settings")
    assert result.returncode == 2
    assert "did you mean fetch_timeout_s?" in _said(result)
    far = run_cli(env, "--set", "colour=blue", "settings")
    assert far.returncode == 2 and "did you mean" not in _said(far) and "newsworkers settings" in _said(far)


def test_a_bad_value_is_plain_words_naming_where_it_came_from(env: dict[str, str]) -> None:
    result = run_cli(env, "--set", "fetch_timeout_s=-3", "settings")
    assert result.returncode == 2
    said = _said(result)
    assert "fetch_timeout_s = '-3' (from --set): must be greater than 0" in said
    assert "pydantic" not in said and "http" not in said and "validation error" not in said
    from_env = run_cli({**env, "NEWSWORKERS_POLL_INTERVAL_S": "often"}, "settings")
    assert from_env.returncode == 2
    assert "poll_interval_s = 'often' (from NEWSWORKERS_POLL_INTERVAL_S): must be a valid integer" in _said(from_env)


def test_a_misspelt_environment_variable_warns_with_the_suggestion(env: dict[str, str]) -> None:
    result = run_cli({**env, "NEWSWORKERS_FETCH_TIMOUT_S": "5"}, "settings")
    assert result.returncode == 0, result.stderr
    assert ("NEWSWORKERS_FETCH_TIMOUT_S is not a setting and is ignored; did you mean "
            "NEWSWORKERS_FETCH_TIMEOUT_S?") in _said(result)
    assert "NEWSWORKERS_FETCH" not in run_cli(env, "settings").stderr


def test_only_near_misses_warn() -> None:
    fields = Settings.model_fields
    environ = {"NEWSWORKERS_FETCH_TIMEOUT_S": "5", "NEWSWORKERS_CONFIG_FILE": "x", "NEWSWORKERS_REDIS_URL": "r",
               "NEWSWORKERS_SOMETHING_ELSE_ENTIRELY": "1", "NEWSWORKERS_POLL_INTERVL_S": "3", "PATH": "/bin"}
    assert misspelt_environment(fields, environ) == [
        "NEWSWORKERS_POLL_INTERVL_S is not a setting and is ignored; did you mean NEWSWORKERS_POLL_INTERVAL_S?"]
    assert closest_setting("Fetch_Timout_S", fields) == "fetch_timeout_s"
    assert closest_setting("zzz", fields) is None
