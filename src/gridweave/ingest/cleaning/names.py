"""People's names: simplified characters, half-width, no spaces inside Chinese, one middle dot."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import opencc

from gridweave.ingest.cleaning._chars import WS_CLASS

CJK = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
MIDDLE_DOT = "\u00b7"
# Everything seen standing for the dot in minority names (阿依古丽·买买提), as left by NFKC:
# middle dot, bullet, hyphenation point, katakana middle dot (the "full-width dot"), full stop,
# ideographic full stop, dot and bullet operators.
DOTS = "\u00b7\u2022\u2027\u30fb.\u3002\u22c5\u2219"

_DOT_OR_SPACE = f"(?:{WS_CLASS}|[{DOTS}])*"
_DOT = re.compile(f"(?<=[{CJK}]){_DOT_OR_SPACE}[{DOTS}]{_DOT_OR_SPACE}(?=[{CJK}])")
_WS = re.compile(WS_CLASS + "+")
_CJK_GAP = re.compile(f"(?<=[{CJK}{MIDDLE_DOT}]) (?=[{CJK}{MIDDLE_DOT}])")
# Surnames that are standard simplified characters (通用规范汉字表) but that t2s turns into
# another character (於 → 于, 乾 → 干): kept as written when they open the name.
KEPT_SURNAMES = frozenset("於乾")


@cache
def _converter() -> opencc.OpenCC:
    # Built on first use, not at import: loading the dictionaries costs a few milliseconds.
    return opencc.OpenCC("t2s")


def clean_name(raw: str | None) -> str | None:
    """A name in its canonical form; None when nothing is left."""
    if raw is None:
        return None
    # NFKC turns full-width letters, digits and dots half-width; the dots are then unified below,
    # after NFKC, so that none of its own choices for them survive.
    s = unicodedata.normalize("NFKC", raw)
    s = s.strip()
    kept = s[:1] if s[:1] in KEPT_SURNAMES else ""
    s = kept + _converter().convert(s[len(kept) :])
    s = _DOT.sub(MIDDLE_DOT, s)
    s = _WS.sub(" ", s).strip(" ")
    s = _CJK_GAP.sub("", s)
    return s or None
