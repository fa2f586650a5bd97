"""What linkage compares about a person source record, computed once per record (pure, polars).

Every fuzzy comparison of Chinese text is made character-correct here, before DuckDB sees it:
DuckDB's string distances count UTF-8 bytes (张伟/张玮 are 3 apart), so names are compared as
whole strings, as lists of strings (the one-character-deleted variants) and as ASCII pinyin.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import polars as pl

from gridweave.ingest.cleaning import clean_series

# Two-character surnames: 欧阳娜娜 is 欧阳 + 娜娜, not 欧 + 阳娜娜.
COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司徒",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "令狐",
        "夏侯",
        "长孙",
        "宇文",
        "轩辕",
        "端木",
        "南宫",
        "独孤",
        "西门",
        "申屠",
        "太史",
        "闻人",
        "百里",
        "呼延",
        "万俟",
        "钟离",
        "澹台",
        "公冶",
        "濮阳",
        "淳于",
        "单于",
        "拓跋",
    ]
)

# Stored per record (linkage's person_feature table); everything else is derived on load.
STORED = {
    "record_id": pl.Int64,
    "name": pl.String,
    "surname": pl.String,
    "name_py": pl.String,
    "name_tone": pl.String,
    "given_py": pl.String,
    "birth_date": pl.String,
    "sex": pl.String,
    "phone": pl.String,
    "citizen_id": pl.String,
    "id_key": pl.String,
    "room_key": pl.String,
    "building_key": pl.String,
    "hukou_room_key": pl.String,
    "hukou_building_key": pl.String,
}

VALUE_COLUMNS = (
    "name",
    "citizen_id",
    "sex",
    "birth_date",
    "phone",
    "residence_address",
    "hukou_address",
)


def _ascii(char: str) -> str:
    """A character without pinyin, kept ASCII: itself if ASCII, else its code point (u00b7)."""
    return char if char.isascii() else f"u{ord(char):04x}"


@cache
def _syllables(char: str) -> tuple[str, str]:
    """(toneless, toned) pinyin of one character, always ASCII."""
    # imported here: its phrase dictionary costs 0.7 s, which every other command would pay
    from pypinyin import Style, lazy_pinyin

    plain = lazy_pinyin(char, style=Style.NORMAL, errors=_ascii)[0]
    toned = lazy_pinyin(char, style=Style.TONE3, neutral_tone_with_five=True, errors=_ascii)
    return plain, toned[0]


def pinyin_table(names: Iterable[str]) -> pl.DataFrame:
    """Each distinct character of `names` with its toneless and toned pinyin."""
    chars = sorted({c for n in names for c in n})
    pairs = [_syllables(c) for c in chars]
    return pl.DataFrame(
        {"char": chars, "plain": [p for p, _ in pairs], "toned": [t for _, t in pairs]},
        schema={"char": pl.String, "plain": pl.String, "toned": pl.String},
    )


def split_surname(name: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(surname, given name): compound surnames take two characters, others one."""
    compound = name.str.slice(0, 2).is_in(list(COMPOUND_SURNAMES)) & (name.str.len_chars() > 2)
    surname = pl.when(compound).then(name.str.slice(0, 2)).otherwise(name.str.slice(0, 1))
    dotted = name.str.contains("·", literal=True)
    # a minority name (阿依古丽·买买提) has no surname in the Han sense: it is compared whole
    surname = pl.when(dotted).then(pl.lit(None, pl.String)).otherwise(surname)
    given = pl.when(dotted).then(name).otherwise(name.str.slice(surname.str.len_chars()))
    return surname, given


def _pinyin(names: pl.Series, table: pl.DataFrame, column: str) -> pl.Series:
    """The pinyin of each name, one syllable per character, space-separated."""
    lookup = dict(zip(table["char"].to_list(), table[column].to_list(), strict=True))
    return (
        names.str.split("")
        .list.eval(pl.element().replace_strict(lookup, default=pl.element()))
        .list.join(" ")
    )


def name_pinyin(names: pl.Series) -> pl.Series:
    """Toneless pinyin of each name (as in the name_py feature)."""
    return _pinyin(names, pinyin_table(names.drop_nulls().unique().to_list()), "plain")


def _id_birth_and_sex(ids: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Birth date and sex read off a valid id (a mistyped one may have its typo in the date)."""
    shaped = ids.str.len_chars() == 18
    digits = ids.str.slice(6, 8)
    birth = pl.when(shaped).then(digits.str.to_date("%Y%m%d", strict=False).dt.strftime("%Y-%m-%d"))
    order = ids.str.slice(16, 1).cast(pl.Int64, strict=False)
    sex = (
        pl.when(shaped & order.is_not_null())
        .then(pl.when(order % 2 == 1).then(pl.lit("male")).otherwise(pl.lit("female")))
        .otherwise(pl.lit(None, pl.String))
    )
    return birth, sex


def person_features(records: pl.DataFrame) -> pl.DataFrame:
    """STORED columns for person source records.

    `records` has record_id, entity_key (a valid citizen id or null) and the cleaned values
    (VALUE_COLUMNS, any may be missing or null).
    """
    frame = records.with_columns(
        [pl.lit(None, pl.String).alias(c) for c in VALUE_COLUMNS if c not in records.columns]
    )
    table = pinyin_table(frame["name"].drop_nulls().unique().to_list())
    surname, given = split_surname(pl.col("name"))
    id_birth, id_sex = _id_birth_and_sex(pl.col("entity_key"))
    frame = frame.with_columns(
        surname.alias("surname"),
        given.alias("given"),
        pl.coalesce("birth_date", id_birth).alias("birth_date"),
        pl.coalesce(pl.col("sex").replace("unknown", None), id_sex).alias("sex"),
        pl.col("entity_key").alias("id_key"),
    )
    frame = frame.with_columns(
        _pinyin(frame["name"], table, "plain").alias("name_py"),
        _pinyin(frame["name"], table, "toned").alias("name_tone"),
        _pinyin(frame["given"], table, "plain").alias("given_py"),
    )
    residence = clean_series("address", frame["residence_address"]).derived
    hukou = clean_series("address", frame["hukou_address"]).derived
    frame = frame.with_columns(
        residence["room_key"].alias("room_key"),
        residence["building_key"].alias("building_key"),
        hukou["room_key"].alias("hukou_room_key"),
        hukou["building_key"].alias("hukou_building_key"),
    )
    return frame.select([pl.col(c).cast(t) for c, t in STORED.items()])


def _deletions(name: pl.Expr) -> pl.Expr:
    """The name itself and every variant with one character left out (names of 3+ characters).

    Two names one character apart always share an element (a substitution leaves the same
    variant on both sides, an insertion makes one name the other's variant); names sharing one
    are at most two apart (one character left out of each), all counted in characters.
    """
    n = name.str.len_chars()
    variants = [
        pl.when(n > i).then(pl.concat_str(name.str.slice(0, i), name.str.slice(i + 1)))
        for i in range(6)
    ]
    return (
        pl.when(n >= 3)
        .then(pl.concat_list([name, *variants]).list.drop_nulls())
        .otherwise(pl.when(name.is_not_null()).then(pl.concat_list([name])))
    )


def _keys(*columns: str) -> pl.Expr:
    return pl.concat_list(list(columns)).list.drop_nulls().list.unique(maintain_order=True)


def comparison_frame(features: pl.DataFrame) -> pl.DataFrame:
    """Stored features plus the derived columns Splink compares (lists, swapped dates…)."""
    birth = pl.col("birth_date")
    swapped = pl.concat_str(
        birth.str.slice(0, 5), birth.str.slice(8, 2), pl.lit("-"), birth.str.slice(5, 2)
    )
    cid = pl.col("citizen_id")
    full = cid.str.len_chars() == 18
    return features.with_columns(
        _deletions(pl.col("name")).alias("name_variants"),
        pl.when(birth.str.slice(8, 2) <= "12").then(swapped).alias("birth_swapped"),
        birth.str.to_date("%Y-%m-%d", strict=False).cast(pl.Int32).alias("birth_day"),
        _keys("room_key", "hukou_room_key").alias("room_keys"),
        _keys("building_key", "hukou_building_key").alias("building_keys"),
        # an id split three ways (area · birth date · order and check): one typo leaves two
        pl.when(full).then(cid.str.slice(0, 14)).alias("id_area_birth"),
        pl.when(full).then(cid.str.slice(6, 12)).alias("id_birth_order"),
        pl.when(full).then(cid.str.slice(0, 6) + cid.str.slice(14, 4)).alias("id_area_order"),
    )
