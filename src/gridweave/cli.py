"""The `gridweave` command: one sub-command group per domain."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperGroup
from typer.main import get_command, get_group

from gridweave.core.errors import GridweaveError
from gridweave.core.runtime import Runtime
from gridweave.core.settings import load_settings
from gridweave.sharing.purposes import use_purposes_file

if TYPE_CHECKING:
    from typer._click import Command  # the click this typer carries

# Each domain's commands, by name: "module:attribute", a command function or a group (a Typer).
# A domain's module is imported only when one of its commands runs, or help lists them all, so
# `gridweave ingest` does not import the web server, linkage or messaging first.
DOMAIN_COMMANDS = {
    "ingest": "gridweave.ingest.cli:ingest_command",
    "batches": "gridweave.ingest.cli:batches_command",
    "check-contract": "gridweave.ingest.cli:check_contract_command",
    "link": "gridweave.linkage.cli:link_command",
    "serve": "gridweave.sharing.cli:serve_command",
    "sources": "gridweave.ingest.cli:sources_app",
    "quarantine": "gridweave.ingest.cli:quarantine_app",
    "areas": "gridweave.areas.cli:areas_app",
    "registry": "gridweave.registry.cli:registry_app",
    "keys": "gridweave.registry.keys_cli:keys_app",
    "review": "gridweave.linkage.cli:review_app",
    "export": "gridweave.linkage.cli:export_app",
    "users": "gridweave.sharing.cli:users_app",
    "catalog": "gridweave.sharing.cli:catalog_app",
    "purposes": "gridweave.sharing.cli:purposes_app",
    "audit": "gridweave.sharing.cli:audit_app",
    "applications": "gridweave.sharing.workflows_cli:applications_app",
    "consents": "gridweave.sharing.workflows_cli:consents_app",
    "messages": "gridweave.messages.cli:messages_app",
}


class DomainCommands(TyperGroup):
    """The root group: DOMAIN_COMMANDS, each imported when asked for, then its own commands."""

    def list_commands(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        return [*DOMAIN_COMMANDS, *(n for n in self.commands if n not in DOMAIN_COMMANDS)]

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Command | None:  # type: ignore[override]
        if cmd_name not in self.commands and cmd_name in DOMAIN_COMMANDS:
            module, _, attribute = DOMAIN_COMMANDS[cmd_name].partition(":")
            target = getattr(importlib.import_module(module), attribute)
            if isinstance(target, typer.Typer):
                command: Command = get_group(target)
            else:  # a command function
                single = typer.Typer(add_completion=False)
                single.command(cmd_name)(target)
                command = get_command(single)
            command.name = cmd_name
            self.commands[cmd_name] = command
        return self.commands.get(cmd_name)


app = typer.Typer(
    help="gridweave: weave a city's department data into one base library.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=DomainCommands,
)


@app.callback()
def main(
    ctx: typer.Context,
    database_url: Annotated[
        str | None, typer.Option(envvar="GRIDWEAVE_DATABASE_URL", help="SQLAlchemy URL")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(envvar="GRIDWEAVE_DATA_DIR", help="where data lives")
    ] = None,
) -> None:
    """Read the settings once; every command gets them through the context."""
    settings = load_settings(database_url=database_url, data_dir=data_dir)
    use_purposes_file(settings.purposes_file)  # a broken purposes file stops every command
    ctx.obj = Runtime(settings)


@app.command("synth")
def synth(
    out: Annotated[Path, typer.Argument(help="folder to write the city into")],
    people: Annotated[int, typer.Option(help="how many people")] = 50_000,
    seed: Annotated[int, typer.Option(help="same seed, same city")] = 7,
) -> None:
    """Synthesise a city: area tree, ten department extracts, their contracts, ground truth."""
    from gridweave.synth.cli import synth_command

    synth_command(out, people, seed)


@app.command("demo")
def demo(
    ctx: typer.Context,
    people: Annotated[int, typer.Option(help="size of the synthetic city")] = 50_000,
    seed: Annotated[int, typer.Option()] = 7,
) -> None:
    """Synthesise a city into a fresh SQLite file, ingest every extract, show what happened."""
    from gridweave.demo import run_demo

    run_demo(ctx.obj, people=people, seed=seed)


@app.command("worker")
def worker(
    ctx: typer.Context,
    dispatch_every: Annotated[
        float, typer.Option(min=0.1, help="seconds between passes over the message outbox")
    ] = 5.0,
) -> None:
    """Run the recurring duties until stopped (SIGTERM or Ctrl-C): the message outbox every few
    seconds, the consent hand-over of children who turned 14 once a day. One per database: a
    second is refused."""
    import signal
    import threading
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from gridweave.worker import Worker, sole_worker

    rt: Runtime = ctx.obj
    zone = ZoneInfo(rt.settings.timezone)

    def report(line: str) -> None:
        stamp = datetime.now(zone).strftime("%Y-%m-%d %H:%M:%S")
        rt.console.print(f"{stamp} {line}", markup=False, highlight=False)

    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    worker = Worker(rt.engine, rt.settings, dispatch_every, report=report)
    with sole_worker(rt.engine):
        worker.run(stop)


def run() -> None:
    """Entry point: user-facing errors print their message and exit 2, without a traceback."""
    try:
        app()
    except GridweaveError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
