"""`gridweave demo`: a synthetic city ingested end to end into a fresh SQLite file."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import orjson
from rich.table import Table
from sqlalchemy import Engine

from gridweave.areas.service import load_areas
from gridweave.core.database import make_engine, migrate, transaction
from gridweave.core.runtime import Runtime
from gridweave.ingest.service import ingest_file, register_source
from gridweave.registry.service import library_totals

ZH = {
    "person": "人口",
    "household": "户",
    "legal_entity": "法人",
    "building": "楼栋",
    "room": "房屋",
    "city_component": "城市部件",
}


def run_demo(rt: Runtime, *, people: int, seed: int) -> None:
    """Synthesise, register, ingest, and print per source and in total what happened."""
    from gridweave.synth.city import synthesise

    console = rt.console
    home = rt.settings.data_dir / "demo"
    city, db = home / "city", home / "gridweave.sqlite"
    if home.exists():
        shutil.rmtree(home)
    started = time.perf_counter()
    console.print(f"[bold]1/4[/] synthesising a city of {people:,} people (seed {seed}) …")
    synthesise(city, people=people, seed=seed)
    manifest = orjson.loads((city / "manifest.json").read_bytes())
    console.print(f"    written to {city} in {time.perf_counter() - started:.1f} s")

    url = f"sqlite:///{db.resolve()}"
    engine = make_engine(url, keyring=rt.settings.keyring())
    migrate(engine)
    with transaction(engine) as session:
        levels = load_areas(session, path=city / manifest["areas"])
        for extract in manifest["extracts"]:
            register_source(session, path=city / extract["contract"])
    console.print(
        f"[bold]2/4[/] area tree loaded ({', '.join(f'{n} {lv}' for lv, n in levels.items())});"
        f" {len(manifest['extracts'])} source contracts registered"
    )

    console.print("[bold]3/4[/] ingesting every department's extract …")
    table = Table("source", "rows", "accepted", "quarantined", "flagged", "golden new", "s")
    for extract in manifest["extracts"]:
        path = city / extract["file"]
        report = ingest_file(engine, path=path, source_name=extract["source"])
        created = sum(c.created for c in report.golden.values())
        table.add_row(
            report.source,
            f"{report.rows_read:,}",
            f"{report.rows_accepted:,}",
            f"{report.rows_quarantined:,}",
            f"{report.records_flagged:,}",
            f"{created:,}",
            f"{report.seconds:.1f}",
        )
    console.print(table)
    console.print(
        "  quarantined: rows refused by their contract, kept with reasons;"
        " flagged: kept, with a doubtful value (a bad check digit, an id that contradicts"
        " the birth date, an unknown code) named in the record"
    )

    _link(rt, engine, city)

    with transaction(engine) as session:
        totals = library_totals(session)
    console.print(
        "[bold]base library:[/] " + " · ".join(f"{ZH[k]} {k} {v:,}" for k, v in totals.items())
    )
    console.print(f"done in {time.perf_counter() - started:.1f} s; database: {db}")
    _next_steps(rt, url, city, manifest)


def _link(rt: Runtime, engine: Engine, city: Path) -> None:
    """Resolve people (deterministic + Splink) and score the links against the city's truth."""
    from gridweave.linkage.cli import print_entity_reports, print_quality, print_report
    from gridweave.linkage.entities import link_entities
    from gridweave.linkage.evaluate import read_truth
    from gridweave.linkage.reports import evaluate_links
    from gridweave.linkage.service import link_people

    rt.console.print("[bold]4/4[/] linking people: valid ids, then Splink for the rest …")
    report = link_people(engine, actor="demo")
    print_report(rt.console, report)
    rt.console.print("  legal entities, buildings and rooms without a key: by name and address")
    print_entity_reports(rt.console, link_entities(engine, actor="demo"))
    with transaction(engine) as session:
        qualities = evaluate_links(session, read_truth(city / "truth" / "records.csv"))
    rt.console.print("  pairwise quality against the synthetic city's truth:")
    print_quality(rt.console, qualities)


def _next_steps(rt: Runtime, url: str, city: Path, manifest: dict[str, object]) -> None:
    person = _sample_citizen_id(city)
    # the command as this shell can run it (after `make demo` it lives in .venv/bin)
    command = shutil.which("gridweave") or os.path.relpath(sys.argv[0])
    prefix = f"{command} --database-url {url}"
    rt.console.print("\n[bold]What to look at next[/]")
    rt.console.print(f"  {prefix} sources list")
    rt.console.print(f"  {prefix} sources show police_household_registration")
    rt.console.print(f"  {prefix} quarantine list --source migrant_residents")
    if person:
        rt.console.print(f"  {prefix} registry show person {person}")
    rt.console.print(f"  {prefix} batches")
    rt.console.print(f"  {prefix} review list")
    rt.console.print(f"  {prefix} link --evaluate {city / 'truth' / 'records.csv'}")


def _sample_citizen_id(city: Path) -> str | None:
    """A citizen id from the truth files, to show one person's provenance."""
    truth = city / "truth" / "people.csv"
    if not truth.exists():
        return None
    import polars as pl

    frame = pl.read_csv(truth, n_rows=200, infer_schema=False)
    if "citizen_id" not in frame.columns:
        return None
    return frame["citizen_id"].drop_nulls()[min(7, frame.height - 1)]
