"""Addresses: parts, Chinese numerals, and match keys that ignore how much of the tree is given."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridweave.ingest.cleaning import Address, building_key, parse_address, room_key
from gridweave.ingest.cleaning.addresses import cn_to_int, normalise_address

ROOM_1502 = [
    "广东省深圳市罗湖区东门街道湖贝社区解放路12号3栋2单元1502",
    "深圳市罗湖区解放路12号3栋2单元1502房",
    "罗湖区东门街道解放路12号3座2单元1502室",
    "罗湖区解放路十二号三栋二单元1502",
    "罗湖区 解放路12号 3栋 2单元 15楼02",
    "罗湖区解放路12号3幢2单元1502",
    "罗湖区解放路12号3号楼2单元1502",
    "罗湖区解放路１２号３栋２单元１５０２",
    "罗湖区,解放路12号,3栋,2单元,1502",
]


def test_a_full_address_is_split_into_every_part() -> None:
    assert parse_address(ROOM_1502[0]) == Address(
        province="广东省",
        city="深圳市",
        district="罗湖区",
        street="东门街道",
        community="湖贝社区",
        road="解放路",
        number="12",
        building="3",
        unit="2",
        room="1502",
    )


@pytest.mark.parametrize("raw", ROOM_1502)
def test_every_spelling_of_one_room_has_the_same_keys(raw: str) -> None:
    addr = parse_address(raw)
    assert room_key(addr) == "罗湖区|解放路|12|3|2|1502"
    assert building_key(addr) == "罗湖区|解放路|12|3"


def test_without_a_unit_the_room_key_has_an_empty_unit() -> None:
    # Kept apart from 2单元1502: a building's units can each have a room 1502.
    addr = parse_address("罗湖区解放路12号3栋1502")
    assert (addr.building, addr.unit, addr.room) == ("3", None, "1502")
    assert room_key(addr) == "罗湖区|解放路|12|3||1502"


@pytest.mark.parametrize(
    "raw", ["罗湖区湖贝新村东坊5巷8号401", "罗湖区东门街道湖贝新村东坊五巷8号401房"]
)
def test_urban_village_lanes_are_the_road(raw: str) -> None:
    addr = parse_address(raw)
    assert (addr.road, addr.number, addr.building, addr.room) == (
        "湖贝新村东坊5巷",
        "8",
        None,
        "401",
    )
    assert room_key(addr) == "罗湖区|湖贝新村东坊5巷|8|||401"


def test_an_estate_name_before_the_building_goes_to_rest() -> None:
    addr = parse_address("北京市朝阳区建国路88号SOHO现代城A座1201")
    assert (addr.province, addr.district, addr.road, addr.number) == (
        "北京市",
        "朝阳区",
        "建国路",
        "88",
    )
    assert (addr.building, addr.room, addr.rest) == ("A", "1201", "SOHO现代城")


def test_sub_numbers() -> None:
    assert parse_address("罗湖区解放路12号之1 5栋301").number == "12-1"
    assert parse_address("罗湖区解放路12之1号").number == "12-1"


@pytest.mark.parametrize(
    "raw", ["罗湖区解放路", "解放路12号3栋2单元1502", "罗湖区湖贝社区3栋501", "深圳市福田区"]
)
def test_keys_are_none_without_district_road_and_number(raw: str) -> None:
    assert building_key(parse_address(raw)) is None
    assert room_key(parse_address(raw)) is None


def test_building_key_without_a_room() -> None:
    addr = parse_address("上海市浦东新区世纪大道100号")
    assert (addr.district, addr.road, addr.number) == ("浦东新区", "世纪大道", "100")
    assert building_key(addr) == "浦东新区|世纪大道|100|"
    assert room_key(addr) is None


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_blank_is_all_none(raw: str | None) -> None:
    assert parse_address(raw) == Address()


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("三", 3),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("二十一", 21),
        ("一百零五", 105),
        ("一五零二", 1502),
    ],
)
def test_chinese_numerals(numeral: str, value: int) -> None:
    assert cn_to_int(numeral) == value


def test_the_normalised_value_keeps_latin_spaces_only() -> None:
    assert (
        normalise_address(" 罗湖区 解放路１２号　SOHO  Tower A座 ")
        == "罗湖区解放路12号SOHO Tower A座"
    )


DIGITS = "零一二三四五六七八九"


def chinese(n: int) -> str:
    """1–99 in Chinese numerals: 十二, 二十, 三十五."""
    tens, ones = divmod(n, 10)
    return ((DIGITS[tens] if tens > 1 else "") + "十" if tens else "") + (
        DIGITS[ones] if ones else ""
    )


PREFIXES = ["", "广东省", "深圳市", "广东省深圳市"]
MIDDLES = ["", "东门街道", "湖贝社区", "东门街道湖贝社区"]


@given(
    st.sampled_from(PREFIXES),
    st.sampled_from(MIDDLES),
    st.integers(1, 999),
    st.integers(1, 30),
    st.integers(1, 9),
    st.integers(1, 40),
    st.integers(1, 20),
    st.sampled_from(["栋", "座", "幢", "号楼"]),
    st.sampled_from(["", "室", "房"]),
    st.booleans(),
)
def test_room_key_ignores_the_tree_and_the_spelling(
    prefix: str,
    middle: str,
    number: int,
    building: int,
    unit: int,
    floor: int,
    door: int,
    b: str,
    suffix: str,
    in_chinese: bool,
) -> None:
    room = f"{floor}{door:02d}"
    plain = f"罗湖区解放路{number}号{building}栋{unit}单元{room}"
    if in_chinese:
        parts = f"{chinese(building)}{b}{chinese(unit)}单元{floor}楼{door:02d}"
    else:
        parts = f"{building}{b}{unit}单元{room}{suffix}"
    spelt = f"{prefix}罗湖区{middle}解放路{number}号 {parts}"
    expected = f"罗湖区|解放路|{number}|{building}|{unit}|{room}"
    assert room_key(parse_address(plain)) == expected
    assert room_key(parse_address(spelt)) == expected


def test_text_after_the_room_goes_to_rest() -> None:
    addr = parse_address("罗湖区解放路12号3栋2单元1502室(出租)")
    assert (addr.room, addr.rest) == ("1502", "出租")
