"""Dates and datetimes over whole columns, with the grammar of dates.py as polars expressions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime

import polars as pl

from gridweave.ingest.cleaning import dates
from gridweave.ingest.cleaning._chars import FULLWIDTH, WS_CHARS

_EPOCH = pl.lit(dates.EXCEL_EPOCH, dtype=pl.Date)
_LEAP = dates.SERIAL_FAKE_LEAP_DAY
_FIRST, _LAST = datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59)


def _lit(text: str) -> pl.Expr:
    return pl.lit(text, dtype=pl.String)


def _user_formats(s: pl.Series, formats: Sequence[str]) -> pl.Series:
    # Python's strptime, once per distinct value: chrono's %Y, unlike Python's, takes "85".
    def first_match(text: str) -> date | None:
        for fmt in formats:
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        return None

    distinct = s.drop_nulls().unique()
    found = _plain_formats(distinct, formats)
    missing = found.is_null()
    if missing.any():
        rest = distinct.filter(missing).to_list()
        found = found.scatter(
            missing.arg_true(), pl.Series([first_match(t) for t in rest], dtype=pl.Date)
        )
    return s.replace_strict(distinct, found, default=None, return_dtype=pl.Date)


_PLAIN = re.compile(r"^(?:%[Ymd]|[^%])+$")


def _plain_formats(distinct: pl.Series, formats: Sequence[str]) -> pl.Series:
    """Dates for the values a plain %Y/%m/%d format reads; polars agrees with Python there.

    A value is tried in polars only where it matches the format's shape with a four-digit
    year (chrono's %Y would also take "85"); the rest are left for Python's strptime.
    """
    found = pl.repeat(None, len(distinct), dtype=pl.Date, eager=True)
    for fmt in formats:
        if not _PLAIN.match(fmt):
            return pl.repeat(None, len(distinct), dtype=pl.Date, eager=True)
        shape = (
            "^"
            + "".join(
                {"%Y": r"\d{4}", "%m": r"\d{1,2}", "%d": r"\d{1,2}"}.get(part, re.escape(part))
                for part in re.findall(r"%[Ymd]|[^%]", fmt)
            )
            + "$"
        )
        fits = distinct.str.contains(shape)
        parsed = pl.select(
            pl.when(fits).then(distinct.str.strptime(pl.Date, fmt, strict=False))
        ).to_series()
        found = pl.select(pl.coalesce(found, parsed)).to_series()
    return found


def _parts(raw: pl.Series) -> pl.DataFrame:
    """The normalised text and every group of the date and serial patterns."""
    s = raw.rename("raw").str.replace_many(list(FULLWIDTH), list(FULLWIDTH.values()))
    frame = raw.rename("raw").to_frame().with_columns(s=s.str.strip_chars(WS_CHARS))
    g = pl.col("s").str.extract_groups(dates.DATE_RE)
    serial = pl.col("s").str.extract(dates.SERIAL_RE, 1).cast(pl.Int64)
    year = pl.when(pl.col("s").str.contains(dates.YEAR_RE)).then(
        pl.col("s").str.to_integer(strict=False)
    )
    year_alone = year.is_between(dates.YEAR_FIRST, dates.YEAR_LAST).fill_null(False)
    frame = frame.with_columns(
        g.struct.field("y"),
        month=pl.coalesce(g.struct.field("m"), g.struct.field("m2"), g.struct.field("m3")),
        day=pl.coalesce(g.struct.field("d"), g.struct.field("d2"), g.struct.field("d3")),
        hh=g.struct.field("hh").cast(pl.Int64).fill_null(0),
        mi=g.struct.field("mi").cast(pl.Int64).fill_null(0),
        ss=g.struct.field("ss").cast(pl.Int64).fill_null(0),
        tz=g.struct.field("tz"),
        year_alone=year_alone,
        serial=pl.when(serial.is_between(1, dates.SERIAL_MAX) & ~year_alone).then(serial),
        frac=pl.col("s").str.extract(dates.SERIAL_RE, 2).fill_null("0"),
    )
    ymd = pl.col("y") + "-" + pl.col("month").str.zfill(2) + "-" + pl.col("day").str.zfill(2)
    written = ymd.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    n = pl.col("serial")
    from_serial = pl.when(n != _LEAP).then(
        _EPOCH + pl.duration(days=n + (n < _LEAP).cast(pl.Int64))
    )
    return frame.with_columns(
        matched=pl.col("y").is_not_null(),
        written=pl.when(written.dt.year() >= 1).then(written),
        from_serial=from_serial,
    )


def date_frame(raw: pl.Series, formats: Sequence[str] | None) -> pl.DataFrame:
    """Columns value (ISO date text) and problem."""
    frame = _parts(raw)
    found = pl.when(pl.col("matched")).then(pl.col("written")).otherwise(pl.col("from_serial"))
    if formats:
        frame = frame.with_columns(user=_user_formats(frame["s"], formats))
        found = pl.coalesce(pl.col("user"), found)
    blank = pl.col("s").is_null() | (pl.col("s") == "")
    shown = pl.col("raw").str.strip_chars(WS_CHARS)
    leap = ~pl.col("matched") & (pl.col("serial") == _LEAP)
    return frame.with_columns(found=found).select(
        value=pl.col("found").dt.to_string("%Y-%m-%d"),
        problem=pl.when(blank | pl.col("found").is_not_null())
        .then(None)
        .when(leap)
        .then(_lit("'") + pl.col("s") + "' is Excel's 1900-02-29, a day that never was")
        .when(pl.col("year_alone"))
        .then(_lit("'") + pl.col("s") + "' is only a year, not a date")
        .otherwise(_lit("'") + shown + "' is not a date"),
    )


def datetime_frame(raw: pl.Series) -> pl.DataFrame:
    """Columns value (ISO UTC text, whole seconds, Z) and problem."""
    frame = _parts(raw)
    hh, mi, ss, tz = pl.col("hh"), pl.col("mi"), pl.col("ss"), pl.col("tz")
    clock_ok = (hh <= 23) & (mi <= 59) & (ss <= 59)  # chrono would read second 60 as a leap
    written = pl.col("written").cast(pl.Datetime("us")) + pl.duration(
        hours=hh, minutes=mi, seconds=ss
    )
    seconds = (("0." + pl.col("frac")).cast(pl.Float64) * 86_400 + 0.5).floor().cast(pl.Int64)
    from_serial = pl.col("from_serial").cast(pl.Datetime("us")) + pl.duration(seconds=seconds)
    naive = pl.when(pl.col("matched")).then(pl.when(clock_ok).then(written)).otherwise(from_serial)
    digits = tz.str.replace(":", "").str.slice(1)
    off_h, off_m = digits.str.slice(0, 2).cast(pl.Int64), digits.str.slice(2).cast(pl.Int64)
    off_m = off_m.fill_null(0)
    sign = pl.when(tz.str.starts_with("-")).then(-1).otherwise(1)
    offset = (
        pl.when(tz == "Z")
        .then(0)
        .when((off_h <= 23) & (off_m <= 59))
        .then(sign * (off_h * 60 + off_m))
    )
    frame = frame.with_columns(naive=naive, offset=offset)
    fixed = (pl.col("naive") - pl.duration(minutes=pl.col("offset"))).dt.replace_time_zone("UTC")
    # "earliest" is Python's fold=0 for the doubled hour when summer time ended (1986–1991).
    local = (
        pl.col("naive")
        .dt.replace_time_zone("Asia/Shanghai", ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
    )
    moment = pl.when(tz.is_null()).then(local).otherwise(fixed)
    in_range = moment.dt.replace_time_zone(None).is_between(_FIRST, _LAST)
    frame = frame.with_columns(moment=pl.when(in_range).then(moment))
    blank = pl.col("s").is_null() | (pl.col("s") == "")
    shown = pl.col("raw").str.strip_chars(WS_CHARS)
    return frame.select(
        value=pl.col("moment").dt.to_string("%Y-%m-%dT%H:%M:%SZ"),
        problem=pl.when(blank | pl.col("moment").is_not_null())
        .then(None)
        .otherwise(_lit("'") + shown + "' is not a date and time"),
    )
