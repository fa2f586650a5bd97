"""Extracts about places and organisations: rooms, rentals, companies and city components."""

from __future__ import annotations

import numpy as np
import polars as pl

from gridweave.synth import faults as f
from gridweave.synth import spelling as sp
from gridweave.synth.common import REFERENCE_DAY
from gridweave.synth.population import City

ROOM_USE_ZH = {"home": "自住", "rental": "出租", "shop": "商铺", "office": "办公", "vacant": "空置"}
COMPONENT_STATUS_ZH = {"intact": "完好", "damaged": "破损", "missing": "丢失", "removed": "移除"}


def housing_buildings(city: City, rng: np.random.Generator) -> pl.DataFrame:
    """The building and room register: one row per room, with its building."""
    r = city.rooms
    b = city.buildings.select(pl.all().gather(r["building"]))
    # A building was registered once; its rooms on the same day.
    registered = sp.days_before(rng, city.buildings.height, 30, 3000).gather(r["building"])
    return pl.DataFrame(
        {
            "房屋编码": r["room_code"],
            "楼栋编码": r["building_code"],
            "楼栋名称": b["name"],
            "楼栋地址": b["address"],
            "地上层数": b["floors"],
            "建筑用途": b["building_use"],
            "经度": b["longitude"],
            "纬度": b["latitude"],
            "所属网格": b["grid_code"],
            "单元": pl.select(pl.when(r["unit"] > 0).then(r["unit"].cast(pl.String))).to_series(),
            "所在楼层": r["floor"],
            "房号": r["room_number"],
            "房屋地址": r["address"],
            "房屋用途": r["room_use"].replace_strict(ROOM_USE_ZH),
            "建筑面积": r["floor_area"],
            "登记日期": registered.dt.strftime("%Y-%m-%d"),
            "__building": b["building_id"],
            "__room": r["room_id"],
        }
    )


def housing_rentals(city: City, rng: np.random.Generator) -> pl.DataFrame:
    """Filed rental contracts: room (code often blank, address respelled), its building (by that
    address alone), landlord, tenant."""
    r = city.rooms.filter(pl.col("landlord").is_not_null())
    n = r.height
    people = city.people
    hh = city.households
    household_of_room = np.full(city.rooms.height, -1)
    household_of_room[hh["room"].to_numpy()] = np.arange(hh.height)
    household = household_of_room[r["room"].to_numpy()]
    head = hh["head"].to_numpy()[household]
    # The head signs the lease unless the head is a child or dead; then the next member does.
    ok = (people["age"].to_numpy()[head] >= 18) & (people["status"].to_numpy()[head] == "alive")
    tenant = np.where(ok, head, np.minimum(head + 1, people.height - 1))
    landlord = r["landlord"].to_numpy()
    lp, tp = people.select(pl.all().gather(landlord)), people.select(pl.all().gather(tenant))
    l_names, l_ids = f.person_faults(lp["name"], lp["citizen_id"], rng, f.LANDLORDS)
    t_names, t_ids = f.person_faults(tp["name"], tp["citizen_id"], rng, f.TENANTS)
    code = r["room_code"].scatter(np.flatnonzero(f.mask(rng, n, f.ROOM_CODE_BLANK_RATE)), None)
    start = r["lease_start"]
    filed = (start.cast(pl.Int32) + pl.Series(rng.integers(0, 30, n), dtype=pl.Int32)).clip(
        upper_bound=REFERENCE_DAY
    )
    year = start.dt.year().cast(pl.String)
    return pl.DataFrame(
        {
            "合同编号": "LHZL" + year + sp.serials(rng, n, "", 8),
            "房屋编码": code,
            # the form has the field; the housing bureau's clerks never fill it in
            "楼栋编码": pl.repeat(None, n, dtype=pl.String, eager=True),
            "房屋地址": sp.spell_addresses(
                city.rooms, r["room"].to_numpy(), rng, f.RENTAL_ADDRESSES
            ),
            "出租人姓名": l_names,
            "出租人证件号码": l_ids,
            "出租人联系电话": sp.format_phones(lp["phone"], rng, f.RENTAL_PHONES),
            "承租人姓名": t_names,
            "承租人证件号码": t_ids,
            "承租人联系电话": sp.format_phones(tp["phone"], rng, f.RENTAL_PHONES),
            "月租金": r["rent"].cast(pl.Int64),
            "租赁起始日期": start.dt.strftime("%Y-%m-%d"),
            "租赁终止日期": r["lease_end"].dt.strftime("%Y-%m-%d"),
            "租赁用途": pl.repeat("居住", n, eager=True),
            "备案日期": filed.cast(pl.Date).dt.strftime("%Y-%m-%d"),
            "__room": r["room_id"],
            "__building": r["building_id"],
            "__landlord": lp["person_id"],
            "__tenant": tp["person_id"],
        }
    ).sort("合同编号")


def market_entities(city: City, rng: np.random.Generator) -> pl.DataFrame:
    """The commercial register: entities and their legal representatives."""
    e = city.entities
    n = e.height
    rep_names, rep_ids = f.person_faults(
        e["legal_representative"], e["representative_citizen_id"], rng, f.REPRESENTATIVES
    )
    established = e["established_date"]
    approved = (
        established.cast(pl.Int32)
        + (REFERENCE_DAY - established.cast(pl.Int32)) * pl.Series(rng.random(n))
    ).cast(pl.Int32)
    return pl.DataFrame(
        {
            "统一社会信用代码": e["credit_code"],
            "名称": e["name"],
            "市场主体类型": e["entity_type"],
            "法定代表人": rep_names,
            "法定代表人证件号码": rep_ids,
            "住所": "深圳市" + e["registered_address"],
            "经营场所": sp.spell_addresses(
                city.rooms, e["operating_room"].to_numpy(), rng, f.MARKET_ADDRESSES
            ),
            "登记状态": e["status_label"],
            "成立日期": sp.format_dates(established, rng, f.ESTABLISHED_DATES),
            "注册资本（万元）": pl.select(pl.when(e["capital"] > 0).then(e["capital"])).to_series(),
            "联系电话": e["phone"],
            "登记机关": pl.repeat("深圳市市场监督管理局罗湖监管局", n, eager=True),
            "核准日期": approved.cast(pl.Date).dt.strftime("%Y-%m-%d"),
            "__entity": e["legal_entity_id"],
            "__representative": e["representative_id"],
        }
    ).sort("统一社会信用代码")


def urban_components(city: City, rng: np.random.Generator) -> pl.DataFrame:
    """The city-component census."""
    c = city.components
    return pl.DataFrame(
        {
            "部件标识码": c["component_code"],
            "小类代码": c["class_code"],
            "部件名称": c["name"],
            "大类名称": c["category"],
            "部件状态": c["status"].replace_strict(COMPONENT_STATUS_ZH),
            "主管部门": c["owner"],
            "经度": c["longitude"],
            "纬度": c["latitude"],
            "所属网格": c["grid_code"],
            "普查日期": sp.days_before(rng, c.height, 0, 400).dt.strftime("%Y-%m-%d"),
            "__city_component": c["component_id"],
        }
    ).sort("部件标识码")
