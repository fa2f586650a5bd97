"""What a batch's earlier chunks held: record ids seen before wait in quarantine, a claim made
before is stored once, and a hash shared by two values never makes them one (the ingest of
chunked files is in tests/integration/test_ingest)."""

from __future__ import annotations

import polars as pl

from gridweave.ingest.pipeline import CLAIM, EarlierChunks, keyed


def lines(earlier: EarlierChunks, rids: list[str | None], first_line: int) -> list[int | None]:
    numbers = pl.Series(range(first_line, first_line + len(rids)), dtype=pl.Int64)
    return earlier.first_lines(pl.Series(rids, dtype=pl.String), numbers).to_list()


def test_a_record_id_points_to_the_line_it_first_appeared_on() -> None:
    earlier = EarlierChunks()
    assert lines(earlier, ["a", "b", "a", None, None], 2) == [None, None, 2, None, None]
    assert lines(earlier, ["c", "b", "c", "a"], 7) == [None, 3, 7, 2]
    assert lines(earlier, ["d"], 11) == [None]


def test_a_hash_shared_by_two_record_ids_does_not_make_them_one() -> None:
    earlier = EarlierChunks()
    lines(earlier, ["a"], 2)
    # "z" stored under the hash of "b", as if the two collided
    collided = keyed(pl.DataFrame({"rid": ["b"]}), ["rid"])["key"].item()
    earlier.record_lines = pl.concat(
        [
            earlier.record_lines,
            pl.DataFrame(
                {"rid": ["z"], "first": [3], "key": [collided]},
                schema=earlier.record_lines.schema,
            ),
        ]
    )
    assert lines(earlier, ["b", "a"], 4) == [None, 2]
    assert lines(earlier, ["b"], 6) == [4]  # and "b" was remembered beside "z"


def claims(rows: list[tuple[str, str | None, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=dict.fromkeys(CLAIM, pl.String), orient="row").with_columns(
        line_number=pl.int_range(pl.len())
    )


def test_a_claim_about_a_linked_entity_is_kept_once_across_chunks() -> None:
    earlier = EarlierChunks()
    first = earlier.first_claims(
        claims([("person", "p1", "x"), ("household", "h1", "y"), ("household", "h1", "y")]),
        linked=["household"],
    )
    assert first["entity_key"].to_list() == ["p1", "h1"]
    later = earlier.first_claims(
        claims(
            [
                ("person", "p1", "x"),  # the row's own entity: not linked, so kept
                ("household", "h1", "y"),  # said before: dropped
                ("household", "h1", "changed"),  # a new claim about the household
                ("household", None, "y"),  # unkeyed records are never dropped
                ("household", None, "y"),
            ]
        ),
        linked=["household"],
    )
    assert later.select(CLAIM).rows() == [
        ("person", "p1", "x"),
        ("household", "h1", "changed"),
        ("household", None, "y"),
        ("household", None, "y"),
    ]
    assert later["line_number"].to_list() == [0, 2, 3, 4]  # in line order, columns kept


def test_a_hash_shared_by_two_claims_does_not_make_them_one() -> None:
    earlier = EarlierChunks()
    collided = keyed(claims([("household", "h2", "y")]), CLAIM)["key"].item()
    earlier.claims = pl.DataFrame(
        {
            "entity_type": ["household"],
            "entity_key": ["h9"],
            "record_hash": ["q"],
            "key": [collided],
        },
        schema=earlier.claims.schema,
    )
    kept = earlier.first_claims(claims([("household", "h2", "y")]), linked=["household"])
    assert kept["entity_key"].to_list() == ["h2"]
