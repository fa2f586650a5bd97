"""Masking forms (脱敏): pure functions that keep only what identifies a value's kind and place.

Names keep the surname (compound surnames whole): 张**, 欧阳**. Citizen ids keep the area code and
the last four: 440104********1234. Phones keep the first three and last four: 138****5678
(landlines their area code and last four). Addresses are cut after the district: 罗湖区****.
Every other sensitive value is replaced whole.
"""

from __future__ import annotations

import re

from gridweave.ingest.cleaning.addresses import CITY, NAME, NOT_BEFORE_DISTRICT, PROVINCE
from gridweave.registry.attributes import Kind

STARS = "****"
HIDDEN = "******"  # the whole value withheld

# 复姓: two-character surnames, kept whole so 欧阳锋 reads 欧阳**, not 欧**.
COMPOUND_SURNAMES = frozenset(
    " ".join(
        (
            "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 端木",
            "独孤 南宫 西门 百里 呼延 澹台 公冶 宗政 濮阳 淳于 单于 太叔 申屠 仲孙 钟离 闻人",
            "万俟 赫连 东郭 拓跋 完颜 司空 左丘 梁丘 段干 第五 羊舌 微生 谷梁 乐正 壤驷 公良",
            "漆雕 巫马 亓官 司寇 颛孙 子车 东门 南门 呼衍 归海 东里 公羊 闾丘 公西 夹谷 鲜于",
            "贺兰",
        )
    ).split()
)

_DISTRICT = rf"{NAME}{{1,6}}?(?:新区|自治县|(?<![{NOT_BEFORE_DISTRICT}])区|县|旗|市)"
_UP_TO_DISTRICT = re.compile(rf"(?:{PROVINCE})?(?:{CITY})?{_DISTRICT}")
_UP_TO_CITY = re.compile(rf"(?:{PROVINCE})?{CITY}|{PROVINCE}")


def mask_name(name: str) -> str:
    """张三丰 → 张**, 欧阳锋 → 欧阳**; a one-character name is hidden whole."""
    if len(name) < 2:
        return "*"
    keep = 2 if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES else 1
    return name[:keep] + "**"


def mask_citizen_id(value: str) -> str:
    """440104199003071234 → 440104********1234 (15-digit ids: 440104*****1234)."""
    if len(value) < 12:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """13812345678 → 138****5678; 0755-12345678 → 0755-****5678."""
    if "-" in value:
        area, _, local = value.partition("-")
        return f"{area}-{STARS}{local[-4:]}" if len(local) > 4 else f"{area}-{STARS}"
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_address(value: str) -> str:
    """Everything after the district hidden: 深圳市罗湖区东门街道… → 深圳市罗湖区****."""
    found = _UP_TO_DISTRICT.match(value) or _UP_TO_CITY.match(value)
    return (found.group() if found else "") + STARS


def mask_value(kind: Kind, value: object) -> str:
    """The masked form of a value of this kind."""
    text = str(value)
    if kind == Kind.name:
        return mask_name(text)
    if kind == Kind.citizen_id:
        return mask_citizen_id(text)
    if kind == Kind.phone:
        return mask_phone(text)
    if kind == Kind.address:
        return mask_address(text)
    return HIDDEN
