"""A row sent again unchanged is recognised by its keyed hash: what the hash covers and when a
source's rows are hashed at all (the ingest of such rows is in tests/integration/test_ingest)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

import gridweave.synth
from gridweave.ingest.contracts import load_contract
from gridweave.ingest.pipeline import recognises_unchanged_rows, row_hashes, row_seed
from tests.conftest import keyring_for_tests

CONTRACTS = Path(gridweave.synth.__file__).parent / "contracts"


@pytest.mark.parametrize(
    ("name", "hashed"),
    [
        ("police_household_registration", True),  # staging reads nothing but the row
        ("hrss_insurance", True),
        ("market_entities", True),
        ("health_population", False),  # residence addresses matched to golden rooms
        ("housing_buildings", False),  # buildings placed in the area tree's grids
        ("urban_components", False),
    ],
)
def test_rows_are_hashed_only_where_staging_reads_nothing_else(name: str, hashed: bool) -> None:
    assert recognises_unchanged_rows(load_contract(CONTRACTS / f"{name}.yaml")) is hashed


def test_the_hash_covers_every_cell_the_contract_reads_and_only_those() -> None:
    contract = load_contract(CONTRACTS / "police_household_registration.yaml")
    read = contract.columns()
    row = dict.fromkeys(read, "1")
    frame = pl.DataFrame(
        [
            row,
            row,
            {**row, read[-1]: "2"},  # a cell changed
            {**row, read[-1]: ""},  # empty …
            {**row, read[-1]: None},  # … is not missing
        ]
    ).with_columns(pl.lit("anything").alias("其他"))  # a column no contract reads
    hashes = row_hashes(frame, contract, seed=7).to_list()
    assert hashes[0] == hashes[1]
    assert len(set(hashes[1:])) == 4
    other = frame.with_columns(pl.lit("something else").alias("其他"))
    assert row_hashes(other, contract, seed=7).to_list() == hashes
    assert row_hashes(frame, contract, seed=8).to_list() != hashes


def test_the_key_changes_with_the_contract_and_the_blind_index_key() -> None:
    keyring = keyring_for_tests()
    seed = row_seed("a" * 64, keyring)
    assert row_seed("a" * 64, keyring) == seed
    assert row_seed("b" * 64, keyring) != seed
    assert row_seed("a" * 64, replace(keyring, blind_key=bytes(32))) != seed
