"""Legal entities' name keys, and the verdict on an uncoded record."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridweave.linkage.organisations import judge, name_keys

REGISTERED = "深圳市方锦广告有限公司"


@pytest.mark.parametrize(
    "variant",
    [
        "深圳市方锦广告有限责任公司",  # the longer legal form
        "方锦广告（深圳）有限公司",  # the city in full-width brackets
        "方锦广告(深圳市)有限公司",  # … in half-width ones
        "深圳市 方锦广告　有限公司",  # spaces, an ideographic one too
        "深圳市方錦廣告有限公司",  # traditional characters
        "方锦广告有限公司",  # without the city
        "广东省深圳市方锦广告有限公司",
        "深圳市方锦广告有限公司。",
    ],
)
def test_every_spelling_of_a_registered_name_has_its_key(variant: str) -> None:
    assert name_keys(variant).exact == name_keys(REGISTERED).exact


@pytest.mark.parametrize(
    "other",
    [
        "深圳市方锦广告有限公司罗湖分公司",
        "深圳市方锦广告有限公司（罗湖分公司）",
        "深圳市方锦广告有限公司东门营业部",
        "深圳市方锦广告股份有限公司",  # another legal form: often parent and subsidiary
        "深圳市方锦传媒有限公司",
        "深圳市罗湖区方锦广告有限公司",  # a district is part of a name, not a spelling
    ],
)
def test_branches_and_other_names_keep_keys_of_their_own(other: str) -> None:
    keys = name_keys(other)
    assert keys.exact != name_keys(REGISTERED).exact
    assert keys.loose != name_keys(REGISTERED).loose


def test_a_branch_is_told_by_its_suffix_and_two_branches_differ() -> None:
    luohu = name_keys("深圳市方锦广告有限公司罗湖分公司")
    assert luohu.branch == "罗湖分公司"
    assert name_keys("方锦广告（深圳）有限责任公司罗湖分公司").exact == luohu.exact
    assert name_keys("深圳市方锦广告有限公司东门分公司").exact != luohu.exact
    assert name_keys("罗湖区宇安士多（东门店）").branch == "东门店"
    assert name_keys(REGISTERED).branch is None


def test_a_bracketed_word_that_is_no_place_stays_in_the_name() -> None:
    assert name_keys("深圳市水务（集团）有限公司").exact != name_keys("深圳市水务有限公司").exact


def test_the_loose_key_forgets_only_whether_a_company_wrote_youxian() -> None:
    assert name_keys("深圳市方锦广告公司").loose == name_keys(REGISTERED).loose
    assert name_keys("深圳市方锦广告公司").exact != name_keys(REGISTERED).exact
    assert name_keys("方锦广告股份公司").loose == name_keys("方锦广告股份有限公司").loose


def test_blank_names_have_no_keys() -> None:
    assert name_keys(None).exact is None and name_keys("  （深圳） ").exact is None


@given(st.lists(st.sampled_from([" ", "\u3000", "·", "、", "-"]), max_size=4), st.booleans())
def test_spaces_punctuation_and_width_never_change_the_key(noise: list[str], wide: bool) -> None:
    name = "".join(c + (noise[i] if i < len(noise) else "") for i, c in enumerate(REGISTERED))
    if wide:
        name = name.replace("(", "（")
    assert name_keys(name).exact == name_keys(REGISTERED).exact


A, B = {"a|*|解放路|1|2"}, {"a|*|宝安南路|9|1"}


def test_an_exact_name_links_unless_the_addresses_contradict() -> None:
    found = [(10, 100)]
    linked = judge(
        exact=found, loose=[], addresses=A, candidate_addresses={10: A}, kept_apart=set()
    )
    assert (linked.action, linked.golden_id) == ("link", 10)
    unknown = judge(
        exact=found, loose=[], addresses=set(), candidate_addresses={10: A}, kept_apart=set()
    )
    assert unknown.action == "link"
    moved = judge(exact=found, loose=[], addresses=B, candidate_addresses={10: A}, kept_apart=set())
    assert (moved.action, moved.other_record) == ("review", 100)


def test_two_entities_of_one_name_are_decided_by_the_address_or_a_steward() -> None:
    found = [(10, 100), (11, 110)]
    addresses = {10: A, 11: B}
    by_address = judge(
        exact=found, loose=[], addresses=B, candidate_addresses=addresses, kept_apart=set()
    )
    assert (by_address.action, by_address.golden_id) == ("link", 11)
    unsure = judge(
        exact=found, loose=[], addresses=set(), candidate_addresses=addresses, kept_apart=set()
    )
    assert unsure.action == "review"


def test_a_loose_name_needs_the_address_and_a_steward_s_no_stands() -> None:
    loose = [(10, 100)]
    same = judge(exact=[], loose=loose, addresses=A, candidate_addresses={10: A}, kept_apart=set())
    assert same.action == "link"
    unknown = judge(
        exact=[], loose=loose, addresses=set(), candidate_addresses={10: A}, kept_apart=set()
    )
    assert unknown.action == "review"
    apart = judge(
        exact=[(10, 100)], loose=loose, addresses=A, candidate_addresses={10: A}, kept_apart={10}
    )
    assert apart.action == "none"


def test_another_city_names_its_own_places() -> None:
    hangzhou = ("浙江省", "杭州市", "杭州", "西湖区")
    registered = name_keys("杭州市云帆科技有限公司", hangzhou)
    assert name_keys("云帆科技（杭州）有限责任公司", hangzhou).exact == registered.exact
    assert name_keys("浙江省杭州市云帆科技有限公司", hangzhou).exact == registered.exact
    # Shenzhen's defaults know nothing of Hangzhou: the bracketed city stays in the name
    assert name_keys("云帆科技（杭州）有限公司").exact != name_keys("杭州市云帆科技有限公司").exact
