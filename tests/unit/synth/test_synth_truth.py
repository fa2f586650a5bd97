"""The true city: valid identifiers, twins and namesakes, a tiled area tree, injected faults."""

from __future__ import annotations

from datetime import date

import orjson
import polars as pl
from shapely.geometry import shape
from stdnum.cn import ric, uscc

from gridweave.synth.city import SynthReport
from gridweave.synth.organisations import catalogue

from .conftest import contract_of, read_extract

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def gb11643_valid(cid: str) -> bool:
    """An independent GB 11643 check: 17 digits, a weighted sum mod 11, then 10X98765432."""
    if len(cid) != 18 or not cid[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(cid[:17], WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == cid[17]


def _truth(city: SynthReport, table: str) -> pl.DataFrame:
    return pl.read_csv(city.out_dir / "truth" / f"{table}.csv", infer_schema=False)


def _extract(city: SynthReport, source: str) -> pl.DataFrame:
    contract = contract_of(city, source)
    return read_extract(city.out_dir / "extracts" / f"{source}.{contract.file.format}", contract)


def test_every_police_id_is_valid(city: SynthReport) -> None:
    ids = _extract(city, "police_household_registration")["公民身份号码"].to_list()
    assert ids and all(gb11643_valid(i) for i in ids)
    # stdnum's checksum agrees (its county-existed-at-birth check is stricter than real ids).
    assert all(ric.calc_check_digit(i) == i[17] for i in ids)


def test_true_people_have_unique_valid_ids_and_phones(city: SynthReport) -> None:
    people = _truth(city, "people")
    assert people["citizen_id"].n_unique() == people.height
    assert all(gb11643_valid(i) for i in people["citizen_id"])
    phones = people["phone"].drop_nulls()
    assert phones.n_unique() == len(phones)
    assert phones.str.contains(r"^1[3-9][0-9]{9}$").all()
    # The id's birth date and sex digit agree with the person.
    born = people["citizen_id"].str.slice(6, 8)
    assert (born == people["birth_date"].str.replace_all("-", "")).all()
    odd = people["citizen_id"].str.slice(16, 1).cast(pl.Int32) % 2 == 1
    assert (odd == (people["sex"] == "male")).all()


def test_people_look_like_a_city(city: SynthReport) -> None:
    people = _truth(city, "people")
    registered = (people["registered"] == "true").sum() / people.height
    assert 0.55 < registered < 0.75
    assert people["name"].str.contains("·").any()  # minority names with the middle dot
    assert people["name"].str.slice(0, 2).is_in(["欧阳", "司徒", "司马", "上官"]).any()
    status = people["status"].value_counts()
    assert set(status["status"]) == {"alive", "deceased", "moved_out"}
    ages = [2025 - int(y) for y in people["birth_date"].str.slice(0, 4)]
    assert min(ages) == 0 and max(ages) >= 90


def test_twins_and_namesakes_exist(city: SynthReport) -> None:
    people = _truth(city, "people").select(
        "person_id", "name", "birth_date", "household_id", "citizen_id"
    )
    twins = _truth(city, "twins")
    assert twins.height > 0
    pairs = twins.join(people, left_on="person_id_a", right_on="person_id").join(
        people, left_on="person_id_b", right_on="person_id", suffix="_b"
    )
    assert (pairs["birth_date"] == pairs["birth_date_b"]).all()
    assert (pairs["household_id"] == pairs["household_id_b"]).all()
    assert (pairs["name"] != pairs["name_b"]).all()
    assert (pairs["citizen_id"] != pairs["citizen_id_b"]).all()
    namesakes = _truth(city, "namesakes")
    assert namesakes.height > 0
    pairs = namesakes.join(people, left_on="person_id_a", right_on="person_id").join(
        people, left_on="person_id_b", right_on="person_id", suffix="_b"
    )
    assert (pairs["name_b"] == pairs["name"]).all()
    assert (pairs["birth_date_b"] == pairs["birth_date"]).all()


def test_areas_tile_and_nest(city: SynthReport) -> None:
    collection = orjson.loads((city.out_dir / "areas.geojson").read_bytes())
    assert collection["type"] == "FeatureCollection"
    areas = {f["properties"]["code"]: f for f in collection["features"]}
    levels = {code: f["properties"]["level"] for code, f in areas.items()}
    assert levels["440300"] == "city" and levels["440303"] == "district"
    lengths = {"street": 9, "community": 12, "grid": 15}
    for code, level in levels.items():
        if level in lengths:
            assert len(code) == lengths[level] and code.isdigit()
            parent = areas[code]["properties"]["parent_code"]
            assert code.startswith(parent) and len(parent) == lengths[level] - 3
    shapes = {code: shape(f["geometry"]) for code, f in areas.items()}
    for code, f in areas.items():
        parent = f["properties"]["parent_code"]
        if parent:
            assert shapes[parent].buffer(1e-9).contains(shapes[code]), code
    children: dict[str, list[str]] = {}
    for code, f in areas.items():
        if levels[code] in lengths:
            children.setdefault(f["properties"]["parent_code"], []).append(code)
    for parent, codes in children.items():
        # Children tile their parent: areas add up and no two overlap.
        assert abs(sum(shapes[c].area for c in codes) - shapes[parent].area) < 1e-9
        for i, a in enumerate(codes):
            for b in codes[i + 1 :]:
                assert shapes[a].intersection(shapes[b]).area < 1e-12


def test_buildings_stand_inside_their_grid(city: SynthReport) -> None:
    collection = orjson.loads((city.out_dir / "areas.geojson").read_bytes())
    grids = {f["properties"]["code"]: shape(f["geometry"]) for f in collection["features"]
             if f["properties"]["level"] == "grid"}  # fmt: skip
    from shapely.geometry import Point

    for table in ("buildings", "components"):
        for code, lon, lat in (
            _truth(city, table).select("grid_code", "longitude", "latitude").iter_rows()
        ):
            assert grids[code].contains(Point(float(lon), float(lat)))
    rooms = _truth(city, "rooms")
    assert (rooms["room_code"].str.len_chars() == 23).all()
    assert (rooms["room_code"].str.slice(0, 19) == rooms["building_code"]).all()


def test_legal_entities_and_components_are_validly_coded(city: SynthReport) -> None:
    # the register's entities; branches only the tax register knows have no register data
    entities = _truth(city, "legal_entities").filter(pl.col("head_office_id").is_null())
    codes = entities["credit_code"]
    assert codes.n_unique() == entities.height
    assert all(uscc.calc_check_digit(c) == c[17] for c in codes)
    # stdnum does not know the agriculture authority's N prefix (village collectives).
    assert all(uscc.is_valid(c) for c in codes if not c.startswith("N"))
    assert codes.str.starts_with("91440303").sum() / len(codes) > 0.4
    assert codes.str.slice(0, 2).is_in(["92", "12", "51", "52"]).any()
    assert entities["name"].n_unique() == entities.height
    components = _truth(city, "components")
    kinds = set(catalogue()["code"])
    assert (components["component_code"].str.len_chars() == 17).all()
    assert components["component_code"].str.slice(6, 5).is_in(kinds).all()
    assert (components["component_code"].str.slice(6, 5) == components["class_code"]).all()


def test_department_faults_are_there(city: SynthReport) -> None:
    migrants = _extract(city, "migrant_residents")
    assert (migrants["证件号码"].str.len_chars() == 15).any()  # legacy ids
    assert migrants["出生日期"].str.contains("/").any()
    health = _extract(city, "health_population")
    assert health["身份证号"].null_count() > 0
    assert health["姓名"].str.contains("[陳劉張黃趙王]").any()
    hrss = _extract(city, "hrss_insurance")
    assert not all(gb11643_valid(i.strip()) for i in hrss["公民身份号码"].drop_nulls())
    rentals = _extract(city, "housing_rentals")
    blank = rentals["房屋编码"].null_count() / rentals.height
    assert 0.1 < blank < 0.3
    market = _extract(city, "market_entities")
    assert (
        market["成立日期"].str.contains("年").any() and market["成立日期"].str.contains("/").any()
    )


def test_the_tax_register_writes_entities_its_own_way(city: SynthReport) -> None:
    tax = _extract(city, "tax_registrations")
    market = _extract(city, "market_entities")
    truth = _truth(city, "records").filter(pl.col("source") == "tax_registrations")
    registered = set(market["名称"].to_list())
    names = tax["纳税人名称"]
    assert 0.3 < names.is_in(list(registered)).mean() < 0.7  # most are spelled otherwise
    assert names.str.contains("有限责任公司").any() and names.str.contains("（深圳）").any()
    number = tax["纳税人识别号"]
    assert number.null_count() > 0 and (number.str.len_chars() == 15).any()  # none, legacy
    # branches are entities of their own, named after their head office
    branches = truth.filter(pl.col("entity_id").str.contains("-"))
    heads = set(truth["entity_id"].str.split("-").list.first().to_list())
    assert (
        branches.height > 0
        and branches["entity_id"]
        .str.split("-")
        .list.first()
        .is_in(list(heads | set(_truth(city, "legal_entities")["legal_entity_id"].to_list())))
        .all()
    )
    assert names.str.ends_with("分公司").sum() == branches.height


def test_some_deceased_are_still_paid_an_allowance(city: SynthReport) -> None:
    people = _truth(city, "people")
    records = _truth(city, "records").filter(pl.col("source") == "civil_affairs_subsistence")
    dead = people.filter(pl.col("status") == "deceased")["person_id"]
    assert records["entity_id"].is_in(dead.implode()).any()
    assert 0.01 < records.height / people.height < 0.05


def test_dates_are_before_the_reference_day(city: SynthReport) -> None:
    people = _truth(city, "people")
    assert max(people["birth_date"].str.to_date().to_list()) <= date(2025, 6, 30)
