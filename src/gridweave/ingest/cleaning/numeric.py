"""Whole numbers and decimal amounts: thousands separators, yuan signs and full-width digits.

The canonical text (no plus sign, no leading zeros, no trailing fractional zeros, "0" for any
zero) is built by the regexes below, which the vectorised cleaner applies unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from gridweave.ingest.cleaning._chars import FULLWIDTH, WS_CHARS, WS_CLASS

# Half-width digits and signs; the yuan signs and minus sign that are not in the full-width block.
TRANSLATION: dict[str, str] = {**FULLWIDTH, "\uffe5": "¥", "\u2212": "-"}
_TABLE = str.maketrans(TRANSLATION)

# Commas only in groups of three, so a decimal comma ("1,5") is refused rather than read as 15.
_DIGITS = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)"
NUMBER_RE = rf"^(?:¥|RMB|CNY)?(?P<sign>[+-]?)(?P<int>{_DIGITS})?(?:\.(?P<frac>[0-9]*))?元?$"
WS_RE_TEXT = WS_CLASS + "+"

_WS = re.compile(WS_RE_TEXT)
_NUMBER = re.compile(NUMBER_RE)


@dataclass(frozen=True)
class ParsedInteger:
    """A whole number, or why there is none."""

    value: int | None
    problem: str | None = None


@dataclass(frozen=True)
class ParsedDecimal:
    """A decimal amount, or why there is none."""

    value: Decimal | None
    problem: str | None = None


def normalise(raw: str) -> str:
    """Half-width, with all whitespace removed (some exports group digits with spaces)."""
    return _WS.sub("", raw.translate(_TABLE))


def canonical(sign: str, whole: str, frac: str) -> str:
    """The canonical text of a number from its matched parts."""
    whole = whole.replace(",", "").lstrip("0") or "0"
    frac = frac.rstrip("0")
    text = f"{whole}.{frac}" if frac else whole
    return text if sign != "-" or text == "0" else "-" + text


def _split(s: str) -> tuple[str, str, str] | None:
    m = _NUMBER.match(s)
    if not m or not (m["int"] or m["frac"]):
        return None
    return m["sign"], m["int"] or "", m["frac"] or ""


def parse_integer(raw: str | None) -> ParsedInteger:
    """A whole number ('1,234', '12.0', '１２'); blank is no problem."""
    if raw is None or not (s := normalise(raw)):
        return ParsedInteger(None)
    parts = _split(s)
    if parts is None or parts[2].strip("0"):
        return ParsedInteger(None, f"'{raw.strip(WS_CHARS)}' is not a whole number")
    return ParsedInteger(int(canonical(parts[0], parts[1], "")))


def parse_decimal(raw: str | None) -> ParsedDecimal:
    """A decimal amount ('1,234.5', '¥1,234', '１２.５元'); blank is no problem."""
    if raw is None or not (s := normalise(raw)):
        return ParsedDecimal(None)
    parts = _split(s)
    if parts is None:
        return ParsedDecimal(None, f"'{raw.strip(WS_CHARS)}' is not a number")
    return ParsedDecimal(Decimal(canonical(*parts)))


def decimal_text(value: Decimal) -> str:
    """The canonical text of a decimal, as the vectorised cleaner writes it."""
    sign, digits, exponent = value.as_tuple()
    text = "".join(map(str, digits))
    if not isinstance(exponent, int):
        raise ValueError("not a finite number")
    if exponent >= 0:
        whole, frac = text + "0" * exponent, ""
    else:
        text = text.rjust(-exponent + 1, "0")
        whole, frac = text[:exponent], text[exponent:]
    return canonical("-" if sign else "", whole, frac)
