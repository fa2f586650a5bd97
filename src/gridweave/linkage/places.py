"""Standardised address keys of rooms and buildings, and how a record without a door-plate code
is judged against the golden places they point to (pure; no database).

The ingest's address cleaner already gives one key for the usual spellings of a room (号, 栋/幢/座,
单元, 室/房, full-width digits, Chinese numerals before a counted word). Here the address is also
turned to simplified characters first (號, 棟, 單元, 樓), and a part the address leaves out (the
district, the unit) matches any value of it, but only when it points to exactly one golden
place: a wrong join is worse than a missed one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

import opencc

from gridweave.ingest.cleaning import parse_address

WILD = "*"  # a part the address leaves out: matches any value of it


@cache
def _simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@dataclass(frozen=True)
class PlaceKeys:
    """The keys an address is found by (`stored`) and the one it looks with (`probe`)."""

    stored: tuple[str, ...]
    probe: str | None


@lru_cache(maxsize=1 << 16)  # a register repeats addresses (registered = operating address)
def place_keys(raw: str | None, entity: str) -> PlaceKeys:
    """The keys of an address as a room's (entity "room") or a building's ("building").

    A key is district|road|number|building[|unit|room]. An address without a district or a
    unit probes with that part as a wildcard, and every address is stored under each such
    wildcard too; an address that gives a district never finds a place in another one.
    """
    if not raw:
        return PlaceKeys((), None)
    addr = parse_address(_simplified().convert(raw))
    if not (addr.road and addr.number) or (entity == "room" and not addr.room):
        return PlaceKeys((), None)
    district = addr.district or WILD
    parts = [district, addr.road, addr.number, addr.building or ""]
    districts = dict.fromkeys((district, WILD))  # one of them when there is no district
    if entity == "room":
        unit = addr.unit or WILD
        units = dict.fromkeys((unit, WILD))
        stored = ["|".join([d, *parts[1:], u, addr.room or ""]) for d in districts for u in units]
        probe = "|".join([*parts, unit, addr.room or ""])
    else:
        stored = ["|".join([d, *parts[1:]]) for d in districts]
        probe = "|".join(parts)
    return PlaceKeys(tuple(stored), probe)


@dataclass(frozen=True)
class PlaceVerdict:
    """Link the record to `golden_id`, send it to review against `other_record`, or leave it."""

    action: str  # link | review | none
    golden_id: int | None = None
    other_record: int | None = None


def judge_place(hits: dict[int, int], kept_apart: set[int]) -> PlaceVerdict:
    """The verdict for one record whose probe key found `hits` ({golden_id: a record of it}).

    One golden place links; several go to review (two golden rooms answering one address is a
    fault a steward must see: a missing district or unit, or a register with a duplicate); a
    golden place a steward kept the record apart from is never a candidate.
    """
    hits = {g: r for g, r in hits.items() if g not in kept_apart}
    if len(hits) == 1:
        ((golden, record),) = hits.items()
        return PlaceVerdict("link", golden, record)
    if len(hits) > 1:
        first = min(hits)
        return PlaceVerdict("review", first, hits[first])
    return PlaceVerdict("none")
