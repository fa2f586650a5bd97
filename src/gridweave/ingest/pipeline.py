"""Turn one chunk of an extract into source records and quarantined rows, without a database.

Everything here works on whole columns (polars); the cleaners call Python only once per unique
value. The result is ready for a bulk insert: one row per entity per accepted source row.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path

import polars as pl

import gridweave
from gridweave.core.crypto import Keyring
from gridweave.ingest.cleaning import Cleaned, clean_series, contradictions
from gridweave.ingest.contracts import AttributeMapping, Contract, EntityMapping
from gridweave.ingest.readers import LINE, Chunk
from gridweave.registry.attributes import (
    ATTRIBUTES,
    ENCRYPTED_KINDS,
    EntityType,
    Kind,
    encrypted_attributes,
    field_name,
    key_attribute,
)
from gridweave.registry.survivorship import json_join, json_members, json_object

RECORD_COLUMNS = [
    "line_number",
    "record_key",
    "entity_type",
    "entity_key",
    "observed_at",
    "values",
    "raw",
    "flags",
    "links",
    "record_hash",
    "row_hash",
]


VALUE = "v."  # prefix of the cleaned-value columns that travel beside the JSON
BLIND = "b."  # prefix of a sealed column's blind indexes while its JSON is built
KNOWN_ROWS = {"rid": pl.String, "row_hash": pl.String}  # a row's record id and hash


@dataclass
class Context:
    """What the pipeline needs to know about the base library already (read once per batch)."""

    extracted_at: datetime
    room_index: pl.DataFrame = field(  # room_key → room_code, from the golden rooms
        default_factory=lambda: Context.no_rooms()
    )
    locate_grid: Callable[[pl.Series, pl.Series], pl.Series] | None = None  # lon, lat → grid
    grid_codes: frozenset[str] = frozenset()  # every grid in the area tree
    keyring: Keyring | None = None  # encrypts ids and phones; None only in pure unit tests
    row_seed: int | None = None  # keys each row's hash; None: rows are not recognised unchanged
    known_rows: pl.DataFrame = field(  # record id → the row's hash when the source last sent it
        default_factory=lambda: keyed(pl.DataFrame(schema=KNOWN_ROWS), ["rid"])  # looked up by rid
    )

    @staticmethod
    def no_rooms() -> pl.DataFrame:
        return pl.DataFrame(schema={"room_key": pl.String, "room_code": pl.String})


CLAIM = ["entity_type", "entity_key", "record_hash"]  # one claim about one entity


@dataclass
class EarlierChunks:
    """What a batch's chunks staged so far held, for the next chunk to be checked against:
    each record id with the line it first appeared on (a record id that comes again waits in
    quarantine), and the keyed claims about entities that rows link to (every member's row of
    a hukou register claims the household: an identical claim is stored once). Both are
    `keyed`, so a chunk's cost does not grow with the chunks before it."""

    record_lines: pl.DataFrame = field(
        default_factory=lambda: keyed(
            pl.DataFrame(schema={"rid": pl.String, "first": pl.Int64}), ["rid"]
        )
    )
    claims: pl.DataFrame = field(
        default_factory=lambda: keyed(pl.DataFrame(schema=dict.fromkeys(CLAIM, pl.String)), CLAIM)
    )

    def first_lines(self, rids: pl.Series, lines: pl.Series) -> pl.Series:
        """Per row, the line where its record id first appeared, if not on this row; and
        remember this chunk's new ids."""
        here = with_found(pl.DataFrame({"rid": rids, "line": lines}), ["rid"], self.record_lines)
        here = here.with_columns(
            new=pl.col("first").is_null() & pl.col("rid").is_not_null(),
            first=pl.coalesce("first", pl.col("line").min().over("rid")),
        )
        news = here.filter("new").unique("rid").select("rid", "first")
        self.record_lines = pl.concat([self.record_lines, keyed(news, ["rid"])])
        return here.select(
            pl.when(pl.col("rid").is_not_null() & (pl.col("first") != pl.col("line"))).then("first")
        ).to_series()

    def first_claims(self, records: pl.DataFrame, linked: list[str]) -> pl.DataFrame:
        """The records (in line order) less each keyed claim made before in this chunk, or in
        an earlier one if about an entity of a type in `linked`; and remember those. (A row's
        own entity is claimed again only by a row repeating it: not worth ~70 MB a million.)"""
        keyed_claim = pl.col("entity_key").is_not_null()
        records = not_found_in(
            records.filter(~keyed_claim | pl.struct(CLAIM).is_first_distinct()), CLAIM, self.claims
        )
        shared = records.filter(keyed_claim & pl.col("entity_type").is_in(linked)).select(CLAIM)
        self.claims = pl.concat([self.claims, keyed(shared, CLAIM)])
        return records


def keyed(frame: pl.DataFrame, on: list[str]) -> pl.DataFrame:
    """`frame` with "key", a 64-bit hash of its `on` values, for `found_in` to look rows up by.

    A join on strings builds a hash table of the strings on its right every time; the frames
    a batch looks each chunk up in (what the source sent before, what earlier chunks held) hold
    millions, so each is keyed once and each chunk joins on the integers. Keys are only
    compared within one process: polars' hash may change between its versions."""
    key = pl.struct(on).hash() if len(on) > 1 else pl.col(on[0]).hash()
    return frame.with_columns(key.alias("key"))


def found_in(frame: pl.DataFrame, on: list[str], seen: pl.DataFrame) -> pl.DataFrame:
    """The rows of `frame` whose `on` values are a row of `seen` (made by `keyed`), with the
    other columns of `seen` (suffixed "_seen" where `frame` has them too): an inner join on
    `on`. Joined on the key, then compared value by value, so two values with one hash are
    never taken for one another. A row with a null in `on` is never found."""
    found = keyed(frame.drop_nulls(on), on).join(seen, on="key", suffix="_seen")
    found = found.filter(*(pl.col(c) == pl.col(f"{c}_seen") for c in on))
    return found.drop("key", *(f"{c}_seen" for c in on))


def with_found(frame: pl.DataFrame, on: list[str], seen: pl.DataFrame) -> pl.DataFrame:
    """`frame`, in its order, with the other columns of `seen` where its `on` values are
    `found_in` it (null elsewhere): a left join on `on`."""
    indexed = frame.with_row_index("_row")
    found = found_in(indexed.select("_row", *on), on, seen).drop(on)
    return indexed.join(found, on="_row", how="left", maintain_order="left").drop("_row")


def not_found_in(frame: pl.DataFrame, on: list[str], seen: pl.DataFrame) -> pl.DataFrame:
    """`frame`, in its order, less the rows `found_in` `seen`: an anti join on `on`."""
    indexed = frame.with_row_index("_row")
    found = found_in(indexed.select("_row", *on), on, seen.select("key", *on))["_row"]
    return indexed.filter(~pl.col("_row").is_in(found.implode())).drop("_row")


@dataclass
class Staged:
    records: pl.DataFrame  # RECORD_COLUMNS, then one "v.<attribute>" column per cleaned value
    quarantined: pl.DataFrame  # line_number, record_key, row (JSON), reasons (JSON)
    rows: pl.DataFrame  # KNOWN_ROWS of the rows cleaned and accepted (none when not hashed)
    rows_unchanged: int = 0  # rows exactly as the source last sent them: not cleaned again


def _nulls(height: int) -> pl.Series:
    return pl.repeat(None, height, dtype=pl.String, eager=True)


def _json_object(frame: pl.DataFrame, names: list[str]) -> pl.Series:
    """Each row's non-null columns as a compact JSON object (nulls left out)."""
    if not names:
        return pl.repeat("{}", frame.height, dtype=pl.String, eager=True)
    return frame.select(json_object([pl.col(n) for n in names])).to_series()


def _raw_input(frame: pl.DataFrame, mapping: AttributeMapping) -> pl.Series:
    if mapping.column is not None:
        return frame[mapping.column]
    return pl.repeat(mapping.value, frame.height, dtype=pl.String, eager=True)


@dataclass
class _Documents:
    stored: pl.DataFrame  # the values as stored: ids and phones encrypted
    json: pl.Series  # each row of `stored` as a JSON object
    hashed: pl.Series | None  # the same with ids and phones as their blind index (None: `json`)
    blind: dict[str, pl.Series]  # the blind index of each encrypted column


def _documents(frame: pl.DataFrame, entity: EntityType, keyring: Keyring | None) -> _Documents:
    """`frame` as stored, and its rows as JSON objects as stored and as hashed.

    The record hash must not change with each encryption's random nonce, nor be a plain hash
    of an id (guessable): it is taken over the blind indexes. The two objects differ only in
    those members; every other member is encoded once for both.
    """
    names = [a for a in encrypted_attributes(entity) if a in frame.columns]
    if keyring is None or not names:
        return _Documents(frame, _json_object(frame, frame.columns), None, {})
    kinds = {a: ATTRIBUTES[entity][a].kind.value for a in names}
    stored = frame.with_columns(
        keyring.encrypt_series(frame[a], field_name(entity, a)) for a in names
    )
    blinded = {BLIND + a: keyring.blind_series(frame[a], kinds[a]) for a in names}
    columns = [*stored.columns, *blinded]
    members = json_members([pl.col(c).alias(c.removeprefix(BLIND)) for c in columns])
    encoded = stored.with_columns(**blinded).select(
        m.alias(c) for c, m in zip(columns, members, strict=True)
    )
    docs = encoded.select(
        json_join([pl.col(c) for c in stored.columns]).alias(BLIND + "stored"),
        json_join([pl.col(BLIND + c if c in names else c) for c in stored.columns]).alias(
            BLIND + "hashed"
        ),
    )
    blind = {a: blinded[BLIND + a].alias(a) for a in names}
    return _Documents(stored, docs[BLIND + "stored"], docs[BLIND + "hashed"], blind)


@dataclass
class _EntityColumns:
    values: dict[str, pl.Series] = field(default_factory=dict)
    raw: dict[str, pl.Series] = field(default_factory=dict)
    problems: dict[str, pl.Series] = field(default_factory=dict)  # per attribute, null if fine
    hard: list[pl.Series] = field(default_factory=list)  # required failures → quarantine
    soft: list[pl.Series] = field(default_factory=list)  # kept, flagged


def _labelled(label: str, problem: pl.Series) -> pl.Series:
    return pl.select(
        pl.when(problem.is_not_null()).then(pl.lit(f"{label}: ") + problem)
    ).to_series()


_CleaningKey = tuple[object, ...]  # what makes two attributes' cleaning the same work


def _clean_entity(
    frame: pl.DataFrame,
    ent: EntityMapping,
    ctx: Context,
    done: dict[_CleaningKey, Cleaned],
) -> _EntityColumns:
    """Clean one entity's attributes of a chunk. `done` holds the columns already cleaned for
    another entity of the same rows: a hukou register's household number and address are the
    person's too, and are cleaned once."""
    cols = _EntityColumns()
    derived: dict[str, dict[str, pl.Series]] = {}
    for name, mapping in ent.attributes.items():
        spec = ATTRIBUTES[ent.entity][name]
        raw = _raw_input(frame, mapping)
        key = (
            spec.kind,
            mapping.column,
            mapping.value,
            tuple(mapping.formats or ()),
            tuple((mapping.codes or {}).items()),
            spec.codes,
        )
        cleaned = done.get(key)
        if cleaned is None:
            cleaned = done[key] = clean_series(
                spec.kind.value,
                raw,
                formats=mapping.formats,
                codes=mapping.codes,
                allowed=spec.codes,
            )
        problem = cleaned.problem
        if ctx.keyring is not None and spec.kind in ENCRYPTED_KINDS:
            # a problem quotes the department's string: an id or phone, nearly right, in clear
            problem = problem.str.replace_all("'[^']*'", "the value")
        cols.values[name] = cleaned.value
        cols.problems[name] = problem
        if mapping.column is not None:
            # the department's own string, kept only where cleaning changed it
            cols.raw[name] = pl.select(
                pl.when(raw != cleaned.value.fill_null("")).then(raw)
            ).to_series()
        derived[name] = cleaned.derived
        label = mapping.column or name
        if mapping.required:
            missing = pl.select(
                pl.when(cleaned.value.is_null() & cleaned.problem.is_null()).then(
                    pl.lit("required value is missing")
                )
            ).to_series()
            both = pl.select(pl.coalesce(problem, missing)).to_series()
            cols.hard.append(_labelled(label, both))
        else:
            cols.soft.append(_labelled(label, problem))
    _derive(ent, cols, derived, ctx)
    return cols


def _derive(
    ent: EntityMapping,
    cols: _EntityColumns,
    derived: dict[str, dict[str, pl.Series]],
    ctx: Context,
) -> None:
    """Values the base library can work out from others: contradictions, rooms, grids."""
    v = cols.values
    if ent.entity == EntityType.person and "citizen_id" in v:
        ids = derived["citizen_id"]
        birth = v.get("birth_date", _nulls(len(v["citizen_id"])))
        sex = v.get("sex", _nulls(len(v["citizen_id"])))
        cols.soft.append(contradictions(ids["birth_date"], ids["sex"], birth, sex))
    if (
        ent.entity == EntityType.person
        and "residence_address" in v
        and "residence_room_code" not in v
    ):
        v["residence_room_code"] = _match_rooms(derived["residence_address"]["room_key"], ctx)
    if ent.entity == EntityType.room and "address" in derived:
        matched = _match_rooms(derived["address"]["room_key"], ctx)
        v["room_code"] = pl.select(pl.coalesce(v["room_code"], matched)).to_series()
    if ent.entity in (EntityType.building, EntityType.city_component):
        _place_in_grid(cols, ctx)


def row_hashes(frame: pl.DataFrame, contract: Contract, seed: int) -> pl.Series:
    """Each row's hash over every column the contract reads, as sent (a missing cell apart from
    an empty one), keyed by `seed`: equal hashes mean the department sent the row unchanged."""
    cells = [pl.col(c).fill_null("\x00") for c in contract.columns()]
    hashed = pl.concat_str(cells, separator="\x1f").hash(seed).cast(pl.String)
    return frame.select(hashed).to_series()


def record_ids(contract: Contract) -> pl.Expr:
    """The source's record id of each `record_key`: in a row of several entities each record's
    key is the row's record id and "#" its role (as `stage_chunk` makes them)."""
    key = pl.col("record_key")
    if len(contract.entities) == 1:
        return key.alias("rid")
    roles = "|".join(re.escape(e.role_name) for e in contract.entities)
    return key.str.replace(f"#(?:{roles})$", "").alias("rid")


def row_seed(contract_sha256: str, keyring: Keyring | None) -> int:
    """The key of a source's row hashes. It changes with the contract, the blind-index key and
    the code that stages (gridweave's own and the libraries that clean), so a row is taken as
    unchanged only where the same contract, key and cleaning would stage it the same again.
    Keyed, the hash of a row holding an id in clear is no plain hash of that id."""
    salt = f"{contract_sha256}|{_staging_code()}"
    digest = keyring.blind(salt, "row") if keyring else hashlib.sha256(salt.encode()).hexdigest()
    return int(digest[:16], 16)


@functools.cache
def _staging_code() -> str:
    """A digest of gridweave's source files (installed or not) and the versions of the
    libraries that clean."""
    digest = hashlib.sha256()
    for name in ("polars", "opencc", "phonenumbers"):
        digest.update(f"{name} {metadata.version(name)}\n".encode())
    package = Path(gridweave.__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def recognises_unchanged_rows(contract: Contract) -> bool:
    """Whether a row sent again unchanged stages exactly as it did: true unless staging looks
    something up in the base library, which may have changed since (golden rooms for
    addresses, the area tree for buildings' and components' grids)."""
    return not matches_rooms(contract) and not places_in_grids(contract)


def places_in_grids(contract: Contract) -> bool:
    """Whether staging this contract's rows places entities in the area tree's grids (buildings
    and city components: the batch reads the grids' polygons only then)."""
    placed = {EntityType.building, EntityType.city_component}
    return any(e.entity in placed for e in contract.entities)


def linked_types(contract: Contract) -> list[str]:
    """The entity types that an entity of the contract's rows links to (a person's household)."""
    roles = {role for ent in contract.entities for role in ent.links.values()}
    return sorted({ent.entity.value for ent in contract.entities if ent.role_name in roles})


def matches_rooms(contract: Contract) -> bool:
    """Whether staging this contract's rows looks addresses up in `Context.room_index` (the
    batch reads the golden rooms only then: the building register holds ~1 a resident)."""
    for ent in contract.entities:
        names = set(ent.attributes)
        person = ent.entity == EntityType.person
        if person and "residence_address" in names and "residence_room_code" not in names:
            return True
        if ent.entity == EntityType.room and "address" in names:
            return True
    return False


def _place_in_grid(cols: _EntityColumns, ctx: Context) -> None:
    """Keep a declared grid code only if the area tree knows it; else locate the point."""
    v = cols.values
    height = len(next(iter(v.values())))
    declared = v.get("grid_code", _nulls(height))
    known = declared.is_in(list(ctx.grid_codes))
    unknown = declared.is_not_null() & ~known
    if unknown.any():
        cols.soft.append(
            pl.select(
                pl.when(unknown).then(
                    pl.lit("grid_code: '") + declared + pl.lit("' is not a grid of the area tree")
                )
            ).to_series()
        )
    grid = pl.select(pl.when(known).then(declared)).to_series()
    if ctx.locate_grid is not None and {"longitude", "latitude"} <= set(v):
        grid = pl.select(
            pl.coalesce(grid, ctx.locate_grid(v["longitude"], v["latitude"]))
        ).to_series()
    v["grid_code"] = grid


def _match_rooms(room_keys: pl.Series, ctx: Context) -> pl.Series:
    keys = pl.DataFrame({"room_key": room_keys.cast(pl.String)})
    return keys.join(ctx.room_index, on="room_key", how="left", maintain_order="left")["room_code"]


def _first_problems(problems: list[pl.Series], height: int) -> pl.Series:
    """Per row, the list of non-null problems (empty list when there are none)."""
    empty = pl.Series([[]], dtype=pl.List(pl.String)).new_from_index(0, height)
    problems = [p for p in problems if p.null_count() < height]  # most columns have none
    if not problems:
        return empty
    frame = pl.DataFrame({f"p{i}": p for i, p in enumerate(problems)})
    return frame.select(pl.concat_list(pl.all()).list.drop_nulls()).to_series()


def stage_chunk(
    chunk: Chunk, contract: Contract, ctx: Context, earlier: EarlierChunks | None = None
) -> Staged:
    """Clean and validate one chunk; return its source records and its quarantined rows.

    `earlier` holds what the batch's earlier chunks held, and takes this chunk's.
    """
    frame = chunk.frame
    record_id = pl.select(
        pl.concat_str([frame[c].str.strip_chars() for c in contract.record_id], separator="|")
    ).to_series()
    # duplicate record ids within the file: the first occurrence wins, later ones wait in quarantine
    earlier = earlier or EarlierChunks()
    firsts = earlier.first_lines(record_id, frame[LINE])
    row_hash = _nulls(frame.height)
    rows_unchanged = 0
    if ctx.row_seed is not None:
        row_hash = row_hashes(frame, contract, ctx.row_seed)
        known = with_found(pl.DataFrame({"rid": record_id}), ["rid"], ctx.known_rows)["row_hash"]
        again = ((known == row_hash) & firsts.is_null()).fill_null(False)
        rows_unchanged = int(again.sum())
        if rows_unchanged:
            frame = frame.filter(~again)
            record_id, firsts, row_hash = (x.filter(~again) for x in (record_id, firsts, row_hash))
    n = frame.height
    row_hard = [
        pl.select(
            pl.when(record_id.is_null()).then(
                pl.lit(f"{'+'.join(contract.record_id)}: the record id is missing")
            )
        ).to_series()
    ]
    if contract.observed_at is not None:
        stamp = clean_series(
            Kind.datetime.value,
            _raw_input(frame, contract.observed_at),
            formats=contract.observed_at.formats,
        )
        observed = stamp.value
        if contract.observed_at.required:
            row_hard.append(
                pl.select(
                    pl.when(stamp.problem.is_not_null() | observed.is_null()).then(
                        pl.lit(f"{contract.observed_at.column}: ")
                        + stamp.problem.fill_null("required value is missing")
                    )
                ).to_series()
            )
    else:
        observed = _nulls(n)
    observed = pl.select(
        pl.coalesce(
            observed.str.to_datetime(time_zone="UTC", time_unit="us", strict=False),
            pl.lit(ctx.extracted_at).dt.convert_time_zone("UTC").dt.cast_time_unit("us"),
        )
    ).to_series()

    multi = len(contract.entities) > 1
    cleaned: dict[_CleaningKey, Cleaned] = {}
    entities = [(ent, _clean_entity(frame, ent, ctx, cleaned)) for ent in contract.entities]
    for _, cols in entities:
        row_hard.extend(cols.hard)
    hard = _first_problems(row_hard, n)
    bad_row = hard.list.len() > 0

    if firsts.is_not_null().any():
        dup_reason = pl.select(
            pl.when(firsts.is_not_null()).then(
                pl.lit("record id '")
                + record_id
                + pl.lit("' already appears on line ")
                + firsts.cast(pl.String)
            )
        ).to_series()
        hard = _first_problems([*row_hard, dup_reason], n)
        bad_row = hard.list.len() > 0

    parts: list[pl.DataFrame] = []
    role_keys = {
        ent.role_name: record_id + (f"#{ent.role_name}" if multi else "") for ent, _ in entities
    }
    for ent, cols in entities:
        values = pl.DataFrame(cols.values)
        present = values.select(pl.any_horizontal(pl.all().is_not_null())).to_series()
        keep = present & ~bad_row
        docs = _documents(values, ent.entity, ctx.keyring)
        key_attr = key_attribute(ent.entity).name
        if key_attr in cols.values:
            key_ok = (
                cols.values[key_attr].is_not_null()
                & cols.problems.get(key_attr, _nulls(n)).is_null()
            )
            # a person's key is their citizen id: stored as its blind index (already computed
            # for the record hash), every other key as it is
            key = docs.blind.get(key_attr, docs.stored[key_attr])
            entity_key = pl.select(pl.when(key_ok).then(key)).to_series()
        else:
            entity_key = _nulls(n)
        flags = _first_problems(cols.soft, n)
        flags_json = pl.select(
            pl.when(flags.list.len() > 0).then(
                pl.struct(flags.alias("f"))
                .struct.json_encode()
                .str.strip_prefix('{"f":')
                .str.strip_suffix("}")
            )
        ).to_series()
        links = None
        if ent.links:
            link_frame = pl.DataFrame({rel: role_keys[role] for rel, role in ent.links.items()})
            links = _json_object(link_frame, list(ent.links))
        raw = _documents(
            pl.DataFrame(cols.raw) if cols.raw else pl.DataFrame(height=n), ent.entity, ctx.keyring
        )
        part = pl.DataFrame(
            {
                "line_number": frame[LINE],
                "record_key": role_keys[ent.role_name],
                "entity_type": pl.repeat(ent.entity.value, n, dtype=pl.String, eager=True),
                "entity_key": entity_key,
                "observed_at": observed,
                "values": docs.json,
                "raw": raw.json,
                "flags": flags_json,
                "links": links if links is not None else _nulls(n),
                "row_hash": row_hash,
                "_hashed_values": _nulls(n) if docs.hashed is None else docs.hashed,
                "_hashed_raw": _nulls(n) if raw.hashed is None else raw.hashed,
            }
        )
        # the cleaned values stay as columns too, so golden records need not parse the JSON back
        cleaned_values = docs.stored.rename(lambda c: VALUE + c)
        parts.append(pl.concat([part, cleaned_values], how="horizontal").filter(keep))
    records = pl.concat(parts, how="diagonal") if parts else pl.DataFrame()
    # Polars' hash is stable within a Polars version; a new version at worst stores unchanged
    # records once more as fresh observations.
    records = records.with_columns(
        record_hash=pl.concat_str(
            [
                pl.coalesce(pl.col("_hashed_values"), pl.col("values")).fill_null(""),
                pl.coalesce(pl.col("_hashed_raw"), pl.col("raw")).fill_null(""),
                *(pl.col(c).fill_null("") for c in ("flags", "links")),
            ],
            separator="\x1f",
        )
        .hash(seed=0x6777)
        .cast(pl.String)
    ).sort("line_number", maintain_order=True)
    records = earlier.first_claims(records, linked_types(contract))

    data_columns = [c for c in frame.columns if c != LINE]
    bad = frame.filter(bad_row)  # the whole row as JSON only for the rows quarantined
    quarantined = pl.DataFrame(
        {
            "line_number": bad[LINE],
            "record_key": record_id.filter(bad_row),
            "row": _json_object(bad, data_columns),
            "reasons": hard.filter(bad_row),
        }
    )
    value_columns = [c for c in records.columns if c.startswith(VALUE)]
    rows = pl.DataFrame({"rid": record_id, "row_hash": row_hash}).filter(
        ~bad_row & row_hash.is_not_null()
    )
    return Staged(
        records.select([*RECORD_COLUMNS, *value_columns]), quarantined, rows, rows_unchanged
    )
