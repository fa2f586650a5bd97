"""`gridweave areas …`: load and list the area tree."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from gridweave.areas.models import Area
from gridweave.areas.service import load_areas
from gridweave.core.database import transaction
from gridweave.core.runtime import Runtime

areas_app = typer.Typer(
    help="The area tree: city → district → street → community → grid.", no_args_is_help=True
)


@areas_app.command("load")
def areas_load(
    ctx: typer.Context, file: Annotated[Path, typer.Argument(help="GeoJSON FeatureCollection")]
) -> None:
    """Load or update areas from GeoJSON (properties: code, name, level, parent_code)."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        counts = load_areas(session, path=file)
    rt.console.print(", ".join(f"{n} {level}" for level, n in counts.items()))


@areas_app.command("list")
def areas_list(
    ctx: typer.Context,
    parent: Annotated[str | None, typer.Option(help="code of the parent area")] = None,
) -> None:
    """The children of an area (the top of the tree by default)."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        query = select(Area).order_by(Area.code)
        query = (
            query.where(Area.parent_code == parent)
            if parent
            else query.where(Area.parent_code.is_(None))
        )
        table = Table("code", "name", "level")
        for area in session.scalars(query):
            table.add_row(area.code, area.name, area.level)
        rt.console.print(table)
