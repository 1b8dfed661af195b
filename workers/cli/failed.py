"""``newsworkers failed ...``: list, show, retry and purge dead letters."""

from __future__ import annotations

import json
import re
from typing import Annotated

import typer
from rich.markup import escape

from workers.cli.options import AsJson, DataDir, attached, console, print_json, require_state, settings_for
from workers.core.errors import ConfigError

__all__ = ["failed_app", "parse_duration"]

failed_app = typer.Typer(no_args_is_help=True, help="Dead letters: work that failed for good, with its reason.")

StageOption = Annotated[str | None, typer.Option(help="Only this stage: poll, fetch, extract, index, pipeline.")]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> float:
    """'90s', '30m', '12h', '7d', '2w' (or a sum such as '1d12h') in seconds."""
    compact = re.sub(r"\s+", "", text.lower())
    if not re.fullmatch(r"(\d+(?:\.\d+)?[smhdw])+", compact):
        raise ConfigError(f"--older-than takes a duration such as 30m, 12h or 7d, not {text!r}")
    parts = re.findall(r"(\d+(?:\.\d+)?)([smhdw])", compact)
    return sum(float(n) * _UNITS[unit] for n, unit in parts)


@failed_app.command("list")
def failed_list(
    stage: StageOption = None,
    reason: Annotated[str | None, typer.Option(help="Only this reason code; 'fetch.*' matches a prefix.")] = None,
    limit: Annotated[int, typer.Option(min=0, help="Only the most recent N (0: all).")] = 200,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Dead letters, oldest first: when, stage, reason, URL, attempts (the most recent 200 unless --limit)."""
    with attached(data_dir, existing=True) as rt:
        letters = rt.dead_letters.recent(limit, stage, reason) if limit else rt.dead_letters.list(stage, reason)
        held = rt.dead_letters.count()
    if as_json:
        print_json([d.to_json(payload=False) for d in letters])
        return
    for d in letters:
        console.print(f"{d.failed_at[:19]} [red]{d.stage}[/] {escape(d.reason)} {escape(d.url)} "
                      f"[dim]({d.attempts} attempts, id {escape(d.key)})[/]\n    {escape(d.error[:300])}")
    console.print(f"[dim]{len(letters)} dead letters" + (f" (the most recent; {held} held, --limit 0 for all)"
                                                          if limit and len(letters) == limit < held else "") + "[/]")


@failed_app.command("show")
def failed_show(
    key: Annotated[str, typer.Argument(help="The dead letter's id (see `failed list`).")],
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Everything one dead letter holds, traceback and retry payload included."""
    with attached(data_dir, existing=True) as rt:
        letter = rt.dead_letters.get(key)
    if letter is None:
        raise ConfigError(f"no dead letter with id {key!r}; see `newsworkers failed list`")
    data = letter.to_json()
    if as_json:
        print_json(data)
        return
    for name in ("id", "stage", "reason", "url", "feed_url", "error_class", "message", "attempts",
                 "first_failed_at", "last_failed_at", "task"):
        console.print(f"[bold]{name}[/]: {escape(str(data[name]))}")
    if letter.traceback_tail:
        console.print("[bold]traceback[/]:\n" + escape(letter.traceback_tail))
    console.print(f"[bold]payload[/]: {escape(json.dumps(letter.payload, ensure_ascii=False))}")
    retry = data.get("retry")
    if retry:
        message = json.dumps(retry["payload"], ensure_ascii=False)
        console.print(f"[bold]a retry sends[/] {retry['task']}: {escape(message)}")


@failed_app.command("retry")
def failed_retry(
    key: Annotated[str | None, typer.Argument(help="Document id of one dead letter.")] = None,
    stage: StageOption = None,
    all_: Annotated[bool, typer.Option("--all", help="Retry every dead letter.")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="When workers run elsewhere: follow what was sent back "
                                                      "until it is done (on embedded defaults it always is).")]
    = False,
    timeout: Annotated[float | None, typer.Option(help="Give up following after this many seconds (default "
                                                       "oneshot_timeout_s, 3600).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Send dead letters back to the stage that can redo them, and (as backfill does) see them through: on
    embedded defaults it starts the workers and returns when they are done; beside a run, the run does them."""
    from workers.ops.oneshot import Job, run_oneshot
    from workers.ops.redrive import redrive

    if sum(bool(x) for x in (key, stage, all_)) != 1:
        raise ConfigError("name one dead letter's id, or pass --stage STAGE or --all")
    settings = require_state(settings_for(data_dir))
    chosen: dict[str, int] = {}

    def enqueue(job: Job) -> None:
        rt = job.runtime
        if key:
            letters = [d for d in [rt.dead_letters.get(key)] if d]
            if not letters:
                raise ConfigError(f"no dead letter with id {key!r}; see `newsworkers failed list`")
        else:
            letters = rt.dead_letters.list(stage)
        chosen["letters"] = len(letters)
        chosen["sent"] = redrive(job.app, rt, letters)
        job.track(d.key for d in letters)

    result = run_oneshot(settings, enqueue, wait=wait, console=console,
                         timeout_s=timeout or settings.oneshot_timeout_s)
    sent, letters = chosen.get("sent", 0), chosen.get("letters", 0)
    console.print(f"{sent} sent back")
    if sent < letters:
        console.print(f"[red]{letters - sent} could not be[/]: they kept no message to retry (see `failed show`)")
    if result.mode == "own" or result.finished:
        failed_again = sum(result.reasons.values())
        console.print(f"done: {sent - failed_again} went through, {failed_again} failed again")
        for reason, count in result.reasons.items():
            console.print(f"  [red]{count} failed[/] {escape(reason)} (see `newsworkers failed list`)")
    elif sent:
        console.print("the running workers do them (`--wait` follows them to the end); with no workers running, "
                      "the next `newsworkers run` does")
    raise typer.Exit(0 if not result.interrupted and not result.worker_deaths else 1)


@failed_app.command("purge")
def failed_purge(
    older_than: Annotated[str | None, typer.Option(help="Only letters last failed longer ago, e.g. 7d, 12h.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Forget dead letters (all, or the old ones). Their items stay seen: polls will not fetch them again."""
    seconds = parse_duration(older_than) if older_than else None
    with attached(data_dir, existing=True) as rt:
        removed = rt.dead_letters.purge(seconds)
    console.print(f"{removed} dead letters purged")
