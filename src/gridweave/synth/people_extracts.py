"""The people-centred extracts: police, migrants, health, civil affairs, HRSS and schools."""

# Each writer returns the extract as a frame whose columns are the file's, plus `__<role>`
# columns with the true entity ids (extracts.write_extract drops them before writing).

from __future__ import annotations

import numpy as np
import polars as pl

from gridweave.synth import faults as f
from gridweave.synth import spelling as sp
from gridweave.synth.common import REFERENCE_DAY, pick, weighted
from gridweave.synth.population import City

RELATION_ZH = {"head": "户主", "spouse": "配偶"}
STATUS_ZH = {"alive": "正常", "deceased": "死亡", "moved_out": "迁出"}
MARITAL_POLICE = {"unmarried": "未婚", "married": "已婚", "divorced": "离婚", "widowed": "丧偶"}
MARITAL_HEALTH = {"unmarried": "未婚", "married": "已婚", "divorced": "离异", "widowed": "丧偶"}
APPLICANT_ZH = {"head": "本人", "spouse": "配偶", "child": "子女", "parent": "父母"}
APPLICANT_ZH |= {"grandchild": "孙子女"}


def _timestamps(rng: np.random.Generator, dates: pl.Series) -> pl.Series:
    seconds = pl.Series(rng.integers(8 * 3600, 19 * 3600, len(dates)) * 1_000_000)
    stamp = dates.cast(pl.Datetime("us")) + seconds.cast(pl.Duration("us"))
    return stamp.dt.strftime("%Y-%m-%d %H:%M:%S")


def police_household_registration(city: City, rng: np.random.Generator) -> pl.DataFrame:
    """Registered residents with their household, status and death date; clean."""
    p = city.people.filter(pl.col("registered"))
    n = p.height
    status = p["status"].to_numpy()
    changed = np.where(
        status == "deceased",
        p["death_day"].to_numpy() + rng.integers(1, 20, n),
        REFERENCE_DAY - rng.integers(0, 1500, n),
    )
    changed = np.minimum(changed, REFERENCE_DAY)
    male = p["sex"] == "male"
    rel = p["relation_to_head"]
    relation = (
        pl.DataFrame({"r": rel, "m": male})
        .select(
            pl.when(pl.col("r") == "child")
            .then(pl.when(pl.col("m")).then(pl.lit("子")).otherwise(pl.lit("女")))
            .when(pl.col("r") == "parent")
            .then(pl.when(pl.col("m")).then(pl.lit("父亲")).otherwise(pl.lit("母亲")))
            .when(pl.col("r") == "grandchild")
            .then(pl.when(pl.col("m")).then(pl.lit("孙子")).otherwise(pl.lit("孙女")))
            .otherwise(pl.col("r").replace_strict(RELATION_ZH, default="其他"))
        )
        .to_series()
    )
    return (
        pl.DataFrame(
            {
                "人员编号": sp.serials(rng, n, "", 12),
                "公民身份号码": p["citizen_id"],
                "姓名": p["name"],
                "性别代码": pl.select(
                    pl.when(male).then(pl.lit("1")).otherwise(pl.lit("2"))
                ).to_series(),
                "民族": p["ethnicity"],
                "出生日期": p["birth_date"].dt.strftime("%Y%m%d"),
                "户号": p["household_number"],
                "户别": pl.repeat("家庭户", n, eager=True),
                "与户主关系": relation,
                "户籍地址": "广东省深圳市" + p["hukou_address"],
                "人员状态": p["status"].replace_strict(STATUS_ZH),
                "死亡日期": p["death_date"].dt.strftime("%Y%m%d"),
                "婚姻状况": p["marital_status"].replace_strict(MARITAL_POLICE),
                "更新时间": _timestamps(rng, pl.Series(changed.astype(np.int32)).cast(pl.Date)),
                "__resident": p["person_id"],
                "__household": p["household_id"],
                "_order": p["person"],
            }
        )
        .sort("户号", "_order")
        .drop("_order")
    )


def migrant_residents(city: City, rng: np.random.Generator) -> pl.DataFrame:
    """Registered migrants: legacy ids, duplicates, stale rooms, phones in every format."""
    living = city.people.filter(~pl.col("registered") & (pl.col("status") == "alive"))
    living = living.filter(pl.Series(f.mask(rng, living.height, f.MIGRANT_COVERAGE)))
    twice = np.flatnonzero(f.mask(rng, living.height, f.DOUBLE_REGISTRATION_RATE))
    p = pl.concat([living, living[twice]])
    n, second = p.height, np.r_[np.zeros(living.height, bool), np.ones(len(twice), bool)]
    year = p["birth_date"].dt.year().to_numpy()
    ids = f.legacy_ids(p["citizen_id"], (year < 2000) & f.mask(rng, n, f.LEGACY_ID_RATE))
    names, ids = f.person_faults(p["name"], ids, rng, f.MIGRANTS)
    # The second registration was keyed by someone else: more typos in it.
    again = np.flatnonzero(second)
    names = names.scatter(again, f.swap_homophones(names.gather(again), rng, 0.3))
    names = f.blank_some(names, rng, f.NAME_LEFT_BLANK)
    rooms = city.rooms
    rental = np.flatnonzero((rooms["room_use"] == "rental").to_numpy())
    stale = f.mask(rng, n, f.STALE_ADDRESS_RATE) | (second & f.mask(rng, n, 0.5))
    room = np.where(stale, rental[rng.integers(0, len(rental), n)], p["room"].to_numpy())
    registered_on = sp.days_before(rng, n, 0, 900)
    registered_on = registered_on.scatter(
        np.flatnonzero(stale), sp.days_before(rng, int(stale.sum()), 700, 2400)
    )
    phones = sp.format_phones(p["phone"], rng, f.MIGRANT_PHONES)
    landline = p["landline"].is_not_null().to_numpy() & f.mask(rng, n, f.LANDLINE_RATE)
    fixed = np.flatnonzero(landline)
    phones = phones.scatter(fixed, p["landline"].gather(fixed))
    age = p["age"].to_numpy()
    reason = np.where(
        age < 16,
        pick(("随迁", "就学"), rng.integers(0, 2, n)).to_numpy(),
        pick(("务工", "经商", "投靠亲友"), weighted(rng, (0.8, 0.12, 0.08), n)).to_numpy(),
    )
    return pl.DataFrame(
        {
            "登记编号": sp.serials(rng, n, "LG", 12),
            "姓名": names,
            "性别": sp.sex_zh(p["sex"]),
            "证件号码": ids,
            "出生日期": sp.format_dates(p["birth_date"], rng, f.MIGRANT_BIRTH_DATES),
            "民族": p["ethnicity"],
            "户籍地址": p["hukou_address"],
            "现居住地址": sp.spell_addresses(rooms, room, rng, f.MIGRANT_ADDRESSES),
            "联系电话": phones,
            "居住事由": reason,
            "登记日期": registered_on.dt.strftime("%Y-%m-%d"),
            "__person": p["person_id"],
        }
    ).sort("登记编号")


def health_population(city: City, rng: np.random.Generator) -> pl.DataFrame:
    """Health records: most residents, some dead or gone; traditional names, missing ids."""
    people = city.people
    status = people["status"].to_numpy()
    keep = np.where(
        status == "alive",
        f.mask(rng, people.height, f.HEALTH_COVERAGE),
        f.mask(rng, people.height, f.HEALTH_STALE_DECEASED),
    )
    p = people.filter(pl.Series(keep))
    n = p.height
    names, ids = f.person_faults(p["name"], p["citizen_id"], rng, f.HEALTH)
    names = f.to_traditional(names, rng, f.TRADITIONAL_NAME_RATE)
    names = f.blank_some(names, rng, f.NAME_LEFT_BLANK)
    room = p["room"].to_numpy()
    community = city.rooms["community"].gather(room)
    return pl.DataFrame(
        {
            "档案编号": sp.serials(rng, n, "440303", 11),
            "姓名": names,
            "性别": sp.sex_zh(p["sex"]),
            "身份证号": ids,
            "出生日期": p["birth_date"].dt.strftime("%Y年%-m月%-d日"),
            "婚姻状况": p["marital_status"].replace_strict(MARITAL_HEALTH),
            "联系电话": sp.format_phones(p["phone"], rng, f.HEALTH_PHONES),
            "现住址": sp.spell_addresses(city.rooms, room, rng, f.HEALTH_ADDRESSES),
            "建档机构": "罗湖区" + community + "健康服务中心",
            "更新日期": sp.days_before(rng, n, 0, 900).dt.strftime("%Y-%m-%d"),
            "__person": p["person_id"],
        }
    ).sort("档案编号")


def civil_affairs_subsistence(city: City, rng: np.random.Generator) -> pl.DataFrame:
    """Allowance-household members, including deceased members nobody took off the list."""
    people = city.people.join(
        city.households.select(
            "household", "dibao", "allowance_certificate", "allowance_amount", "allowance_since"
        ).rename(
            {
                "allowance_certificate": "cert",
                "allowance_amount": "amount",
                "allowance_since": "since",
            }
        ),
        on="household",
    ).sort("person")  # a join's row order is not guaranteed; the random draws below need one
    status = people["status"].to_numpy()
    listed = people["dibao"].to_numpy() & (
        (status == "alive")
        | ((status == "deceased") & f.mask(rng, people.height, f.DECEASED_STILL_LISTED))
    )
    p = people.filter(pl.Series(listed))
    member_no = p.select(pl.col("person").rank("ordinal").over("household")).to_series()
    listed_count = p.select(pl.len().over("household")).to_series()
    names, ids = f.person_faults(p["name"], p["citizen_id"], rng, f.CIVIL)
    room = p["room"].to_numpy()
    checked = sp.days_before(rng, city.households.height, 0, 60)  # reviewed per household
    head_phone = city.people["phone"].gather(city.households["head"].gather(p["household"]))
    return pl.DataFrame(
        {
            "低保证号": p["cert"],
            "成员序号": member_no.cast(pl.String).str.zfill(2),
            "姓名": names,
            "身份证号": ids,
            "与申请人关系": p["relation_to_head"].replace_strict(APPLICANT_ZH, default="其他"),
            "保障人数": listed_count.cast(pl.Int64),
            "保障金额": p["amount"],
            "保障起始日期": sp.excel_serial(p["since"]),
            "家庭住址": sp.spell_addresses(city.rooms, room, rng, f.CIVIL_ADDRESSES),
            "联系电话": sp.format_phones(head_phone, rng, f.CIVIL_PHONES),
            "所属街道": city.rooms["street"].gather(room),
            "所属社区": city.rooms["community"].gather(room),
            "审核日期": checked.gather(p["household"]).dt.strftime("%Y-%m-%d"),
            "__person": p["person_id"],
        }
    )


def hrss_insurance(city: City, rng: np.random.Generator) -> pl.DataFrame:
    """Insured employees with their employer; some ids mistyped."""
    p = city.people.filter(pl.col("employer_name").is_not_null())
    n = p.height
    names, ids = f.person_faults(p["name"], p["citizen_id"], rng, f.HRSS)
    paying = f.mask(rng, n, 0.92)
    return pl.DataFrame(
        {
            "个人编号": sp.serials(rng, n, "", 10),
            "姓名": names,
            "公民身份号码": ids,
            "性别": sp.sex_zh(p["sex"]),
            "出生日期": p["birth_date"].dt.strftime("%Y.%m.%d"),
            "单位名称": p["employer_name"],
            "单位统一社会信用代码": p["employer_credit_code"],
            "参保险种": pl.repeat("企业职工基本养老保险", n, eager=True),
            "参保状态": np.where(paying, "正常参保", "暂停缴费"),
            "累计缴费月数": p["insurance_months"],
            "手机号码": sp.format_phones(p["phone"], rng, f.HRSS_PHONES),
            "更新时间": sp.days_before(rng, n, 0, 120).dt.strftime("%Y-%m-%d"),
            "__person": p["person_id"],
        }
    ).sort("个人编号")


def education_pupils(city: City, rng: np.random.Generator) -> pl.DataFrame:
    """Pupils and one guardian each (two people per row)."""
    p = city.people.filter(pl.col("school").is_not_null())
    n = p.height
    g = city.people.select(pl.all().gather(p["guardian"]))
    names, ids = f.person_faults(p["name"], p["citizen_id"], rng, f.PUPILS)
    g_names, g_ids = f.person_faults(g["name"], g["citizen_id"], rng, f.GUARDIANS)
    g_phone = sp.format_phones(g["phone"], rng, f.GUARDIAN_PHONES)
    g_phone = g_phone.scatter(np.flatnonzero(f.mask(rng, n, f.GUARDIAN_PHONE_MISSING)), None)
    grand = (p["relation_to_head"] == "grandchild").to_numpy()
    male = (g["sex"] == "male").to_numpy()
    kinship = np.where(grand, np.where(male, "祖父", "祖母"), np.where(male, "父亲", "母亲"))
    room = p["room"].to_numpy()
    return pl.DataFrame(
        {
            "学籍号": sp.serials(rng, n, "G", 15),
            "学生姓名": names,
            "学生身份证号": ids,
            "性别": sp.sex_zh(p["sex"]),
            "出生日期": p["birth_date"].dt.strftime("%Y-%m-%d"),
            "就读学校": p["school"],
            "年级": p["grade"],
            "班级": pl.Series(rng.integers(1, 9, n)).cast(pl.String) + "班",
            "家庭住址": sp.spell_addresses(city.rooms, room, rng, f.EDUCATION_ADDRESSES),
            "监护人姓名": g_names,
            "监护人身份证号": g_ids,
            "监护人关系": kinship,
            "监护人联系电话": g_phone,
            "更新时间": sp.days_before(rng, n, 270, 300).dt.strftime("%Y-%m-%d"),
            "__pupil": p["person_id"],
            "__guardian": g["person_id"],
        }
    ).sort("学籍号")
