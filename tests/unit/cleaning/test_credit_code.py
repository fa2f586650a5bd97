"""Unified social credit codes: examples, properties, and python-stdnum as a second opinion."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.cn import uscc

from gridweave.ingest.cleaning import CreditCode, parse_credit_code
from gridweave.ingest.cleaning.credit_code import ALPHABET, check_char

from .strategies import valid_credit_codes

VALID = "91110000600037341L"  # stdnum's own example


def test_a_valid_code_gives_its_parts() -> None:
    assert parse_credit_code(VALID) == CreditCode(
        value=VALID,
        problem=None,
        registration_authority="9",
        entity_category="1",
        area_code="110000",
    )


def test_a_wrong_check_character_keeps_the_value() -> None:
    got = parse_credit_code("91110000600037341M")
    assert (got.value, got.problem) == ("91110000600037341M", "check character should be L, not M")


@pytest.mark.parametrize(
    "raw",
    [
        " 9111 0000 6000 3734 1l ",
        "９１１１００００６０００３７３４１Ｌ",
        "91110000600037341ｌ",
        "'91110000600037341L",
    ],
)
def test_full_width_lower_case_and_spaces_are_normalised(raw: str) -> None:
    assert parse_credit_code(raw) == parse_credit_code(VALID)


@pytest.mark.parametrize("letter", "IOZSV")
def test_letters_outside_the_alphabet_are_refused(letter: str) -> None:
    got = parse_credit_code(VALID[:10] + letter + VALID[11:])
    assert got == CreditCode(None, f"'{letter}' is not used in unified social credit codes")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("91110000600037341", "has 17 characters; a unified social credit code has 18"),
        ("911A0000600037341L", "area code 1A0000 (characters 3–8) should be 6 digits"),
        ("91110000600037341!", "'!' is not used in unified social credit codes"),
    ],
)
def test_wrong_shapes_have_no_value(raw: str, problem: str) -> None:
    assert parse_credit_code(raw) == CreditCode(None, problem)


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_blank_is_missing_not_a_problem(raw: str | None) -> None:
    assert parse_credit_code(raw) == CreditCode(None)


@pytest.mark.parametrize("head", ["N2", "A1", "Y1", "51", "12"])
def test_registration_authorities_other_than_9_are_valid(head: str) -> None:
    first17 = head + VALID[2:17]
    got = parse_credit_code(first17 + check_char(first17))
    assert got.problem is None
    assert got.registration_authority == head[0]


# python-stdnum as a second opinion


@given(valid_credit_codes())
def test_stdnum_agrees_where_the_code_starts_with_digits(code: str) -> None:
    assert parse_credit_code(code).problem is None
    assert uscc.is_valid(code) == code[:2].isdigit()


@pytest.mark.parametrize("head", ["N2", "A1", "Y1"])
def test_stdnum_wrongly_refuses_letter_authorities(head: str) -> None:
    # GB 32100 gives registration authorities letters (A 军队, N 农业, Y 其他); stdnum wants
    # the first 8 characters to be digits.
    first17 = head + VALID[2:17]
    code = first17 + check_char(first17)
    assert parse_credit_code(code).problem is None
    assert not uscc.is_valid(code)


@given(st.text(ALPHABET, min_size=17, max_size=17))
def test_check_char_is_stdnums(first17: str) -> None:
    assert check_char(first17) == uscc.calc_check_digit(first17)


# properties


@given(valid_credit_codes())
def test_valid_codes_round_trip(code: str) -> None:
    got = parse_credit_code(code)
    assert got.value == code
    assert parse_credit_code(" ".join(code.lower())) == got


@given(valid_credit_codes(), st.integers(0, 17), st.sampled_from(ALPHABET))
def test_every_single_character_change_is_caught(code: str, i: int, c: str) -> None:
    assume(code[i] != c)
    assert parse_credit_code(code[:i] + c + code[i + 1 :]).problem is not None


@given(valid_credit_codes(), st.integers(0, 16))
def test_every_adjacent_transposition_is_caught(code: str, i: int) -> None:
    assume(code[i] != code[i + 1])
    swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    assert parse_credit_code(swapped).problem is not None
