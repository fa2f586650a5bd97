"""Phones and addresses: the common shapes are decided in polars, the others by the scalar code.

test_vectorised holds both paths to the scalar answers; these tests hold the line between them,
so that the hot path stays in polars and its premises stay true.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

import polars as pl
import pytest

from gridweave.ingest.cleaning import _vector_addresses, _vector_phones, clean_phone
from gridweave.ingest.cleaning._chars import FULLWIDTH_TABLE, WS_CLASS

from .test_addresses import ROOM_1502


@pytest.fixture
def python_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The values sent to the scalar phone and address parsers."""
    calls: list[str] = []

    def spy(fn: Callable[[str], Any]) -> Callable[[str], Any]:
        def called(raw: str) -> Any:
            calls.append(raw)
            return fn(raw)

        return called

    monkeypatch.setattr(_vector_phones, "_clean_phone", spy(_vector_phones._clean_phone))
    monkeypatch.setattr(_vector_addresses, "_parse", spy(_vector_addresses._parse))
    yield calls


COMMON_PHONES = [
    "13812345678",
    "138 1234 5678",
    "+86-138-1234-5678",
    "+86 13812345678",
    "8613812345678",
    "0086 138 1234 5678",
    "(+86)138-1234-5678",
    "１３８１２３４５６７８",
    "0755-12345678",
    "075512345678",
    "(0755)12345678",
    "（0755）1234-5678",
    "+86 755 1234 5678",
    "010 6512 3456",
    "400-800-1234",
    "75512345678",
]
OTHER_PHONES = ["87654321", "1381234567", "+852 9123 4567", "138abc", "0 0755 1234", "8675512345"]


def test_common_phones_are_decided_in_polars(python_calls: list[str]) -> None:
    got = _vector_phones.phone_frame(pl.Series([*COMMON_PHONES, None, "", " - "]))
    assert python_calls == []
    expected = [clean_phone(raw) for raw in COMMON_PHONES]
    assert got["value"].to_list()[: len(COMMON_PHONES)] == [p.value for p in expected]


def test_other_phones_go_to_clean_phone(python_calls: list[str]) -> None:
    _vector_phones.phone_frame(pl.Series(OTHER_PHONES + OTHER_PHONES))
    assert sorted(python_calls) == sorted(OTHER_PHONES)


def test_every_start_of_a_national_number_as_clean_phone_reads_it() -> None:
    # Every three-digit start, at every length a Chinese number has, behind every prefix the
    # fast path reads: a phonenumbers upgrade that breaks one of its premises fails here.
    raws = [
        prefix + f"{start}{'2468013579' * 2}"[:length]
        for start in range(100, 1000)
        for length in range(7, 13)
        for prefix in ("", "0", "+86", "0086")
    ]
    got = _vector_phones.phone_frame(pl.Series(raws))
    expected = [clean_phone(raw) for raw in raws]
    assert got.rows() == [(p.value, p.problem, p.kind) for p in expected]


COMMON_ADDRESSES = [
    *(a for a in ROOM_1502 if "十" not in a),
    "深圳市罗湖区东门街道解放路12号3栋2单元1502",
    "罗湖区解放路12号3座2单元1502室",
    "广东省深圳市罗湖区湖贝新村东坊5巷8号401",
    "北京市朝阳区建国路88号SOHO现代城A座1201",
    "上海市浦东新区世纪大道100号",
]
OTHER_ADDRESSES = [
    "罗湖区解放路十二号三栋二单元1502",  # Chinese numerals
    "深圳市宝安区西乡街道解放路17号33栋5单元3203",  # 西乡 could be a street (乡)
    "罗湖区解放路3号楼",  # 3号 could be the door number
    "罗湖区解放路12号15楼02A",  # 15楼02 could be the room
    "罗湖区解放路12号之1 5栋301",  # a space left between digits
    "罗湖区解放路12号①栋",  # NFKC makes ① a 1
]


def test_common_addresses_are_decided_in_polars(python_calls: list[str]) -> None:
    _vector_addresses.address_frame(pl.Series([*COMMON_ADDRESSES, None, "", "\u3000"]))
    assert python_calls == []


def test_other_addresses_go_to_parse_address(python_calls: list[str]) -> None:
    _vector_addresses.address_frame(pl.Series(OTHER_ADDRESSES + OTHER_ADDRESSES))
    assert sorted(python_calls) == sorted(OTHER_ADDRESSES)


def _composed_second_characters() -> set[str]:
    """Characters that canonical composition can join to the character before them."""
    seconds = {chr(c) for c in (*range(0x1161, 0x1176), *range(0x11A8, 0x11C3))}  # Hangul
    for code in range(0x110000):
        decomposition = unicodedata.decomposition(chr(code)).split()
        if len(decomposition) == 2 and not decomposition[0].startswith("<"):
            seconds.add(chr(int(decomposition[1], 16)))
    return seconds


def test_plain_characters_normalise_one_by_one() -> None:
    # The polars normalisation of addresses is normalise_address only on PLAIN text: there NFKC
    # must be full-width to half-width (whitespace may become other whitespace), character by
    # character, and upper() must touch nothing but ASCII.
    plain = re.compile(_vector_addresses.PLAIN)
    whitespace = re.compile(WS_CLASS)
    seconds = _composed_second_characters()
    for c in map(chr, range(0x10000)):
        if not plain.fullmatch(c):
            continue
        half = c.translate(FULLWIDTH_TABLE)
        nfkc = unicodedata.normalize("NFKC", c)
        assert nfkc == half or (whitespace.fullmatch(c) and whitespace.fullmatch(nfkc)), hex(ord(c))
        assert unicodedata.combining(c) == 0 and c not in seconds, hex(ord(c))
        assert half.isascii() or half.upper() == half, hex(ord(c))
