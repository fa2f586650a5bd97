"""`gridweave applications …`: a department's data steward lists, approves, refuses and revokes
applications to their department, and withdraws their department's own, at the console, acting
as their own department-officer account (`--as`), audited as that account at the console.
`gridweave consents hand-over`: the daily sweep that hands a child's requests to them at 14."""

from __future__ import annotations

import getpass
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from gridweave.core.database import transaction
from gridweave.core.runtime import Runtime
from gridweave.sharing import applications, audit, consents, identities
from gridweave.sharing.gate import Actor
from gridweave.sharing.roles import Role

applications_app = typer.Typer(
    help="Applications for resources shared on approval, and the grants they become.",
    no_args_is_help=True,
)
As = Annotated[str, typer.Option("--as", help="your department-officer account")]
Reason = Annotated[str, typer.Option(help="the reason the applicant will see")]


def _acting(session: Session, username: str) -> Actor:
    actor = identities.actor_of(identities.get_account(session, username))
    return replace(actor, username=f"{actor.username} (console:{getpass.getuser()})")


def _trail(rt: Runtime) -> audit.Trail:
    return audit.Trail(algorithm=rt.settings.audit_hash)


@applications_app.command("list")
def applications_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help=", ".join(applications.STATUSES))] = None,
) -> None:
    """Every application: who asked whom for what, and where it stands."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        table = Table("id", "resource", "provider", "by", "purpose", "fields", "until", "status")
        for a in applications.all_applications(session, status=status):
            table.add_row(
                str(a.id),
                a.resource,
                a.provider,
                a.department,
                a.purpose,
                ", ".join(f"{e}.{n}" for e, n in a.fields),
                f"{a.valid_until:%Y-%m-%d}",
                applications.status_of(a),
            )
        rt.console.print(table)


@applications_app.command("approve")
def applications_approve(
    ctx: typer.Context,
    application_id: int,
    as_: As,
    until: Annotated[
        datetime | None, typer.Option(help="shorten the period: YYYY-MM-DD (UTC)")
    ] = None,
    note: Annotated[str | None, typer.Option(help="a note to the applicant")] = None,
) -> None:
    """Approve an application to your department: a grant until its period ends."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        found = applications.approve(
            session,
            actor=_acting(session, as_),
            trail=_trail(rt),
            application_id=application_id,
            valid_until=until.replace(tzinfo=UTC) if until and until.tzinfo is None else until,
            note=note,
        )
        rt.console.print(
            f"approved: {found.id}, in force until {found.valid_until:%Y-%m-%d %H:%M} UTC"
        )


@applications_app.command("refuse")
def applications_refuse(ctx: typer.Context, application_id: int, as_: As, reason: Reason) -> None:
    """Refuse an application to your department, with a reason."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        applications.refuse(
            session,
            actor=_acting(session, as_),
            trail=_trail(rt),
            application_id=application_id,
            reason=reason,
        )
        rt.console.print(f"refused: {application_id}")


@applications_app.command("revoke")
def applications_revoke(ctx: typer.Context, application_id: int, as_: As, reason: Reason) -> None:
    """Withdraw a grant your department gave: the gate denies again at once."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        applications.revoke(
            session,
            actor=_acting(session, as_),
            trail=_trail(rt),
            application_id=application_id,
            reason=reason,
        )
        rt.console.print(f"revoked: {application_id}")


@applications_app.command("withdraw")
def applications_withdraw(
    ctx: typer.Context,
    application_id: int,
    as_: As,
    reason: Annotated[str, typer.Option(help="the reason the providing department will see")],
) -> None:
    """Withdraw your department's pending application, or give up its grant before it runs out:
    the gate denies at once."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        applications.withdraw(
            session,
            actor=_acting(session, as_),
            trail=_trail(rt),
            application_id=application_id,
            reason=reason,
        )
        rt.console.print(f"withdrawn: {application_id}")


consents_app = typer.Typer(help="Consent requests to residents.", no_args_is_help=True)


@consents_app.command("hand-over")
def consents_hand_over(ctx: typer.Context) -> None:
    """Hand the requests guardians answer for a child who has turned 14 to the child, who is
    asked through the outbox; run daily."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        done = consents.hand_over_due(
            session,
            actor=identities.console_actor(Role.system_admin),
            trail=_trail(rt),
            timezone=rt.settings.timezone,
        )
    rt.console.print(f"handed over: {done} consent requests")
