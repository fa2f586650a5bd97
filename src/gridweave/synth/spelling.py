"""How departments write the same thing differently: addresses, dates and phone numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from gridweave.synth.buildings import VILLAGE
from gridweave.synth.common import REFERENCE_DAY, pick, unique_numbers, weighted

_DIGITS = "零一二三四五六七八九"
FULL_WIDTH = {str(d): chr(0xFF10 + d) for d in range(10)}


def chinese_number(k: int) -> str:
    """1 → 一, 12 → 十二, 23 → 二十三, 105 → 一百零五 (as written in addresses)."""
    if k < 10:
        return _DIGITS[k]
    if k < 20:
        return "十" + (_DIGITS[k % 10] if k % 10 else "")
    if k < 100:
        return _DIGITS[k // 10] + "十" + (_DIGITS[k % 10] if k % 10 else "")
    rest = k % 100
    tail = "" if rest == 0 else ("零" + _DIGITS[rest] if rest < 10 else chinese_number(rest))
    if 10 <= rest < 20:
        tail = "一" + tail  # 一百一十二, not 一百十二
    return _DIGITS[k // 100] + "百" + tail


CHINESE_NUMBERS = tuple(chinese_number(k) for k in range(1000))


@dataclass(frozen=True)
class AddressStyle:
    """Probabilities of each spelling variant in one department's addresses."""

    prefix: tuple[float, float, float] = (0.6, 0.25, 0.15)  # none, 深圳市, 广东省深圳市
    drop_district: float = 0.1
    drop_street: float = 0.3
    building_word: tuple[float, float, float] = (0.85, 0.1, 0.05)  # 栋, 座, 幢
    room_suffix: tuple[float, float, float] = (0.8, 0.12, 0.08)  # none, 室, 房
    chinese_numerals: float = 0.05  # building, unit and lane numbers in Chinese
    full_width: float = 0.01


CANONICAL = AddressStyle(
    prefix=(1, 0, 0),
    drop_district=0,
    drop_street=0,
    building_word=(1, 0, 0),
    room_suffix=(1, 0, 0),
    chinese_numerals=0,
    full_width=0,
)


def address_tails(rooms: pl.DataFrame) -> pl.DataFrame:
    """Each room's address after the street, in Arabic and in Chinese numerals (computed once)."""

    def tail(chinese: bool) -> pl.Expr:
        def num(col: str) -> pl.Expr:
            if not chinese:
                return pl.col(col).cast(pl.String)
            return pl.col(col).replace_strict(
                list(range(1000)), list(CHINESE_NUMBERS), return_dtype=pl.String
            )

        door = pl.format("{}{}", "floor", pl.col("room_no").cast(pl.String).str.zfill(2))
        unit = (
            pl.when(pl.col("unit") > 0).then(pl.format("{}单元", num("unit"))).otherwise(pl.lit(""))
        )
        tower = pl.format("{}{}号{}栋", "road", "n", num("b")) + unit + door
        village = pl.format("{}{}巷{}号", "village", num("lane"), "n") + door
        return pl.when(pl.col("kind") == VILLAGE).then(village).otherwise(tower)

    return rooms.select(tail(False).alias("tail"), tail(True).alias("tail_cn"))


def spell_addresses(
    rooms: pl.DataFrame, room: np.ndarray, rng: np.random.Generator, style: AddressStyle
) -> pl.Series:
    """The addresses of rooms `room`, each spelled with a random variant of `style`."""
    n = len(room)
    frame = rooms.select("street", "tail", "tail_cn").select(pl.all().gather(room))
    frame = frame.with_columns(
        pick(("", "深圳市", "广东省深圳市"), weighted(rng, style.prefix, n)).alias("_prefix"),
        pl.Series("_district", np.where(rng.random(n) < style.drop_district, "", "罗湖区")),
        pl.Series("_keep_street", rng.random(n) >= style.drop_street),
        pl.Series("_cn", rng.random(n) < style.chinese_numerals),
        pl.Series("_bword", weighted(rng, style.building_word, n)),
        pick(("", "室", "房"), weighted(rng, style.room_suffix, n)).alias("_suffix"),
    )
    tail = pl.when(pl.col("_cn")).then(pl.col("tail_cn")).otherwise(pl.col("tail"))
    tail = (
        pl.when(pl.col("_bword") == 1)
        .then(tail.str.replace("栋", "座", literal=True))
        .when(pl.col("_bword") == 2)
        .then(tail.str.replace("栋", "幢", literal=True))
        .otherwise(tail)
    )
    street = pl.when(pl.col("_keep_street")).then(pl.col("street")).otherwise(pl.lit(""))
    text = frame.select(
        pl.concat_str(pl.col("_prefix"), pl.col("_district"), street, tail, pl.col("_suffix"))
    ).to_series()
    return full_width(text, rng.random(n) < style.full_width)


def full_width(text: pl.Series, mask: np.ndarray) -> pl.Series:
    """`text` with its digits turned full-width (０-９) where `mask` is set."""
    idx = np.flatnonzero(mask)
    if not len(idx):
        return text
    return text.scatter(idx, text.gather(idx).str.replace_many(FULL_WIDTH))


def format_dates(
    dates: pl.Series, rng: np.random.Generator, formats: Sequence[tuple[str, float]]
) -> pl.Series:
    """Dates as text, each in one of `formats` (strftime, weight); nulls stay null."""
    choice = pl.Series(weighted(rng, [w for _, w in formats], len(dates)))
    frame = pl.DataFrame({"d": dates, "c": choice})
    expr: pl.Expr = pl.col("d").dt.strftime(formats[0][0])
    for i, (fmt, _) in enumerate(formats[1:], start=1):
        expr = pl.when(pl.col("c") == i).then(pl.col("d").dt.strftime(fmt)).otherwise(expr)
    return frame.select(expr).to_series()


def excel_serial(dates: pl.Series) -> pl.Series:
    """Dates as Excel serial day numbers (days since 1899-12-30), as departments export them."""
    return (dates.cast(pl.Int32).cast(pl.Int64) + 25569).alias(dates.name)


def format_phones(
    phones: pl.Series, rng: np.random.Generator, weights: Sequence[float] = (1, 0, 0, 0, 0)
) -> pl.Series:
    """Mobiles as 13812345678, +86 13812345678, 138-1234-5678, 138 1234 5678 or +8613812345678."""
    choice = pl.Series(weighted(rng, weights, len(phones)))
    p = pl.col("p")
    a, b, c = p.str.slice(0, 3), p.str.slice(3, 4), p.str.slice(7, 4)
    variants = [
        p,
        "+86 " + p,
        pl.concat_str(a, b, c, separator="-"),
        pl.concat_str(a, b, c, separator=" "),
        "+86" + p,
    ]
    expr = variants[0]
    for i, v in enumerate(variants[1:], start=1):
        expr = pl.when(pl.col("c") == i).then(v).otherwise(expr)
    return pl.DataFrame({"p": phones, "c": choice}).select(expr).to_series()


def serials(rng: np.random.Generator, n: int, prefix: str, digits: int) -> pl.Series:
    """`n` distinct record numbers: `prefix` and `digits` random digits (no leading zero)."""
    low = 10 ** (digits - 1)
    v = unique_numbers(rng, n, low, 10**digits)
    return pl.select(pl.lit(prefix) + pl.Series(v).cast(pl.String)).to_series()


def days_before(rng: np.random.Generator, n: int, low: int, high: int) -> pl.Series:
    """Dates between `high` and `low` days before the reference date."""
    return pl.Series(REFERENCE_DAY - rng.integers(low, high, n)).cast(pl.Int32).cast(pl.Date)


def sex_zh(sex: pl.Series) -> pl.Series:
    """male/female as 男/女."""
    return sex.replace_strict({"male": "男", "female": "女"}, default="未知")
