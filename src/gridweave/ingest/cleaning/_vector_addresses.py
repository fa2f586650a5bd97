"""Addresses over whole columns: the common forms parsed in polars, the rest by parse_address.

parse_address matches its parts one after another, each optional, each taking the first match
its pattern offers. One regular expression of the same parts in the same order, ending in `.*`,
takes the same choices: as nothing after a part can fail, the engine never goes back on one.
Rust's engine has no lookaround, so each of the scalar grammar's is replaced here:

- a name character that is not a stop character is a class without those characters;
- 区 not after 社, 小, … is 区 after a name character other than those;
- "not followed by x" is an optional group capturing x: a value where one captures anything
  is left to parse_address, as are values with characters NFKC would change otherwise than
  full-width to half-width, spaces left inside, or Chinese numerals before a counted thing.
"""

from __future__ import annotations

import polars as pl

from gridweave.ingest.cleaning import addresses as a
from gridweave.ingest.cleaning._chars import FULLWIDTH, WS_CLASS
from gridweave.ingest.cleaning._distinct import fill_undecided, frame_per_distinct

COLUMNS = ("value", "building_key", "room_key", "district", "street", "road")

# Characters whose NFKC form is their full-width-to-half-width form (or, for whitespace, other
# whitespace), which upper() leaves alone unless ASCII, and which never combine with a
# neighbour: on text of only these, the normalisation below is normalise_address's.
PLAIN = rf"[\x20-\x7e\u3001\u3002\u3007\u4e00-\u9fff\uff01-\uff5e{WS_CLASS[1:-1]}]"

_NAME = rf"[\u4e00-\u9fff&&[^{a.NAME_STOP}]]"
_NAME_BEFORE_DISTRICT = rf"[\u4e00-\u9fff&&[^{a.NAME_STOP}{a.NOT_BEFORE_DISTRICT}]]"
# parse_address's district, NAME{1,6}? then a suffix, with the name's last character taken out
# so that 区 can ask what stands before it; the order of the choices is unchanged.
_DISTRICT = (
    rf"{_NAME}{{0,5}}?(?:{_NAME}(?:新区|自治县)|{_NAME_BEFORE_DISTRICT}区|{_NAME}(?:县|旗|市))"
)


def _names(pattern: str) -> str:
    return pattern.replace(a.NAME, _NAME)


PARSE = (
    f"^(?:{_names(a.PROVINCE)})?"
    f"(?:{_names(a.CITY)})?"
    f"(?P<district>{_DISTRICT})?"
    f"(?:(?P<street>{_names(a.STREET)})(?P<doubt_street>[{a.NOT_AFTER_STREET}])?)?"
    f"(?:{_names(a.COMMUNITY)})?"
    f"(?:{a.ROAD_NUMBER}(?P<doubt_number>{a.NOT_AFTER_NUMBER})?{a.SUB_NUMBER}"
    f"|(?P<road_only>{a.ROAD_ONLY}))?"
    f"(?:{a.BUILDING})?"
    f"(?:{a.UNIT})?"
    f"(?:{a.ROOM}(?P<doubt_room>[{a.NOT_AFTER_ROOM}])?)?"
    ".*$"
)


def _normalised(raw: pl.Expr) -> pl.Expr:
    """normalise_address for PLAIN text, but "" for blank: half-width, spaces only in Latin."""
    return (
        raw.str.replace_many(list(FULLWIDTH), list(FULLWIDTH.values()))
        .str.replace_all(WS_CLASS + "+", " ")
        .str.strip_chars(" ")
        # Spaces are single now, so no two matches overlap.
        .str.replace_all("([^A-Za-z0-9]) ", "${1}")
        .str.replace_all(" ([^A-Za-z0-9])", "${1}")
    )


def _parts(frame: pl.LazyFrame) -> pl.LazyFrame:
    """The groups of PARSE over column s, made into parse_address's parts and keys."""
    frame = frame.with_columns(parts=pl.col("s").str.extract_groups(PARSE)).unnest("parts")
    number = pl.col("number").str.strip_chars_start("0")
    number = pl.when(number == "").then(pl.lit("0")).otherwise(number)
    sub = pl.col("sub")
    return (
        frame.with_columns(
            road=pl.coalesce("road", "road_only"),
            number=pl.when(sub.is_not_null()).then(number + "-" + sub).otherwise(number),
            room=pl.coalesce(pl.col("floor") + pl.col("on_floor").str.zfill(2), "room"),
        )
        .with_columns(
            building_key=pl.concat_str(
                "district", "road", "number", pl.col("building").fill_null(""), separator="|"
            )
        )
        .with_columns(
            room_key=pl.concat_str(
                "building_key", pl.col("unit").fill_null(""), "room", separator="|"
            )
        )
    )


def address_frame(raw: pl.Series) -> pl.DataFrame:
    """Columns value, problem and the derived keys and parts, equal to parse_address's."""
    return frame_per_distinct(raw, _distinct_addresses).select(
        "value", pl.lit(None, dtype=pl.String).alias("problem"), *COLUMNS[1:]
    )


def _distinct_addresses(distinct: pl.Series) -> pl.DataFrame:
    """COLUMNS of each of the distinct addresses, in order."""
    normalised = (
        distinct.rename("raw")
        .to_frame()
        .lazy()
        .with_columns(value=_normalised(pl.col("raw")))
        .with_columns(
            value=pl.when(pl.col("value") != "").then(pl.col("value")),
            s=pl.col("value")
            .str.replace_all(a.PUNCTUATION, "")
            .str.to_uppercase()
            .str.replace_all("之", "-"),
        )
    )
    doubts = ("doubt_street", "doubt_number", "doubt_room")
    frame = (
        _parts(normalised)
        .with_columns(
            undecided=~pl.col("raw").str.contains(f"^{PLAIN}*$")
            | pl.col("s").str.contains(" ")
            | pl.col("s").str.contains(f"{a.CN_NUMERAL}(?:{a.COUNTED})")
            | pl.any_horizontal(pl.col(d).is_not_null() for d in doubts)
        )
        .select("raw", "undecided", *COLUMNS)
        .collect()
    )
    return fill_undecided(frame, frame["undecided"], _parse, COLUMNS).select(COLUMNS)


def _parse(raw: str) -> tuple[str | None, ...]:
    addr = a.parse_address(raw)
    return (
        a.normalise_address(raw),
        a.building_key(addr),
        a.room_key(addr),
        addr.district,
        addr.street,
        addr.road,
    )
