"""Unified social credit codes (GB 32100-2015) of legal entities.

18 characters: registration authority (1), entity category (1), area code of the registering
authority (6 digits), the entity's organisation code (9), check character. The alphabet is
0-9 and the capitals without I, O, Z, S, V; the check character makes the weighted sum
(weights 3^i mod 31) a multiple of 31.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gridweave.ingest.cleaning._chars import FULLWIDTH, LATIN_UPPER, WS_RE

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = tuple(3**i % 31 for i in range(17))
CHARSET = "[0-9A-HJ-NP-RTUW-Y]"  # the alphabet as a regex class, for both sides

# Full-width letters and digits to half-width, all Latin letters to upper case, in one pass.
TRANSLATION: dict[str, str] = {
    **{k: LATIN_UPPER.get(v, v) for k, v in FULLWIDTH.items() if v.isalnum()},
    **LATIN_UPPER,
}
_TABLE = str.maketrans(TRANSLATION)
_BAD_CHAR = re.compile(f"[^{CHARSET[1:-1]}]")
_AREA = re.compile(r"[0-9]{6}")


@dataclass(frozen=True)
class CreditCode:
    """A normalised code, its leading parts, and what is wrong with it."""

    value: str | None
    problem: str | None = None
    registration_authority: str | None = None
    entity_category: str | None = None
    area_code: str | None = None


def normalise(raw: str) -> str:
    """Drop whitespace and Excel's text apostrophe; half-width, upper-case letters."""
    return WS_RE.sub("", raw.translate(_TABLE)).removeprefix("'")


def check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters."""
    if len(first17) != 17 or any(c not in VALUES for c in first17):
        raise ValueError("need 17 characters of the credit code alphabet")
    total = sum(VALUES[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[-total % 31]


def shape_problem(s: str) -> str | None:
    """Why a normalised string cannot be a credit code, or None if it has the shape of one."""
    if len(s) != 18:
        return f"has {len(s)} characters; a unified social credit code has 18"
    bad = _BAD_CHAR.search(s)
    if bad:
        return f"'{bad.group()}' is not used in unified social credit codes"
    if not _AREA.fullmatch(s[2:8]):
        return f"area code {s[2:8]} (characters 3–8) should be 6 digits"
    return None


def parse_credit_code(raw: str | None) -> CreditCode:
    """Normalise and check a unified social credit code; blank gives all fields None."""
    if raw is None:
        return CreditCode(None)
    s = normalise(raw)
    if not s:
        return CreditCode(None)
    problem = shape_problem(s)
    if problem:
        return CreditCode(None, problem)
    expected = check_char(s[:17])
    return CreditCode(
        value=s,
        problem=None if s[17] == expected else f"check character should be {expected}, not {s[17]}",
        registration_authority=s[0],
        entity_category=s[1],
        area_code=s[2:8],
    )
