"""A CSV block's lines, split by polars' CSV reader: the same lines Python's split gives."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gridweave.ingest.readers import _block_lines

# lines of a department's CSV: Chinese, commas, quotes, tabs, blanks, a stray "\r", never a
# "\n" inside a line
line_text = st.text(alphabet=st.sampled_from(list('ab,"\t \r\x00张伟·１x')), max_size=12)


def python_lines(block: bytes, codec: str) -> list[str]:
    """Split on "\\n", one carriage return before it taken off: how CSV lines were always read."""
    lines = block.decode(codec).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [x.removesuffix("\r") for x in lines]


def as_read(block: bytes, codec: str) -> list[str]:
    """The lines `_block_lines` gives, a blank line blank."""
    return [x or "" for x in _block_lines(block, codec).to_list()]


@settings(max_examples=1000)
@example(lines=["a\r\r"], ended=True)  # polars takes one "\r" off with the line end
@example(lines=["a\r\r"], ended=False)  # and a lone "\r" at the end of the file
@given(lines=st.lists(line_text, min_size=1, max_size=30), ended=st.booleans())
def test_every_line_comes_back_in_order_as_python_splits_it(lines: list[str], ended: bool) -> None:
    block = ("\n".join(lines) + ("\n" if ended else "")).encode("utf-8")
    assert as_read(block, "utf-8-sig") == python_lines(block, "utf-8")


def test_a_block_holding_the_unit_separator_is_split_by_python() -> None:
    block = b"a\x1fb,c\n\nd\r\n"
    assert as_read(block, "utf-8-sig") == ["a\x1fb,c", "", "d"]


def test_a_block_in_gb18030_and_one_that_is_not_utf8() -> None:
    text = "公民身份号码,姓名\n110101199003070035,张伟\n"
    assert as_read(text.encode("gb18030"), "gb18030") == text.splitlines()
    with pytest.raises(UnicodeDecodeError):
        _block_lines(text.encode("gb18030"), "utf-8-sig")
