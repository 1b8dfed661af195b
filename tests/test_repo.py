"""Repository promises: the README's commands, CI, and the compose file."""

from __future__ import annotations

import json
import re

import jsonschema
import yaml

from tests.conftest import ROOT
from workers.cli import app
from workers.pools import KINDS


def _readme_commands() -> list[str]:
    return re.findall(r"```bash\n(python3 -m venv[^\n]+)\n```", (ROOT / "README.md").read_text())


def test_readme_has_the_two_commands_and_ci_runs_the_test_one() -> None:
    main, tests = _readme_commands()[:2]
    assert "newsworkers run --once" in main
    assert "pytest" in tests
    assert tests in (ROOT / ".ci" / "run").read_text()


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_file_is_valid_against_the_compose_spec() -> None:
    schema = json.loads((ROOT / "tests" / "fixtures" / "compose-spec.json").read_text())
    jsonschema.Draft7Validator(schema).validate(_compose())


def test_compose_services_run_real_commands_and_depend_on_real_services() -> None:
    from workers import cli_admin  # noqa: F401  (registers the operator commands)

    commands = {c.name or c.callback.__name__ for c in app.registered_commands}
    services = _compose()["services"]
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown service {dependency}"
        if service.get("build"):
            command = service["command"]
            assert command[0] in commands, f"{name}: {command[0]} is not a newsworkers command"
            if command[0] == "worker":
                assert command[1] in KINDS
            assert service["environment"]["REDIS_URL"].startswith("redis://redis:")
    assert "healthcheck" in services["redis"]
    assert {f"{k}" for k in KINDS} <= set(services)
    assert services["index"]["deploy"]["replicas"] == 1


def test_every_command_is_in_the_readme() -> None:
    from workers import cli_admin  # noqa: F401  (registers the operator commands)
    from workers.cli import failed_app, feeds_app

    readme = (ROOT / "README.md").read_text()
    commands = [c.name or c.callback.__name__ for c in app.registered_commands]
    commands += [f"feeds {c.name}" for c in feeds_app.registered_commands]
    commands += [f"failed {c.name}" for c in failed_app.registered_commands]
    missing = [c for c in commands if f"newsworkers {c}" not in readme]
    assert missing == []
