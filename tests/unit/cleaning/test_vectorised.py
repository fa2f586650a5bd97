"""The vectorised cleaners give exactly the scalar parsers' answers, kind by kind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridweave.ingest.cleaning import (
    building_key,
    clean_code,
    clean_name,
    clean_phone,
    clean_series,
    contradictions,
    map_text,
    parse_address,
    parse_citizen_id,
    parse_credit_code,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_integer,
    room_key,
)
from gridweave.ingest.cleaning import dates as dates_module
from gridweave.ingest.cleaning._distinct import per_distinct
from gridweave.ingest.cleaning.addresses import normalise_address
from gridweave.ingest.cleaning.numeric import decimal_text
from gridweave.registry.attributes import Kind

from .strategies import TODAY, addresses, credit_like, date_like, id_like, phones
from .test_addresses import ROOM_1502

Row = tuple[str | None, str | None, dict[str, str | None]]
SEX_CODES = {"1": "male", "2": "female", "男": "male", "女": "female", " M ": "male"}
SEX = frozenset({"male", "female", "unknown"})
FORMATS = ["%d/%m/%Y", "%Y%m%d%H%M%S"]

vector_settings = settings(
    deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)


def iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def expect_citizen_id(raw: str) -> Row:
    p = parse_citizen_id(raw, today=TODAY)
    derived = {
        "birth_date": iso(p.birth_date),
        "sex": p.sex,
        "area_code": p.area_code,
        "id_kind": p.kind,
    }
    return p.value, p.problem, derived


def expect_credit_code(raw: str) -> Row:
    p = parse_credit_code(raw)
    derived = {
        "registration_authority": p.registration_authority,
        "entity_category": p.entity_category,
        "area_code": p.area_code,
    }
    return p.value, p.problem, derived


def expect_phone(raw: str) -> Row:
    p = clean_phone(raw)
    return p.value, p.problem, {"phone_kind": p.kind}


def expect_datetime(raw: str) -> Row:
    moment = parse_datetime(raw)
    blank = dates_module.normalise(raw) == ""
    problem = (
        None if moment or blank else f"'{raw.strip(dates_module.WS_CHARS)}' is not a date and time"
    )
    return (dates_module.iso_utc(moment) if moment else None), problem, {}


def expect_address(raw: str) -> Row:
    a = parse_address(raw)
    derived = {
        "building_key": building_key(a),
        "room_key": room_key(a),
        "district": a.district,
        "street": a.street,
        "road": a.road,
    }
    return normalise_address(raw), None, derived


def expect_integer(raw: str) -> Row:
    p = parse_integer(raw)
    return (None if p.value is None else str(p.value)), p.problem, {}


def expect_decimal(raw: str) -> Row:
    p = parse_decimal(raw)
    return (None if p.value is None else decimal_text(p.value)), p.problem, {}


def expect_date(raw: str) -> Row:
    p = parse_date(raw, FORMATS)
    return iso(p.value), p.problem, {}


def expect_code(raw: str) -> Row:
    p = clean_code(raw, SEX_CODES, SEX)
    return p.value, p.problem, {}


EXPECT: dict[Kind, Callable[[str], Row]] = {
    Kind.citizen_id: expect_citizen_id,
    Kind.credit_code: expect_credit_code,
    Kind.name: lambda raw: (clean_name(raw), None, {}),
    Kind.text: lambda raw: (map_text(raw, SEX_CODES), None, {}),
    Kind.code: expect_code,
    Kind.phone: expect_phone,
    Kind.date: expect_date,
    Kind.datetime: expect_datetime,
    Kind.address: expect_address,
    Kind.integer: expect_integer,
    Kind.decimal: expect_decimal,
}

number_like = st.one_of(
    st.from_regex(r"\A[¥￥]?[-+−]?[0-9０-９]{0,4}(,[0-9]{3})*(\.[0-9]{0,3})?元?\Z"),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.text("0123456789,.-+ ", max_size=10),
)
name_like = st.one_of(
    st.text("張三李四愛新覺羅溥儀阿依古丽买买提於 ·•・.。ＡＢab\u3000", max_size=12),
    st.text(max_size=8),
)
address_like = st.one_of(
    st.sampled_from(ROOM_1502),
    st.text("罗湖区解放路十二号栋单元室 1234", max_size=20),
    addresses(),
)
datetime_like = st.one_of(
    date_like,
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(
        lambda d: d.isoformat(sep=" ", timespec="seconds")
    ),
    # around the summer-time changes of 1919, the 1940s and 1986–1991
    st.datetimes(min_value=datetime(1919, 1, 1), max_value=datetime(1992, 1, 1)).map(
        lambda d: f"{d:%Y-%m-%d %H}:{d.minute:02d}"
    ),
    st.sampled_from(
        ["1986-05-04 02:30", "1986-09-14 01:30", "1991-04-14 02:00", "1991-09-15 01:59:59"]
    ),
)
code_like = st.one_of(
    st.sampled_from(["1", "2", "男", " 女 ", "m", "MALE", "Female", "x", "9"]),
    st.text("aB男 \t\r\u3000\x1c", max_size=8),
    st.text(max_size=5),
)

STRATEGIES: dict[Kind, st.SearchStrategy[str]] = {
    Kind.citizen_id: id_like(),
    Kind.credit_code: credit_like(),
    Kind.name: name_like,
    Kind.text: st.one_of(code_like, st.text(max_size=10)),
    Kind.code: code_like,
    Kind.phone: phones(),
    Kind.date: st.one_of(date_like, st.sampled_from(["02/03/1985", "19850302103000", "1/1/85"])),
    Kind.datetime: datetime_like,
    Kind.address: address_like,
    Kind.integer: number_like,
    Kind.decimal: number_like,
}


def column(values: list[str | None]) -> pl.Series:
    return pl.Series("raw", values, dtype=pl.String)


def check_same(kind: Kind, values: list[str | None]) -> None:
    cleaned = clean_series(
        kind,
        column(values),
        formats=FORMATS,
        codes=SEX_CODES,
        allowed=SEX if kind is Kind.code else frozenset(),
        today=TODAY,
    )
    for i, raw in enumerate(values):
        value, problem, derived = (None, None, {}) if raw is None else EXPECT[kind](raw)
        assert (cleaned.value[i], cleaned.problem[i]) == (value, problem), repr(raw)
        for name, expected in derived.items():
            assert cleaned.derived[name][i] == expected, (repr(raw), name)


@pytest.mark.parametrize("kind", list(Kind))
@vector_settings
@given(data=st.data())
def test_vectorised_equals_scalar(kind: Kind, data: st.DataObject) -> None:
    values = data.draw(st.lists(st.one_of(st.none(), STRATEGIES[kind]), max_size=25))
    check_same(kind, values)


@pytest.mark.parametrize("kind", list(Kind))
def test_missing_values_are_null_without_a_problem(kind: Kind) -> None:
    cleaned = clean_series(kind, column([None, "", "  "]))
    assert cleaned.value.dtype == cleaned.problem.dtype == pl.String
    assert cleaned.value.to_list() == [None, None, None]
    assert cleaned.problem.to_list() == [None, None, None]
    assert all(s.null_count() == 3 for s in cleaned.derived.values())


def test_problems_read_well() -> None:
    assert clean_series("date", column(["1985-13-45", "1985"])).problem.to_list() == [
        "'1985-13-45' is not a date",
        "'1985' is only a year, not a date",
    ]
    got = clean_series("code", column(["X"]), codes={"1": "male"}, allowed=frozenset({"male"}))
    assert got.problem.to_list() == ["'X' is not a known code; known: 1, male"]


def test_citizen_id_values_survive_a_failed_check() -> None:
    got = clean_series("citizen_id", column(["440303198503021233", "440303850302123"]), today=TODAY)
    assert got.value.to_list() == ["440303198503021233", "440303198503021238"]
    assert got.problem.to_list() == ["check character should be 8, not 3", None]
    assert got.derived["birth_date"].to_list() == ["1985-03-02", "1985-03-02"]


def test_numbers_from_a_spreadsheet_are_cast_to_text() -> None:
    got = clean_series("date", pl.Series("d", [31108, None]))
    assert got.value.to_list() == ["1985-03-02", None]
    assert got.value.name == "d"


def test_per_distinct_calls_once_per_value() -> None:
    calls: list[str] = []

    def upper(s: str) -> tuple[str]:
        calls.append(s)
        return (s.upper(),)

    frame = per_distinct(column(["a", "b", "a", None, "a"]), upper, ("value",))
    assert frame["value"].to_list() == ["A", "B", "A", None, "A"]
    assert sorted(calls) == ["a", "b"]


def test_contradictions() -> None:
    got = contradictions(
        id_birth=column(["1985-03-02", "1985-03-02", "1985-03-02", None, "1985-03-02"]),
        id_sex=column(["male", "male", "male", "female", "male"]),
        birth=column(["1985-03-02", "1985-03-03", None, "1990-01-01", "1985-03-03"]),
        sex=column(["male", "male", "unknown", "male", "female"]),
    )
    assert got.to_list() == [
        None,
        "birth date 1985-03-03 contradicts the citizen id (1985-03-02)",
        None,
        "sex male contradicts the citizen id (female)",
        "birth date 1985-03-03 contradicts the citizen id (1985-03-02); "
        "sex female contradicts the citizen id (male)",
    ]
