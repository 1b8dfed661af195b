"""The settings model: the fields of every group, flat, and where their values come from.

Values passed in code (or by CLI flags) win over the environment, which wins over the TOML file in force,
which wins over the defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from workers.core.errors import ConfigError
from workers.settings.alerts import AlertSettings
from workers.settings.api import ApiSettings
from workers.settings.archive import ArchiveSettings
from workers.settings.backfill import BackfillSettings
from workers.settings.config_file import config_file_path
from workers.settings.delivery import DeliverySettings
from workers.settings.entities import EntitySettings
from workers.settings.environment import ENV_PREFIX, environment_variable
from workers.settings.explain import describe_invalid
from workers.settings.extraction import ExtractionSettings
from workers.settings.fetching import FetchingSettings
from workers.settings.geo import GeoSettings
from workers.settings.indexing import IndexingSettings
from workers.settings.locations import LocationSettings
from workers.settings.neardup import NearDuplicateSettings
from workers.settings.operations import OperationsSettings
from workers.settings.politeness import PolitenessSettings
from workers.settings.polling import PollingSettings
from workers.settings.retention import RetentionSettings
from workers.settings.throughput import ThroughputSettings

__all__ = ["GROUPS", "Settings", "settings_from"]


class Settings(
    # pydantic takes the fields of the last base first, so the groups are listed last-first: the fields
    # (and config/newsworkers.toml) then read from where things live down to throughput.
    ThroughputSettings,
    OperationsSettings,
    RetentionSettings,
    BackfillSettings,
    ArchiveSettings,
    AlertSettings,
    ApiSettings,
    IndexingSettings,
    NearDuplicateSettings,
    GeoSettings,
    EntitySettings,
    ExtractionSettings,
    PolitenessSettings,
    FetchingSettings,
    PollingSettings,
    DeliverySettings,
    LocationSettings,
    BaseSettings,
):
    """Every tunable of newsworkers: the fields of all the groups, flat (``settings.fetch_timeout_s``)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", validate_default=True, populate_by_name=True
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_file_path()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @property
    def index_batch_messages(self) -> int:
        """Index messages in one batch: each extract batch's articles ride in one message, so about
        ``index_batch_size`` articles take this many."""
        return max(1, -(-self.index_batch_size // self.extract_batch_size))

    def as_environment(self) -> dict[str, str]:
        """These settings as environment variables, for the worker processes we spawn."""
        env: dict[str, str] = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            if isinstance(value, Path):
                # Workers may start in another directory; relative paths would drift.
                value = value.resolve()
            env[environment_variable(name)] = str(value)
        return env


# The groups in the order their fields come: Settings's bases, first field first.
GROUPS: tuple[type[BaseModel], ...] = tuple(reversed([b for b in Settings.__bases__ if b is not BaseSettings]))


def settings_from(overrides: dict[str, Any]) -> Settings:
    """Settings with CLI overrides on top; None values mean 'not given'."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        raise ConfigError(f"invalid setting: {describe_invalid(exc, given)}") from None
    except ValueError as exc:  # a config file that is no TOML, and the like
        raise ConfigError(f"invalid settings: {exc}") from None
