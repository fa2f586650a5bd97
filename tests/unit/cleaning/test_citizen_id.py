"""Citizen id numbers: examples for each rule, properties, and python-stdnum as a second opinion."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.cn import ric

from gridweave.ingest.cleaning import CitizenId, check_char, parse_citizen_id, upgrade_15

from .strategies import ORDINARY_AREAS, TODAY, messy, old_ids, valid_ids

VALID = "440303198503021238"


def parse(raw: str | None) -> CitizenId:
    return parse_citizen_id(raw, today=TODAY)


def stdnum_accepts(number: str) -> bool:
    # stdnum raises KeyError (not a ValidationError) for some codes; that is a refusal too.
    try:
        return ric.is_valid(number)
    except KeyError:
        return False


def test_a_valid_number_gives_its_parts() -> None:
    assert parse(VALID) == CitizenId(
        value=VALID,
        problem=None,
        birth_date=date(1985, 3, 2),
        sex="male",
        area_code="440303",
        kind="resident",
    )


def test_a_wrong_check_character_keeps_the_value_and_says_which_is_right() -> None:
    got = parse("440303198503021233")
    assert got.value == "440303198503021233"
    assert got.problem == "check character should be 8, not 3"
    assert got.birth_date == date(1985, 3, 2)


@pytest.mark.parametrize(
    "raw",
    [
        " 440303 19850302 1238 ",
        "４４０３０３１９８５０３０２１２３８",
        "440303\u300019850302\t1238",
        "'440303198503021238",
    ],
)
def test_spaces_full_width_digits_and_excel_apostrophe_are_normalised(raw: str) -> None:
    assert parse(raw).value == VALID
    assert parse(raw).problem is None


def test_lower_case_and_full_width_x_become_x() -> None:
    first17 = "11010119900101004"
    assert check_char(first17) == "X"
    for last in ("x", "ｘ", "Ｘ"):
        assert parse(first17 + last) == parse(first17 + "X")
        assert parse(first17 + last).value == first17 + "X"


def test_a_15_digit_number_is_upgraded_without_a_problem() -> None:
    assert upgrade_15("440303850302123") == VALID
    got = parse("440303850302123")
    assert (got.value, got.problem, got.birth_date) == (VALID, None, date(1985, 3, 2))


@pytest.mark.parametrize("bad", ["44030385030212", "44030385030212X", "abc"])
def test_upgrade_15_refuses_anything_but_15_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        upgrade_15(bad)


def test_female_is_an_even_17th_digit() -> None:
    first17 = "44030319850302124"
    assert parse(first17 + check_char(first17)).sex == "female"


@pytest.mark.parametrize(
    ("birth", "problem"),
    [
        ("19850230", "birth date 1985-02-30 is not a date"),
        ("19851302", "birth date 1985-13-02 is not a date"),
        ("18791231", "birth date 1879-12-31 is before 1880"),
        ("20260102", "birth date 2026-01-02 is in the future"),
    ],
)
def test_birth_date_must_be_real_and_plausible(birth: str, problem: str) -> None:
    first17 = f"440303{birth}123"
    got = parse(first17 + check_char(first17))
    assert got.problem == problem
    assert got.birth_date is None
    assert got.value == first17 + check_char(first17)


def test_today_decides_what_is_the_future() -> None:
    first17 = "44030320260102123"
    number = first17 + check_char(first17)
    assert parse_citizen_id(number, today=date(2026, 1, 1)).problem is not None
    assert parse_citizen_id(number, today=date(2026, 1, 2)).problem is None


def test_several_problems_are_all_reported() -> None:
    assert parse("440303198502301230").problem == (
        "check character should be 8, not 0; birth date 1985-02-30 is not a date"
    )


@pytest.mark.parametrize(
    ("area", "kind"), [("810000", "hmt_permit"), ("820000", "hmt_permit"), ("830000", "hmt_permit")]
)
def test_residence_permits_of_hong_kong_macau_taiwan(area: str, kind: str) -> None:
    first17 = f"{area}19900101002"
    got = parse(first17 + check_char(first17))
    assert (got.problem, got.kind, got.area_code) == (None, kind, area)


def test_foreigners_permanent_residence_card() -> None:
    # 9, issuing province 44 (Guangdong), nationality 840 (United States), born 2000-01-01.
    first17 = "94484020000101123"
    got = parse(first17 + check_char(first17))
    assert got.problem is None
    assert got.kind == "foreign_permanent"
    assert got.area_code == "440000"
    assert got.birth_date == date(2000, 1, 1)
    assert got.sex == "male"


def test_an_area_code_starting_with_0_is_no_place() -> None:
    first17 = "01030319850302123"
    got = parse(first17 + check_char(first17))
    assert (got.kind, got.problem) == (None, "area code 010303 is not a place")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("4403031985030212", "has 16 characters; a citizen id number has 18 (old ones 15 digits)"),
        ("44030319850302123Y", "may hold only digits, and X as the 18th character"),
        ("4403031985030212X", "has 17 characters; a citizen id number has 18 (old ones 15 digits)"),
    ],
)
def test_wrong_shapes_have_no_value(raw: str, problem: str) -> None:
    assert parse(raw) == CitizenId(None, problem)


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000"])
def test_blank_is_missing_not_a_problem(raw: str | None) -> None:
    assert parse(raw) == CitizenId(None)


def test_historical_area_codes_are_valid() -> None:
    # 110112 is Tongzhou district since 1997; people born earlier got it when they moved there.
    first17 = "11011219600101123"
    assert parse(first17 + check_char(first17)).problem is None


# python-stdnum as a second opinion


@given(valid_ids(ORDINARY_AREAS))
def test_stdnum_agrees_on_ordinary_valid_numbers(number: str) -> None:
    assert parse(number).problem is None
    assert stdnum_accepts(number)


@given(valid_ids(ORDINARY_AREAS), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_stdnum_agrees_on_mistyped_numbers(number: str, i: int, c: str) -> None:
    typo = number[:i] + c + number[i + 1 :]
    assert (parse(typo).problem is None) == stdnum_accepts(typo)


@pytest.mark.parametrize(
    "first17",
    [
        "81000019900101002",  # Hong Kong residents' residence permit
        "83000019900101002",  # Taiwan residents' residence permit
        "94484020000101123",  # foreigner's permanent residence card (2023)
        "44030319600101123",  # 罗湖区 (created 1983) for someone born in 1960
        "11011219600101123",  # 通州区 (created 1997) for someone born in 1960
        "44032319850302123",  # not in stdnum's table at all (it raises KeyError)
    ],
)
def test_stdnum_wrongly_refuses(first17: str) -> None:
    number = first17 + check_char(first17)
    assert parse(number).problem is None
    assert not stdnum_accepts(number)


@pytest.mark.parametrize("birth", ["18000101", "30000101"])
def test_stdnum_wrongly_accepts_impossible_birth_dates(birth: str) -> None:
    first17 = f"110101{birth}123"
    number = first17 + check_char(first17)
    assert stdnum_accepts(number)
    assert parse(number).problem is not None


# properties


@given(valid_ids())
def test_valid_numbers_validate_and_round_trip(number: str) -> None:
    got = parse(number)
    assert got.problem is None
    assert got.value == number
    assert parse(got.value) == got
    assert got.birth_date is not None and f"{got.birth_date:%Y%m%d}" == number[6:14]
    assert got.sex == ("male" if int(number[16]) % 2 else "female")


@given(valid_ids(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_every_single_character_change_is_caught(number: str, i: int, c: str) -> None:
    assume(number[i] != c)
    assert parse(number[:i] + c + number[i + 1 :]).problem is not None


@given(valid_ids(), st.integers(0, 16))
def test_every_adjacent_transposition_is_caught(number: str, i: int) -> None:
    assume(number[i] != number[i + 1])
    swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    assert parse(swapped).problem is not None


@given(valid_ids(), st.sampled_from([4, 5]))
def test_swapping_digits_ten_apart_is_not_caught(number: str, i: int) -> None:
    # The weights 2^k mod 11 repeat every 10 positions (2^10 ≡ 1), so MOD 11-2 cannot see this
    # swap; positions 4↔14 and 5↔15 touch neither the birth date nor the sex digit.
    assume(number[i] != number[i + 10])
    chars = list(number)
    chars[i], chars[i + 10] = chars[i + 10], chars[i]
    assert parse("".join(chars)).problem is None


@given(old_ids())
def test_upgrading_keeps_birth_date_and_sex(old: str) -> None:
    got = parse(old)
    assert got.problem is None
    assert got.birth_date is not None and f"{got.birth_date:%y%m%d}" == old[6:12]
    assert got.sex == ("male" if int(old[14]) % 2 else "female")
    assert got.value == upgrade_15(old)


@given(valid_ids().flatmap(lambda v: st.tuples(st.just(v), messy(v))))
def test_messy_spellings_normalise_to_the_same_number(pair: tuple[str, str]) -> None:
    number, spelt = pair
    assert parse(spelt) == parse(number)


@given(st.from_regex(r"\A[0-9]{17}\Z"))
def test_check_char_is_stdnums_mod_11_2(first17: str) -> None:
    assert check_char(first17) == ric.calc_check_digit(first17 + "0")
