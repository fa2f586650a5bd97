"""A synthetic city ingested into a test database, for the linkage tests."""

from __future__ import annotations

from collections.abc import Collection
from functools import cache
from pathlib import Path

import orjson
import polars as pl
from sqlalchemy import Engine

from gridweave.areas.service import load_areas
from gridweave.core.database import transaction
from gridweave.ingest.service import ingest_file, register_source
from gridweave.synth.city import synthesise


@cache
def city(folder: Path, people: int, seed: int) -> Path:
    """Synthesise once per test session and size (the same arguments give the same bytes)."""
    out = folder / f"city-{people}-{seed}"
    if not (out / "manifest.json").exists():
        synthesise(out, people=people, seed=seed)
    return out


def ingest_city(engine: Engine, folder: Path, *, skip: Collection[str] = ()) -> None:
    """Load the area tree, register every contract and ingest the extracts not in `skip`."""
    manifest = orjson.loads((folder / "manifest.json").read_bytes())
    with transaction(engine) as session:
        load_areas(session, path=folder / manifest["areas"])
        for extract in manifest["extracts"]:
            register_source(session, path=folder / extract["contract"])
    for extract in manifest["extracts"]:
        if extract["source"] not in skip:
            ingest_file(engine, path=folder / extract["file"], source_name=extract["source"])


def ingest_one(engine: Engine, folder: Path, source: str) -> None:
    manifest = orjson.loads((folder / "manifest.json").read_bytes())
    extract = next(e for e in manifest["extracts"] if e["source"] == source)
    ingest_file(engine, path=folder / extract["file"], source_name=source)


def truth(folder: Path, name: str = "records") -> pl.DataFrame:
    return pl.read_csv(folder / "truth" / f"{name}.csv", infer_schema=False)
