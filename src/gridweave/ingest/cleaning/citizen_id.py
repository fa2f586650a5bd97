"""Citizen id numbers (GB 11643-1999), with residence permits and the 2023 foreigner's card.

Layouts (all 18 characters, check character ISO 7064 MOD 11-2 over the first 17 digits):

* citizen / Hong Kong, Macau, Taiwan residence permit: 6-digit area code (810000, 820000,
  830000 for the permits), 8-digit birth date, 3-digit sequence (odd = male), check character;
* foreigner's permanent residence id card (issued from 2023-12-01): "9", 2-digit province code
  of the issuing place, 3-digit ISO 3166-1 numeric nationality code, 8-digit birth date,
  3-digit sequence (odd = male), check character. Its `area_code` is the issuing province
  padded to six digits (e.g. "440000"), since its first six digits are not an area code.

A 15-digit number (GB 11643-1989) is upgraded: "19" goes before its 2-digit year and a check
character is added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from gridweave.ingest.cleaning._chars import DIGITS, WS_RE, china_today

Sex = Literal["male", "female"]
IdKind = Literal["resident", "hmt_permit", "foreign_permanent"]

WEIGHTS = tuple(2 ** (17 - i) % 11 for i in range(17))
CHECK_CHARS = "10X98765432"  # indexed by the weighted sum mod 11
EARLIEST_BIRTH = date(1880, 1, 1)
HMT_PREFIXES = ("81", "82", "83")

TRANSLATION = {**DIGITS, "Ｘ": "X", "ｘ": "X", "x": "X"}
_TABLE = str.maketrans(TRANSLATION)
_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_OLD = re.compile(r"[0-9]{15}")


@dataclass(frozen=True)
class CitizenId:
    """A normalised number, what it says about its holder, and what is wrong with it."""

    value: str | None
    problem: str | None = None
    birth_date: date | None = None
    sex: Sex | None = None
    area_code: str | None = None
    kind: IdKind | None = None


def normalise(raw: str) -> str:
    """Drop whitespace and Excel's text apostrophe, make digits half-width and x upper case."""
    s = WS_RE.sub("", raw.translate(_TABLE))
    return s.removeprefix("'")


def check_char(first17: str) -> str:
    """The MOD 11-2 check character for 17 digits."""
    if not (len(first17) == 17 and first17.isascii() and first17.isdigit()):
        raise ValueError("need exactly 17 digits")
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def upgrade_15(id15: str) -> str:
    """The 18-character form of a 15-digit number: century 19 inserted, check character added."""
    if not _OLD.fullmatch(id15):
        raise ValueError("need exactly 15 digits")
    first17 = id15[:6] + "19" + id15[6:]
    return first17 + check_char(first17)


def id_kind(value: str) -> IdKind | None:
    """Which document an 18-character number belongs to, from its leading digits."""
    if value[0] == "9":
        return "foreign_permanent"
    if value[0] == "0":
        return None
    return "hmt_permit" if value[:2] in HMT_PREFIXES else "resident"


def _birth_problem(digits8: str, on: date) -> tuple[date | None, str | None]:
    shown = f"{digits8[:4]}-{digits8[4:6]}-{digits8[6:]}"
    try:
        born = date(int(digits8[:4]), int(digits8[4:6]), int(digits8[6:]))
    except ValueError:
        return None, f"birth date {shown} is not a date"
    if born < EARLIEST_BIRTH:
        return None, f"birth date {shown} is before 1880"
    if born > on:
        return None, f"birth date {shown} is in the future"
    return born, None


def shape_problem(s: str) -> str:
    """Why a normalised string does not have the shape of an 18-character number."""
    if len(s) not in (15, 18):
        return f"has {len(s)} characters; a citizen id number has 18 (old ones 15 digits)"
    return "may hold only digits, and X as the 18th character"


def parse_citizen_id(raw: str | None, *, today: date | None = None) -> CitizenId:
    """Normalise and check a citizen id number; blank gives all fields None."""
    if raw is None:
        return CitizenId(None)
    s = normalise(raw)
    if not s:
        return CitizenId(None)
    if _OLD.fullmatch(s):
        s = upgrade_15(s)
    if not _SHAPE.fullmatch(s):
        return CitizenId(None, shape_problem(s))
    problems = []
    expected = check_char(s[:17])
    if s[17] != expected:
        problems.append(f"check character should be {expected}, not {s[17]}")
    born, birth_problem = _birth_problem(s[6:14], today or china_today())
    if birth_problem:
        problems.append(birth_problem)
    kind = id_kind(s)
    if kind is None:
        problems.append(f"area code {s[:6]} is not a place")
    area = s[1:3] + "0000" if kind == "foreign_permanent" else s[:6]
    return CitizenId(
        value=s,
        problem="; ".join(problems) or None,
        birth_date=born,
        sex="male" if int(s[16]) % 2 else "female",
        area_code=area,
        kind=kind,
    )
