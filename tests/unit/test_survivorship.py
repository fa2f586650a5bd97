"""Survivorship: which department's value becomes the golden one."""

from __future__ import annotations

import orjson
import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from gridweave.registry.attributes import EntityType
from gridweave.registry.survivorship import choose_golden, chosen_records

POLICE, HEALTH, HRSS = 1, 2, 3
PRIORITIES = pl.DataFrame(
    {
        "source_id": [POLICE, POLICE, HEALTH, HEALTH, HRSS],
        "attribute": ["name", "phone", "name", "phone", "phone"],
        "priority": [100, 50, 30, 50, 50],
    }
)


def records(rows: list[tuple[int, int, str, str | None, str | None]]) -> pl.DataFrame:
    """(id, source, observed, name, phone) for one person keyed 'K'."""
    return pl.DataFrame(
        [(i, s, o, "K", n, p) for i, s, o, n, p in rows],
        schema={
            "id": pl.Int64,
            "source_id": pl.Int64,
            "observed_at": pl.String,
            "entity_key": pl.String,
            "name": pl.String,
            "phone": pl.String,
        },
        orient="row",
    )


def test_priority_wins_on_name_recency_on_phone() -> None:
    golden = choose_golden(
        records(
            [
                (1, POLICE, "2026-01-01", "张伟", "13800000001"),
                (2, HEALTH, "2026-05-01", "張偉", "13800000002"),
                (3, HRSS, "2026-03-01", None, "13800000003"),
            ]
        ),
        EntityType.person,
        PRIORITIES,
    ).row(0, named=True)
    assert golden["name"] == "张伟"
    assert golden["phone"] == "13800000002"
    assert golden["sources"] == 3
    assert orjson.loads(golden["provenance"]) == {"name": 1, "phone": 2}


def test_a_missing_value_does_not_win() -> None:
    golden = choose_golden(
        records([(1, POLICE, "2026-01-01", None, None), (2, HEALTH, "2025-01-01", "王芳", None)]),
        EntityType.person,
        PRIORITIES,
    ).row(0, named=True)
    assert golden["name"] == "王芳" and golden["phone"] is None
    assert orjson.loads(golden["provenance"]) == {"name": 2}


def test_ties_go_to_the_newest_record() -> None:
    golden = choose_golden(
        records(
            [
                (1, HRSS, "2026-01-01", None, "13800000001"),
                (2, HRSS, "2026-01-01", None, "13800000009"),
            ]
        ),
        EntityType.person,
        PRIORITIES,
    ).row(0, named=True)
    assert golden["phone"] == "13800000009"


@given(
    st.lists(
        st.tuples(
            st.sampled_from([POLICE, HEALTH, HRSS]),
            st.dates().map(str),
            st.text("张王李赵", min_size=1, max_size=3),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_name_is_always_the_police_value_when_police_has_one(claims) -> None:
    rows = [(i, s, o, n, None) for i, (s, o, n) in enumerate(claims, 1)]
    golden = choose_golden(records(rows), EntityType.person, PRIORITIES).row(0, named=True)
    police = [(o, i, n) for i, s, o, n, _ in rows if s == POLICE]
    if police:
        assert golden["name"] == max(police)[2]  # police's newest, newest id on a tie
    else:
        assert golden["name"] in {n for _, s, _, n, _ in rows}


def test_a_key_with_one_claim_points_every_value_at_it() -> None:
    golden = choose_golden(
        records([(7, HEALTH, "2026-01-01", "王芳", None)]), EntityType.person, PRIORITIES
    ).row(0, named=True)
    assert orjson.loads(golden["provenance"]) == {"*": 7}
    values = {"name": golden["name"], "phone": golden["phone"]}
    assert chosen_records(orjson.loads(golden["provenance"]), values) == {"name": 7}
    # a contested record names each attribute's record, and is read as it is
    assert chosen_records({"name": 1, "phone": 2}, values) == {"name": 1, "phone": 2}
    assert chosen_records(None, values) == {}
