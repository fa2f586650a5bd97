"""Legal entities (companies, shops, institutions) and city components of the synthetic city."""

from __future__ import annotations

import io
from importlib import resources

import numpy as np
import polars as pl

from gridweave.synth import ids, pools
from gridweave.synth.common import REFERENCE_DAY, ascii_rows, pick, weighted

PEOPLE_PER_ENTITY = 5
# (credit-code prefix, type, weight): 9 = market regulation (1 enterprise, 2 individual business),
# 1 = establishment office (2 public institution), 5 = civil affairs (1 social group,
# 2 private non-enterprise unit), N = agriculture (2 village collective).
ENTITY_KINDS: tuple[tuple[str, str, float], ...] = (
    ("91", "有限责任公司（自然人投资或控股）", 0.45),
    ("91", "有限责任公司（自然人独资）", 0.12),
    ("91", "有限责任公司（法人独资）", 0.06),
    ("91", "股份有限公司", 0.03),
    ("92", "个体工商户", 0.27),
    ("12", "事业单位", 0.025),
    ("51", "社会团体", 0.015),
    ("52", "民办非企业单位", 0.02),
    ("N2", "农村集体经济组织", 0.01),
)
STATUS_LABELS = ("存续", "在业", "吊销", "注销")
STATUS_CODES = ("active", "active", "revoked", "cancelled")
STATUS_WEIGHTS = (0.6, 0.18, 0.09, 0.13)
CITY_LEVEL_SHARE = 0.15  # credit codes issued by the city (440300) rather than the district
COMPONENTS_PER_GRID = 7  # Poisson mean on top of a floor of 5
COMPONENT_STATUS = ("intact", "damaged", "missing", "removed")
COMPONENT_STATUS_WEIGHTS = (0.88, 0.07, 0.02, 0.03)
# Common fixtures are far more numerous than rare ones; unknown names weigh 1.
COMPONENT_WEIGHTS = {
    "行道树": 12, "路灯": 8, "垃圾箱": 6, "污水井盖": 5, "雨水井盖": 5, "雨水箅子": 5,
    "供水井盖": 4, "门（楼号）牌": 4, "树池树穴": 4, "通信井盖": 3, "电力井盖": 3, "消防设施": 3,
    "交通标志牌及标线": 3, "电力立杆": 3, "通信立杆": 3, "监控电子眼设施": 3, "绿地": 3,
    "公交站设施": 2, "户外广告": 2, "宣传栏": 2, "充电桩": 2, "交通护栏": 2, "便道桩": 2,
}  # fmt: skip
OWNERS_BY_CATEGORY = {
    "市政公用设施": "罗湖区城市管理和综合执法局",
    "交通设施": "深圳市公安局交通警察局罗湖大队",
    "市容环卫设施": "罗湖区城市管理和综合执法局",
    "园林绿化设施": "罗湖区城市管理和综合执法局",
    "其他管理部件": "罗湖区住房和建设局",
}
OWNERS_BY_WORD = (
    ("电力", "深圳供电局有限公司罗湖供电局"),
    ("燃气", "深圳市燃气集团股份有限公司"),
    ("通信", "中国电信股份有限公司深圳分公司"),
    ("供水", "深圳市水务（集团）有限公司罗湖分公司"),
    ("污水", "深圳市水务（集团）有限公司罗湖分公司"),
    ("雨水", "罗湖区水务局"),
)


def catalogue() -> pl.DataFrame:
    """The management components of GB/T 47678.5 shipped with the package."""
    data = resources.files("gridweave.synth").joinpath("data/gb47678_5_components.csv")
    return pl.read_csv(io.BytesIO(data.read_bytes()), infer_schema=False)


def _brands(rng: np.random.Generator, n: int) -> pl.Series:
    chars = tuple(dict.fromkeys(pools.BRAND_CHARS))
    a = rng.integers(0, len(chars), n)
    b = (a + rng.integers(1, len(chars), n)) % len(chars)  # never the same character twice
    return pl.select(pick(chars, a) + pick(chars, b)).to_series()


def _names(rng: np.random.Generator, prefix: np.ndarray, kind: np.ndarray) -> pl.Series:
    n = len(kind)
    frame = pl.DataFrame(
        {
            "prefix": prefix,
            "kind": kind,
            "brand": _brands(rng, n),
            "industry": pick(pools.INDUSTRIES, rng.integers(0, len(pools.INDUSTRIES), n)),
            "shop": pick(pools.SHOP_TRADES, rng.integers(0, len(pools.SHOP_TRADES), n)),
            "inst": pick(pools.INSTITUTION_KINDS, rng.integers(0, len(pools.INSTITUTION_KINDS), n)),
            "org": pick(pools.SOCIAL_ORG_KINDS, rng.integers(0, len(pools.SOCIAL_ORG_KINDS), n)),
        }
    )
    p = pl.col("prefix")
    return frame.select(
        pl.when(p == "91")
        .then(
            pl.format("深圳市{}{}", "brand", "industry")
            + pl.when(pl.col("kind") == "股份有限公司")
            .then(pl.lit("股份有限公司"))
            .otherwise(pl.lit("有限公司"))
        )
        .when(p == "92")
        .then(pl.format("深圳市罗湖区{}{}", "brand", "shop"))
        .when(p == "12")
        .then(pl.format("深圳市罗湖区{}{}", "brand", "inst"))
        .when(p == "N2")
        .then(pl.format("深圳市罗湖区{}股份合作公司", "brand"))
        .otherwise(pl.format("深圳市罗湖区{}{}{}", "brand", "industry", "org"))
    ).to_series()


def build_entities(
    rng: np.random.Generator,
    n_people: int,
    representatives: np.ndarray,
    shops: np.ndarray,
    offices: np.ndarray,
    rep_phone: pl.Series,
) -> pl.DataFrame:
    """Legal entities: credit code, name, type, representative, addresses (room indexes), status."""
    n = max(50, n_people // PEOPLE_PER_ENTITY)
    k = weighted(rng, [w for _, _, w in ENTITY_KINDS], n)
    prefix = np.asarray([p for p, _, _ in ENTITY_KINDS])[k]
    kind = np.asarray([t for _, t, _ in ENTITY_KINDS])[k]
    names = _names(rng, prefix, kind)
    for _ in range(50):
        # Registered names are unique; redraw the later of any two that collide.
        dup = names.is_duplicated() & ~names.is_first_distinct()
        if not dup.any():
            break
        idx = np.flatnonzero(dup.to_numpy())
        names = names.scatter(idx, _names(rng, prefix[idx], kind[idx]))
    years_ago = np.minimum(rng.gamma(1.6, 2200, n), 40 * 365).astype(np.int64)
    established = REFERENCE_DAY - years_ago - 30
    modern = established >= int(np.datetime64("2015-10-01", "D").astype(np.int64))
    area = np.where(rng.random(n) < CITY_LEVEL_SHARE, 440300, 440303)
    prefix_m = np.frombuffer("".join(prefix).encode(), dtype=np.uint8).reshape(n, 2)
    code = ids.credit_codes(prefix_m, area, ids.org_codes(rng, n, modern))
    for _ in range(50):
        # Codes are unique by law; redraw the organisation code of any later duplicate.
        _, first = np.unique(code.view("S18").ravel(), return_index=True)
        if first.size == n:
            break
        again = np.ones(n, dtype=bool)
        again[first] = False
        org = ids.org_codes(rng, int(again.sum()), modern[again])
        code[again] = ids.credit_codes(prefix_m[again], area[again], org)
    status = weighted(rng, STATUS_WEIGHTS, n)
    rep = representatives[rng.integers(0, len(representatives), n)]
    premises = np.concatenate([shops, offices])
    registered_room = np.where(
        prefix == "92",
        shops[rng.integers(0, len(shops), n)],
        premises[rng.integers(0, len(premises), n)],
    )
    elsewhere = premises[rng.integers(0, len(premises), n)]
    operating_room = np.where(rng.random(n) < 0.7, registered_room, elsewhere)
    landline = pl.Series(rng.integers(0, 2, n) * 6 + 2).cast(pl.String) + pl.Series(
        rng.integers(0, 10**7, n)
    ).cast(pl.String).str.zfill(7)
    phone = pl.select(
        pl.when(pl.Series(rng.random(n) < 0.6))
        .then(rep_phone.gather(rep))
        .otherwise(pl.lit("0755-") + landline)
    ).to_series()
    capital = np.asarray([10, 30, 50, 100, 200, 500, 1000, 5000])[rng.integers(0, 8, n)]
    return pl.DataFrame(
        {
            "entity": np.arange(n),
            "credit_code": ascii_rows(code),
            "name": names,
            "entity_type": kind,
            "prefix": prefix,
            "representative": rep,
            "registered_room": registered_room,
            "operating_room": operating_room,
            "status_label": pick(STATUS_LABELS, status),
            "status": pick(STATUS_CODES, status),
            "established_date": pl.Series(established.astype(np.int32)).cast(pl.Date),
            "phone": phone,
            "capital": np.where(prefix == "92", 0, capital),
        }
    )


def build_components(rng: np.random.Generator, grids: pl.DataFrame) -> pl.DataFrame:
    """City components: at least five per grid, classed by the GB/T 47678.5 catalogue."""
    cat = catalogue()
    names = cat["name"].to_list()
    w = [COMPONENT_WEIGHTS.get(x, 1) for x in names]
    per_grid = 5 + rng.poisson(COMPONENTS_PER_GRID, grids.height)
    grid = np.repeat(np.arange(grids.height), per_grid)
    n = len(grid)
    cls = weighted(rng, w, n)
    # Sequence numbers count up within each class across the district.
    order = np.lexsort((np.arange(n), cls))
    seq = np.empty(n, dtype=np.int64)
    sorted_cls = cls[order]
    first = np.r_[True, sorted_cls[1:] != sorted_cls[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    seq[order] = np.arange(n) - start + 1
    owners = [
        next((o for word, o in OWNERS_BY_WORD if word in name), OWNERS_BY_CATEGORY[c])
        for name, c in zip(names, cat["category"].to_list(), strict=True)
    ]
    box = grids.select("west", "south", "east", "north").to_numpy()[grid]
    u, v = rng.uniform(0.02, 0.98, n), rng.uniform(0.02, 0.98, n)
    codes = cat["code"]
    return pl.DataFrame(
        {
            "component": np.arange(n),
            "grid_code": grids["grid_code"].gather(grid),
            "class_code": codes.gather(cls),
            "seq": seq,
            "name": cat["name"].gather(cls),
            "category": cat["category"].gather(cls),
            "owner": pick(owners, cls),
            "status": pick(COMPONENT_STATUS, weighted(rng, COMPONENT_STATUS_WEIGHTS, n)),
            "longitude": np.round(box[:, 0] + u * (box[:, 2] - box[:, 0]), 6),
            "latitude": np.round(box[:, 1] + v * (box[:, 3] - box[:, 1]), 6),
        }
    ).with_columns(
        (
            pl.lit("440303") + pl.col("class_code") + pl.col("seq").cast(pl.String).str.zfill(6)
        ).alias("component_code")
    )
