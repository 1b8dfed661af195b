"""Settings: every one documented, overridable as promised, failing clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, documentation
from workers.core.errors import ConfigError
from workers.settings import Settings, render_defaults_toml, settings_from


def test_every_setting_has_a_description() -> None:
    undocumented = [name for name, field in Settings.model_fields.items() if not (field.description or "").strip()]
    assert undocumented == []


def test_config_file_documents_every_setting_with_its_default() -> None:
    shipped = (ROOT / "config" / "newsworkers.toml").read_text()
    assert shipped == render_defaults_toml(), "regenerate with: newsworkers settings --toml > config/newsworkers.toml"


def test_readme_names_the_environment_and_the_config_file() -> None:
    readme = documentation()
    for needle in ("REDIS_URL", "ELASTICSEARCH_URL", "NEWSWORKERS_", "config/newsworkers.toml"):
        assert needle in readme


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWORKERS_FETCH_TIMEOUT_S", "3.5")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    settings = Settings()
    assert settings.fetch_timeout_s == 3.5
    assert settings.redis_url == "redis://127.0.0.1:1/0"


def test_cli_values_override_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEWSWORKERS_DATA_DIR", "/somewhere/else")
    assert settings_from({"data_dir": tmp_path, "namespace": None}).data_dir == tmp_path


def test_toml_file_is_read_and_the_environment_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "nw.toml"
    config.write_text('poll_interval_s = 120\nuser_agent = "from-file"\n')
    monkeypatch.setenv("NEWSWORKERS_CONFIG_FILE", str(config))
    monkeypatch.setenv("NEWSWORKERS_USER_AGENT", "from-env")
    settings = Settings()
    assert settings.poll_interval_s == 120
    assert settings.user_agent == "from-env"


def test_a_missing_config_file_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEWSWORKERS_CONFIG_FILE", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match=r"nope\.toml"):
        Settings()


def test_invalid_values_fail_with_the_setting_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWORKERS_FETCH_TIMEOUT_S", "-1")
    with pytest.raises(ConfigError, match="fetch_timeout_s"):
        settings_from({})


def test_worker_environment_round_trips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:9/0", namespace="x1", fetch_concurrency=3)
    for key, value in original.as_environment().items():
        monkeypatch.setenv(key, value)
    rebuilt = Settings()
    assert rebuilt.model_dump() == {**original.model_dump(), "data_dir": tmp_path.resolve()}
