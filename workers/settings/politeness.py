"""Network safety and politeness: which addresses may be fetched, and how gently each site is treated.

Non-public addresses are refused unless allowed here; requests to one domain are spaced and capped across
all workers, and robots.txt is obeyed.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from pydantic import BaseModel, Field, field_validator

from workers.settings.environment import environment_variable

__all__ = ["PolitenessSettings"]


class PolitenessSettings(BaseModel):
    """Network safety and politeness: allowed private networks, per-domain pacing and robots.txt."""

    allowed_networks: str = Field(
        "",
        description="Comma-separated CIDR networks that may be fetched though not public (intranet feeds, tests), "
        "e.g. 10.0.0.0/8,127.0.0.0/8; empty refuses every loopback, private, link-local and metadata address.",
    )
    domain_min_interval_s: float = Field(
        1.0, ge=0, description="Seconds between two requests (pages and feeds) to one domain, shared by all workers."
    )
    domain_max_concurrency: int = Field(
        2, ge=1, description="Downloads (pages and feeds) from one domain at the same time, over all workers."
    )
    politeness_max_wait_s: float = Field(
        5.0,
        ge=0,
        description="Longest a fetch or poll thread waits for its domain's turn, in seconds; a longer wait holds the "
        "page or poll in the delayed set until then.",
    )
    obey_robots_txt: bool = Field(True, description="Skip article pages that the site's robots.txt disallows.")
    robots_ttl_s: int = Field(86400, ge=60, description="Seconds a site's robots.txt is cached in Redis.")

    @field_validator("allowed_networks", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> str:
        # A list in code or TOML, a comma-separated string in the environment: one canonical string either way.
        parts = value if isinstance(value, list | tuple) else str(value or "").split(",")
        networks = [str(p).strip() for p in parts if str(p).strip()]
        for network in networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError as exc:
                raise ValueError(f"{environment_variable('allowed_networks')}: {network!r} is not a CIDR network "
                                 "such as 10.0.0.0/8") from exc
        return ",".join(networks)
