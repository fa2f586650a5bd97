"""Citizen ids and credit codes over whole columns, as polars expressions.

Each step mirrors the scalar parser in citizen_id.py / credit_code.py; the tests hold the two
to the same answers.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from gridweave.ingest.cleaning import citizen_id as cid
from gridweave.ingest.cleaning import credit_code as ucc
from gridweave.ingest.cleaning._chars import WS_CLASS


def _lit(text: str) -> pl.Expr:
    return pl.lit(text, dtype=pl.String)


def _joined(*problems: pl.Expr) -> pl.Expr:
    """Problems joined with '; ', null when there are none."""
    text = pl.concat_str(list(problems), separator="; ", ignore_nulls=True)
    return pl.when(text != "").then(text)


def _normalised(raw: pl.Expr, table: dict[str, str]) -> pl.Expr:
    return (
        raw.str.replace_many(list(table), list(table.values()))
        .str.replace_all(WS_CLASS, "")
        .str.strip_prefix("'")
    )


def _id_check_char(first17: pl.Expr) -> pl.Expr:
    # 13 ≡ 2 (mod 11), so the 17 digits read in base 13 carry the MOD 11-2 weighted sum:
    # S = 2·N (mod 11) and the check value is 1 − S. 13^17 still fits in an Int64.
    n = first17.str.to_integer(base=13, strict=False) % 11
    v = (23 - 2 * n) % 11
    return pl.when(v == 10).then(_lit("X")).otherwise(v.cast(pl.String))


def citizen_id_frame(raw: pl.Series, today: date) -> pl.DataFrame:
    """Columns value, problem, birth_date, sex, area_code, id_kind for a column of raw ids."""
    s = pl.col("s")
    old = s.str.contains(r"^[0-9]{15}$")
    upgraded17 = s.str.slice(0, 6) + _lit("19") + s.str.slice(6)
    frame = (
        raw.rename("raw")
        .to_frame()
        .with_columns(s=_normalised(pl.col("raw"), cid.TRANSLATION))
        .with_columns(
            s=pl.when(old).then(upgraded17 + _id_check_char(upgraded17)).otherwise(s),
        )
        .with_columns(
            shaped=s.str.contains(r"^[0-9]{17}[0-9X]$"),
            expected=_id_check_char(s.str.slice(0, 17)),
            digits8=s.str.slice(6, 8),
        )
        .with_columns(born=pl.col("digits8").str.strptime(pl.Date, "%Y%m%d", strict=False))
    )
    digits8, born, shaped, expected = (
        pl.col("digits8"),
        pl.col("born"),
        pl.col("shaped"),
        pl.col("expected"),
    )
    shown = digits8.str.slice(0, 4) + "-" + digits8.str.slice(4, 2) + "-" + digits8.str.slice(6, 2)
    is_date = born.is_not_null() & (born.dt.year() >= 1)
    birth_problem = (
        pl.when(~is_date)
        .then(_lit("birth date ") + shown + " is not a date")
        .when(born < cid.EARLIEST_BIRTH)
        .then(_lit("birth date ") + shown + " is before 1880")
        .when(born > today)
        .then(_lit("birth date ") + shown + " is in the future")
    )
    last = s.str.slice(17, 1)
    check_problem = pl.when(last != expected).then(
        _lit("check character should be ") + expected + ", not " + last
    )
    first = s.str.slice(0, 1)
    kind = (
        pl.when(first == "9")
        .then(_lit("foreign_permanent"))
        .when(first == "0")
        .then(None)
        .when(s.str.slice(0, 2).is_in(list(cid.HMT_PREFIXES)))
        .then(_lit("hmt_permit"))
        .otherwise(_lit("resident"))
    )
    area_problem = pl.when(first == "0").then(
        _lit("area code ") + s.str.slice(0, 6) + " is not a place"
    )
    length = s.str.len_chars()
    shape_problem = (
        pl.when(~length.is_in([15, 18]))
        .then(
            _lit("has ")
            + length.cast(pl.String)
            + " characters; a citizen id number has 18 (old ones 15 digits)"
        )
        .otherwise(_lit("may hold only digits, and X as the 18th character"))
    )
    sex = (
        pl.when(s.str.slice(16, 1).cast(pl.Int32) % 2 == 1)
        .then(_lit("male"))
        .otherwise(_lit("female"))
    )
    area = pl.when(first == "9").then(s.str.slice(1, 2) + "0000").otherwise(s.str.slice(0, 6))
    blank = s.is_null() | (s == "")
    return frame.select(
        value=pl.when(shaped).then(s),
        problem=pl.when(blank)
        .then(None)
        .when(~shaped)
        .then(shape_problem)
        .otherwise(_joined(check_problem, birth_problem, area_problem)),
        birth_date=pl.when(shaped & birth_problem.is_null()).then(born.dt.to_string("%Y-%m-%d")),
        sex=pl.when(shaped).then(sex),
        area_code=pl.when(shaped).then(area),
        id_kind=pl.when(shaped).then(kind),
    )


def credit_code_frame(raw: pl.Series) -> pl.DataFrame:
    """Columns value, problem, registration_authority, entity_category, area_code."""
    s = pl.col("s")
    frame = raw.rename("raw").to_frame().with_columns(s=_normalised(pl.col("raw"), ucc.TRANSLATION))
    weighted = [
        s.str.slice(i, 1).replace_strict(ucc.VALUES, default=None, return_dtype=pl.Int64) * w
        for i, w in enumerate(ucc.WEIGHTS)
    ]
    index = (31 - pl.sum_horizontal(weighted) % 31) % 31
    expected = index.replace_strict(dict(enumerate(ucc.ALPHABET)), return_dtype=pl.String)
    length = s.str.len_chars()
    bad = s.str.extract(f"([^{ucc.CHARSET[1:-1]}])", 1)
    area = s.str.slice(2, 6)
    shape_problem = (
        pl.when(length != 18)
        .then(
            _lit("has ")
            + length.cast(pl.String)
            + " characters; a unified social credit code has 18"
        )
        .when(bad.is_not_null())
        .then(_lit("'") + bad + "' is not used in unified social credit codes")
        .when(~area.str.contains(r"^[0-9]{6}$"))
        .then(_lit("area code ") + area + " (characters 3–8) should be 6 digits")
    )
    frame = frame.with_columns(shape_problem=shape_problem)
    shaped = pl.col("shape_problem").is_null()
    last = s.str.slice(17, 1)
    blank = s.is_null() | (s == "")
    return frame.select(
        value=pl.when(shaped).then(s),
        problem=pl.when(blank)
        .then(None)
        .when(~shaped)
        .then(pl.col("shape_problem"))
        .when(last != expected)
        .then(_lit("check character should be ") + expected + ", not " + last),
        registration_authority=pl.when(shaped).then(s.str.slice(0, 1)),
        entity_category=pl.when(shaped).then(s.str.slice(1, 1)),
        area_code=pl.when(shaped).then(area),
    )
