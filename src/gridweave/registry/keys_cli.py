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
    """How many stored values each key id protects, per table ((clear): not yet encrypted)."""
    rt: Runtime = ctx.obj
    rt.verify_keys = False  # status is how one finds out which keys the data is under
    counts = keys.status(rt.engine)
    active = rt.settings.keyring().active
    table = Table("table", "key id", "values")
    for name, seen in counts.items():
        for key_id, n in sorted(seen.items()):
            mark = " (active)" if key_id == active else ""
            table.add_row(name, key_id + mark, f"{n:,}")
    rt.console.print(table)
