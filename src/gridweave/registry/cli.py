"""`gridweave registry …`: totals of the base library and the provenance of a golden record."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from gridweave.core.database import transaction
from gridweave.core.runtime import Runtime
from gridweave.registry import service
from gridweave.registry.attributes import ATTRIBUTES, EntityType

registry_app = typer.Typer(help="The base library's golden records.", no_args_is_help=True)


@registry_app.command("totals")
def totals(ctx: typer.Context) -> None:
    """How many people, households, legal entities, buildings, rooms and components it holds."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        for name, n in service.library_totals(session).items():
            rt.console.print(f"{name:>15}: {n:,}")


@registry_app.command("show")
def show(
    ctx: typer.Context,
    entity: Annotated[EntityType, typer.Argument(help="person, legal_entity, building, room, …")],
    ref: Annotated[str, typer.Argument(help="its key (citizen id, credit code, code) or id")],
) -> None:
    """A golden record: each value, where it came from, and what other departments claimed."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        golden = service.find_golden(session, entity, ref)
        claims = service.claims(session, entity, golden)
        values = service.golden_values(session, entity, golden)
        rt.console.print(f"[bold]{entity.value} {golden.id}[/] ({golden.sources} source records)")
        table = Table("attribute", "golden value", "claims: value · source · line · observed")
        for name, spec in ATTRIBUTES[entity].items():
            value = values.get(name)
            own = [c for c in claims if c.attribute == name]
            if value is None and not own:
                continue
            lines = [
                ("✔ " if c.chosen else "  ")
                + f"{c.value}"
                + (f" (raw {c.raw!r})" if c.raw is not None and c.raw != c.value else "")
                + f" · {c.department} {c.source} · batch {c.batch_id} line {c.line_number}"
                + f" · {c.observed_at:%Y-%m-%d}"
                for c in own
            ]
            table.add_row(
                f"{spec.zh} {name}", "" if value is None else str(value), "\n".join(lines)
            )
        rt.console.print(table)
