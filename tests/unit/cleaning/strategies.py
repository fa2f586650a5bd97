"""Hypothesis strategies for the cleaning tests: valid identifiers and their messy spellings."""

from __future__ import annotations

from datetime import date

from hypothesis import strategies as st

from gridweave.ingest.cleaning import citizen_id as cid
from gridweave.ingest.cleaning import credit_code as ucc

TODAY = date(2026, 1, 1)

# Area codes stdnum accepts for every birth year from 1880, so both checkers must agree on them.
ORDINARY_AREAS = ("110101", "110102", "310101", "310104")
# Valid for us, refused by stdnum for some or all birth years: districts it dates from their
# creation (罗湖区 1983, 通州区 1997) although older people hold them, a code missing from its
# table (440323), the permits, and a foreigner's card (9, province 44, nationality 840).
OTHER_AREAS = ("440303", "110112", "440323", "810000", "820000", "830000", "944840")

birth_dates = st.dates(min_value=cid.EARLIEST_BIRTH, max_value=TODAY)


@st.composite
def first17s(draw: st.DrawFn, areas: tuple[str, ...] = ORDINARY_AREAS + OTHER_AREAS) -> str:
    """The first 17 digits of a valid number."""
    born = draw(birth_dates)
    return f"{draw(st.sampled_from(areas))}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"


def valid_ids(areas: tuple[str, ...] = ORDINARY_AREAS + OTHER_AREAS) -> st.SearchStrategy[str]:
    """Valid 18-character numbers."""
    return first17s(areas).map(lambda f: f + cid.check_char(f))


@st.composite
def old_ids(draw: st.DrawFn) -> str:
    """Valid 15-digit numbers: born 1900–1999, no century, no check character."""
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)))
    area = draw(st.sampled_from(ORDINARY_AREAS))
    return f"{area}{born:%y%m%d}{draw(st.integers(0, 999)):03d}"


FULLWIDTH_DIGITS = {str(i): chr(0xFF10 + i) for i in range(10)} | {"X": "ｘ"}


@st.composite
def messy(draw: st.DrawFn, value: str) -> str:
    """The same characters with spaces, full-width digits and lower case thrown in."""
    out = []
    for c in value:
        if c == "X" and draw(st.booleans()):
            c = draw(st.sampled_from(["x", "ｘ", "Ｘ"]))
        elif c.isdigit() and draw(st.booleans()):
            c = FULLWIDTH_DIGITS[c]
        out.append(c + draw(st.sampled_from(["", "", "", " ", "\u3000", "\t"])))
    return draw(st.sampled_from(["", " ", "\u3000"])) + "".join(out)


@st.composite
def id_like(draw: st.DrawFn) -> str:
    """Anything an id column holds: valid, mistyped, old, messy, junk."""
    choice = draw(st.integers(0, 5))
    if choice == 0:
        return draw(valid_ids())
    if choice == 1:
        v = draw(valid_ids())
        i = draw(st.integers(0, 17))
        return v[:i] + draw(st.sampled_from("0123456789X")) + v[i + 1 :]
    if choice == 2:
        return draw(old_ids())
    if choice == 3:
        return draw(valid_ids().flatmap(messy))
    if choice == 4:
        return draw(st.text("0123456789Xx ０９'", max_size=20))
    return draw(st.text(max_size=20))


@st.composite
def valid_credit_codes(draw: st.DrawFn) -> str:
    """Valid codes, including registration authorities stdnum refuses (A, N, Y)."""
    head = draw(st.sampled_from("159ANY")) + draw(st.sampled_from("123"))
    area = f"{draw(st.integers(110000, 659999)):06d}"
    body = "".join(draw(st.lists(st.sampled_from(ucc.ALPHABET), min_size=9, max_size=9)))
    first17 = head + area + body
    return first17 + ucc.check_char(first17)


@st.composite
def credit_like(draw: st.DrawFn) -> str:
    """Anything a credit code column holds."""
    choice = draw(st.integers(0, 3))
    code = draw(valid_credit_codes())
    if choice == 0:
        return code
    if choice == 1:
        i = draw(st.integers(0, 17))
        return code[:i] + draw(st.sampled_from(ucc.ALPHABET + "IOZSV")) + code[i + 1 :]
    if choice == 2:
        return " ".join(code.lower())
    return draw(st.text(max_size=20))


def spellings(d: date) -> list[str]:
    """One date written in every format parse_date accepts."""
    serial = (d - date(1899, 12, 30)).days
    return [
        d.isoformat(),
        f"{d:%Y%m%d}",
        f"{d.year}/{d.month}/{d.day}",
        f"{d.year}年{d.month}月{d.day}日",
        f"{d:%Y.%m.%d}",
        f"{d.year}-{d.month}-{d.day}",
        f"{d:%Y-%m-%d} 13:45:00",
        f"{d:%Y-%m-%d}T08:00:00+08:00",
        f"{d:%Y/%m/%d} 0:00",
        f" {d.isoformat()}\u3000",
        "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in d.isoformat()),
        str(serial),
        f"{serial}.0",
    ]


date_like = st.one_of(
    st.dates(min_value=date(1900, 3, 1), max_value=date(2118, 12, 31)).flatmap(
        lambda d: st.sampled_from(spellings(d))
    ),
    st.from_regex(r"\A[0-9]{1,5}(\.[0-9]{1,3})?\Z"),
    st.from_regex(
        r"\A[0-9]{4}[-/.年][0-9]{1,2}[-/.月][0-9]{1,2}日?( [0-9]{1,2}:[0-9]{2}(:[0-9]{2})?)?"
        r"(Z|[+-][0-9]{2}:?[0-9]{2})?\Z"
    ),
    st.text(max_size=12),
)
