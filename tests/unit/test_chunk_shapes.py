"""How a batch cuts the reader's chunks before staging them (ingest.service._shaped)."""

from __future__ import annotations

import polars as pl

from gridweave.ingest.readers import LINE, BadRow, Chunk
from gridweave.ingest.service import _shaped


def _chunk(first_line: int, rows: int, bytes_read: int, bad: list[BadRow] | None = None) -> Chunk:
    lines = range(first_line, first_line + rows)
    frame = pl.DataFrame({LINE: list(lines), "name": [f"n{i}" for i in lines]})
    return Chunk(frame, bad or [], bytes_read)


def test_the_first_chunk_is_cut_to_a_tenth_and_the_end_of_the_file_to_quarters() -> None:
    bad = BadRow(7, {"name": "x"}, "ragged")
    late_bad = BadRow(460, {"name": "y"}, "ragged")
    chunks = [
        _chunk(2, 100, 1000),
        _chunk(102, 100, 2000),
        _chunk(202, 100, 3000, [bad]),
        _chunk(302, 30, 3000, [late_bad]),
    ]
    shaped = list(_shaped(iter(chunks), 3000, chunk_rows=100))
    assert [c.frame.height for c in shaped] == [10, 90, 100, 25, 25, 25, 25, 25, 5]
    assert pl.concat([c.frame for c in shaped])[LINE].to_list() == list(range(2, 332))
    # a chunk's unreadable rows go with its first piece, once
    assert [c.bad_rows for c in shaped if c.bad_rows] == [[bad], [late_bad]]
    assert [c.bytes_read for c in shaped] == [1000, 1000, 2000, *[3000] * 6]


def test_a_chunk_of_only_unreadable_rows_is_kept() -> None:
    bad = BadRow(2, {"name": "x"}, "ragged")
    shaped = list(_shaped(iter([_chunk(2, 0, 50, [bad])]), 50, chunk_rows=100))
    assert [(c.frame.height, c.bad_rows) for c in shaped] == [(0, [bad])]
