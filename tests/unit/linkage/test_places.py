"""Standardised address keys of rooms and buildings, and the verdict on an uncoded record."""

from __future__ import annotations

import pytest

from gridweave.linkage.places import judge_place, place_keys

ROOM = "深圳市罗湖区桂园街道解放路1号1栋1单元101"


@pytest.mark.parametrize(
    "variant",
    [
        "罗湖区解放路1号1栋1单元101室",
        "广东省深圳市罗湖区解放路1号1幢1单元101房",
        "罗湖区解放路1号1座1单元101",
        "罗湖区解放路１号１栋１单元１０１",  # full-width digits
        "罗湖区解放路1號1棟1單元101",  # traditional characters
        "罗湖区解放路1号一栋一单元101",  # Chinese numerals before 栋 and 单元
        "罗湖区桂园街道解放路1号1栋1单元1楼01",
    ],
)
def test_every_spelling_of_a_room_probes_with_its_key(variant: str) -> None:
    assert place_keys(variant, "room").probe == place_keys(ROOM, "room").probe


@pytest.mark.parametrize(
    "other",
    [
        "罗湖区解放路1号1栋1单元102",  # the next room
        "罗湖区解放路1号1栋2单元101",  # the same number in another unit
        "罗湖区解放路1号2栋1单元101",
        "罗湖区解放路3号1栋1单元101",
        "福田区解放路1号1栋1单元101",  # a road of the same name in another district
    ],
)
def test_another_room_never_finds_this_one(other: str) -> None:
    assert place_keys(other, "room").probe not in place_keys(ROOM, "room").stored


def test_a_left_out_district_or_unit_is_a_wildcard_found_only_by_the_looser_probe() -> None:
    stored = place_keys(ROOM, "room").stored
    assert place_keys("解放路1号1栋1单元101", "room").probe in stored
    assert place_keys("罗湖区解放路1号1栋101", "room").probe in stored
    assert (
        place_keys("罗湖区解放路1号1栋101", "room").probe
        in place_keys("罗湖区解放路1号1栋2单元101", "room").stored
    )


def test_addresses_without_a_door_number_or_room_give_no_keys() -> None:
    assert place_keys("罗湖区解放路", "room").probe is None
    assert place_keys("罗湖区解放路1号1栋", "room").probe is None
    assert place_keys("罗湖区解放路1号1栋", "building").probe == place_keys(ROOM, "building").probe
    assert place_keys(None, "building").stored == ()


def test_one_place_links_several_go_to_review_a_refused_one_is_gone() -> None:
    assert judge_place({7: 70}, set()).action == "link"
    several = judge_place({7: 70, 8: 80}, set())
    assert (several.action, several.golden_id, several.other_record) == ("review", 7, 70)
    assert judge_place({7: 70, 8: 80}, {7}).golden_id == 8
    assert judge_place({}, set()).action == "none"
