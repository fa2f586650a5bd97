"""Cleaning whole columns: polars expressions, and Python only once per distinct value.

Every kind gives the same answers as its scalar parser (the tests check this); the scalar
parsers are the specification, these are the fast path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from gridweave.ingest.cleaning import numeric, text
from gridweave.ingest.cleaning._chars import WS_CHARS, WS_CLASS, china_today
from gridweave.ingest.cleaning._distinct import all_distinct, frame_per_distinct
from gridweave.ingest.cleaning._vector_addresses import address_frame
from gridweave.ingest.cleaning._vector_dates import date_frame, datetime_frame
from gridweave.ingest.cleaning._vector_ids import citizen_id_frame, credit_code_frame
from gridweave.ingest.cleaning._vector_phones import phone_frame
from gridweave.ingest.cleaning.names import clean_names
from gridweave.registry.attributes import Kind

DERIVED: dict[Kind, tuple[str, ...]] = {
    Kind.citizen_id: ("birth_date", "sex", "area_code", "id_kind"),
    Kind.credit_code: ("registration_authority", "entity_category", "area_code"),
    Kind.phone: ("phone_kind",),
    Kind.address: ("building_key", "room_key", "district", "street", "road"),
}


@dataclass
class Cleaned:
    """A cleaned column: canonical values, problems, and columns derived from the values."""

    value: pl.Series
    problem: pl.Series
    derived: dict[str, pl.Series] = field(default_factory=dict)


def _lit(s: str) -> pl.Expr:
    return pl.lit(s, dtype=pl.String)


def _cleaned(frame: pl.DataFrame, name: str, derived: Sequence[str] = ()) -> Cleaned:
    return Cleaned(
        value=frame["value"].rename(name),
        problem=frame["problem"].cast(pl.String).rename(name),
        derived={d: frame[d].rename(d) for d in derived},
    )


def _text(raw: pl.Series, codes: Mapping[str, str] | None) -> pl.DataFrame:
    collapsed = raw.rename("raw").str.replace_all(WS_CLASS + "+", " ").str.strip_chars(" ")
    value: pl.Expr = pl.when(pl.col("c") != "").then(pl.col("c"))
    if codes:
        lookup = text.code_lookup(codes, frozenset())
        key = pl.col("c").str.replace_many(list(text.LATIN_LOWER), list(text.LATIN_LOWER.values()))
        value = pl.coalesce(key.replace_strict(lookup, default=None, return_dtype=pl.String), value)
    return collapsed.to_frame("c").select(value=value, problem=pl.lit(None, dtype=pl.String))


def _code(raw: pl.Series, codes: Mapping[str, str] | None, allowed: frozenset[str]) -> pl.DataFrame:
    collapsed = raw.rename("raw").str.replace_all(WS_CLASS + "+", " ").str.strip_chars(" ")
    cleaned = pl.when(pl.col("c") != "").then(pl.col("c"))
    key = pl.col("c").str.replace_many(list(text.LATIN_LOWER), list(text.LATIN_LOWER.values()))
    lookup = text.code_lookup(codes, allowed)
    mapped = key.replace_strict(lookup, default=None, return_dtype=pl.String) if lookup else None
    if not allowed:
        value = pl.coalesce(mapped, cleaned) if mapped is not None else cleaned
        return collapsed.to_frame("c").select(value=value, problem=pl.lit(None, dtype=pl.String))
    known = text.known_codes(codes, allowed)
    ok = pl.when(mapped.is_in(list(allowed))).then(mapped) if mapped is not None else pl.lit(None)
    return collapsed.to_frame("c").select(
        value=ok.cast(pl.String),
        problem=pl.when(cleaned.is_not_null() & ok.is_null()).then(
            _lit("'") + cleaned + "' is not a known code; known: " + known
        ),
    )


def _number(raw: pl.Series, whole: bool) -> pl.DataFrame:
    s = (
        raw.rename("raw")
        .str.replace_many(list(numeric.TRANSLATION), list(numeric.TRANSLATION.values()))
        .str.replace_all(numeric.WS_RE_TEXT, "")
    )
    g = pl.col("s").str.extract_groups(numeric.NUMBER_RE)
    sign, integer = g.struct.field("sign"), g.struct.field("int").fill_null("")
    frac = g.struct.field("frac").fill_null("")
    matched = sign.is_not_null() & ((integer != "") | (frac != ""))
    # A whole number may be written with a zero fraction ("12.0", as Excel exports it).
    ok = matched & (frac.str.strip_chars("0") == "") if whole else matched
    digits = integer.str.replace_all(",", "").str.strip_chars_start("0")
    digits = pl.when(digits == "").then(_lit("0")).otherwise(digits)
    kept = pl.lit("") if whole else frac.str.strip_chars_end("0")
    body = pl.when(kept != "").then(digits + "." + kept).otherwise(digits)
    signed = pl.when((sign == "-") & (body != "0")).then("-" + body).otherwise(body)
    what = "a whole number" if whole else "a number"
    return (
        raw.rename("raw")
        .to_frame()
        .with_columns(s=s)
        .select(
            value=pl.when(ok).then(signed),
            problem=pl.when(~ok & (pl.col("s") != "")).then(
                _lit("'") + pl.col("raw").str.strip_chars(WS_CHARS) + f"' is not {what}"
            ),
        )
    )


def clean_series(
    kind: str,
    raw: pl.Series,
    *,
    formats: Sequence[str] | None = None,
    codes: dict[str, str] | None = None,
    allowed: frozenset[str] = frozenset(),
    today: date | None = None,
) -> Cleaned:
    """Clean a raw column as one of the canonical attribute kinds."""
    k = Kind(kind)
    s = raw.cast(pl.String)
    if k is Kind.name:  # Python (OpenCC) once per distinct name
        frame = all_distinct(
            s, lambda names: [(n, None) for n in clean_names(names)], ("value", "problem")
        )
    elif k in _MOSTLY_REPEATED:
        frame = frame_per_distinct(s, lambda v: _frame(k, v, formats, codes, allowed, today))
    else:
        frame = _frame(k, s, formats, codes, allowed, today)
    return _cleaned(frame, raw.name, DERIVED.get(k, ()))


# Kinds whose columns repeat most of their values (codes, birth dates, amounts, a household's
# type on every member's row): cleaned once per distinct value (frame_per_distinct). Ids,
# phones and time stamps are mostly distinct: there the join would only add a pass (addresses
# look their distinct values up themselves: address_frame).
_MOSTLY_REPEATED = frozenset({Kind.text, Kind.code, Kind.date, Kind.integer, Kind.decimal})


def _frame(
    k: Kind,
    s: pl.Series,
    formats: Sequence[str] | None,
    codes: dict[str, str] | None,
    allowed: frozenset[str],
    today: date | None,
) -> pl.DataFrame:
    """The cleaning of a kind other than names, as a frame of value, problem and derived
    columns, one row per value of `s`."""
    if k is Kind.citizen_id:
        return citizen_id_frame(s, today or china_today())
    if k is Kind.credit_code:
        return credit_code_frame(s)
    if k is Kind.text:
        return _text(s, codes)
    if k is Kind.code:
        return _code(s, codes, allowed)
    if k is Kind.phone:
        return phone_frame(s)
    if k is Kind.date:
        return date_frame(s, formats)
    if k is Kind.datetime:
        return datetime_frame(s)
    if k is Kind.address:
        return address_frame(s)
    return _number(s, whole=k is Kind.integer)


def contradictions(
    id_birth: pl.Series, id_sex: pl.Series, birth: pl.Series, sex: pl.Series
) -> pl.Series:
    """Per row, how a record's own birth date or sex contradicts its citizen id; else null."""
    frame = pl.DataFrame(
        {
            "id_birth": id_birth.cast(pl.String),
            "id_sex": id_sex.cast(pl.String),
            "birth": birth.cast(pl.String),
            "sex": sex.cast(pl.String),
        }
    )
    id_birth_, id_sex_, birth_, sex_ = (pl.col(c) for c in ("id_birth", "id_sex", "birth", "sex"))
    birth_problem = pl.when(id_birth_ != birth_).then(
        _lit("birth date ") + birth_ + " contradicts the citizen id (" + id_birth_ + ")"
    )
    # "unknown" (or any other value) is not a claim about sex, so it contradicts nothing.
    sex_problem = pl.when(sex_.is_in(["male", "female"]) & (id_sex_ != sex_)).then(
        _lit("sex ") + sex_ + " contradicts the citizen id (" + id_sex_ + ")"
    )
    joined = pl.concat_str([birth_problem, sex_problem], separator="; ", ignore_nulls=True)
    return frame.select(contradiction=pl.when(joined != "").then(joined))["contradiction"]
