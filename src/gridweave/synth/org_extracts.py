"""The tax register: the same legal entities as the commercial register, written its own way.

A second department's view of the legal entities is what makes their linkage matter: the tax
bureau keys in names from paper forms (有限责任公司 for 有限公司, the city moved into brackets,
spaces, traditional characters, the 深圳市 prefix left out), older taxpayers still carry their
15-digit tax registration number instead of a credit code, some rows have no number at all, and
branches (分公司) of companies register with the bureau as taxpayers of their own, sometimes at
the head office's own address.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import opencc
import polars as pl

from gridweave.synth import faults as f
from gridweave.synth import ids, pools
from gridweave.synth import spelling as sp
from gridweave.synth.common import ascii_rows, pick, weighted
from gridweave.synth.population import City

TAX_SHARE = 0.7  # active enterprises and individual businesses the extract holds
# How the bureau writes a name (weights): as registered, 有限责任公司, （深圳） moved into brackets,
# spaces between its words, traditional characters, without 深圳市, 公司 without 有限, and one
# character of the brand mistyped (a typo no normalisation can undo: the record stays unlinked).
NAME_VARIANTS = (0.43, 0.15, 0.1, 0.08, 0.07, 0.1, 0.05, 0.02)
CODE_BLANK_RATE = 0.12  # no number on the row
LEGACY_NUMBER_RATE = 0.08  # an old 15-digit tax registration number (440303 + organisation code)
BRANCH_RATE = 0.05  # companies with a branch registered as a taxpayer of its own
BRANCH_AT_HEAD_OFFICE = 0.5  # the branch operates at the head office's address
BRANCH_PLACES = ("罗湖", "东门", "翠竹", "笋岗", "黄贝", "莲塘", "清水河", "桂园")
TAX_ADDRESSES = sp.AddressStyle(
    prefix=(0.3, 0.6, 0.1),
    drop_district=0.15,
    drop_street=0.5,
    building_word=(0.7, 0.2, 0.1),
    room_suffix=(0.5, 0.4, 0.1),
    chinese_numerals=0.1,
    full_width=0.05,
)


@cache
def _to_traditional() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def respell_names(names: pl.Series, variant: np.ndarray) -> pl.Series:
    """Each name written in the variant given (an index into NAME_VARIANTS); where a variant
    does not apply to a name (no 有限公司 in it, no 深圳市 prefix) the name stays as it is."""
    frame = pl.DataFrame({"n": names, "v": variant})
    n, v = pl.col("n"), pl.col("v")
    limited = n.str.ends_with("有限公司") & ~n.str.ends_with("股份有限公司")
    city = n.str.starts_with("深圳市") & ~n.str.starts_with("深圳市罗湖区")
    bracketed = n.str.replace("^深圳市", "").str.replace("有限公司$", "（深圳）有限公司")
    spaced = n.str.replace("^深圳市", "深圳市 ").str.replace("(有限公司|股份有限公司)$", " $1")
    out = (
        pl.when((v == 1) & limited)
        .then(n.str.replace("有限公司$", "有限责任公司"))
        .when((v == 2) & limited & city)
        .then(bracketed)
        .when(v == 3)
        .then(spaced)
        .when(v == 5)
        .then(n.str.replace("^深圳市", ""))
        .when((v == 6) & limited)
        .then(n.str.replace("有限公司$", "公司"))
        .otherwise(n)
    )
    spelled = frame.select(out).to_series()
    typo = np.flatnonzero(variant == 7)
    if len(typo):
        chosen = spelled.gather(typo).to_list()
        wrong = [_mistype(s, int(i)) for i, s in zip(typo, chosen, strict=True)]
        spelled = spelled.scatter(typo, wrong)
    traditional = np.flatnonzero(variant == 4)
    if len(traditional):
        cc = _to_traditional()
        chosen = spelled.gather(traditional).to_list()
        spelled = spelled.scatter(traditional, [cc.convert(s) for s in chosen])
    return spelled


def _mistype(name: str, salt: int) -> str:
    """`name` with the first character of its brand (after the places) replaced by another."""
    at = len("深圳市罗湖区") if name.startswith("深圳市罗湖区") else len("深圳市")
    chars = tuple(dict.fromkeys(pools.BRAND_CHARS))
    wrong = chars[(chars.index(name[at]) + 1 + salt) % len(chars)] if name[at] in chars else "新"
    if wrong == name[at]:
        wrong = chars[(chars.index(wrong) + 1) % len(chars)]
    return name[:at] + wrong + name[at + 1 :]


def _numbers(rng: np.random.Generator, codes: pl.Series) -> pl.Series:
    """The taxpayer number column: the credit code, a legacy tax number, or nothing."""
    n = len(codes)
    choice = weighted(rng, (1 - CODE_BLANK_RATE - LEGACY_NUMBER_RATE, CODE_BLANK_RATE,
                            LEGACY_NUMBER_RATE), n)  # fmt: skip
    legacy = pl.lit("440303") + pl.Series(codes).str.slice(8, 9)
    frame = pl.DataFrame({"code": codes, "c": choice})
    return frame.select(
        pl.when(pl.col("c") == 0)
        .then(pl.col("code"))
        .when(pl.col("c") == 2)
        .then(legacy)
        .otherwise(pl.lit(None, pl.String))
    ).to_series()


def tax_registrations(city: City, rng: np.random.Generator) -> pl.DataFrame:
    """Taxpayers: most active enterprises and shops, and the branches of some companies."""
    active = city.entities.filter(
        pl.col("prefix").is_in(["91", "92"]) & (pl.col("status") == "active")
    )
    e = active.filter(pl.Series(rng.random(active.height) < TAX_SHARE))
    n = e.height
    names = respell_names(e["name"], weighted(rng, NAME_VARIANTS, n))
    heads = e.filter(pl.col("prefix") == "91").filter(
        pl.Series(rng.random(int((e["prefix"] == "91").sum())) < BRANCH_RATE)
    )
    m = heads.height
    place = pick(BRANCH_PLACES, rng.integers(0, len(BRANCH_PLACES), m))
    modern = np.ones(m, dtype=bool)
    prefix = np.frombuffer(b"91" * m, dtype=np.uint8).reshape(m, 2)
    branch_codes = ascii_rows(
        ids.credit_codes(prefix, np.full(m, 440303), ids.org_codes(rng, m, modern))
    )
    elsewhere = e["operating_room"].to_numpy()[rng.integers(0, n, m)] if n else np.zeros(0, int)
    branch_room = np.where(
        rng.random(m) < BRANCH_AT_HEAD_OFFICE, heads["operating_room"].to_numpy(), elsewhere
    )
    rows = pl.concat(
        [
            pl.DataFrame(
                {
                    "name": names,
                    "code": _numbers(rng, e["credit_code"]),
                    "room": e["operating_room"],
                    "kind": e["entity_type"],
                    "rep": e["legal_representative"],
                    "established": e["established_date"],
                    "__entity": e["legal_entity_id"],
                }
            ),
            pl.DataFrame(
                {
                    "name": heads["name"] + place + "分公司",
                    "code": pl.Series(branch_codes).scatter(
                        np.flatnonzero(f.mask(rng, m, CODE_BLANK_RATE)), None
                    ),
                    "room": pl.Series(branch_room, dtype=e["operating_room"].dtype),
                    "kind": pl.repeat("有限责任公司分公司", m, eager=True),
                    "rep": heads["legal_representative"],
                    "established": heads["established_date"],
                    "__entity": heads["legal_entity_id"] + "-" + branch_codes.str.slice(8, 9),
                }
            ),
        ]
    )
    total = rows.height
    return pl.DataFrame(
        {
            "登记序号": sp.serials(rng, total, "LHSW", 9),
            "纳税人识别号": rows["code"],
            "纳税人名称": rows["name"],
            "登记注册类型": rows["kind"],
            "法定代表人（负责人）": rows["rep"],
            "生产经营地址": sp.spell_addresses(
                city.rooms, rows["room"].to_numpy(), rng, TAX_ADDRESSES
            ),
            "登记日期": rows["established"].dt.strftime("%Y-%m-%d"),
            "主管税务机关": pl.repeat("国家税务总局深圳市罗湖区税务局", total, eager=True),
            "__entity": rows["__entity"],
        }
    ).sort("登记序号")
