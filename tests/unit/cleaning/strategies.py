"""Hypothesis strategies for the cleaning tests: valid identifiers and their messy spellings."""

from __future__ import annotations

from datetime import date

from hypothesis import strategies as st

from gridweave.ingest.cleaning import citizen_id as cid
from gridweave.ingest.cleaning import credit_code as ucc
from gridweave.ingest.cleaning.dates import YEAR_FIRST, YEAR_LAST

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
    # Serials 1880–2100 (days of 1905) read as years unless written with a fraction.
    bare_serial = [] if YEAR_FIRST <= serial <= YEAR_LAST else [str(serial)]
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
        *bare_serial,
        f"{serial}.0",
    ]


date_like = st.one_of(
    st.dates(min_value=date(1900, 3, 1), max_value=date(2118, 12, 31)).flatmap(
        lambda d: st.sampled_from(spellings(d))
    ),
    st.from_regex(r"\A[0-9]{1,5}(\.[0-9]{1,3})?\Z"),
    st.integers(YEAR_FIRST - 10, YEAR_LAST + 10).map(str),  # years alone, and serials near them
    st.from_regex(
        r"\A[0-9]{4}[-/.年][0-9]{1,2}[-/.月][0-9]{1,2}日?( [0-9]{1,2}:[0-9]{2}(:[0-9]{2})?)?"
        r"(Z|[+-][0-9]{2}:?[0-9]{2})?\Z"
    ),
    st.text(max_size=12),
)


# Phones: national numbers of every type and none, behind every prefix clean_phone reads and
# some it refuses, in the spellings departments use. About half take the polars path, the rest
# (invalid, foreign, odd prefixes) the per-value one.
valid_nationals = st.one_of(
    st.from_regex(r"\A1(3[0-9]|5[0-35-9]|8[0-9]|9[0-35-9])[0-9]{8}\Z"),  # mobiles
    st.from_regex(r"\A(10|2[0-57-9]|755|769|571)[2-8][0-9]{7}\Z"),  # landlines
    st.from_regex(r"\A(400|800)[0-9]{7}\Z"),  # service numbers
)
other_nationals = st.one_of(
    st.from_regex(r"\A1[3-9][0-9]{9}\Z"),  # mobiles, and some never allocated
    st.from_regex(r"\A(10|2[0-9]|[3-9][0-9]{2})[1-9][0-9]{6,7}\Z"),  # landlines, and not
    st.from_regex(r"\A1(1|2|79)[0-9]{8,9}\Z"),  # carrier and IDD prefixes
    st.from_regex(r"\A[0-9]{4,13}\Z"),
)
PREFIXES = ["0", "+86", "86", "0086", "+86 ", "(+86)"]
ODD_PREFIXES = ["", "+860", "00852", "+1 ", "0 ", "８６"]
SEPARATORS = [" ", "-", ".", "\u3000", "－", "—", "(", ")"]


@st.composite
def phones(draw: st.DrawFn) -> str:
    """A phone number as written: prefix, separators, brackets, full-width digits; or junk."""
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return draw(st.one_of(st.text("0123456789+-() ", max_size=16), st.text(max_size=8)))
    national = draw(valid_nationals if choice > 3 else other_nationals)
    mobile = national.startswith("1")
    prefix = draw(st.sampled_from(([""] if mobile else PREFIXES) if choice > 5 else ODD_PREFIXES))
    cut = draw(st.integers(0, min(4, len(national))))
    if cut and draw(st.booleans()):
        national = f"({national[:cut]})" + national[cut:]
    if draw(st.booleans()):
        return prefix + national
    out = []
    for c in prefix + national:
        if c in "0123456789" and draw(st.integers(0, 7)) == 0:
            c = FULLWIDTH_DIGITS[c]
        gap = draw(st.sampled_from(SEPARATORS)) if draw(st.integers(0, 3)) == 0 else ""
        out.append(c + gap)
    return draw(st.sampled_from(["", " "])) + "".join(out)


# Addresses: the parts parse_address knows, each optional, in the spellings it accepts; and in
# a third of them the traps that send a value to the per-value path: Chinese numerals, spaces
# inside Latin, characters NFKC changes, words where a part's pattern first matches too early.
# Each part: its plain spellings, then its traps.
ADDRESS_PARTS = [
    (["", "", "广东省", "北京市", "新疆维吾尔自治区"], []),
    (["", "", "深圳市", "东莞市", "延边朝鲜族自治州"], []),
    (["", "罗湖区", "浦东新区", "宝安区", "博罗县"], ["社区", "新城区"]),
    (["", "", "东门街道", "沙井镇", "东门街道办"], ["西乡街道", "东门街道路"]),
    (["", "", "湖贝社区", "水围村委会", "园岭社区工作站"], []),
    (["解放路", "深南大道", "湖贝新村东坊5巷", "人民北路", "东门"], ["五巷", "SOHO"]),
    (["12号", "012号", "8号", "12-1号", "12之1号", "0号", "12号-3", ""], ["十二号", "3号楼"]),
    (["", "3栋", "A座", "第3幢", "12号楼", "现代城B座", "3-1栋"], ["三栋", "3 栋"]),
    (["", "", "2单元", "B单元"], ["二单元"]),
    (["", "1502", "15楼02", "3层5", "1502室", "401房", "B-1", "1502号房"], ["1502A", "15楼02A"]),
    (["", "", "", "(出租)", "，东侧", "#"], [" 1", "SOHO Tower", "①", "ｶ", "e\u0301", "…"]),
]
FULLWIDTH_ASCII = {chr(c - 0xFEE0): chr(c) for c in range(0xFF01, 0xFF5F)}


@st.composite
def addresses(draw: st.DrawFn) -> str:
    """An address from optional parts; half of them spaced and made full-width at random."""
    traps = draw(st.integers(0, 2)) == 0
    parts = [draw(st.sampled_from(plain + traps * trap)) for plain, trap in ADDRESS_PARTS]
    text = draw(st.sampled_from(["", "", "", ",", "、"] + traps * [" "])).join(parts)
    if draw(st.booleans()):
        return text
    out = []
    for c in text:
        if c.isascii() and c.isalnum() and draw(st.integers(0, 5)) == 0:
            c = FULLWIDTH_ASCII[c]
        gap = draw(st.sampled_from([" ", "\u3000", "\t"])) if draw(st.integers(0, 15)) == 0 else ""
        out.append(c + gap)
    return "".join(out)
