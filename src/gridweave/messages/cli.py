"""`gridweave messages …`: send what the outbox holds, and see where it stands."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from gridweave.core.database import transaction
from gridweave.core.runtime import Runtime
from gridweave.messages import service
from gridweave.messages.senders import sender_for

messages_app = typer.Typer(help="The message outbox and its dispatcher.", no_args_is_help=True)


@messages_app.command("dispatch")
def messages_dispatch(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="messages per pass")] = 100,
    follow: Annotated[bool, typer.Option("--follow", help="keep dispatching")] = False,
    interval: Annotated[float, typer.Option(help="seconds between passes (--follow)")] = 5.0,
) -> None:
    """Send due messages through the configured sender; failures wait and are retried."""
    rt: Runtime = ctx.obj
    sender = sender_for(rt.settings)
    while True:
        with transaction(rt.engine) as session:
            done = service.dispatch(session, sender=sender, settings=rt.settings, limit=limit)
        if done.sent or done.failed or done.dead or not follow:
            rt.console.print(
                f"sent {done.sent}, failed {done.failed} (retried later), dead {done.dead}"
            )
        if not follow:
            return
        if done.sent < limit:
            time.sleep(interval)


@messages_app.command("status")
def messages_status(ctx: typer.Context) -> None:
    """How many messages are pending, sent and dead, and how many sends have failed."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        table = Table("pending", "sent", "dead", "failed attempts")
        c = service.counts(session)
        table.add_row(str(c["pending"]), str(c["sent"]), str(c["dead"]), str(c["failed_attempts"]))
        rt.console.print(table)
