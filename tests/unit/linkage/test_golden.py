"""Golden people from linked claims: one owned id, survivorship, disagreements."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from gridweave.linkage.golden import (
    conflict_counts,
    conflicts,
    disagreements,
    golden_people,
    owned_keys,
)

POLICE, HEALTH, HRSS = 1, 2, 3


def claims(rows: list[tuple[int, int, int, str | None, dict[str, str]]]) -> pl.DataFrame:
    """(record id, source, golden id, own valid id, values) → a claims frame."""
    return pl.DataFrame(
        [
            {
                "id": rid,
                "source_id": source,
                "observed_at": datetime(2025, 1, rid, tzinfo=UTC),
                "golden_id": golden,
                "own_key": key,
                "citizen_id": values.get("citizen_id"),
                "name": values.get("name"),
                "phone": values.get("phone"),
            }
            for rid, source, golden, key, values in rows
        ]
    )


PRIORITIES = pl.DataFrame(
    {
        "source_id": [POLICE, HEALTH, HRSS],
        "entity_type": ["person"] * 3,
        "attribute": ["name"] * 3,
        "priority": [100, 30, 50],
    }
)


def test_a_mistyped_id_never_becomes_the_golden_one() -> None:
    frame = claims(
        [
            (1, HEALTH, 7, "K1", {"citizen_id": "K1", "name": "张玮"}),
            (2, HRSS, 7, None, {"citizen_id": "K1-typo", "name": "张伟", "phone": "138"}),
            (3, POLICE, 7, "K1", {"citizen_id": "K1", "name": "张伟"}),
        ]
    )
    golden = golden_people(frame, owned_keys(frame), PRIORITIES).row(0, named=True)
    assert (golden["id"], golden["citizen_id"], golden["name"]) == (7, "K1", "张伟")
    assert golden["phone"] == "138" and golden["sources"] == 3
    assert '"name":3' in golden["provenance"]  # police is trusted most on names


def test_an_id_goes_to_the_golden_person_holding_most_of_its_records() -> None:
    frame = claims(
        [
            (1, POLICE, 7, "K1", {}),
            (2, HEALTH, 7, "K1", {}),
            (3, HRSS, 8, "K1", {}),  # split off by a steward
            (4, HRSS, 8, "K2", {}),
            (5, HEALTH, 9, "K1", {}),  # held apart from K1: does not count
        ]
    )
    owners = owned_keys(frame, conflicts=pl.Series([5]))
    assert dict(owners.rows()) == {7: "K1", 8: "K2"}


def test_disagreements_between_departments() -> None:
    frame = claims(
        [
            (1, POLICE, 7, "K1", {"name": "张伟", "phone": "138"}),
            (2, HEALTH, 7, None, {"name": "张玮", "phone": "138"}),
            (3, HRSS, 7, None, {"name": "张玮"}),
        ]
    )
    values = disagreements(frame)
    assert values.rows() == [("name", "张伟", [POLICE]), ("name", "张玮", [HEALTH, HRSS])]
    counts = conflict_counts(conflicts(frame))
    assert counts.rows() == [(POLICE, HEALTH, "name", 1), (POLICE, HRSS, "name", 1)]
