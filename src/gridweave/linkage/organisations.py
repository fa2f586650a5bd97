"""Legal entities' names reduced to what identifies them, and how an uncoded record is judged
against the golden entities its name and address point to (pure; no database).

Two departments write one registered name differently: 有限责任公司 for 有限公司, the city in
brackets (（深圳）), spaces, full-width or traditional characters, the 深圳市 prefix left out.
`name_keys` removes exactly those differences and nothing that tells entities apart: a branch
(…罗湖分公司, …（东门店）) keeps its branch part, so it never has its head office's key.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from gridweave.ingest.cleaning import clean_name

# Places a department may put in front of a name, or in brackets inside it, without naming
# another entity. A city passes its own (province, city, districts) to entities.link_entities.
DEFAULT_PLACES = (
    "中国", "广东省", "广东", "深圳市", "深圳", "罗湖区", "罗湖", "福田区", "福田", "南山区",
    "南山", "宝安区", "宝安", "龙岗区", "龙岗", "盐田区", "盐田", "龙华区", "龙华", "坪山区",
    "坪山", "光明区", "光明", "大鹏新区", "大鹏",
)  # fmt: skip
# Only the country, provinces and cities of `places` are dropped where they lead the name: a
# district prefix (深圳市罗湖区…) stays, as shops of one brand in two districts are two entities.
LEADING = ("中国", "省", "市")
# Suffixes that make a record a branch (分支机构), not the entity it belongs to.
BRANCH_WORDS = (
    "分公司", "分店", "分厂", "分行", "支行", "分理处", "营业部", "营业厅", "办事处", "分部",
    "分所", "分院", "分校", "分中心", "分社",
)  # fmt: skip
# Legal forms written several ways for one thing; the longer spelling first.
LEGAL_FORMS = (("有限责任公司", "有限公司"),)
# Words that name the legal form, where the branch part starts after the head office's name.
FORM_WORDS = ("股份有限公司", "有限公司", "公司")
# The loose key leaves out whether a company wrote 有限 (X科技公司 ≈ X科技有限公司) but keeps
# 股份: a joint-stock company and a limited company of one brand are often parent and subsidiary.
LOOSE_FORMS = (("股份有限公司", "股份"), ("股份公司", "股份"), ("有限公司", ""), ("公司", ""))

_BRACKETS = re.compile(r"[(\[【〔]([^()\[\]【】〔〕]*)[)\]】〕]")
_NOISE = re.compile(r"[\s\u3000·.,，、。;；:：'\"“”‘’《》<>`~!！?？*#&/\\_\-—–]+")
_BRANCH = re.compile(
    r"(?P<branch>[\u4e00-\u9fff0-9A-Z]{1,12}?(?:" + "|".join(BRANCH_WORDS) + r"))$"
)
_STORE = re.compile(r"^[\u4e00-\u9fff0-9A-Z]{1,10}[店部]$")  # （东门店） in brackets: a branch


@dataclass(frozen=True)
class NameKeys:
    """The keys of one legal entity's name; None where the name gives none."""

    exact: str | None  # every spelling of one registered name has this key
    loose: str | None  # the exact key without its legal form (有限公司, 公司)
    branch: str | None  # the branch part (罗湖分公司), None for a head office or single entity


@lru_cache(maxsize=1 << 16)
def name_keys(raw: str | None, places: tuple[str, ...] = DEFAULT_PLACES) -> NameKeys:
    """The exact and loose keys of a legal entity's name, and its branch part if any."""
    name = clean_name(raw)  # NFKC (full-width → half-width), traditional → simplified
    if name is None:
        return NameKeys(None, None, None)
    s = unicodedata.normalize("NFKC", name).upper()
    branch: str | None = None

    def bracket(m: re.Match[str]) -> str:
        nonlocal branch
        inner = _NOISE.sub("", m.group(1))
        if inner in places:
            return ""  # 汇鑫食品（深圳）有限公司 is 深圳市汇鑫食品有限公司
        if _STORE.match(inner) or _BRANCH.fullmatch(inner):
            branch = inner
            return ""
        return inner  # 深圳市水务（集团）有限公司: the bracketed word is part of the name

    s = _BRACKETS.sub(bracket, s)
    s = _NOISE.sub("", s)
    s = s.replace("(", "").replace(")", "")
    for long, short in LEGAL_FORMS:
        s = s.replace(long, short)
    for place in places:
        if not place.endswith(LEADING):
            continue
        if s.startswith(place) and len(s) > len(place) + 2:
            s = s[len(place) :]
    if branch is None:
        cut = _branch_start(s)
        if cut is not None:
            s, branch = s[:cut], s[cut:]
    if not s:
        return NameKeys(None, None, None)
    loose = s
    for form, kept in LOOSE_FORMS:
        if loose.endswith(form) and len(loose) > len(form) + 1:
            loose = loose[: -len(form)] + kept
            break
    # the branch part stays in both keys: a branch never has its head office's key
    suffix = branch or ""
    return NameKeys(s + suffix, loose + suffix, branch)


def _branch_start(s: str) -> int | None:
    """Where the branch part of `s` starts: after the head office's legal form (…有限公司 +
    罗湖分公司), else at the shortest branch suffix (…超市 + 东门分店); None for no branch."""
    for form in FORM_WORDS:
        at = s.rfind(form)
        if at > 0 and at + len(form) < len(s) and _BRANCH.fullmatch(s[at + len(form) :]):
            return at + len(form)
    for word in BRANCH_WORDS:
        if s.endswith(word) and len(s) > len(word) + 2:
            # the place before the word (东门分店) belongs to the branch: up to 4 characters
            return max(2, len(s) - len(word) - 4)
    return None


@dataclass(frozen=True)
class Verdict:
    """What to do with an uncoded record: link it to `golden_id`, review it, or leave it."""

    action: str  # link | review | none
    golden_id: int | None = None
    other_record: int | None = None  # a record of the candidate, for the review item
    reason: str = ""


def judge(
    *,
    exact: list[tuple[int, int]],
    loose: list[tuple[int, int]],
    addresses: set[str],
    candidate_addresses: dict[int, set[str]],
    kept_apart: set[int],
) -> Verdict:
    """Judge one uncoded record against golden entities found by its name keys.

    `exact`/`loose`: (golden_id, a record of it) whose exact/loose name key equals the record's;
    `addresses`: the record's address keys; `candidate_addresses`: each candidate's (every
    address any of its records gives); `kept_apart`: golden ids a steward kept it apart from.
    An exact name names one registered entity: it links unless the addresses contradict (both
    known and disjoint: a namesake elsewhere, or a move) or several entities carry it. A loose
    name (legal form differs) links only where an address agrees as well.
    """

    def agrees(golden: int) -> bool | None:
        theirs = candidate_addresses.get(golden, set())
        if not addresses or not theirs:
            return None
        return bool(addresses & theirs)

    exact_ids = {g: r for g, r in exact if g not in kept_apart}
    if len(exact_ids) == 1:
        ((golden, record),) = exact_ids.items()
        if agrees(golden) is False:
            return Verdict("review", golden, record, "same name, another address")
        return Verdict("link", golden, record, "same name")
    if len(exact_ids) > 1:
        agreeing = [g for g in exact_ids if agrees(g)]
        if len(agreeing) == 1:
            return Verdict("link", agreeing[0], exact_ids[agreeing[0]], "same name and address")
        first = min(exact_ids)
        return Verdict("review", first, exact_ids[first], "several entities of this name")
    loose_ids = {g: r for g, r in loose if g not in kept_apart}
    agreeing = [g for g in loose_ids if agrees(g)]
    if len(agreeing) == 1 and len(loose_ids) == 1:
        return Verdict("link", agreeing[0], loose_ids[agreeing[0]], "name and address")
    if loose_ids:
        first = min(agreeing or loose_ids)
        return Verdict("review", first, loose_ids[first], "similar name")
    return Verdict("none")
