"""Character classes and translation tables shared by the scalar and the vectorised cleaners."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

from gridweave.core import clock

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Spelled out rather than `\s` because Python's `\s` and Rust's (polars) disagree on \x1c-\x1f;
# the same pattern must mean the same thing on both sides. Zero-width space and BOM are included
# because spreadsheet exports carry them.
WS_CLASS = (
    r"[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]"
)
WS_RE = re.compile(WS_CLASS + "+")
WS_CHARS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200C))
    + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)

# Full-width ASCII (U+FF01–U+FF5E) to half-width, plus the ideographic space.
FULLWIDTH: dict[str, str] = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}
FULLWIDTH["\u3000"] = " "
FULLWIDTH_TABLE = str.maketrans(FULLWIDTH)

# Full-width digits only, with ASCII digits left alone: what identifiers need.
DIGITS: dict[str, str] = {chr(0xFF10 + i): str(i) for i in range(10)}

LATIN_UPPER: dict[str, str] = {chr(c): chr(c - 32) for c in range(ord("a"), ord("z") + 1)}


def china_today() -> date:
    """Today's date in China, from the one clock (tests can move it)."""
    return clock.now().astimezone(SHANGHAI).date()


def is_blank(raw: str | None) -> bool:
    """True for None and for strings holding only whitespace."""
    return raw is None or WS_RE.sub("", raw) == ""
