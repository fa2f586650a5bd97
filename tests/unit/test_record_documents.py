"""A source record's values as stored (ids and phones encrypted) and as hashed (them as their
blind index): the record hash must not move with each encryption's random nonce, and a value
that changes must change it (the ingest of such records is in tests/integration/test_ingest)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import polars as pl

import gridweave.synth
from gridweave.ingest.contracts import load_contract
from gridweave.ingest.pipeline import Context, _documents, stage_chunk
from gridweave.ingest.readers import LINE, Chunk
from gridweave.registry.attributes import EntityType
from gridweave.registry.survivorship import json_object
from tests.conftest import keyring_for_tests

CONTRACTS = Path(gridweave.synth.__file__).parent / "contracts"
PEOPLE = pl.DataFrame(
    {
        "citizen_id": ["11010519491231002X", None, "440303198909173282"],
        "name": ["王芳", "张伟", 'A "quoted" \\ name'],
        "phone": ["13800138000", "13900139000", None],
        "birth_date": ["1949-12-31", None, "1989-09-17"],
    }
)


def test_the_hashed_object_is_the_stored_one_with_blind_indexes_in_place() -> None:
    keyring = keyring_for_tests()
    docs = _documents(PEOPLE, EntityType.person, keyring)
    assert docs.hashed is not None
    blinded = PEOPLE.with_columns(
        keyring.blind_series(PEOPLE["citizen_id"], "citizen_id"),
        keyring.blind_series(PEOPLE["phone"], "phone"),
    )
    expected = blinded.select(json_object([pl.col(c) for c in blinded.columns])).to_series()
    assert docs.hashed.to_list() == expected.to_list()
    assert docs.blind["citizen_id"].to_list() == blinded["citizen_id"].to_list()
    for stored, row in zip(docs.json.to_list(), PEOPLE.iter_rows(named=True), strict=True):
        values = orjson.loads(stored)
        assert list(values) == [c for c in PEOPLE.columns if row[c] is not None]  # in order
        for attribute in ("citizen_id", "phone"):
            if attribute in values:
                sealed = values[attribute]
                assert sealed != row[attribute]
                assert keyring.decrypt(sealed, f"person.{attribute}") == row[attribute]
        assert values["name"] == row["name"]


def test_without_encrypted_columns_there_is_one_object() -> None:
    households = pl.DataFrame({"household_number": ["100000938"], "address": [None]})
    docs = _documents(households, EntityType.household, keyring_for_tests())
    assert docs.hashed is None
    assert docs.json.to_list() == ['{"household_number":"100000938"}']


def _records(ids: list[str]) -> pl.DataFrame:
    contract = load_contract(CONTRACTS / "police_household_registration.yaml")
    row = dict.fromkeys(contract.columns(), None) | {
        "人员编号": "1",
        "姓名": "王芳",
        "户号": "100000938",
        "更新时间": "2024-01-02 03:04:05",
    }
    frame = pl.DataFrame(
        [row | {"人员编号": str(i), "公民身份号码": x} for i, x in enumerate(ids)],
        schema=dict.fromkeys(contract.columns(), pl.String),
    ).with_columns(pl.int_range(2, len(ids) + 2, dtype=pl.Int64).alias(LINE))
    ctx = Context(extracted_at=datetime(2024, 1, 3, tzinfo=UTC), keyring=keyring_for_tests())
    return stage_chunk(Chunk(frame), contract, ctx).records.filter(
        pl.col("entity_type") == "person"
    )


def test_a_record_hash_stays_with_its_values_not_with_the_nonce() -> None:
    first = _records(["11010519491231002X", "440303198909173282"])
    again = _records(["11010519491231002X", "440303198909173282"])
    assert first["values"].to_list() != again["values"].to_list()  # new nonces
    assert first["record_hash"].to_list() == again["record_hash"].to_list()
    other = _records(["11010519491231002X", "440303201312212925"])  # another id
    assert other["record_hash"][0] == first["record_hash"][0]
    assert other["record_hash"][1] != first["record_hash"][1]
