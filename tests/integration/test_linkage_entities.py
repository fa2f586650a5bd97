"""Legal entities, buildings and rooms without a strong key, linked by name and address."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine, select

from gridweave.core.database import transaction
from gridweave.core.errors import GridweaveError
from gridweave.ingest.cleaning.credit_code import check_char
from gridweave.ingest.service import ingest_file
from gridweave.linkage import review
from gridweave.linkage.entities import link_entities, unlink
from gridweave.linkage.models import ReviewItem
from gridweave.linkage.reports import links
from gridweave.registry.models import LegalEntity, Room

from .cities import city, ingest_city, truth
from .extracts import write_jsonl
from .test_ingest import register


def credit_code(org: str) -> str:
    """A valid credit code of a Luohu enterprise with the 9-character organisation code `org`."""
    first17 = f"91440303{org}"
    return first17 + check_char(first17)


HEAD, OTHER, NAMESAKE = credit_code("MA5FJ1230"), credit_code("MA5PX4560"), credit_code("MA5WY7890")
AT = "深圳市罗湖区桂园街道解放路1号2栋601"
ELSEWHERE = "深圳市罗湖区黄贝街道宝安南路9号1栋1203"


def _register_entities(engine: Engine, tmp_path: Path) -> None:
    register(engine, "entity_register_test", "entity_tax_test")
    rows = [
        {"代码": HEAD, "名称": "深圳市方锦广告有限公司", "住所": AT, "经营场所": AT},
        {"代码": OTHER, "名称": "深圳市鹏信通讯设备有限公司", "住所": ELSEWHERE},
    ]
    for row in rows:
        row["核准日期"] = "2024-01-02"
    ingest_file(
        engine, path=write_jsonl(tmp_path / "reg.jsonl", rows), source_name="entity_register_test"
    )


def _tax(engine: Engine, tmp_path: Path, rows: list[tuple[str, str | None, str, str]]) -> None:
    objects = [
        {
            "序号": key,
            "识别号": code,
            "名称": name,
            "地址": address,
            "电话": None,
            "登记日期": "2024-03-01",
        }
        for key, code, name, address in rows
    ]
    path = write_jsonl(tmp_path / f"tax-{rows[0][0]}.jsonl", objects)
    ingest_file(engine, path=path, source_name="entity_tax_test")


def _golden(engine: Engine, entity_type: str) -> dict[str, int | None]:
    with transaction(engine) as session:
        frame = links(session, entity_type)
    return dict(zip(frame["record_key"], frame["golden_id"], strict=True))


def _golden_id(engine: Engine, code: str) -> int:
    with transaction(engine) as session:
        found = session.scalar(select(LegalEntity.id).where(LegalEntity.credit_code == code))
    assert found is not None
    return found


def test_name_variants_join_and_a_branch_stays_apart(engine: Engine, tmp_path: Path) -> None:
    _register_entities(engine, tmp_path)
    _tax(
        engine,
        tmp_path,
        [
            ("T1", None, "方锦广告（深圳）有限责任公司", "解放路1号二栋601室"),
            ("T2", None, "深圳市方錦廣告有限公司", ""),
            ("T3", "4403035FJ123", "深圳市 方锦广告 有限公司", "罗湖区解放路１号２栋６０１"),
            ("T4", None, "深圳市方锦广告公司", "深圳市罗湖区解放路1号2座601"),
            ("T5", None, "深圳市方锦广告有限公司罗湖分公司", AT),
            ("T6", None, "深圳市鹏信通讯设备公司", AT),
            ("T7", None, "深圳市无名贸易有限公司", AT),
        ],
    )
    head = _golden_id(engine, HEAD)
    assert _golden(engine, "legal_entity")["T1"] is None  # nothing links at ingest without a code

    reports = {r.entity_type: r for r in link_entities(engine, actor="test")}
    golden = _golden(engine, "legal_entity")
    assert [golden[k] for k in ("T1", "T2", "T3", "T4")] == [head] * 4
    # a branch is a legal entity of its own, even at its head office's address
    assert golden["T5"] is None
    # similar name (legal form differs) at another address: a steward decides
    assert golden["T6"] is None and golden["T7"] is None
    report = reports["legal_entity"]
    assert (report.auto_links, report.review_items, report.left_waiting) == (4, 1, 3)
    with transaction(engine) as session:
        entity = session.get(LegalEntity, head)
        assert entity is not None and entity.sources == 5
        assert entity.name == "深圳市方锦广告有限公司"  # the register is trusted most
        assert entity.credit_code == HEAD
        views, total = review.list_items(session, entity_type="legal_entity")
        assert total == 1 and views[0].left.record_key == "T6"
        assert views[0].right.golden_id == _golden_id(engine, OTHER)


def test_two_valid_codes_never_merge_and_make_an_uncoded_name_uncertain(
    engine: Engine, tmp_path: Path
) -> None:
    _register_entities(engine, tmp_path)
    _tax(
        engine,
        tmp_path,
        [
            ("T1", NAMESAKE, "深圳市方锦广告有限公司", AT),
            ("T2", None, "方锦广告（深圳）有限公司", ""),
        ],
    )
    link_entities(engine, actor="test")
    golden = _golden(engine, "legal_entity")
    head, namesake = _golden_id(engine, HEAD), _golden_id(engine, NAMESAKE)
    assert head != namesake and golden["T1"] == namesake
    # one name, two registered codes: which one the uncoded record means is a steward's call
    assert golden["T2"] is None
    with transaction(engine) as session:
        items = session.scalars(select(ReviewItem).where(ReviewItem.entity_type == "legal_entity"))
        assert [(i.kind, i.status) for i in items] == [("uncertain", "open")]


def test_steward_decisions_link_or_keep_apart_in_later_runs(engine: Engine, tmp_path: Path) -> None:
    _register_entities(engine, tmp_path)
    _tax(
        engine,
        tmp_path,
        [
            ("T1", None, "深圳市鹏信通讯设备公司", AT),
            ("T2", None, "鹏信通讯设备有限公司", AT),
        ],
    )
    link_entities(engine, actor="test")
    with transaction(engine) as session:
        views, _ = review.list_items(session, entity_type="legal_entity")
        by_key = {v.left.record_key: v.item.id for v in views}
    # T2: exact name, another address → review as well
    assert set(by_key) == {"T1", "T2"}
    with transaction(engine) as session:
        review.decide(session, item_id=by_key["T1"], accept=True, actor="steward")
        review.decide(session, item_id=by_key["T2"], accept=False, actor="steward")
    link_entities(engine, actor="test")
    golden = _golden(engine, "legal_entity")
    other = _golden_id(engine, OTHER)
    assert golden["T1"] == other and golden["T2"] is None
    with transaction(engine) as session:
        entity = session.get(LegalEntity, other)
        assert entity is not None and entity.sources == 2 and entity.operating_address is not None


def test_an_incremental_run_keeps_every_id_and_reads_only_what_is_new(
    engine: Engine, tmp_path: Path
) -> None:
    _register_entities(engine, tmp_path)
    _tax(engine, tmp_path, [("T1", None, "方锦广告（深圳）有限公司", AT)])
    first = {r.entity_type: r for r in link_entities(engine, actor="test")}
    before = _golden(engine, "legal_entity")
    _tax(engine, tmp_path, [("T9", None, "深圳市方锦广告有限责任公司", "")])
    second = {r.entity_type: r for r in link_entities(engine, actor="test")}
    after = _golden(engine, "legal_entity")
    assert first["legal_entity"].mode == "full" and second["legal_entity"].mode == "incremental"
    assert second["legal_entity"].records_new == 1 and second["legal_entity"].waiting == 1
    assert {k: after[k] for k in before} == before
    assert after["T9"] == after["T1"] == _golden_id(engine, HEAD)


ROOMS = {
    "R1": ("B1", "深圳市罗湖区桂园街道解放路1号1栋1单元101"),
    "R2": ("B1", "深圳市罗湖区桂园街道解放路1号1栋1单元102"),
    "R3": ("B1", "深圳市罗湖区桂园街道解放路1号1栋2单元101"),
    "R4": ("B2", "深圳市罗湖区桂园街道解放路1号2栋1501"),
}
BUILDINGS = {"B1": "深圳市罗湖区桂园街道解放路1号1栋", "B2": "深圳市罗湖区桂园街道解放路1号2栋"}


def _places(engine: Engine, tmp_path: Path) -> None:
    register(engine, "place_register_test", "place_survey_test")
    rows = [
        {"房屋编码": r, "楼栋编码": b, "楼栋地址": BUILDINGS[b], "层数": 18, "房屋地址": a}
        | {"面积": 60, "登记日期": "2020-05-01"}
        for r, (b, a) in ROOMS.items()
    ]
    path = write_jsonl(tmp_path / "rooms.jsonl", rows)
    ingest_file(engine, path=path, source_name="place_register_test")


def _survey(engine: Engine, tmp_path: Path, rows: list[tuple[str, str, str]]) -> None:
    objects = [
        {"巡查编号": key, "楼栋编码": None, "楼栋地址": building, "层数": None, "房屋编码": None}
        | {"房屋地址": room, "月租金": 2500, "巡查日期": "2025-01-01"}
        for key, building, room in rows
    ]
    ingest_file(
        engine,
        path=write_jsonl(tmp_path / "survey.jsonl", objects),
        source_name="place_survey_test",
    )


def test_rooms_and_buildings_join_by_address_variants_and_only_then(
    engine: Engine, tmp_path: Path
) -> None:
    _places(engine, tmp_path)
    _survey(
        engine,
        tmp_path,
        [
            # no district, full-width digits, 號/棟/單元, a Chinese numeral, 室
            ("S1", "解放路１號一棟", "解放路１號一棟1單元101室"),
            ("S2", "罗湖区解放路1号1幢", "罗湖区解放路1号1幢1单元102房"),
            # another room of the same building: its own room
            ("S3", "罗湖区解放路1号1栋", "罗湖区解放路1号1栋1单元103"),
            # no unit, and 101 is in two units: a steward decides
            ("S4", "解放路1号1栋", "解放路1号1栋101"),
            # another district's road of the same name
            ("S5", "福田区解放路1号1栋", "福田区解放路1号1栋1单元101"),
            ("S6", "深圳市罗湖区解放路1号2座", "罗湖区解放路1号二座1501室"),
        ],
    )
    with transaction(engine) as session:
        codes = {r.room_code: r.id for r in session.scalars(select(Room))}
    reports = {r.entity_type: r for r in link_entities(engine, actor="test")}
    rooms, buildings = _golden(engine, "room"), _golden(engine, "building")
    assert rooms["S1#room"] == codes["R1"] and rooms["S2#room"] == codes["R2"]
    assert rooms["S6#room"] == codes["R4"]
    assert rooms["S3#room"] is None and rooms["S4#room"] is None and rooms["S5#room"] is None
    # S2 and S6 give their district: the ingest already found their rooms; S1 is linkage's
    assert (reports["room"].auto_links, reports["room"].review_items) == (1, 1)
    assert reports["building"].auto_links == 5
    b1 = buildings["R1#building"]
    assert [buildings[f"S{i}#building"] for i in (1, 2, 3, 4)] == [b1] * 4
    assert buildings["S5#building"] is None
    assert buildings["S6#building"] == buildings["R4#building"] != b1
    with transaction(engine) as session:
        room = session.get(Room, codes["R1"])
        assert room is not None and room.rent == 2500 and room.sources == 2


def test_the_synthetic_city_links_entities_and_rooms_without_a_false_link(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = city(tmp_path_factory.getbasetemp(), 2000, 11)
    ingest_city(engine, folder)
    link_entities(engine, actor="test")
    with transaction(engine) as session:
        linked = links(session, None)
    records = truth(folder).unique(["source", "record_key", "entity_type"], keep="first")
    joined = linked.join(records, on=["source", "record_key", "entity_type"])
    for entity_type in ("legal_entity", "room"):
        mine = joined.filter(
            (pl.col("entity_type") == entity_type) & pl.col("golden_id").is_not_null()
        )
        # no golden record holds two true entities: a branch is never its head office
        sizes = mine.group_by("golden_id").agg(pl.col("entity_id").n_unique().alias("n"))
        assert sizes["n"].max() == 1
    tax = joined.filter(pl.col("source") == "tax_registrations")
    branch = pl.col("entity_id").str.contains("-")
    assert tax.filter(branch).height > 0  # the city has branches to keep apart
    # every tax record of a registered entity finds it, with or without its credit code
    registered = tax.filter(~branch)
    assert registered["golden_id"].null_count() <= 0.02 * registered.height
    rentals = joined.filter(
        (pl.col("source") == "housing_rentals") & (pl.col("entity_type") == "room")
    )
    assert rentals["golden_id"].null_count() == 0


def test_a_wrong_link_is_undone_and_stays_undone(engine: Engine, tmp_path: Path) -> None:
    _register_entities(engine, tmp_path)
    _tax(engine, tmp_path, [("T1", None, "方锦广告（深圳）有限公司", AT)])
    link_entities(engine, actor="test")
    head = _golden_id(engine, HEAD)
    with transaction(engine) as session:
        record = links(session, "legal_entity").filter(pl.col("record_key") == "T1")
        record_id = int(record["record_id"][0])
        assert record["golden_id"][0] == head
        assert unlink(session, record_id=record_id, actor="steward", note="another firm") == head
        entity = session.get(LegalEntity, head)
        assert entity is not None and entity.sources == 1
    link_entities(engine, actor="test")
    assert _golden(engine, "legal_entity")["T1"] is None
    with transaction(engine) as session:
        keyed = links(session, "legal_entity").filter(pl.col("golden_id") == head)
        with pytest.raises(GridweaveError, match="its own valid key"):
            unlink(session, record_id=int(keyed["record_id"][0]), actor="steward")
