"""Names: simplified characters, half-width, no spaces inside Chinese, one kind of middle dot."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridweave.ingest.cleaning import clean_name
from gridweave.ingest.cleaning._chars import WS_CLASS
from gridweave.ingest.cleaning.names import CJK, clean_names


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("歐陽鋒", "欧阳锋"),
        ("鍾漢良", "钟汉良"),
        ("张 三", "张三"),
        (" 张\u3000三 ", "张三"),
        ("ＷＡＮＧ　Ｌｉ", "WANG Li"),
        ("John  Smith", "John Smith"),
        ("王 Lily", "王 Lily"),
    ],
)
def test_simplified_half_width_and_spaces(raw: str, name: str) -> None:
    assert clean_name(raw) == name


@pytest.mark.parametrize(
    "dot", ["·", "•", "‧", "・", "･", ".", "。", "．", "｡", "∙", "⋅", " · ", "··"]
)
def test_every_middle_dot_between_chinese_becomes_u00b7(dot: str) -> None:
    assert clean_name(f"阿依古丽{dot}买买提") == "阿依古丽\u00b7买买提"


def test_traditional_minority_name_with_dot() -> None:
    assert clean_name("愛新覺羅・溥儀") == "爱新觉罗·溥仪"


def test_dots_between_latin_letters_are_left_alone() -> None:
    assert clean_name("J. Smith") == "J. Smith"


def test_surnames_t2s_would_rewrite_are_kept() -> None:
    # 於 and 乾 are standard simplified surnames; t2s alone would make them 于 and 干.
    assert clean_name("於梨華") == "於梨华"
    assert clean_name("梨於") == "梨于"


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000\t"])
def test_empty_is_none(raw: str | None) -> None:
    assert clean_name(raw) is None


@given(st.text())
def test_cleaning_is_idempotent(raw: str) -> None:
    once = clean_name(raw)
    assert clean_name(once) == once


@given(st.text("张三李四阿依古丽买买提 ·•・\u3000\t", min_size=1))
def test_no_space_is_left_between_chinese_characters(raw: str) -> None:
    name = clean_name(raw) or ""
    assert not re.search(f"[{CJK}]{WS_CLASS}+[{CJK}]", name)
    assert not re.search(f"[{CJK}][^{CJK}·]+[{CJK}]", name)


NAMEISH = st.text("張三李四愛新覺羅溥儀於乾梨華鍾 ·・.\n\t\u3000ＡＢab", max_size=8)


@given(st.lists(st.one_of(NAMEISH, st.text(max_size=6)), max_size=30))
def test_names_cleaned_together_are_cleaned_as_each_alone(raws: list[str]) -> None:
    # one t2s conversion for the whole list must not let one name change another
    assert clean_names(raws) == [clean_name(raw) for raw in raws]


def test_names_cleaned_together_include_phrases_t2s_converts_as_a_whole() -> None:
    raws = ["乾隆", "於梨華", "歐陽鋒", "阿依古丽・买买提", "張\n三", "", "乾", "鍾漢良"]
    assert clean_names(raws) == [clean_name(raw) for raw in raws]
