"""A small synthetic city, written once per test session and shared read-only."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import polars as pl
import pytest

from gridweave.ingest.contracts import Contract, load_contract
from gridweave.synth.city import SynthReport, synthesise

PEOPLE = 2_000
SEED = 11


@pytest.fixture(scope="session")
def city(tmp_path_factory: pytest.TempPathFactory) -> SynthReport:
    """A 2,000-person city (seed 11)."""
    return synthesise(tmp_path_factory.mktemp("city"), people=PEOPLE, seed=SEED)


def read_extract(path: Path, contract: Contract) -> pl.DataFrame:
    """Every column of an extract as strings, read the way its contract describes the file."""
    fmt, encoding = contract.file.format, contract.file.encoding
    if fmt == "xlsx":
        return pl.read_excel(path, sheet_name=str(contract.file.sheet), infer_schema_length=0)
    if fmt == "jsonl":
        rows = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
        return pl.DataFrame(rows, infer_schema_length=None).cast(pl.String)
    text = path.read_bytes().decode({"utf-8-sig": "utf-8-sig"}.get(encoding, encoding))
    return pl.read_csv(io.StringIO(text), separator=contract.file.delimiter, infer_schema=False)


def contract_of(city: SynthReport, source: str) -> Contract:
    """The contract the city wrote for `source`."""
    return load_contract(city.out_dir / "contracts" / f"{source}.yaml")
