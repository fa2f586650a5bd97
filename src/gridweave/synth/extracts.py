"""Writing department extracts as their contracts describe them, with the truth of every row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import polars as pl

from gridweave.ingest.contracts import Contract, parse_contract
from gridweave.synth import org_extracts as ox
from gridweave.synth import people_extracts as pe
from gridweave.synth import place_extracts as px
from gridweave.synth.population import City
from gridweave.synth.xlsx import write_xlsx

TRUTH_PREFIX = "__"  # frame columns holding true entity ids: "__<role>", never written out

Writer = Callable[[City, np.random.Generator], pl.DataFrame]

# Ingest order: the places register first, so that people's addresses can find their rooms.
WRITERS: dict[str, Writer] = {
    "housing_buildings": px.housing_buildings,
    "police_household_registration": pe.police_household_registration,
    "market_entities": px.market_entities,
    "tax_registrations": ox.tax_registrations,
    "migrant_residents": pe.migrant_residents,
    "health_population": pe.health_population,
    "hrss_insurance": pe.hrss_insurance,
    "education_pupils": pe.education_pupils,
    "civil_affairs_subsistence": pe.civil_affairs_subsistence,
    "housing_rentals": px.housing_rentals,
    "urban_components": px.urban_components,
}


@dataclass(frozen=True)
class Written:
    """One extract on disk: where its file and contract are, how many rows, and their truth."""

    source: str
    file: Path
    contract: Path
    rows: int
    records: pl.DataFrame  # source, record_key, entity_type, entity_id


def contract_text(name: str) -> str:
    """The YAML text of the package's contract `name`."""
    return resources.files("gridweave.synth").joinpath(f"contracts/{name}.yaml").read_text("utf-8")


@cache
def contract(name: str) -> Contract:
    """The package's contract `name`, parsed and checked."""
    return parse_contract(contract_text(name), f"gridweave.synth/contracts/{name}.yaml")


def records(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The truth rows of an extract frame: one per entity per row, keyed as the ingester keys."""
    c = contract(name)
    key = pl.concat_str([pl.col(col).cast(pl.String) for col in c.record_id], separator="|")
    parts = []
    for ent in c.entities:
        k = key + f"#{ent.role_name}" if len(c.entities) > 1 else key
        parts.append(
            frame.select(
                pl.lit(name).alias("source"),
                k.alias("record_key"),
                pl.lit(ent.entity.value).alias("entity_type"),
                pl.col(f"{TRUTH_PREFIX}{ent.role_name}").alias("entity_id"),
            )
        )
    return pl.concat(parts)


def write_extract(name: str, frame: pl.DataFrame, out_dir: Path) -> Written:
    """Write one extract and its contract under `out_dir`; return where and the row truth."""
    c = contract(name)
    missing = [col for col in c.columns() if col not in frame.columns]
    if missing:
        raise AssertionError(f"{name}: the writer lacks contract column(s) {missing}")
    data = frame.select([col for col in frame.columns if not col.startswith(TRUTH_PREFIX)])
    file = out_dir / "extracts" / f"{name}.{c.file.format}"
    file.parent.mkdir(parents=True, exist_ok=True)
    if c.file.format == "xlsx":
        sheet = c.file.sheet if isinstance(c.file.sheet, str) else "Sheet1"
        write_xlsx(data, file, sheet)
    elif c.file.format == "jsonl":
        data.write_ndjson(file)
    elif c.file.encoding in ("utf-8", "utf-8-sig"):
        data.write_csv(file, separator=c.file.delimiter, include_bom=c.file.encoding == "utf-8-sig")
    else:
        text = data.write_csv(separator=c.file.delimiter)
        file.write_bytes(text.encode(c.file.encoding))
    contract_file = out_dir / "contracts" / f"{name}.yaml"
    contract_file.parent.mkdir(parents=True, exist_ok=True)
    contract_file.write_text(contract_text(name), encoding="utf-8")
    return Written(name, file, contract_file, data.height, records(name, frame))
