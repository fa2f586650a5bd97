"""Python once per distinct value: for kinds with no polars form, and for what one leaves open."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import polars as pl


def per_distinct(
    raw: pl.Series, fn: Callable[[str], Sequence[str | None]], columns: Sequence[str]
) -> pl.DataFrame:
    """Apply a Python function once per distinct non-null value; its outputs, row by row."""
    return all_distinct(raw, lambda values: [fn(v) for v in values], columns)


def all_distinct(
    raw: pl.Series,
    fn: Callable[[list[str]], Sequence[Sequence[str | None]]],
    columns: Sequence[str],
) -> pl.DataFrame:
    """Apply a Python function to the list of distinct non-null values at once (its outputs in
    the same order); its outputs, row by row."""

    def table(distinct: pl.Series) -> pl.DataFrame:
        results = fn(distinct.to_list())
        return pl.DataFrame(
            {
                c: pl.Series(c, [r[i] for r in results], dtype=pl.String)
                for i, c in enumerate(columns)
            }
        )

    return frame_per_distinct(raw, table)


def frame_per_distinct(raw: pl.Series, clean: Callable[[pl.Series], pl.DataFrame]) -> pl.DataFrame:
    """`clean` over the distinct non-null values of `raw` only (a frame of one row per value,
    in order), its rows joined back to every row of `raw`; a null gets nulls. A column repeats
    most of its values (codes, birth dates, a household's address on each member's row)."""
    distinct = raw.drop_nulls().unique()
    table = clean(distinct).with_columns(distinct.alias("_raw"))
    rows = raw.alias("_raw").to_frame()
    return rows.join(table, on="_raw", how="left", maintain_order="left").drop("_raw")


def fill_undecided(
    frame: pl.DataFrame,
    undecided: pl.Series,
    fn: Callable[[str], Sequence[str | None]],
    columns: Sequence[str],
) -> pl.DataFrame:
    """`frame` with `columns` of the undecided rows replaced by `fn` of their column `raw`."""
    rows = undecided.fill_null(False).arg_true()
    if rows.is_empty():
        return frame
    slow = per_distinct(frame["raw"].gather(rows), fn, columns)
    # Scattered into the few rows rather than joined over all of them: a join costs as much
    # as the polars expressions it falls back from.
    return frame.with_columns(frame[c].clone().scatter(rows, slow[c]) for c in columns)
