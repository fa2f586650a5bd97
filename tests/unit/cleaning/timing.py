"""Hand-run timing of the vectorised cleaners: `.venv/bin/python tests/unit/cleaning/timing.py`."""

from __future__ import annotations

import random
import time
from datetime import date, timedelta

import polars as pl

from gridweave.ingest.cleaning import check_char, clean_series
from gridweave.ingest.cleaning.credit_code import ALPHABET
from gridweave.ingest.cleaning.credit_code import check_char as credit_check_char

ROWS = 1_000_000
rng = random.Random(7)


def citizen_ids(n: int) -> list[str]:
    """Valid ids, with one in ten spelt badly (spaces, lower-case x, 15 digits, typos)."""
    out = []
    for _ in range(n):
        born = date(1930, 1, 1) + timedelta(days=rng.randrange(30_000))
        first17 = (
            f"{rng.choice(['440303', '110101', '310104'])}{born:%Y%m%d}{rng.randrange(1000):03d}"
        )
        out.append(first17 + check_char(first17))
    for i in range(0, n, 10):
        out[i] = out[i][:6] + " " + out[i][6:].lower()
    return out


def names(n: int, distinct: int) -> list[str]:
    """Names drawn from a pool of `distinct`, some traditional, full-width or dotted."""
    chars = (
        "王李张刘陈杨黄趙吳周徐孫馬朱胡郭何高林羅鄭梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程"
    )
    pool = ["".join(rng.choices(chars, k=rng.choice([2, 3]))) for _ in range(distinct - 3)]
    pool += ["阿依古丽•买买提", "ＷＡＮＧ　Ｌｉ", "John  Smith"]
    return rng.choices(pool, k=n)


def dates(n: int) -> list[str]:
    """Birth dates in every supported spelling."""
    out = []
    for _ in range(n):
        d = date(1930, 1, 1) + timedelta(days=rng.randrange(30_000))
        fmt = rng.randrange(6)
        out.append(
            [
                d.isoformat(),
                f"{d:%Y%m%d}",
                f"{d.year}/{d.month}/{d.day}",
                f"{d.year}年{d.month}月{d.day}日",
                f"{d:%Y-%m-%d} 00:00:00",
                str((d - date(1899, 12, 30)).days),
            ][fmt]
        )
    return out


def credit_codes(n: int) -> list[str]:
    """Valid codes, all different."""
    out = []
    for _ in range(n):
        first17 = "91440300" + "".join(rng.choices(ALPHABET, k=9))
        out.append(first17 + credit_check_char(first17))
    return out


def phones(n: int, distinct: int) -> list[str]:
    """Mobiles and landlines in assorted spellings, drawn from a pool of `distinct`."""
    pool = [
        rng.choice(["", "+86 ", "86"]) + f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
        if i % 3
        else f"0755-{rng.randrange(2 * 10**7, 9 * 10**7)}"
        for i in range(distinct)
    ]
    return rng.choices(pool, k=n)


def addresses(n: int, distinct: int) -> list[str]:
    """Room addresses drawn from a pool of `distinct`."""
    pool = [
        f"深圳市罗湖区东门街道解放路{rng.randrange(1, 300)}号{rng.randrange(1, 30)}栋"
        f"{rng.randrange(1, 5)}单元{rng.randrange(1, 40)}{rng.randrange(1, 12):02d}室"
        for _ in range(distinct)
    ]
    return rng.choices(pool, k=n)


def timed(label: str, kind: str, values: list[str]) -> None:
    """Clean once to warm up, then report the best of three runs."""
    series = pl.Series(label, values)
    clean_series(kind, series)
    best = min(_run(kind, series) for _ in range(3))
    print(f"{label:<40} {len(values):>9,} rows  {best:.3f} s")


def _run(kind: str, series: pl.Series) -> float:
    start = time.perf_counter()
    clean_series(kind, series)
    return time.perf_counter() - start


if __name__ == "__main__":
    timed("citizen ids", "citizen_id", citizen_ids(ROWS))
    timed("names, 50k distinct", "name", names(ROWS, 50_000))
    timed("dates, six spellings", "date", dates(ROWS))
    timed("datetimes, six spellings", "datetime", dates(ROWS))
    timed("credit codes, all distinct", "credit_code", credit_codes(ROWS))
    timed("phones, 100k distinct", "phone", phones(ROWS, 100_000))
    timed("addresses, 100k distinct", "address", addresses(ROWS, 100_000))
