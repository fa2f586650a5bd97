"""The true population: households and the people in them, with names, ids, phones and fates."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from gridweave.synth import ids, pools
from gridweave.synth.common import (
    REFERENCE_DAY,
    ascii_rows,
    date_parts,
    pick,
    unique_numbers,
    weighted,
    zipf_weights,
)

RELATIONS = ("head", "spouse", "child", "parent", "grandchild")
STATUSES = ("alive", "deceased", "moved_out")
ALIVE, DECEASED, MOVED_OUT = 0, 1, 2
MARITAL = ("unmarried", "married", "divorced", "widowed")
HOUSEHOLD_SIZES = (1, 2, 3, 4, 5, 6)
HOUSEHOLD_SIZE_WEIGHTS = (0.25, 0.31, 0.23, 0.13, 0.06, 0.02)  # mean ≈ 2.5
REGISTERED_SHARE = 0.65  # households with local hukou; the rest are migrants
SINGLE_PARENT_SHARE = 0.07
THREE_GENERATION_SHARE = 0.15  # of registered 3+ person households: an old head with grandchildren
TWIN_BIRTH_SHARE = 0.01  # of births
DEATH_RATE = 0.008  # per year
DEATH_YEARS = 2  # the police register keeps the deceased this long in our extract
MOVED_OUT_SHARE = 0.15  # of registered adult children aged 22–45: hukou moved out of the city
COMMON_GIVEN_RATE = 0.1  # of people with a common surname born 1960–2000
NAMESAKE_PAIRS_PER_PERSON = 1 / 5000  # planted same-name-same-birthday pairs, on top of chance
MIN_UYGHUR_HOUSEHOLDS = 2
ERA_NAME_RATE = {"old": 0.35, "mid": 0.15, "young": 0.2}
SINGLE_CHAR_RATE = {"old": 0.3, "mid": 0.35, "young": 0.15}
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "173", "176", "177", "178", "180", "181",
    "182", "183", "185", "186", "187", "188", "189", "191", "198", "199",
)  # fmt: skip


def _dedupe(chars: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(chars))


MALE_CHARS = _dedupe(pools.MALE_CHARS)
FEMALE_CHARS = _dedupe(pools.FEMALE_CHARS)


def _household_sizes(rng: np.random.Generator, n_people: int) -> np.ndarray:
    draws = np.asarray(HOUSEHOLD_SIZES)[
        weighted(rng, HOUSEHOLD_SIZE_WEIGHTS, math.ceil(n_people / 2.0) + 10)
    ]
    total = np.cumsum(draws)
    last = int(np.searchsorted(total, n_people))
    sizes = draws[: last + 1].copy()
    sizes[-1] -= int(total[last]) - n_people
    return sizes


def _head_ages(rng: np.random.Generator, size: np.ndarray, registered: np.ndarray) -> np.ndarray:
    h = len(size)
    u = rng.random(h)
    young = rng.integers(22, 41, h)
    age = np.where(size >= 5, rng.integers(32, 56, h), rng.integers(28, 53, h))
    age = np.where(
        size == 2,
        np.where(u < np.where(registered, 0.55, 0.85), young, rng.integers(50, 86, h)),
        age,
    )
    tail = rng.exponential(11, h)  # old people living alone: a long tail up to 100
    old_single = 60 + np.where(tail > 40, rng.uniform(0, 40, h), tail).astype(np.int64)
    single = np.where(
        u < np.where(registered, 0.5, 0.9),
        np.where(registered, young, rng.integers(18, 46, h)),
        np.where(registered, old_single, rng.integers(45, 61, h)),
    )
    return np.where(size == 1, single, age)


def build_people(n_people: int, rng: np.random.Generator) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(households, people) for `n_people` people, ids and names included, no addresses yet."""
    size = _household_sizes(rng, n_people)
    n_hh = len(size)
    registered = rng.random(n_hh) < REGISTERED_SHARE
    head_age = _head_ages(rng, size, registered)
    three_gen = registered & (size >= 3) & (rng.random(n_hh) < THREE_GENERATION_SHARE)
    head_age = np.where(three_gen, rng.integers(58, 81, n_hh), head_age)
    single_parent = (size >= 2) & (rng.random(n_hh) < SINGLE_PARENT_SHARE)

    hh = np.repeat(np.arange(n_hh), size)
    starts = np.cumsum(size) - size
    k = np.arange(n_people) - starts[hh]
    hsize = size[hh]
    # Relation codes: 0 head, 1 spouse, 2 child, 3 parent, 4 grandchild.
    rel = np.full(n_people, 2)
    rel[k == 0] = 0
    rel[(k == 1) & ~single_parent[hh]] = 1
    rel[(hsize >= 5) & (k >= 4) & ~three_gen[hh]] = 3  # an old head's parents are long gone
    rel[three_gen[hh] & (k >= 3) & (rel == 2)] = 4

    base = head_age[hh]
    n = n_people
    age = base.copy()
    age = np.where(rel == 1, base + np.rint(rng.normal(-2, 3, n)).astype(int), age)
    child_age = base - rng.integers(23, 38, n) - np.maximum(k - 2, 0) * rng.integers(2, 7, n)
    age = np.where(rel == 2, child_age, age)
    age = np.where(rel == 4, base - rng.integers(48, 63, n), age)
    age = np.where(rel == 3, base + rng.integers(24, 34, n), age)
    age = np.clip(age, 0, 100)
    age = np.where(rel == 1, np.maximum(age, 18), age)

    prev_child = np.r_[False, (rel[:-1] == 2) & (hh[:-1] == hh[1:])]
    eligible = np.flatnonzero((rel == 2) & (k >= 3) & prev_child)
    want = TWIN_BIRTH_SHARE / 2 * n_people
    p_twin = min(1.0, want / max(len(eligible), 1))
    twin = eligible[rng.random(len(eligible)) < p_twin]
    age[twin] = age[twin - 1]

    head_male = rng.random(n_hh) < np.where(size == 1, 0.55, 0.78)
    sex_male = rng.random(n) < 0.515
    sex_male = np.where(rel == 0, head_male[hh], sex_male)
    sex_male = np.where(rel == 1, ~head_male[hh], sex_male)
    sex_male = np.where((rel == 3) & (hsize == 6), k == 4, sex_male)

    birth = REFERENCE_DAY - np.floor(age * 365.25).astype(np.int64) - rng.integers(0, 365, n)
    birth[twin] = birth[twin - 1]
    year, _, _ = date_parts(birth)

    eth_names = [e for e, _ in pools.ETHNICITIES]
    hh_eth = weighted(rng, [w for _, w in pools.ETHNICITIES], n_hh)
    uyghur_code = eth_names.index("维吾尔族")
    # Even a small city gets a few dotted names: the cleaners must see them.
    short = MIN_UYGHUR_HOUSEHOLDS - int((hh_eth == uyghur_code).sum())
    if short > 0:
        hh_eth[rng.choice(np.flatnonzero(hh_eth != uyghur_code), short, replace=False)] = (
            uyghur_code
        )
    eth = hh_eth[hh]
    uyghur = eth == uyghur_code

    surname_w = [w for _, w in pools.SURNAMES]
    head_sn = weighted(rng, surname_w, n_hh)
    spouse_sn = weighted(rng, surname_w, n_hh)
    family_sn = np.where(head_male | single_parent | (size == 1), head_sn, spouse_sn)
    own_sn = weighted(rng, surname_w, n)
    sn = np.where(rel == 0, head_sn[hh], family_sn[hh])
    sn = np.where(rel == 1, spouse_sn[hh], sn)
    sn = np.where((rel == 3) & sex_male, head_sn[hh], np.where(rel == 3, own_sn, sn))
    surnames = [s for s, _ in pools.SURNAMES]

    given = _given_names(rng, sex_male, year)
    common_sn = np.isin(sn, [surnames.index(s) for s in pools.COMMON_SURNAMES])
    common = common_sn & (year >= 1960) & (year < 2000) & (rng.random(n) < COMMON_GIVEN_RATE)
    given = _common_given(rng, given, common, sex_male)
    pairs = _plant_namesakes(rng, hh, sn, sex_male, age, uyghur, twin)
    if len(pairs):
        a, b = pairs[:, 0], pairs[:, 1]
        given = _common_given(rng, given, np.isin(np.arange(n), a), sex_male)
        given = given.scatter(b, given.gather(a))
        birth[b] = birth[a]
        age[b] = age[a]
    # Twins need distinct given names; redraw until none collide.
    for _ in range(20):
        clash = twin[(given.gather(twin) == given.gather(twin - 1)).to_numpy()]
        if not len(clash):
            break
        given = given.scatter(clash, _given_names(rng, sex_male[clash], year[clash]))
    names = pl.select(pick(surnames, sn) + given).to_series()
    names = _uyghur_names(rng, names, uyghur, sex_male)

    status, death_day = _fates(rng, registered[hh], rel, age)
    marital = _marital(rng, rel, age, single_parent[hh], size[hh])
    birthplace, home_code = _birthplaces(rng, registered, hh, age, uyghur)
    cid = _citizen_ids(rng, birthplace, birth, sex_male)
    phone = _phones(rng, n, (age >= 14) & (status != DECEASED))

    people = pl.DataFrame(
        {
            "person": np.arange(n),
            "household": hh,
            "relation_to_head": pick(RELATIONS, rel),
            "sex": pick(("female", "male"), sex_male.astype(np.int64)),
            "birth_day": birth,
            "age": age,
            "name": names,
            "surname_index": sn,
            "ethnicity": pick(eth_names, eth),
            "birthplace": birthplace,
            "citizen_id": ascii_rows(cid),
            "phone": phone,
            "status": pick(STATUSES, status),
            "death_day": death_day,
            "marital_status": pick(MARITAL, marital),
            "registered": registered[hh],
            "twin_of": np.where(np.isin(np.arange(n), twin), np.arange(n) - 1, -1),
        }
    ).with_columns(
        pl.col("birth_day").cast(pl.Int32).cast(pl.Date).alias("birth_date"),
        pl.when(pl.col("status") == "deceased")
        .then(pl.col("death_day").cast(pl.Int32).cast(pl.Date))
        .alias("death_date"),
    )
    households = pl.DataFrame(
        {
            "household": np.arange(n_hh),
            "size": size,
            "registered": registered,
            "head": starts,
            "home_code": home_code,
            "ethnicity": pick(eth_names, hh_eth),
        }
    )
    return households, people


def _given_names(rng: np.random.Generator, male: np.ndarray, year: np.ndarray) -> pl.Series:
    n = len(male)
    era = np.where(year < 1970, 0, np.where(year < 1990, 1, 2))
    eras = ("old", "mid", "young")
    chars = (*MALE_CHARS, *FEMALE_CHARS)
    first = np.where(
        male,
        weighted(rng, zipf_weights(len(MALE_CHARS)), n),
        len(MALE_CHARS) + weighted(rng, zipf_weights(len(FEMALE_CHARS)), n),
    )
    second = np.where(
        male,
        weighted(rng, zipf_weights(len(MALE_CHARS), 0.6), n),
        len(MALE_CHARS) + weighted(rng, zipf_weights(len(FEMALE_CHARS), 0.6), n),
    )
    era_pool: list[str] = []
    offsets, lengths = [], []
    for e in eras:
        for sex in (0, 1):  # female list first, so that slot era * 2 + 1 is the male one
            names = pools.ERA_GIVEN[e][1 - sex]
            offsets.append(len(era_pool))
            lengths.append(len(names))
            era_pool.extend(names)
    slot = era * 2 + male.astype(int)
    era_idx = np.asarray(offsets)[slot] + (rng.random(n) * np.asarray(lengths)[slot]).astype(int)
    single = rng.random(n) < np.asarray([SINGLE_CHAR_RATE[e] for e in eras])[era]
    use_era = rng.random(n) < np.asarray([ERA_NAME_RATE[e] for e in eras])[era]
    frame = pl.DataFrame(
        {"c1": pick(chars, first), "c2": pick(chars, second), "era": pick(era_pool, era_idx)}
    )
    return frame.select(
        pl.when(pl.Series(use_era))
        .then(pl.col("era"))
        .when(pl.Series(single))
        .then(pl.col("c1"))
        .otherwise(pl.col("c1") + pl.col("c2"))
    ).to_series()


def _common_given(
    rng: np.random.Generator, given: pl.Series, mask: np.ndarray, male: np.ndarray
) -> pl.Series:
    idx = np.flatnonzero(mask)
    m = male[idx]
    pool = (*pools.COMMON_GIVEN_MALE, *pools.COMMON_GIVEN_FEMALE)
    k = len(pools.COMMON_GIVEN_MALE)
    choice = np.where(
        m,
        weighted(rng, zipf_weights(k), len(idx)),
        k + weighted(rng, zipf_weights(len(pools.COMMON_GIVEN_FEMALE)), len(idx)),
    )
    return given.scatter(idx, pick(pool, choice))


def _plant_namesakes(
    rng: np.random.Generator,
    hh: np.ndarray,
    sn: np.ndarray,
    male: np.ndarray,
    age: np.ndarray,
    uyghur: np.ndarray,
    twin: np.ndarray,
) -> np.ndarray:
    """Pairs (a, b) of unrelated same-surname, same-sex adults of about the same age."""
    n = len(hh)
    want = max(3, round(n * NAMESAKE_PAIRS_PER_PERSON))
    surnames = [s for s, _ in pools.SURNAMES]
    common = np.isin(sn, [surnames.index(s) for s in pools.COMMON_SURNAMES])
    is_twin = np.zeros(n, dtype=bool)
    is_twin[twin] = True
    is_twin[twin - 1] = True
    ok = np.flatnonzero(common & (age >= 25) & (age <= 65) & ~uyghur & ~is_twin)
    order = ok[np.lexsort((age[ok], male[ok], sn[ok]))]
    a, b = order[:-1:2], order[1::2]
    a = a[: len(b)]
    good = (
        (sn[a] == sn[b]) & (male[a] == male[b]) & (hh[a] != hh[b]) & (np.abs(age[a] - age[b]) <= 3)
    )
    a, b = a[good], b[good]
    chosen = rng.permutation(len(a))[:want]
    return np.stack([a[chosen], b[chosen]], axis=1)


def _uyghur_names(
    rng: np.random.Generator, names: pl.Series, uyghur: np.ndarray, male: np.ndarray
) -> pl.Series:
    idx = np.flatnonzero(uyghur)
    if not len(idx):
        return names
    m, f = pools.UYGHUR_GIVEN_MALE, pools.UYGHUR_GIVEN_FEMALE
    given = np.where(
        male[idx], rng.integers(0, len(m), len(idx)), len(m) + rng.integers(0, len(f), len(idx))
    )
    father = rng.integers(0, len(pools.UYGHUR_FATHER), len(idx))
    dotted = pl.select(pick((*m, *f), given) + "·" + pick(pools.UYGHUR_FATHER, father)).to_series()
    return names.scatter(idx, dotted)


def _fates(
    rng: np.random.Generator, registered: np.ndarray, rel: np.ndarray, age: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Status (alive, deceased, moved_out) and death day (0 when alive) of each person."""
    n = len(age)
    # Mortality rises about 9% a year of age; scaled so the register holds DEATH_YEARS of deaths.
    w = np.exp(0.09 * (age - 80.0)) * registered
    p = np.clip(w * (DEATH_RATE * DEATH_YEARS * registered.sum() / max(w.sum(), 1e-9)), 0, 0.9)
    dead = rng.random(n) < p
    death_day = np.where(dead, REFERENCE_DAY - rng.integers(1, 365 * DEATH_YEARS, n), 0)
    adult_child = registered & (rel == 2) & (age >= 22) & (age <= 45) & ~dead
    moved = adult_child & (rng.random(n) < MOVED_OUT_SHARE)
    status = np.where(dead, DECEASED, np.where(moved, MOVED_OUT, ALIVE))
    return status, death_day


def _marital(
    rng: np.random.Generator,
    rel: np.ndarray,
    age: np.ndarray,
    single_parent: np.ndarray,
    hsize: np.ndarray,
) -> np.ndarray:
    """Marital status codes (indexes into MARITAL) consistent with the household's shape."""
    n = len(age)
    married = 1
    young = weighted(rng, (0.85, 0.0, 0.15, 0.0), n)
    middle = weighted(rng, (0.4, 0.0, 0.45, 0.15), n)
    old = weighted(rng, (0.1, 0.05, 0.25, 0.6), n)
    alone = np.where(age < 30, young, np.where(age < 55, middle, old))
    lone_parent = weighted(rng, (0.15, 0.0, 0.6, 0.25), n)
    grown_child = weighted(rng, (0.6, 0.33, 0.07, 0.0), n)
    parent = np.where(hsize == 6, married, weighted(rng, (0.0, 0.3, 0.0, 0.7), n))
    head = np.where(hsize == 1, alone, np.where(single_parent, lone_parent, married))
    out = np.zeros(n, dtype=np.int64)
    out = np.where(rel == 0, head, out)
    out = np.where(rel == 1, married, out)
    out = np.where((rel == 2) & (age >= 22), grown_child, out)
    out = np.where(rel == 3, parent, out)
    return np.where(age < 20, 0, out)


def _birthplaces(
    rng: np.random.Generator,
    registered: np.ndarray,
    hh: np.ndarray,
    age: np.ndarray,
    uyghur: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The county code in each citizen id, and each household's home county."""
    n_hh, n = len(registered), len(hh)
    migrant_codes = np.asarray([c for c, _, _ in pools.MIGRANT_BIRTHPLACES])
    migrant_w = [w for _, _, w in pools.MIGRANT_BIRTHPLACES]
    uyghur_codes = np.asarray([c for c, _ in pools.UYGHUR_BIRTHPLACES])
    local_codes = np.asarray([c for c, _ in pools.LOCAL_BIRTHPLACES])
    home = migrant_codes[weighted(rng, migrant_w, n_hh)]
    hh_uyghur = np.zeros(n_hh, dtype=bool)
    hh_uyghur[hh[uyghur]] = True
    home = np.where(hh_uyghur, uyghur_codes[rng.integers(0, len(uyghur_codes), n_hh)], home)
    home = np.where(registered, local_codes[0], home)
    local = local_codes[weighted(rng, (0.7, 0.075, 0.075, 0.075, 0.075), n)]
    elsewhere = migrant_codes[weighted(rng, migrant_w, n)]
    born_here = rng.random(n) < np.where(age < 45, 0.75, 0.35)
    person = np.where(born_here, local, elsewhere)
    person = np.where(uyghur, uyghur_codes[rng.integers(0, len(uyghur_codes), n)], person)
    return np.where(registered[hh], person, home[hh]), home


def _citizen_ids(
    rng: np.random.Generator, area: np.ndarray, birth: np.ndarray, male: np.ndarray
) -> np.ndarray:
    y, m, d = date_parts(birth)
    ymd = y * 10000 + m * 100 + d
    seq = rng.integers(0, 500, len(area)) * 2 + male
    key = np.asarray(area, dtype=np.int64) * 10**11 + ymd * 1000
    for _ in range(100):
        # Two people born on one day in one county must not share a sequence number.
        _, first, counts = np.unique(key + seq, return_index=True, return_counts=True)
        if (counts == 1).all():
            break
        dup = np.ones(len(seq), dtype=bool)
        dup[first] = False
        seq[dup] = rng.integers(0, 500, int(dup.sum())) * 2 + male[dup]
    return ids.citizen_ids(area, ymd, seq)


def _phones(rng: np.random.Generator, n: int, has: np.ndarray) -> pl.Series:
    idx = np.flatnonzero(has)
    v = unique_numbers(rng, len(idx), 0, len(MOBILE_PREFIXES) * 10**8)
    body = pl.Series(v % 10**8).cast(pl.String).str.zfill(8)
    phones = pl.select(pick(MOBILE_PREFIXES, v // 10**8) + body).to_series()
    return pl.Series("phone", [None] * n, dtype=pl.String).scatter(idx, phones)
