"""Masking forms: what each keeps, and that nothing else of the value survives."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridweave.registry.attributes import Kind
from gridweave.sharing.masking import (
    COMPOUND_SURNAMES,
    HIDDEN,
    mask_address,
    mask_citizen_id,
    mask_name,
    mask_phone,
    mask_value,
)

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
DIGITS = st.sampled_from("0123456789")


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张**"),
        ("张三丰", "张**"),
        ("欧阳锋", "欧阳**"),
        ("欧阳", "欧**"),  # a two-character name is surname + given name
        ("司马相如", "司马**"),
        ("诸葛亮", "诸葛**"),
        ("上官婉儿", "上官**"),
        ("慕容复", "慕容**"),
        ("阿依古丽·买买提", "阿**"),
        ("王", "*"),
    ],
)
def test_names_keep_the_surname(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@given(st.sampled_from(sorted(COMPOUND_SURNAMES)), st.text(CJK, min_size=1, max_size=3))
def test_compound_surnames_are_kept_whole(surname: str, given_name: str) -> None:
    assert mask_name(surname + given_name) == surname + "**"


@given(st.text(CJK, min_size=2, max_size=6))
def test_a_masked_name_hides_the_given_name_and_its_length(name: str) -> None:
    masked = mask_name(name)
    kept = masked.removesuffix("**")
    assert name.startswith(kept)
    assert len(kept) in (1, 2)
    assert masked.endswith("**")
    assert len(masked) == len(kept) + 2  # the same for 张三 and 张三丰


def test_citizen_id_and_phone_forms() -> None:
    assert mask_citizen_id("440104199003071234") == "440104********1234"
    assert mask_citizen_id("44010419900307X") == "440104*****307X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0755-12345678") == "0755-****5678"
    assert mask_phone("12345") == "*****"


@given(st.text(DIGITS, min_size=17, max_size=17), st.sampled_from("0123456789X"))
def test_a_masked_citizen_id_keeps_area_and_last_four_only(first17: str, check: str) -> None:
    value = first17 + check
    masked = mask_citizen_id(value)
    assert len(masked) == 18
    assert masked[:6] == value[:6]
    assert masked[-4:] == value[-4:]
    assert masked[6:14] == "*" * 8  # the birth date and sequence are gone


@given(st.sampled_from(["13", "15", "18", "19"]), st.text(DIGITS, min_size=9, max_size=9))
def test_a_masked_mobile_hides_the_middle_four(prefix: str, rest: str) -> None:
    phone = prefix + rest
    masked = mask_phone(phone)
    assert masked == phone[:3] + "****" + phone[-4:]


@given(st.text(DIGITS, min_size=3, max_size=4), st.text(DIGITS, min_size=7, max_size=8))
def test_a_masked_landline_keeps_area_code_and_last_four(area: str, local: str) -> None:
    masked = mask_phone(f"0{area}-{local}")
    assert masked == f"0{area}-****{local[-4:]}"


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("广东省深圳市罗湖区东门街道解放路12号3栋501", "广东省深圳市罗湖区****"),
        ("深圳市罗湖区东门街道解放路12号", "深圳市罗湖区****"),
        ("罗湖区翠竹街道太宁路8号", "罗湖区****"),
        ("北京市朝阳区建国路88号", "北京市朝阳区****"),
        ("东门街道阳光小区5栋", "****"),  # no district: nothing is kept
        ("阳光小区5栋201", "****"),
    ],
)
def test_addresses_are_cut_after_the_district(address: str, masked: str) -> None:
    assert mask_address(address) == masked


STREETS = st.sampled_from(["东门街道", "翠竹街道", "桂园街道", ""])
ROADS = st.sampled_from(["解放路", "太宁路", "人民北路", "湖贝新村东坊5巷"])


@given(
    st.sampled_from(["", "广东省", "广东省深圳市", "深圳市"]),
    st.sampled_from(["罗湖区", "福田区", "南山区", "龙华新区"]),
    STREETS,
    ROADS,
    st.integers(1, 999),
)
def test_nothing_after_the_district_survives(
    prefix: str, district: str, street: str, road: str, number: int
) -> None:
    address = f"{prefix}{district}{street}{road}{number}号"
    masked = mask_address(address)
    assert masked == f"{prefix}{district}****"
    assert road not in masked and str(number) not in masked.removesuffix("****")


def test_other_kinds_are_hidden_whole() -> None:
    assert mask_value(Kind.date, "1990-03-07") == HIDDEN
    assert mask_value(Kind.decimal, 1234.5) == HIDDEN
    assert mask_value(Kind.name, "欧阳锋") == "欧阳**"
    assert mask_value(Kind.address, "罗湖区解放路1号") == "罗湖区****"
