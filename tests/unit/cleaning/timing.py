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


MOBILE_PREFIXES = (
    [f"13{d}" for d in range(10)]
    + ["145", "147", "150", "151", "152", "153", "155", "156", "157", "158", "159", "166"]
    + ["170", "173", "175", "176", "177", "178", "180", "181", "182", "183", "185", "186"]
    + ["187", "188", "189", "191", "193", "195", "198", "199"]
)


def mobile_spelling(m: str) -> str:
    """One of the ways departments write a mobile number."""
    a, b, c = m[:3], m[3:7], m[7:]
    choice = rng.randrange(10)
    if choice < 4:
        return m
    return [
        f"{a} {b} {c}",
        f"+86-{a}-{b}-{c}",
        f"+86 {m}",
        f"86{m}",
        f"{a}-{b}-{c}",
        "".join(chr(0xFF10 + int(d)) for d in m),  # full-width digits
    ][choice - 4]


def phones(n: int) -> list[str]:
    """Mobiles, all different, in mixed spellings."""
    picks = rng.sample(range(len(MOBILE_PREFIXES) * 10**8), n)
    return [mobile_spelling(f"{MOBILE_PREFIXES[i // 10**8]}{i % 10**8:08d}") for i in picks]


def landlines(n: int) -> list[str]:
    """Landlines, all different, in mixed spellings."""
    out = []
    for i in rng.sample(range(2 * 10**7, 9 * 10**7), n):
        area = rng.choice(["0755", "020", "010", "021", "0769", "0571"])
        spellings = [f"{area}-{i}", f"{area}{i}", f"({area}){i}", f"+86 {area[1:]} {i}"]
        out.append(rng.choice(spellings))
    return out


DISTRICTS = {
    "罗湖区": ["东门街道", "南湖街道", "桂园街道", "黄贝街道", "笋岗街道"],
    "福田区": ["园岭街道", "南园街道", "沙头街道", "香蜜湖街道", "莲花街道"],
    "南山区": ["南头街道", "粤海街道", "蛇口街道", "招商街道", "西丽街道"],
    "宝安区": ["新安街道", "西乡街道", "福永街道", "沙井街道", "松岗街道"],
    "龙岗区": ["布吉街道", "坂田街道", "横岗街道", "龙城街道", "平湖街道"],
}
ROADS = ["解放路", "深南大道", "人民北路", "建设路", "红岭中路", "宝安南路", "东门中路", "文锦北路"]
ROADS += ["后海大道", "南海大道", "创业路", "新湖路", "布吉路", "龙翔大道", "香梅路", "滨河大道"]
VILLAGES = ["湖贝新村东坊", "湖贝新村西坊", "水围村", "岗厦村", "白石洲", "大冲村"]


def address(district: str) -> str:
    """One room address, in one of three common forms."""
    street = rng.choice(DISTRICTS[district])
    road, number = rng.choice(ROADS), rng.randrange(1, 400)
    building, unit = rng.randrange(1, 40), rng.randrange(1, 6)
    room = f"{rng.randrange(1, 40)}{rng.randrange(1, 12):02d}"
    form = rng.randrange(3)
    if form == 0:
        return f"深圳市{district}{street}{road}{number}号{building}栋{unit}单元{room}"
    if form == 1:
        marker, suffix = rng.choice(["座", "栋", "幢", "号楼"]), rng.choice(["", "室", "房"])
        return f"{district}{road}{number}号{building}{marker}{unit}单元{room}{suffix}"
    lane = f"{rng.choice(VILLAGES)}{rng.randrange(1, 20)}巷"
    room = f"{rng.randrange(1, 9)}{rng.randrange(1, 9):02d}"
    return f"广东省深圳市{district}{lane}{rng.randrange(1, 60)}号{room}"


def addresses(n: int, distinct: int) -> list[str]:
    """Room addresses, `distinct` different ones, each at least once."""
    pool: set[str] = set()
    while len(pool) < distinct:
        pool.add(address(rng.choice(list(DISTRICTS))))
    out = sorted(pool) + rng.choices(sorted(pool), k=n - distinct)
    rng.shuffle(out)
    return out


def timed(label: str, kind: str, values: list[str]) -> None:
    """Clean once to warm up, then report the best of three runs."""
    series = pl.Series(label, values)
    clean_series(kind, series)
    best = min(_run(kind, series) for _ in range(3))
    print(f"{label:<44} {len(values):>9,} rows  {best:.3f} s")


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
    timed("phones, 1M distinct mobiles", "phone", phones(ROWS))
    timed(
        "phones, 1M distinct, one in five landline",
        "phone",
        phones(ROWS - ROWS // 5) + landlines(ROWS // 5),
    )
    timed("addresses, 400k distinct", "address", addresses(ROWS, 400_000))
