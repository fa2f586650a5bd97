"""Dates and times as departments write them, including Excel's serial day numbers.

The patterns here are used unchanged by the vectorised cleaner, so they keep to the regex
syntax Python and polars share (no backreferences, no lookaround).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from gridweave.ingest.cleaning._chars import FULLWIDTH_TABLE, SHANGHAI, WS_CHARS

DATE_PART = (
    r"(?P<y>[0-9]{4})(?:[-/.](?P<m>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})"
    r"|年(?P<m2>[0-9]{1,2})月(?P<d2>[0-9]{1,2})"
    r"|(?P<m3>[0-9]{2})(?P<d3>[0-9]{2}))日?"
)
TIME_PART = (
    r"(?:(?:T|[ ]+|日[ ]*)(?P<hh>[0-9]{1,2})[:时点](?P<mi>[0-9]{2})分?"
    r"(?::?(?P<ss>[0-9]{2})(?:\.[0-9]+)?秒?)?)?"
    r"(?P<tz>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)
DATE_RE = f"^{DATE_PART}{TIME_PART}$"
SERIAL_RE = r"^(?P<serial>[0-9]{1,5})(?:\.(?P<frac>[0-9]+))?$"
SERIAL_MAX = 80_000
SERIAL_FAKE_LEAP_DAY = 60  # Excel's 1900-02-29, which never was
EXCEL_EPOCH = date(1899, 12, 30)  # day 0 for serials after the fake leap day
# Four digits in this range are a year written alone (a birth year), not an Excel serial for a
# day in 1905: better no date than a wrong one.
YEAR_RE = r"^[0-9]{4}$"
YEAR_FIRST, YEAR_LAST = 1880, 2100

_DATE = re.compile(DATE_RE)
_SERIAL = re.compile(SERIAL_RE)
_YEAR = re.compile(YEAR_RE)


@dataclass(frozen=True)
class ParsedDate:
    """A date, or why there is none."""

    value: date | None
    problem: str | None = None


def normalise(raw: str) -> str:
    """Half-width characters, outer whitespace removed."""
    return raw.translate(FULLWIDTH_TABLE).strip(WS_CHARS)


def serial_date(serial: int) -> date | None:
    """The date of an Excel (1900 system) serial day number; None for the fake 1900-02-29."""
    if serial == SERIAL_FAKE_LEAP_DAY:
        return None
    # Excel counts 1900 as a leap year, so serials before its fake leap day are one day later.
    return EXCEL_EPOCH + timedelta(days=serial + (serial < SERIAL_FAKE_LEAP_DAY))


def _ymd(m: re.Match[str]) -> date | None:
    month = m["m"] or m["m2"] or m["m3"]
    day = m["d"] or m["d2"] or m["d3"]
    try:
        return date(int(m["y"]), int(month), int(day))
    except ValueError:
        return None


def is_year_alone(s: str) -> bool:
    """True for normalised text that is a year on its own, such as "1985"."""
    return bool(_YEAR.match(s)) and YEAR_FIRST <= int(s) <= YEAR_LAST


def not_a_date(raw: str) -> str:
    """The problem reported for a value that is not a date."""
    return f"'{raw.strip(WS_CHARS)}' is not a date"


def parse_date(raw: str | None, formats: Sequence[str] | None = None) -> ParsedDate:
    """The date a value names, trying the caller's strptime formats first; blank is no problem."""
    if raw is None:
        return ParsedDate(None)
    s = normalise(raw)
    if not s:
        return ParsedDate(None)
    for fmt in formats or ():
        try:
            return ParsedDate(datetime.strptime(s, fmt).date())
        except ValueError:
            continue
    if m := _DATE.match(s):
        found = _ymd(m)
        return ParsedDate(found) if found else ParsedDate(None, not_a_date(raw))
    if is_year_alone(s):
        return ParsedDate(None, f"'{s}' is only a year, not a date")
    if (m := _SERIAL.match(s)) and 1 <= int(m["serial"]) <= SERIAL_MAX:
        serial = int(m["serial"])
        if serial == SERIAL_FAKE_LEAP_DAY:
            return ParsedDate(None, f"'{s}' is Excel's 1900-02-29, a day that never was")
        return ParsedDate(serial_date(serial))
    return ParsedDate(None, not_a_date(raw))


def _offset(tz: str) -> timezone | None:
    if tz == "Z":
        return UTC
    digits = tz[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        return None
    sign = -1 if tz[0] == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _local_to_utc(naive: datetime) -> datetime | None:
    # fold=0 takes the earlier of two readings of an ambiguous time (Chinese summer time,
    # 1986–1991); a time that the clocks skipped has no reading and gives None.
    try:
        utc = naive.replace(tzinfo=SHANGHAI, fold=0).astimezone(UTC)
    except OverflowError:  # before 0001-01-01 in UTC
        return None
    if utc.astimezone(SHANGHAI).replace(tzinfo=None) != naive:
        return None
    return utc


def parse_datetime(raw: str | None) -> datetime | None:
    """A time-zone-aware UTC datetime, whole seconds; naive values are taken as Shanghai time."""
    if raw is None:
        return None
    s = normalise(raw)
    if m := _DATE.match(s):
        day = _ymd(m)
        h, mi, sec = int(m["hh"] or 0), int(m["mi"] or 0), int(m["ss"] or 0)
        if day is None or h > 23 or mi > 59 or sec > 59:
            return None
        naive = datetime(day.year, day.month, day.day, h, mi, sec)
        if m["tz"]:
            tz = _offset(m["tz"])
            try:
                return naive.replace(tzinfo=tz).astimezone(UTC) if tz else None
            except OverflowError:  # the offset pushed it past year 1 or 9999
                return None
        return _local_to_utc(naive)
    if is_year_alone(s):
        return None
    if (m := _SERIAL.match(s)) and 1 <= int(m["serial"]) <= SERIAL_MAX:
        day = serial_date(int(m["serial"]))
        if day is None:
            return None
        fraction = float("0." + (m["frac"] or "0"))
        seconds = math.floor(fraction * 86_400 + 0.5)
        return _local_to_utc(datetime(day.year, day.month, day.day) + timedelta(seconds=seconds))
    return None


def iso_utc(moment: datetime) -> str:
    """The ISO 8601 text of a UTC moment, whole seconds, with a Z."""
    # isoformat pads years below 1000 to four digits; strftime's %Y does not on glibc.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
