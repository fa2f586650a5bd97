"""Phone numbers over whole columns: the common shapes in polars, the rest by clean_phone.

A value whose digits are a mainland number as phonenumbers reads it (mobile, landline or a
service number) is decided here, by phonenumbers' own metadata for China turned into polars
expressions: its patterns are plain regular expressions, valid for Python and Rust alike.
Everything else (invalid numbers, other countries, odd prefixes) goes to clean_phone once per
distinct value, so the answers are clean_phone's in every case.
"""

from __future__ import annotations

import re

import phonenumbers
import polars as pl
from phonenumbers import PhoneMetadata, PhoneNumberDesc

from gridweave.ingest.cleaning._chars import FULLWIDTH, WS_CLASS
from gridweave.ingest.cleaning._distinct import fill_undecided
from gridweave.ingest.cleaning.phones import SEPARATOR_CLASS, clean_phone


def _china() -> tuple[PhoneMetadata, PhoneNumberDesc]:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    general = metadata.general_desc if metadata else None
    if metadata is None or general is None:
        raise RuntimeError("phonenumbers has no metadata for China")
    return metadata, general


_CN, _GENERAL = _china()
COLUMNS = ("value", "problem", "phone_kind")

# Only the full-width characters that become digits, '+' or separators: any other one leaves
# the value undecided, for clean_phone to translate.
_DIALLED_FULLWIDTH = {k: v for k, v in FULLWIDTH.items() if v in "0123456789+-()[]."}
_DROPPED = f"{WS_CLASS}|{SEPARATOR_CLASS}"

# How clean_phone and phonenumbers.parse(…, "CN") find the national number in bare digits:
# after +86 or 0086; after 86 when 10 or more digits follow (clean_phone's own rule); after
# the national prefix (0) when a non-zero digit follows; or the digits as they stand. Other
# shapes (another country, 00 or 0 twice) are left to clean_phone.
_SHAPES = (
    rf"^(?:(?:\+{_CN.country_code}|00{_CN.country_code})(?P<intl>[0-9]+)"
    rf"|{_CN.country_code}(?P<bare86>[0-9]{{10,}})"
    rf"|{_CN.national_prefix}(?P<trunk>[1-9][0-9]*)"
    r"|(?P<plain>[1-9][0-9]*))$"
)


def _anchored(pattern: str) -> str:
    return f"^(?:{pattern})$"


def _fullmatch(digits: pl.Expr, desc: PhoneNumberDesc | None) -> pl.Expr:
    """phonenumbers' _match_national_number: the whole pattern, never an empty one."""
    pattern = desc.national_number_pattern if desc else None
    return digits.str.contains(_anchored(pattern)) if pattern else pl.lit(False)


def _matches(national: pl.Expr, desc: PhoneNumberDesc | None) -> pl.Expr:
    """phonenumbers' _is_number_matching_desc: a possible length and the whole pattern."""
    if desc is None or not desc.possible_length:
        return _fullmatch(national, desc)
    return national.str.len_chars().is_in(list(desc.possible_length)) & _fullmatch(national, desc)


def _number_type(national: pl.Expr) -> pl.Expr:
    """phonenumbers' _number_type_helper, as 'landline', 'mobile', 'other' or null (invalid)."""
    other = pl.lit(False)
    for desc in (
        _CN.premium_rate,
        _CN.toll_free,
        _CN.shared_cost,
        _CN.voip,
        _CN.personal_number,
        _CN.pager,
        _CN.uan,
        _CN.voicemail,
    ):
        other = other | _matches(national, desc)
    fixed, mobile = _matches(national, _CN.fixed_line), _matches(national, _CN.mobile)
    # clean_phone counts a number valid as either fixed line or mobile as mobile if it starts
    # with 1.
    either = fixed & (mobile | pl.lit(bool(_CN.same_mobile_and_fixed_line_pattern)))
    return (
        pl.when(~_matches(national, _GENERAL))
        .then(None)
        .when(other)
        .then(pl.lit("other"))
        .when(either & national.str.starts_with("1"))
        .then(pl.lit("mobile"))
        .when(fixed)
        .then(pl.lit("landline"))
        .when(mobile)
        .then(pl.lit("mobile"))
    )


def _with_national(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Column national: what phonenumbers would read from the bare digits d; null if unsure."""
    d = pl.col("d")
    frame = frame.with_columns(g=d.str.extract_groups(_SHAPES)).unnest("g")
    intl, trunk, plain = pl.coalesce("intl", "bare86"), pl.col("trunk"), pl.col("plain")
    national_prefix = f"^(?:{_CN.national_prefix_for_parsing})"
    general = _fullmatch(d, _GENERAL)
    frame = frame.with_columns(
        # After a country code phonenumbers still strips a national prefix or carrier code.
        national=pl.when(intl.is_not_null())
        .then(pl.when(~intl.str.contains(national_prefix)).then(intl))
        # It keeps the 0 when the digits with it already make a number.
        .when(trunk.is_not_null())
        .then(pl.when(~general).then(trunk))
        # Unless they start with an international (IDD) or carrier prefix, which it would
        # strip, or with 86, which it may take for the country code.
        .when(
            ~d.str.contains(f"^(?:{_CN.international_prefix})")
            & ~d.str.contains(national_prefix)
            & ~d.str.starts_with(str(_CN.country_code))
        )
        .then(plain)
    )
    # Lengths phonenumbers would not strip a prefix for, all invalid anyway.
    length = pl.col("national").str.len_chars()
    lengths = list(_GENERAL.possible_length)
    local = list(_GENERAL.possible_length_local_only)
    return frame.with_columns(
        national=pl.when(length.is_in(lengths) & ~length.is_in(local)).then(pl.col("national"))
    )


def _rust_replacement(python_format: str) -> str:
    return re.sub(r"\\(\d)", r"${\1}", python_format.replace("$", "$$"))


def _area_code_length(national: pl.Expr) -> pl.Expr:
    """phonenumbers' length_of_geographical_area_code for a landline.

    The first group of digits of the number in international format when another follows,
    the format being the first whose leading digits and pattern fit.
    """
    lengths = []
    for fmt in _CN.intl_number_format or _CN.number_format:
        if not (fmt.pattern and fmt.format):
            continue
        fits = national.str.contains(_anchored(fmt.pattern))
        if fmt.leading_digits_pattern:
            fits = national.str.contains(f"^(?:{fmt.leading_digits_pattern[-1]})") & fits
        formatted = national.str.replace_all(fmt.pattern, _rust_replacement(fmt.format))
        first = formatted.str.extract(r"^[^0-9]*([0-9]+)[^0-9]+[0-9]", 1)
        lengths.append(pl.when(fits).then(first.str.len_chars().fill_null(0)))
    return pl.coalesce(*lengths, pl.lit(0, dtype=pl.UInt32))


def phone_frame(raw: pl.Series) -> pl.DataFrame:
    """Columns value, problem and phone_kind, equal to clean_phone's for every value."""
    national, kind = pl.col("national"), pl.col("type")
    frame = (
        raw.rename("raw")
        .to_frame()
        .lazy()
        .with_columns(
            d=pl.col("raw")
            .str.replace_many(list(_DIALLED_FULLWIDTH), list(_DIALLED_FULLWIDTH.values()))
            .str.replace_all(_DROPPED, "")
        )
        .pipe(_with_national)
        .with_columns(type=_number_type(national))
        .with_columns(
            value=pl.when(kind.is_in(["mobile", "other"])).then(national),
            problem=pl.lit(None, dtype=pl.String),
            phone_kind=pl.when(kind != "other").then(kind),
            undecided=pl.col("raw").is_not_null() & (pl.col("d") != "") & kind.is_null(),
        )
        .collect()
    )
    # Area codes are dear to find, so only the landlines' rows are written here.
    rows = frame["type"].eq("landline").fill_null(False).arg_true()
    if not rows.is_empty():
        written = (
            frame["national"]
            .gather(rows)
            .to_frame()
            .lazy()
            .with_columns(area=_area_code_length(national))
            .select(
                pl.lit("0")
                + national.str.slice(0, pl.col("area"))
                + "-"
                + national.str.slice(pl.col("area"))
            )
            .collect()
            .to_series()
        )
        frame = frame.with_columns(frame["value"].clone().scatter(rows, written))
    return fill_undecided(frame, frame["undecided"], _clean_phone, COLUMNS).select(COLUMNS)


def _clean_phone(raw: str) -> tuple[str | None, str | None, str | None]:
    p = clean_phone(raw)
    return p.value, p.problem, p.kind
