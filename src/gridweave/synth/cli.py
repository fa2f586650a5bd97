"""The `synth` command: write a synthetic city and print what was written."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from gridweave.synth.city import synthesise


def synth_command(out: Path, people: int, seed: int) -> None:
    """Synthesise a city of `people` people into `out` and print a short summary."""
    console = Console()
    with console.status("synthesising…") as status:
        report = synthesise(out, people=people, seed=seed, progress=status.update)
    table = Table(title=f"Synthetic city in {out} (seed {seed})", title_justify="left")
    table.add_column("extract")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for e in report.extracts:
        table.add_row(e.source, e.file.name, f"{e.rows:,}")
    console.print(table)
    console.print(
        f"{report.people:,} people in {report.households:,} households, "
        f"{report.buildings:,} buildings with {report.rooms:,} rooms in {report.grids:,} grids, "
        f"{report.legal_entities:,} legal entities, {report.components:,} city components; "
        f"{report.truth['twins']:,} twin pairs, {report.truth['namesakes']:,} namesake pairs. "
        f"Truth in {out / 'truth'}; took {report.seconds:.1f} s."
    )
