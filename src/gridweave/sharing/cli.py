"""`gridweave users …`, `gridweave catalog …`, `gridweave purposes …`, `gridweave audit …` and
`gridweave serve`.

The console has no login: it acts as `console:<os user>` in the duty each command needs (system
administrator for accounts, security administrator for tokens, auditor for the log), and every
change it makes is audited like any other.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from gridweave.core.database import transaction
from gridweave.core.runtime import Runtime
from gridweave.sharing import audit, catalog, identities, purposes, service
from gridweave.sharing.roles import Role

users_app = typer.Typer(help="Accounts: users and department systems.", no_args_is_help=True)
catalog_app = typer.Typer(help="The resource catalog of registered sources.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
purposes_app = typer.Typer(
    help="The purposes of use (使用目的): who may name which, and what each unlocks.",
    no_args_is_help=True,
)


def _trail(rt: Runtime) -> audit.Trail:
    return audit.Trail(algorithm=rt.settings.audit_hash)


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="read the password from standard input")
]


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="login name: a-z 0-9 _ . -")],
    role: Annotated[Role, typer.Option(help="the account's role")],
    name: Annotated[str | None, typer.Option(help="display name")] = None,
    department: Annotated[str | None, typer.Option(help="department officers only")] = None,
    area: Annotated[str | None, typer.Option(help="area scope: an area code")] = None,
    person_id: Annotated[int | None, typer.Option(help="residents: their golden person id")] = None,
    password_stdin: PasswordStdin = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="a department system: API tokens only")
    ] = False,
) -> None:
    """Add an account; the password is prompted for (never echoed) or read from stdin."""
    rt: Runtime = ctx.obj
    password = None if no_password else _read_password(password_stdin)
    with transaction(rt.engine) as session:
        account = identities.create_account(
            session,
            actor=identities.console_actor(Role.system_admin),
            trail=_trail(rt),
            username=username,
            display_name=name or username,
            role=role,
            password=password,
            department=department,
            area_code=area,
            person_id=person_id,
        )
        rt.console.print(f"added: [bold]{account.username}[/] ({account.role})")


@users_app.command("list")
def users_list(ctx: typer.Context) -> None:
    """Every account with its role, department, scope and state."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        table = Table("username", "name", "role", "department", "area", "person", "state")
        for a in identities.list_accounts(session):
            state = "active" if a.is_active else "disabled"
            if a.locked_until:
                state += f", locked until {a.locked_until:%Y-%m-%d %H:%M} UTC"
            table.add_row(
                a.username,
                a.display_name,
                a.role,
                a.department or "",
                a.area_code or "",
                str(a.person_id or ""),
                state,
            )
        rt.console.print(table)


@users_app.command("disable")
def users_disable(ctx: typer.Context, username: str) -> None:
    """Disable an account and revoke its tokens."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        identities.disable_account(
            session,
            actor=identities.console_actor(Role.system_admin),
            trail=_trail(rt),
            username=username,
        )
        rt.console.print(f"disabled: [bold]{username}[/]; its tokens are revoked")


@users_app.command("password")
def users_password(
    ctx: typer.Context,
    username: str,
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a new password for an account whose owner lost theirs; lifts a lockout and ends the
    account's sessions."""
    rt: Runtime = ctx.obj
    password = _read_password(password_stdin)
    with transaction(rt.engine) as session:
        ended = identities.reset_password(
            session,
            actor=identities.console_actor(Role.security_admin),
            trail=_trail(rt),
            username=username,
            password=password,
        )
    rt.console.print(f"password reset: [bold]{username}[/]; {ended} session(s) ended")


@users_app.command("token")
def users_token(
    ctx: typer.Context,
    username: str,
    name: Annotated[str, typer.Option(help="what the token is for (the calling system)")],
    days: Annotated[int | None, typer.Option(help="life in days (default from settings)")] = None,
) -> None:
    """Issue an API token for a department system's account; it is shown once."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        token, row = identities.issue_api_token(
            session,
            actor=identities.console_actor(Role.security_admin),
            trail=_trail(rt),
            settings=rt.settings,
            username=username,
            name=name,
            days=days,
        )
    typer.echo(token)
    typer.echo(
        f"expires {row.expires_at:%Y-%m-%d %H:%M} UTC; store it now, it is not kept", err=True
    )


@catalog_app.command("list")
def catalog_list(ctx: typer.Context) -> None:
    """Every source: department, topic, sharing condition, how many attributes."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        table = Table("name", "department", "topic", "sharing", "attributes", "batches")
        for e in catalog.list_catalog(session):
            table.add_row(
                e.name,
                e.department_name,
                e.topic,
                f"{e.sharing_zh} ({e.sharing})",
                str(len(e.attributes)),
                str(e.batches),
            )
        rt.console.print(table)


@catalog_app.command("show")
def catalog_show(ctx: typer.Context, name: str) -> None:
    """One source's entry: its condition and each attribute's class and owning departments."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        e = catalog.catalog_entry(session, name)
    rt.console.print(f"[bold]{e.name}[/] — {e.title}")
    rt.console.print(f"department: {e.department_name} ({e.department_code}); topic: {e.topic}")
    condition = f" — {e.condition}" if e.condition else ""
    rt.console.print(
        f"sharing: {e.sharing_zh} ({e.sharing}){condition}; updates {e.update_frequency}"
    )
    table = Table("entity", "attribute", "label", "class", "owned by")
    for a in e.attributes:
        table.add_row(
            a.role,
            a.attribute,
            f"{a.zh} / {a.en}",
            a.sensitivity,
            "every department" if a.owners == ("*",) else ", ".join(a.owners) or "—",
        )
    rt.console.print(table)


@purposes_app.command("list")
def purposes_list(
    ctx: typer.Context,
    role: Annotated[Role | None, typer.Option(help="only those this role may name")] = None,
    department: Annotated[
        str | None, typer.Option(help="with --role department_officer: of this department")
    ] = None,
) -> None:
    """The deployment's purposes (GRIDWEAVE_PURPOSES_FILE, or the built-in list)."""
    rt: Runtime = ctx.obj
    chosen = (
        list(purposes.purposes().values())
        if role is None
        else purposes.allowed_purposes(role, department)
    )
    rt.console.print(f"purposes of use from {purposes.purposes_file()}")
    table = Table("code", "label", "roles", "departments", "may unmask", "consent", "confidential")
    for p in chosen:
        table.add_row(
            p.code,
            f"{p.zh} / {p.en}",
            ", ".join(sorted(p.roles)),
            ", ".join(sorted(p.departments)) if p.departments is not None else "any",
            ", ".join(sorted(p.fields)) if p.fields is not None else "whatever the gate allows",
            "yes" if p.consent else "",
            f"{p.release_after_days} days" if p.confidential else "",
        )
    rt.console.print(table)


@purposes_app.command("check")
def purposes_check(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="a purposes file to check before using it")],
) -> None:
    """Check a purposes file: every purpose's roles, departments and fields."""
    rt: Runtime = ctx.obj
    found = purposes.load_purposes(file.resolve())
    rt.console.print(
        f"ok: {len(found)} purposes in {file}; set GRIDWEAVE_PURPOSES_FILE={file.resolve()}"
        " to use them"
    )


@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Check the hash chain; name every edited, deleted or moved entry; exit 1 if broken."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        result = service.verify_audit(
            session, actor=identities.console_actor(Role.auditor), trail=_trail(rt)
        )
    for p in result.problems:
        rt.console.print(f"[red]entry {p.seq}[/] {p.kind}: {p.message}")
    if not result.ok:
        rt.console.print(
            f"[red]broken[/]: {len(result.problems)} problem(s) in {result.entries} entries"
        )
        raise typer.Exit(1)
    rt.console.print(f"[green]intact[/]: {result.entries} entries, every hash and link checks out")


def _filters(
    actor: str | None,
    person: int | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
) -> audit.Filters:
    def aware(t: datetime | None) -> datetime | None:
        return t.astimezone() if t is not None and t.tzinfo is None else t

    return audit.Filters(actor, person, action, aware(since), aware(until))


Actor = Annotated[str | None, typer.Option("--actor", help="the actor's username")]
Person = Annotated[int | None, typer.Option("--person", help="whose data: golden person id")]
Action = Annotated[str | None, typer.Option(help="e.g. person.read, auth.login_failed")]
Since = Annotated[datetime | None, typer.Option(help="from this time (local if no zone)")]
Until = Annotated[datetime | None, typer.Option(help="before this time")]


@audit_app.command("search")
def audit_search(
    ctx: typer.Context,
    actor: Actor = None,
    person: Person = None,
    action: Action = None,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, typer.Option(help="at most this many")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines")] = False,
) -> None:
    """Search the audit log (as auditor); the search itself is audited."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        entries = service.search_audit(
            session,
            actor=identities.console_actor(Role.auditor),
            trail=_trail(rt),
            filters=_filters(actor, person, action, since, until),
            limit=limit,
        )
        if as_json:
            for entry in entries:
                typer.echo(orjson.dumps(audit.entry_json(entry)).decode())
            return
        table = Table("seq", "at (UTC)", "action", "actor", "role", "record", "purpose", "outcome")
        for e in entries:
            record = f"{e.entity_type} {e.record_id}" if e.record_id else (e.entity_type or "")
            table.add_row(
                str(e.seq),
                f"{e.at:%Y-%m-%d %H:%M:%S}",
                e.action,
                e.actor_name,
                e.actor_role or "",
                record,
                e.purpose or "",
                e.outcome,
            )
        rt.console.print(table)


@audit_app.command("export")
def audit_export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="JSON Lines file to write")],
    actor: Actor = None,
    person: Person = None,
    action: Action = None,
    since: Since = None,
    until: Until = None,
) -> None:
    """Export matching entries, hashes included, as JSON Lines (as auditor)."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session, out.open("wb") as f:
        n = service.export_audit(
            session,
            actor=identities.console_actor(Role.auditor),
            trail=_trail(rt),
            filters=_filters(actor, person, action, since, until),
            out=f,
        )
    rt.console.print(f"exported {n} entries to {out}")


def serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Serve the REST API (OpenAPI at /openapi.json, docs at /docs) with uvicorn."""
    import uvicorn

    rt: Runtime = ctx.obj
    rt.engine  # noqa: B018  (migrate once, before the workers start)
    os.environ["GRIDWEAVE_DATABASE_URL"] = rt.settings.resolved_database_url
    uvicorn.run(
        "gridweave.api:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # HTTP parsed in C (httptools) and the event loop in C (uvloop, where installed): less
        # CPU per request than h11 and asyncio's own loop (docs/sharing.md, Speed)
        http="gridweave.serving:NoDelayHttpToolsProtocol",
        loop="auto",
        access_log=False,
    )
