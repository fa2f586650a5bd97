"""`gridweave keys`: new keys, rotation and what each key still protects."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from gridweave.core.crypto import new_key, parse_algorithm
from gridweave.core.runtime import Runtime
from gridweave.registry import keys

keys_app = typer.Typer(help="Encryption keys of citizen ids and phones (decision 0008).")


@keys_app.command("generate")
def generate(
    key_id: Annotated[str, typer.Option(help="the id of the new key")] = "k1",
    algorithm: Annotated[str, typer.Option(help="aes-256-gcm or sm4-gcm")] = "aes-256-gcm",
) -> None:
    """Print new random keys as settings lines (keep them in the deployment's secret store)."""
    chosen = parse_algorithm(algorithm)
    print(f"GRIDWEAVE_ENCRYPTION_ALGORITHM={chosen.value}")
    print(f"GRIDWEAVE_ENCRYPTION_KEYS='{json.dumps({key_id: new_key(chosen)})}'")
    print(f"GRIDWEAVE_ENCRYPTION_ACTIVE_KEY={key_id}")
    print(f"GRIDWEAVE_BLIND_INDEX_KEY={new_key(parse_algorithm('aes-256-gcm'))}")


@keys_app.command("rotate")
def rotate(
    ctx: typer.Context,
    batch: Annotated[int, typer.Option(min=1, help="rows per transaction")] = 2000,
) -> None:
    """Re-encrypt every stored id and phone under the active key, encrypt clear ones and
    recompute blind indexes. Safe to stop and run again; remove an old key only after this
    has finished and `keys status` shows it protects nothing."""
    rt: Runtime = ctx.obj
    rt.verify_keys = False  # a new blind-index key does not fit the stored indexes until this ends
    keyring = rt.settings.keyring()
    rt.console.print(f"rotating to key [bold]{keyring.active}[/] ({keyring.algorithm.value}) …")
    done = keys.rotate(rt.engine, batch=batch)
    for table, n in done.items():
        rt.console.print(f"  {table}: {n:,} rows rewritten")


@keys_app.command("status")
def status(ctx: typer.Context) -> None:
    """How many stored values each key id protects, per table ((clear): not yet encrypted), and
    whether the configured keys open them; exit 1 if some do not."""
    rt: Runtime = ctx.obj
    rt.verify_keys = False  # status is how one finds out which keys the data is under
    found = keys.status(rt.engine)
    active = rt.settings.keyring().active
    table = Table("table", "key id", "values", "opens with the configured key")
    for name, seen in found.values.items():
        for key_id, n in sorted(seen.items()):
            mark = " (active)" if key_id == active else ""
            table.add_row(
                name, key_id + mark, f"{n:,}", _opens(key_id, found.unopened.get((name, key_id)))
            )
    rt.console.print(table)
    if found.unopened:
        rt.console.print(
            "[red]some stored values do not open[/] with the configured keys: configure the"
            " keys they were encrypted with (GRIDWEAVE_ENCRYPTION_KEYS) before anything reads"
            " or rotates them"
        )
    if found.blind_index is not None:
        rt.console.print(
            f"[red]{found.blind_index}[/]; after changing GRIDWEAVE_BLIND_INDEX_KEY on purpose,"
            " run `gridweave keys rotate` (it recomputes them)"
        )
    if not found.fits:
        raise typer.Exit(1)


def _opens(key_id: str, problem: str | None) -> str:
    if key_id == keys.CLEAR:
        return "-"  # not encrypted
    return "yes" if problem is None else f"[red]no[/]: {problem}"
