"""The `gridweave` command: one sub-command group per domain."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridweave.areas.cli import areas_app
from gridweave.core.errors import GridweaveError
from gridweave.core.runtime import Runtime
from gridweave.core.settings import load_settings
from gridweave.ingest.cli import (
    batches_command,
    check_contract_command,
    ingest_command,
    quarantine_app,
    sources_app,
)
from gridweave.linkage.cli import export_app, link_command, review_app
from gridweave.messages.cli import messages_app
from gridweave.registry.cli import registry_app
from gridweave.registry.keys_cli import keys_app
from gridweave.sharing.cli import (
    audit_app,
    catalog_app,
    purposes_app,
    serve_command,
    users_app,
)
from gridweave.sharing.purposes import use_purposes_file
from gridweave.sharing.workflows_cli import applications_app, consents_app

app = typer.Typer(
    help="gridweave: weave a city's department data into one base library.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
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


app.add_typer(sources_app, name="sources")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(areas_app, name="areas")
app.add_typer(registry_app, name="registry")
app.add_typer(keys_app, name="keys")
app.command("ingest")(ingest_command)
app.command("batches")(batches_command)
app.command("check-contract")(check_contract_command)
app.command("link")(link_command)
app.add_typer(review_app, name="review")
app.add_typer(export_app, name="export")
app.add_typer(users_app, name="users")
app.add_typer(catalog_app, name="catalog")
app.add_typer(purposes_app, name="purposes")
app.add_typer(audit_app, name="audit")
app.add_typer(applications_app, name="applications")
app.add_typer(consents_app, name="consents")
app.add_typer(messages_app, name="messages")
app.command("serve")(serve_command)


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
