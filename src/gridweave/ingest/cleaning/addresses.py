"""Chinese postal addresses split into administrative parts, door number, building, unit and room.

The parser reads left to right, each part optional: province, city, district, street (街道/镇),
community (社区), then the road up to the door number (号), building (栋/座/幢/号楼), unit
(单元) and room; whatever it cannot place goes to `rest`. Urban-village lanes (湖贝新村东坊5巷)
count as the road. The match keys use only district, road, number, building, unit and room, so
that writing or leaving out the province, city, street or community does not change them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields

from gridweave.ingest.cleaning._chars import WS_CLASS

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
CN_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000}

# The grammar's pieces are shared with the vectorised parser, which cannot use lookaround:
# each lookaround here is kept apart from the piece it guards, and named.
CN_NUMERAL = "[零〇一二两三四五六七八九十百千]"
COUNTED = "号|栋|座|幢|单元|楼|层|室|房|巷|弄"
PUNCTUATION = r"[,;、。()#]"

NAME_STOP = "省市区县路号栋座幢楼室房"
NAME = rf"(?:(?![{NAME_STOP}])[\u4e00-\u9fff])"
PROVINCE = rf"(?:北京|天津|上海|重庆)市|{NAME}{{2,7}}?(?:省|自治区|特别行政区)"
CITY = rf"{NAME}{{2,7}}?(?:市|自治州|地区|盟)"
# 社区, 小区, 园区, 工业区, 开发区, 景区 and 保税区 end in 区 but are not districts.
NOT_BEFORE_DISTRICT = "社小园业发景税"
STREET = rf"{NAME}{{1,6}}?(?:街道办事处|街道办|街道|镇|乡)"
NOT_AFTER_STREET = "路街巷道"  # 解放街道路 is no street (街道) followed by a road
COMMUNITY = rf"{NAME}{{1,8}}?(?:社区居民委员会|社区居委会|社区工作站|社区|居委会|村委会)"
ROAD_NUMBER = r"(?P<road>.*?[^0-9 -])(?P<number>[0-9]+(?:-[0-9]+)?)号"
NOT_AFTER_NUMBER = "楼"  # 3号楼 is a building
SUB_NUMBER = r"(?:-(?P<sub>[0-9]+))?"
ROAD_ONLY = r".+?(?:大道|路|街|巷|弄|胡同|里|村)"
# An estate name (花园, 现代城…) may stand between door number and building; it goes to `rest`.
BUILDING = r"(?P<estate>[^0-9]*?)第?(?P<building>[0-9A-Z]+(?:-[0-9A-Z]+)?)(?:号楼|栋|座|幢)"
UNIT = r"(?P<unit>[0-9A-Z]+)单元"
ROOM = (
    r"(?:(?P<floor>[0-9]+)[楼层](?P<on_floor>[0-9]+)|(?P<room>[0-9A-Z]*[0-9][0-9A-Z]*(?:-[0-9A-Z]+)?))"
    r"(?:号房|室|房|号)?"
)
NOT_AFTER_ROOM = "0-9A-Z"

# Chinese numerals are rewritten only where they count something: before these markers.
_CN_NUMBER = re.compile(f"{CN_NUMERAL}+(?={COUNTED})")
_WS = re.compile(WS_CLASS + "+")
_DROPPED_SPACE = re.compile(r"(?<![A-Za-z0-9]) | (?![A-Za-z0-9])")
_PUNCTUATION = re.compile(PUNCTUATION)

_PARTS = (
    ("province", PROVINCE),
    ("city", CITY),
    ("district", rf"{NAME}{{1,6}}?(?:新区|自治县|(?<![{NOT_BEFORE_DISTRICT}])区|县|旗|市)"),
    ("street", rf"{STREET}(?![{NOT_AFTER_STREET}])"),
    ("community", COMMUNITY),
)
_ADMIN = [(name, re.compile(pattern)) for name, pattern in _PARTS]
_ROAD_NUMBER = re.compile(f"{ROAD_NUMBER}(?!{NOT_AFTER_NUMBER}){SUB_NUMBER}")
_ROAD_ONLY = re.compile(f"(?P<road>{ROAD_ONLY})")
_BUILDING = re.compile(BUILDING)
_UNIT = re.compile(UNIT)
_ROOM = re.compile(f"{ROOM}(?![{NOT_AFTER_ROOM}])")


@dataclass(frozen=True)
class Address:
    """The parts of an address; None where the address does not give one."""

    province: str | None = None
    city: str | None = None
    district: str | None = None
    street: str | None = None
    community: str | None = None
    road: str | None = None
    number: str | None = None
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    rest: str | None = None


def cn_to_int(numeral: str) -> int:
    """The value of a Chinese numeral: 十二 → 12, 二十一 → 21, 一五零二 → 1502."""
    if not any(c in CN_UNITS for c in numeral):
        return int("".join(str(CN_DIGITS[c]) for c in numeral))
    total, digit = 0, None
    for c in numeral:
        if c in CN_UNITS:
            total += (1 if digit is None else digit) * CN_UNITS[c]
            digit = None
        else:
            digit = CN_DIGITS[c]
    return total + (digit or 0)


def normalise_address(raw: str | None) -> str | None:
    """Half-width, whitespace collapsed and kept only between Latin letters or digits."""
    if raw is None:
        return None
    s = _WS.sub(" ", unicodedata.normalize("NFKC", raw)).strip(" ")
    s = _DROPPED_SPACE.sub("", s)
    return s or None


def _parse_form(normalised: str) -> str:
    s = _PUNCTUATION.sub("", normalised).upper().replace("之", "-")
    return _CN_NUMBER.sub(lambda m: str(cn_to_int(m.group())), s)


def parse_address(raw: str | None) -> Address:
    """Split an address into its parts; all None for a blank one."""
    normalised = normalise_address(raw)
    if normalised is None:
        return Address()
    s = _parse_form(normalised)
    parts: dict[str, str | None] = {}
    pos = 0

    def match(pattern: re.Pattern[str]) -> re.Match[str] | None:
        nonlocal pos
        # Spaces survive only between Latin letters or digits, where they separate parts.
        found = pattern.match(s, len(s) - len(s[pos:].lstrip(" ")))
        if found:
            pos = found.end()
        return found

    for name, pattern in _ADMIN:
        if m := match(pattern):
            parts[name] = m.group()
    if m := match(_ROAD_NUMBER):
        number = m["number"].lstrip("0") or "0"
        parts["road"], parts["number"] = m["road"], f"{number}-{m['sub']}" if m["sub"] else number
    elif m := match(_ROAD_ONLY):
        parts["road"] = m["road"]
    estate = None
    if m := match(_BUILDING):
        estate, parts["building"] = m["estate"] or None, m["building"]
    if m := match(_UNIT):
        parts["unit"] = m["unit"]
    if m := match(_ROOM):
        floor = m["floor"]
        parts["room"] = f"{floor}{m['on_floor'].zfill(2)}" if floor else m["room"]
    parts["rest"] = "".join(filter(None, (estate, s[pos:].strip()))) or None
    return Address(**parts)


def building_key(addr: Address) -> str | None:
    """District|road|number|building; None without a district, road and door number."""
    if not (addr.district and addr.road and addr.number):
        return None
    return "|".join((addr.district, addr.road, addr.number, addr.building or ""))


def room_key(addr: Address) -> str | None:
    """The building key with unit and room; None without a room or a building key."""
    key = building_key(addr)
    if key is None or not addr.room:
        return None
    return f"{key}|{addr.unit or ''}|{addr.room}"


ADDRESS_FIELDS = tuple(f.name for f in fields(Address))
