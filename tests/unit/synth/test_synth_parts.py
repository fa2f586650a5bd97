"""The synthetic city's building blocks: check characters, numerals, homophones, XLSX."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
from pypinyin import Style, lazy_pinyin
from stdnum.cn import ric, uscc

from gridweave.synth import faults, ids
from gridweave.synth.common import ascii_rows, stream, unique_numbers
from gridweave.synth.spelling import chinese_number
from gridweave.synth.xlsx import write_xlsx


def test_citizen_ids_carry_valid_check_characters() -> None:
    rng = np.random.default_rng(1)
    n = 500
    born = (
        rng.integers(1940, 2025, n) * 10000 + rng.integers(1, 13, n) * 100 + rng.integers(1, 29, n)
    )
    matrix = ids.citizen_ids(np.full(n, 440303), born, rng.integers(0, 1000, n))
    for cid in ascii_rows(matrix):
        # stdnum also wants the county to have existed in the birth year; real ids do not.
        assert ric.calc_check_digit(cid) == cid[17]
        assert ids.check_char(cid[:17]) == cid[17]


def test_credit_codes_are_valid() -> None:
    rng = np.random.default_rng(2)
    n = 300
    prefix = np.frombuffer(b"91" * n, dtype=np.uint8).reshape(n, 2)
    codes = ids.credit_codes(prefix, np.full(n, 440303), ids.org_codes(rng, n, rng.random(n) < 0.5))
    assert all(uscc.is_valid(c) for c in ascii_rows(codes))


def test_id_typos_always_break_the_check() -> None:
    rng = stream(3, "typos")
    valid = pl.Series(["11010519491231002X", "440303198503021234", "440303199001010011"] * 100)
    valid = pl.Series([v[:17] + ids.check_char(v[:17]) for v in valid])
    broken = faults.corrupt_ids(valid, rng, faults.PersonFaults(id_typo=1.0))
    assert all(ids.check_char(b[:17]) != b[17] for b in broken)


def test_homophones_share_their_pinyin() -> None:
    table = faults.homophones()
    assert table["伟"] in "玮炜" and table["静"] != "静"
    for a, b in table.items():
        assert lazy_pinyin(a, style=Style.TONE3) == lazy_pinyin(b, style=Style.TONE3)


def test_traditional_names() -> None:
    names = pl.Series(["陈伟", "刘洋", "张静", "黄丽", "赵军", "于敏"])
    out = faults.to_traditional(names, stream(1, "t"), 1.0)
    assert out.to_list() == ["陳偉", "劉洋", "張靜", "黃麗", "趙軍", "于敏"]


def test_chinese_numbers() -> None:
    assert [chinese_number(k) for k in (1, 10, 12, 20, 23, 105, 112)] == [
        "一", "十", "十二", "二十", "二十三", "一百零五", "一百一十二",
    ]  # fmt: skip


def test_unique_numbers_are_unique_and_in_range() -> None:
    v = unique_numbers(np.random.default_rng(4), 10_000, 10**8, 10**9)
    assert len(set(v.tolist())) == 10_000 and v.min() >= 10**8 and v.max() < 10**9


def test_xlsx_round_trips_through_openpyxl_and_fastexcel(tmp_path: Path) -> None:
    import openpyxl

    frame = pl.DataFrame(
        {
            "编号": ["A1", " 4403 ", "x<&>y"],
            "金额": [1.5, None, 3.0],
            "人数": [1, 2, None],
        }
    )
    path = tmp_path / "t.xlsx"
    write_xlsx(frame, path, "表一")
    rows = list(openpyxl.load_workbook(path, read_only=True)["表一"].iter_rows(values_only=True))
    assert rows == [
        ("编号", "金额", "人数"),
        ("A1", 1.5, 1),
        (" 4403 ", None, 2),
        ("x<&>y", 3, None),
    ]
    back = pl.read_excel(path, sheet_name="表一", infer_schema_length=0)
    assert back["编号"].to_list() == ["A1", " 4403 ", "x<&>y"]
    first = path.read_bytes()
    write_xlsx(frame, path, "表一")
    assert path.read_bytes() == first
