"""Settings: every one documented, overridable as promised, failing clearly."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT, documentation
from workers.core.errors import ConfigError
from workers.entities import models
from workers.settings import Settings, environment_variable, parse_model_map, render_defaults_toml, settings_from
from workers.settings.model import GROUPS


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


def test_the_groups_hold_every_setting_once_in_field_order() -> None:
    grouped = [name for group in GROUPS for name in group.model_fields]
    assert grouped == list(Settings.model_fields)
    assert all(group.__doc__ for group in GROUPS)


def test_one_environment_name_per_setting_read_written_and_documented(monkeypatch: pytest.MonkeyPatch) -> None:
    assert environment_variable("redis_url") == "REDIS_URL"
    assert environment_variable("elasticsearch_url") == "ELASTICSEARCH_URL"
    assert environment_variable("fetch_timeout_s") == "NEWSWORKERS_FETCH_TIMEOUT_S"
    rendered = render_defaults_toml()
    for name in Settings.model_fields:
        assert f"[{environment_variable(name)}]" in rendered
    monkeypatch.setenv("NEWSWORKERS_ELASTICSEARCH_URL", "http://127.0.0.1:9/")
    assert Settings().elasticsearch_url == "http://127.0.0.1:9/"
    assert set(Settings().as_environment()) <= {environment_variable(name) for name in Settings.model_fields}


def test_settings_imports_nothing_above_core() -> None:
    for module in (ROOT / "workers" / "settings").glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.split(".")[0] == "workers":
                    assert name.startswith(("workers.core.", "workers.settings.")), f"{module.name}: {name}"


def test_parse_model_map_is_the_one_entities_uses() -> None:
    assert models.parse_model_map is parse_model_map
    assert parse_model_map(" en = en_core_web_sm , de=de_core_news_sm,") == {
        "en": "en_core_web_sm", "de": "de_core_news_sm"
    }
    with pytest.raises(ValueError, match="lang=package"):
        parse_model_map("english")
