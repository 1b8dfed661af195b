"""Load newsworkers' saved objects (data view, saved search, visualizations, the places map, dashboard) into Kibana.

The objects live in ``config/kibana/newsworkers.ndjson`` and go to Kibana's
saved-objects import API (``POST /api/saved_objects/_import?overwrite=true``,
multipart, with the ``kbn-xsrf`` header Kibana requires), so a second import
updates them in place. The data view's title is the alias the index uses; a
deployment with another alias (``NEWSWORKERS_ELASTICSEARCH_INDEX``) gets it
substituted on the way.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from workers.core.errors import ConfigError

__all__ = ["DATA_VIEW_ID", "KibanaAuth", "import_request", "import_saved_objects", "load_objects", "objects_path"]

DATA_VIEW_ID = "newsworkers-articles"
_FILE = "newsworkers.ndjson"


@dataclass(frozen=True, slots=True)
class KibanaAuth:
    api_key: str | None = None
    username: str | None = None
    password: str | None = None

    def headers(self) -> dict[str, str]:
        if self.api_key:
            return {"Authorization": f"ApiKey {self.api_key}"}
        if self.username:
            token = base64.b64encode(f"{self.username}:{self.password or ''}".encode()).decode()
            return {"Authorization": f"Basic {token}"}
        return {}


def objects_path() -> Path:
    for folder in (Path(__file__).resolve().parent.parent / "config" / "kibana", Path("config") / "kibana"):
        if (folder / _FILE).is_file():
            return folder / _FILE
    raise ConfigError(f"no {_FILE} under config/kibana/: run from the newsworkers checkout or its Docker image")


def load_objects(path: Path | None = None, *, alias: str = DATA_VIEW_ID) -> list[dict[str, Any]]:
    """The saved objects, one per NDJSON line, with the data view pointed at ``alias``."""
    objects = [json.loads(line) for line in (path or objects_path()).read_text().splitlines() if line.strip()]
    for obj in objects:
        if obj["type"] == "index-pattern" and obj["id"] == DATA_VIEW_ID:
            obj["attributes"]["title"] = alias
    return objects


def import_request(base_url: str, auth: KibanaAuth, objects: list[dict[str, Any]], *,
                   space: str | None = None) -> dict[str, Any]:
    """The arguments of the import call: URL, query, headers and the multipart file."""
    prefix = f"/s/{space}" if space else ""
    ndjson = "".join(json.dumps(obj, ensure_ascii=False) + "\n" for obj in objects).encode()
    return {
        "url": f"{base_url.rstrip('/')}{prefix}/api/saved_objects/_import",
        "params": {"overwrite": "true"},
        "headers": {"kbn-xsrf": "newsworkers", **auth.headers()},
        "files": {"file": (_FILE, ndjson, "application/ndjson")},
    }


def import_saved_objects(base_url: str, auth: KibanaAuth, *, alias: str = DATA_VIEW_ID, path: Path | None = None,
                         space: str | None = None, ca_cert: Path | None = None,
                         timeout_s: float = 30.0) -> dict[str, Any]:
    """Import every object; returns Kibana's answer, or raises ConfigError naming what went wrong."""
    request = import_request(base_url, auth, load_objects(path, alias=alias), space=space)
    verify: str | bool = str(ca_cert) if ca_cert else True
    try:
        response = httpx.post(**request, timeout=timeout_s, verify=verify)
    except httpx.HTTPError as exc:
        raise ConfigError(f"cannot reach Kibana at {base_url}: {exc}", reason="kibana.connect") from exc
    if response.status_code in (401, 403):
        raise ConfigError(f"Kibana refused the credentials ({response.status_code}): pass --api-key or "
                          "--user/--password", reason=f"kibana.http_{response.status_code}")
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code != 200 or not isinstance(answer, dict) or "success" not in answer:
        raise ConfigError(f"{base_url} did not answer like Kibana's saved-objects API (HTTP {response.status_code}): "
                          f"{response.text[:200]!r}", reason=f"kibana.http_{response.status_code}")
    if not answer["success"]:
        problems = "; ".join(f"{e.get('type')}/{e.get('id')}: {e.get('error', {}).get('type')}"
                             for e in answer.get("errors", [])[:5])
        raise ConfigError(f"Kibana imported {answer.get('successCount', 0)} objects and refused others: {problems}",
                          reason="kibana.import")
    return answer
