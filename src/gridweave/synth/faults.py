"""The errors real department extracts carry, as named rates and the functions that inject them."""

# Rates are shares of the rows of one extract (or of one role in it). Every injector takes the
# values and a random stream and returns new values; the truth is never touched.

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import opencc
import polars as pl
from pypinyin import Style, lazy_pinyin

from gridweave.synth import pools
from gridweave.synth.spelling import FULL_WIDTH, AddressStyle

# migrant_residents: legacy 15-digit ids survive for people registered before the 2000s switch.
LEGACY_ID_RATE = 0.15  # of migrants born before 2000
DOUBLE_REGISTRATION_RATE = 0.03  # migrants registered twice under two record ids
STALE_ADDRESS_RATE = 0.10  # migrant rows still showing a room the person left
LANDLINE_RATE = 0.3  # of migrant rows whose household has a landline: it replaces the mobile
MIGRANT_COVERAGE = 0.92  # of living migrants that the migrant office has registered
# health_population
TRADITIONAL_NAME_RATE = 0.30  # names keyed in traditional characters (陳, 劉, 張…)
HEALTH_COVERAGE = 0.90  # of living residents with a health record
HEALTH_STALE_DECEASED = 0.5  # of the deceased whose health record nobody closed
# civil_affairs_subsistence: the failure the platform exists to catch.
DECEASED_STILL_LISTED = 0.6  # of deceased members of allowance households still paid
# housing_rentals
ROOM_CODE_BLANK_RATE = 0.20  # contracts filed without the room's door-plate code
# education_pupils
GUARDIAN_PHONE_MISSING = 0.2
# Rows keyed without the person's name: their contracts require it, so they wait in quarantine.
NAME_LEFT_BLANK = 0.002


@dataclass(frozen=True)
class PersonFaults:
    """Rates of the faults in one person role of one extract."""

    homophone: float = 0.0  # one given-name character replaced by a same-pinyin character
    id_typo: float = 0.0  # two adjacent id digits swapped or one mistyped: the check fails
    id_missing: float = 0.0
    id_full_width: float = 0.0  # digits typed in full width (４４０３…)
    id_spaces: float = 0.0  # a stray space inside or around the id


POLICE = PersonFaults()  # the authoritative register is clean
MIGRANTS = PersonFaults(
    homophone=0.03, id_typo=0.01, id_missing=0.01, id_full_width=0.005, id_spaces=0.01
)
HEALTH = PersonFaults(homophone=0.02, id_typo=0.005, id_missing=0.08, id_spaces=0.005)
CIVIL = PersonFaults(homophone=0.01, id_typo=0.005, id_full_width=0.01, id_spaces=0.01)
HRSS = PersonFaults(homophone=0.01, id_typo=0.01, id_full_width=0.003, id_spaces=0.005)
PUPILS = PersonFaults(homophone=0.015, id_typo=0.005, id_missing=0.01, id_spaces=0.005)
GUARDIANS = PersonFaults(homophone=0.01, id_typo=0.005, id_missing=0.10, id_spaces=0.005)
LANDLORDS = PersonFaults(
    homophone=0.01, id_typo=0.01, id_missing=0.01, id_full_width=0.005, id_spaces=0.01
)
TENANTS = PersonFaults(
    homophone=0.03, id_typo=0.01, id_missing=0.02, id_full_width=0.005, id_spaces=0.01
)
REPRESENTATIVES = PersonFaults(homophone=0.005, id_typo=0.003, id_spaces=0.002)


# How each department tends to write an address.
MIGRANT_ADDRESSES = AddressStyle(
    prefix=(0.5, 0.3, 0.2),
    drop_district=0.15,
    drop_street=0.4,
    building_word=(0.8, 0.15, 0.05),
    room_suffix=(0.6, 0.25, 0.15),
    chinese_numerals=0.08,
    full_width=0.02,
)
HEALTH_ADDRESSES = AddressStyle()
CIVIL_ADDRESSES = AddressStyle(prefix=(0.3, 0.5, 0.2), drop_street=0.1)
EDUCATION_ADDRESSES = AddressStyle(prefix=(0.7, 0.2, 0.1), drop_street=0.2)
RENTAL_ADDRESSES = AddressStyle(
    prefix=(0.8, 0.15, 0.05),
    drop_district=0.2,
    drop_street=0.8,
    building_word=(0.55, 0.4, 0.05),
    room_suffix=(0.3, 0.45, 0.25),
    chinese_numerals=0.15,
    full_width=0.02,
)
MARKET_ADDRESSES = AddressStyle(prefix=(0.2, 0.7, 0.1), drop_street=0.2, room_suffix=(0.7, 0.3, 0))

# Phone spellings, as weights of: 13812345678, +86 13812345678, 138-1234-5678, 138 1234 5678,
# +8613812345678.
MIGRANT_PHONES = (0.55, 0.15, 0.15, 0.1, 0.05)
HEALTH_PHONES = (0.8, 0.1, 0.05, 0.0, 0.05)
CIVIL_PHONES = (0.6, 0.0, 0.4, 0.0, 0.0)
HRSS_PHONES = (0.7, 0.0, 0.3, 0.0, 0.0)
GUARDIAN_PHONES = (0.8, 0.0, 0.2, 0.0, 0.0)
RENTAL_PHONES = (0.6, 0.1, 0.2, 0.1, 0.0)
# Date spellings (strftime, weight) where one extract mixes several.
MIGRANT_BIRTH_DATES = (("%Y/%-m/%-d", 0.8), ("%Y-%m-%d", 0.2))
ESTABLISHED_DATES = (
    ("%Y-%m-%d", 0.5),
    ("%Y/%-m/%-d", 0.2),
    ("%Y%m%d", 0.15),
    ("%Y年%-m月%-d日", 0.15),
)


def mask(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    """A boolean mask selecting about `rate` of `n` rows."""
    return rng.random(n) < rate


@cache
def homophones() -> dict[str, str]:
    """Each name character mapped to another character with exactly the same toned pinyin."""
    chars = dict.fromkeys(pools.MALE_CHARS + pools.FEMALE_CHARS + pools.HOMOPHONE_EXTRA)
    groups: dict[str, list[str]] = {}
    for ch in chars:
        groups.setdefault(lazy_pinyin(ch, style=Style.TONE3)[0], []).append(ch)
    out = {}
    for members in groups.values():
        for i, ch in enumerate(members):
            if len(members) > 1:
                out[ch] = members[(i + 1) % len(members)]
    return out


@cache
def traditional() -> dict[str, str]:
    """Simplified → traditional for every character the city's names are made of."""
    cc = opencc.OpenCC("s2t")
    chars = {c for s, _ in pools.SURNAMES for c in s} | set(pools.MALE_CHARS + pools.FEMALE_CHARS)
    chars |= {c for names in pools.ERA_GIVEN.values() for group in names for n in group for c in n}
    table = {c: t for c in sorted(chars) if (t := cc.convert(c)) != c}
    # Character-by-character conversion gets some surnames wrong: 于, 余 and 范 stay as they are.
    for keep in "于余范峰":
        table.pop(keep, None)
    return table | {"艳": "艷"}


def swap_homophones(names: pl.Series, rng: np.random.Generator, rate: float) -> pl.Series:
    """Replace the last character of about `rate` of the names by a homophone, where one exists."""
    idx = np.flatnonzero(mask(rng, len(names), rate))
    if not len(idx):
        return names
    chosen = names.gather(idx)
    last = chosen.str.slice(-1, 1)
    alt = last.replace_strict(homophones(), default=None, return_dtype=pl.String)
    typo = pl.select(
        pl.when(alt.is_not_null())
        .then(chosen.str.slice(0, chosen.str.len_chars() - 1) + alt)
        .otherwise(chosen)
    ).to_series()
    return names.scatter(idx, typo)


def to_traditional(names: pl.Series, rng: np.random.Generator, rate: float) -> pl.Series:
    """About `rate` of the names keyed in traditional characters."""
    idx = np.flatnonzero(mask(rng, len(names), rate))
    if not len(idx):
        return names
    return names.scatter(idx, names.gather(idx).str.replace_many(traditional()))


def _typo(cid: str, pos: int, swap: bool, digit: int) -> str:
    chars = list(cid)
    if swap and chars[pos] != chars[pos + 1]:
        chars[pos], chars[pos + 1] = chars[pos + 1], chars[pos]
    else:
        # A different digit at one place always breaks the GB 11643 check (11 is prime).
        chars[pos] = str((int(chars[pos]) + 1 + digit % 9) % 10)
    return "".join(chars)


def corrupt_ids(ids: pl.Series, rng: np.random.Generator, faults: PersonFaults) -> pl.Series:
    """Citizen ids with typos, blanks, full-width digits and stray spaces at `faults` rates."""
    n = len(ids)
    out = ids
    typo = np.flatnonzero(mask(rng, n, faults.id_typo) & (ids.str.len_chars() == 18).to_numpy())
    if len(typo):
        pos = rng.integers(0, 16, len(typo))
        swap = rng.random(len(typo)) < 0.5
        digit = rng.integers(0, 9, len(typo))
        values = [
            _typo(v, int(p), bool(s), int(d))
            for v, p, s, d in zip(ids.gather(typo).to_list(), pos, swap, digit, strict=True)
        ]
        out = out.scatter(typo, pl.Series(values, dtype=pl.String))
    wide = np.flatnonzero(mask(rng, n, faults.id_full_width))
    if len(wide):
        out = out.scatter(wide, out.gather(wide).str.replace_many(FULL_WIDTH))
    spaced = np.flatnonzero(mask(rng, n, faults.id_spaces))
    if len(spaced):
        where = rng.integers(0, 3, len(spaced))
        v = out.gather(spaced)
        spaced_v = pl.select(
            pl.when(pl.Series(where == 0))
            .then(" " + v)
            .when(pl.Series(where == 1))
            .then(v + " ")
            .otherwise(v.str.slice(0, 6) + " " + v.str.slice(6))
        ).to_series()
        out = out.scatter(spaced, spaced_v)
    missing = np.flatnonzero(mask(rng, n, faults.id_missing))
    if len(missing):
        out = out.scatter(missing, None)
    return out


def legacy_ids(ids: pl.Series, selected: np.ndarray) -> pl.Series:
    """The 15-digit pre-1999 form (no century, no check character) where `selected`."""
    idx = np.flatnonzero(selected)
    if not len(idx):
        return ids
    v = ids.gather(idx)
    return ids.scatter(idx, v.str.slice(0, 6) + v.str.slice(8, 9))


def person_faults(
    names: pl.Series, ids: pl.Series, rng: np.random.Generator, faults: PersonFaults
) -> tuple[pl.Series, pl.Series]:
    """Names with homophone typos and ids with typos and blanks, at `faults` rates."""
    return swap_homophones(names, rng, faults.homophone), corrupt_ids(ids, rng, faults)


def blank_some(values: pl.Series, rng: np.random.Generator, rate: float) -> pl.Series:
    """The same values with a share `rate` of them left empty, as a hurried clerk does."""
    return values.scatter(np.flatnonzero(mask(rng, len(values), rate)), None)
