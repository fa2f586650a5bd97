"""The comparisons Splink scores, fit for Chinese records and character-correct (pure).

String distances on Chinese text differ by engine and version: DuckDB before 2.0 counted UTF-8
bytes (张伟 and 张玮 three "edits" apart, one character to a reader), DuckDB 2.0 counts
characters, and a distance of one character still misses a homophone typo. So Chinese text is
only ever compared whole, as lists of whole strings (the one-character-deleted variants of a
name) or through its ASCII pinyin; string distances run on ASCII columns only (pinyin, dates,
phones, id numbers). `check_config` refuses a custom comparison that breaks this.

One definition serves every backend: the few functions whose names differ between DuckDB and
Spark SQL are spelled by a `Dialect`; custom comparisons (DuckDB SQL) get the same renames.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gridweave.linkage.config import ConfigError, LinkageConfig

Level = dict[str, Any]
Comparison = dict[str, Any]

# Columns of linkage.features.comparison_frame, by what they may hold.
CJK_COLUMNS = frozenset(
    {"name", "surname", "name_variants", "room_key", "building_key", "hukou_room_key"}
    | {"hukou_building_key", "room_keys", "building_keys"}
)
ASCII_COLUMNS = frozenset(
    {"name_py", "name_tone", "given_py", "birth_date", "birth_swapped", "birth_day", "sex"}
    | {"phone", "citizen_id", "id_key", "id_area_birth", "id_birth_order", "id_area_order"}
)
# Scalar columns a blocking key may use (lists cannot be joined on).
BLOCKING_COLUMNS = (CJK_COLUMNS | ASCII_COLUMNS) - {"name_variants", "room_keys", "building_keys"}
STRING_DISTANCES = (
    "levenshtein",
    "damerau_levenshtein",
    "jaro_winkler_similarity",
    "jaro_similarity",
    "jaccard",
    "hamming",
    "editdist3",
    "mismatches",
)


@dataclass(frozen=True)
class Dialect:
    """How one SQL backend spells the functions the comparisons use."""

    name: str  # Splink's and sqlglot's name of the dialect
    lists_overlap: str  # two lists share an element
    list_length: str
    levenshtein: str  # only ever applied to ASCII columns: bytes or characters, no matter
    damerau_levenshtein: str
    jaro_winkler: str

    def call(self, function: str, *args: str) -> str:
        return f"{getattr(self, function)}({', '.join(args)})"


DIALECTS = {
    "duckdb": Dialect(
        "duckdb",
        lists_overlap="list_has_any",
        list_length="len",
        levenshtein="levenshtein",
        damerau_levenshtein="damerau_levenshtein",
        jaro_winkler="jaro_winkler_similarity",
    ),
    # levenshtein is Spark's own; Spark has no Damerau or Jaro–Winkler, so those two come from
    # the similarity jar that ships inside the splink package (linkage/spark.py loads it)
    "spark": Dialect(
        "spark",
        lists_overlap="arrays_overlap",
        list_length="size",
        levenshtein="levenshtein",
        damerau_levenshtein="damerau_levenshtein",
        jaro_winkler="jaro_winkler",
    ),
}
DUCKDB = DIALECTS["duckdb"]


def level(sql: str, label: str, **extra: Any) -> Level:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


def null_level(*columns: str) -> Level:
    sql = " OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in columns)
    return level(sql, "missing", is_null_level=True)


ELSE = level("ELSE", "different")


def name(
    *, tf_adjustment: bool = True, given_pinyin_jaro_winkler: float = 0.9, sql: Dialect = DUCKDB
) -> Comparison:
    """Names as characters, as pinyin (homophone typos 伟/玮 are the commonest) and by surname."""
    exact: Level = level("name_l = name_r", "same name")
    if tf_adjustment:
        # a match on 张伟 says less than a match on 欧阳娜娜
        exact |= {"tf_adjustment_column": "name", "tf_adjustment_weight": 1.0}
    return {
        "output_column_name": "name",
        "comparison_levels": [
            null_level("name"),
            exact,
            level("name_tone_l = name_tone_r", "same pinyin with tones (homophone)"),
            level("name_py_l = name_py_r", "same pinyin"),
            level(
                "length(name_l) >= 3 AND "
                + sql.call("lists_overlap", "name_variants_l", "name_variants_r"),
                "one character apart",
            ),
            level(
                "surname_l = surname_r AND"
                f" {sql.call('jaro_winkler', 'given_py_l', 'given_py_r')}"
                f" >= {given_pinyin_jaro_winkler}",
                "same surname, given names close in pinyin",
            ),
            level("surname_l = surname_r", "same surname"),
            ELSE,
        ],
    }


def birth_date(*, near_days: int = 31, sql: Dialect = DUCKDB) -> Comparison:
    """Exact, day and month transposed, one digit off, near."""
    return {
        "output_column_name": "birth_date",
        "comparison_levels": [
            null_level("birth_date"),
            level("birth_date_l = birth_date_r", "same day"),
            level(
                "birth_swapped_l = birth_date_r OR birth_date_l = birth_swapped_r",
                "day and month transposed",
            ),
            level(
                sql.call("levenshtein", "birth_date_l", "birth_date_r") + " = 1", "one digit apart"
            ),
            level(
                f"abs(birth_day_l - birth_day_r) <= {int(near_days)}", f"within {near_days} days"
            ),
            ELSE,
        ],
    }


def sex(*, sql: Dialect = DUCKDB) -> Comparison:
    return _exact("sex", "same sex")


def phone(*, sql: Dialect = DUCKDB) -> Comparison:
    return _exact("phone", "same phone")


def _exact(column: str, label: str) -> Comparison:
    return {
        "output_column_name": column,
        "comparison_levels": [null_level(column), level(f"{column}_l = {column}_r", label), ELSE],
    }


def address(*, sql: Dialect = DUCKDB) -> Comparison:
    """Residence or household-registration address, down to the room, else the building."""
    return {
        "output_column_name": "address",
        "comparison_levels": [
            level(
                f"{sql.call('list_length', 'building_keys_l')} = 0"
                f" OR {sql.call('list_length', 'building_keys_r')} = 0",
                "missing",
                is_null_level=True,
            ),
            level(sql.call("lists_overlap", "room_keys_l", "room_keys_r"), "same room"),
            level(sql.call("lists_overlap", "building_keys_l", "building_keys_r"), "same building"),
            ELSE,
        ],
    }


def citizen_id(
    *, one_edit_u: float = 1e-6, two_edits_u: float = 1e-5, sql: Dialect = DUCKDB
) -> Comparison:
    """Id numbers, equal or within one or two edits (a mistyped or transposed digit).

    Random pairs almost never fall one or two edits apart, so a random sample of a city holds
    too few such pairs to estimate u; it is fixed instead (measured: ~1 in 4.5 million pairs).
    """
    return {
        "output_column_name": "citizen_id",
        "comparison_levels": [
            null_level("citizen_id"),
            level("citizen_id_l = citizen_id_r", "same id"),
            level(
                sql.call("damerau_levenshtein", "citizen_id_l", "citizen_id_r") + " <= 1",
                "one edit apart",
                u_probability=one_edit_u,
                fix_u_probability=True,
            ),
            level(
                sql.call("levenshtein", "citizen_id_l", "citizen_id_r") + " <= 2",
                "two edits apart",
                u_probability=two_edits_u,
                fix_u_probability=True,
            ),
            ELSE,
        ],
    }


BUILTINS: dict[str, Callable[..., Comparison]] = {
    "name": name,
    "birth_date": birth_date,
    "sex": sex,
    "phone": phone,
    "address": address,
    "citizen_id": citizen_id,
}


def comparisons(config: LinkageConfig, dialect: str = "duckdb") -> list[Comparison]:
    """The Splink comparisons a configuration asks for, built-in then custom, in `dialect`."""
    person = config.person
    sql = DIALECTS[dialect]
    out = [BUILTINS[n](**options, sql=sql) for n, options in person.comparison_options]
    for custom in person.custom_comparisons:
        levels = []
        for lv in custom.levels:
            extra: dict[str, Any] = {"is_null_level": True} if lv.null else {}
            if lv.tf:
                extra |= {"tf_adjustment_column": lv.tf, "tf_adjustment_weight": 1.0}
            levels.append(level(translate(lv.sql, sql), lv.label, **extra))
        out.append({"output_column_name": custom.name, "comparison_levels": levels})
    return out


def translate(sql: str, dialect: Dialect) -> str:
    """A custom level's condition, written in DuckDB SQL, in `dialect`.

    The functions the dialects spell differently are renamed; everything else must be SQL that
    both read. (sqlglot's DuckDB→Spark translation was tried: it writes `&&` for list_has_any
    and a jaro_winkler that Spark does not have.)
    """
    for function in ("lists_overlap", "list_length", "damerau_levenshtein", "jaro_winkler"):
        duckdb_name, name = getattr(DUCKDB, function), getattr(dialect, function)
        if duckdb_name != name:
            sql = re.sub(rf"\b{duckdb_name}\s*\(", f"{name}(", sql, flags=re.IGNORECASE)
    return sql


def tf_columns(config: LinkageConfig) -> list[str]:
    """Columns some level adjusts by term frequency."""
    return sorted(
        {
            lv["tf_adjustment_column"]
            for c in comparisons(config)
            for lv in c["comparison_levels"]
            if lv.get("tf_adjustment_column")
        }
    )


_CALL = re.compile(r"\b(" + "|".join(STRING_DISTANCES) + r")\s*\(([^()]*)\)", re.IGNORECASE)
_COLUMN = re.compile(r"\b([a-z_][a-z0-9_]*)_[lr]\b")


def byte_distance_problems(sql: str) -> list[str]:
    """String distances in `sql` applied to a column that can hold Chinese characters."""
    problems = []
    for func, args in _CALL.findall(sql):
        for column in _COLUMN.findall(args):
            if column not in ASCII_COLUMNS:
                problems.append(
                    f"{func}() on {column}: DuckDB counts bytes, not characters; compare"
                    f" {column} exactly or through an ASCII column"
                    f" ({', '.join(sorted(ASCII_COLUMNS))})"
                )
    return problems


def check_config(config: LinkageConfig, where: str) -> None:
    """Refuse unknown comparisons, options and columns, and byte-counting string distances."""
    problems: list[str] = []
    for n, options in config.person.comparison_options:
        factory = BUILTINS.get(n)
        if factory is None:
            problems.append(f"unknown comparison {n!r} (built-in: {', '.join(BUILTINS)})")
            continue
        allowed = set(inspect.signature(factory).parameters) - {"sql"}
        problems += [f"{n}: unknown option {o!r}" for o in options if o not in allowed]
    known = ", ".join(sorted(BLOCKING_COLUMNS))
    for key in [*config.person.blocking, *config.person.training.em_blocking]:
        problems += [
            f"blocking key {key}: unknown column {c!r} (columns: {known})"
            for c in key
            if c not in BLOCKING_COLUMNS
        ]
    for custom in config.person.custom_comparisons:
        for lv in custom.levels:
            problems += [f"{custom.name}/{lv.label}: {p}" for p in byte_distance_problems(lv.sql)]
    if problems:
        raise ConfigError(f"{where}: " + "; ".join(problems))


def char_distance(a: str, b: str) -> int:
    """Levenshtein distance counted in characters (Python strings are code points)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
