"""Repository promises: the README's commands, CI, and the compose file."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import yaml

from tests.conftest import ROOT, documentation
from workers.cli.main import app


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
    from typer.main import get_command

    from workers.settings import Settings
    from workers.worker.pools import worker_spec

    cli = get_command(app)
    services = _compose()["services"]
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            assert condition["condition"] in ("service_healthy", "service_completed_successfully")
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{name} waits for {dependency}'s missing healthcheck"
        if service.get("build"):
            # Every command resolves to a real newsworkers (sub)command with arguments it accepts.
            context = cli.make_context("newsworkers", list(service["command"]), resilient_parsing=False)
            group, args = cli, list(service["command"])
            while hasattr(group, "commands") and args:
                group = group.commands[args[0]]
                args = args[1:]
            assert not hasattr(group, "commands"), f"{name}: {service['command']} is a group, not a command"
            group.make_context(group.name, args).close()  # its arguments and options parse
            context.close()
            if service["command"][0] == "worker":
                worker_spec(service["command"][1], Settings())
            assert service["environment"]["REDIS_URL"].startswith("redis://redis:")
            assert service["environment"]["ELASTICSEARCH_URL"].startswith("http://elasticsearch:")
        for check in service.get("healthcheck", {}).get("test", [])[1:2]:
            if "celery -A workers inspect ping" in check:
                kind = service["command"][1]
                assert f"-d {kind}-1@$$HOSTNAME" in check  # `worker` execs Celery as PID 1, node <kind>-1@host
    assert {"redis", "elasticsearch", "kibana", "scheduler", "io-worker", "extract-worker", "index-worker"} <= set(
        services)
    for name in ("redis", "elasticsearch", "kibana", "io-worker", "extract-worker", "index-worker"):
        assert "healthcheck" in services[name], name
    kinds = {tuple(s["command"]) for s in services.values() if s.get("command", [None])[0] == "worker"}
    assert kinds == {("worker", "io"), ("worker", "extract"), ("worker", "index")}
    assert services["scheduler"]["deploy"]["replicas"] == 1
    assert "--appendonly" in services["redis"]["command"]
    assert "discovery.type" in services["elasticsearch"]["environment"]
    assert "-Xmx" in services["elasticsearch"]["environment"]["ES_JAVA_OPTS"]


def _command_paths(command: Any, prefix: str = "newsworkers") -> list[str]:
    """Every command and group under ``command``, as typed: 'newsworkers feeds add'."""
    paths = []
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        paths.append(f"{prefix} {name}")
        paths += _command_paths(sub, f"{prefix} {name}")
    return paths


def test_every_command_is_documented() -> None:
    from typer.main import get_command

    commands = _command_paths(get_command(app))
    assert len(commands) > 40  # the walk reached the groups' commands
    text = documentation()
    missing = [c for c in commands if c not in text]
    assert missing == []
