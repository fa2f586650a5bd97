"""Read-only queries of the golden records for the sharing gate: where each record sits on the
area tree, whose own record it is, and searches limited to a set of grids."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, or_, select
from sqlalchemy.orm import Session, aliased

from gridweave.areas.models import Area
from gridweave.core.database import keyring_of
from gridweave.ingest.cleaning import clean_series
from gridweave.registry.attributes import EntityType
from gridweave.registry.models import (
    GOLDEN_TABLES,
    Building,
    CityComponent,
    Household,
    LegalEntity,
    Person,
    Room,
)

E = EntityType


@dataclass(frozen=True)
class Place:
    """Where a record sits: its grids (None: bound to no area; empty: not placed yet), and the
    people whose own record it is."""

    grids: tuple[str, ...] | None
    person_ids: frozenset[int] = frozenset()


def get_record(session: Session, entity: EntityType, record_id: int) -> Any:
    """A golden record by id, or None."""
    return session.get(GOLDEN_TABLES[entity.value], record_id)


TREE_DEPTH = 5  # city → district → street → community → grid (areas.service.LEVELS)


def _with_path(query: Select[Any], grid: Any) -> Select[Any]:
    """Add the codes of `grid` and its ancestors (and the top one's parent) as columns."""
    levels = [aliased(Area) for _ in range(TREE_DEPTH)]
    query = query.outerjoin(levels[0], levels[0].code == grid)
    for child, parent in pairwise(levels):
        query = query.outerjoin(parent, parent.code == child.parent_code)
    return query.add_columns(
        *(a.code.label(f"area_path_{i}") for i, a in enumerate(levels)),
        levels[-1].parent_code.label("area_beyond"),
    )


@cache
def _located_query(entity: EntityType) -> Select[Any]:
    """The record by id, joined to its area path; built once (it is on every request's path).

    Its columns, not the mapped entity: a row reads its fields by name like the entity does,
    at a fraction of the cost (no identity map, no instance state)."""
    table = GOLDEN_TABLES[entity.value]
    query: Select[Any] = select(table.__table__).where(table.id == bindparam("id"))  # type: ignore[attr-defined]
    if entity == E.person:
        query = query.outerjoin(Room, Room.room_code == Person.residence_room_code).outerjoin(
            Building, Building.building_code == Room.building_code
        )
        grid: Any = Building.grid_code
    elif entity == E.room:
        query = query.outerjoin(Building, Building.building_code == Room.building_code)
        grid = Building.grid_code
    else:
        grid = table.grid_code  # type: ignore[attr-defined]
    # the tree's root too, where an unplaced record sits: no second round trip for it
    root = select(Area.code).where(Area.parent_code.is_(None)).limit(1).scalar_subquery()
    return _with_path(query, grid).add_columns(root.label("area_root"))


def get_located(session: Session, entity: EntityType, record_id: int) -> tuple[Any, Place] | None:
    """A golden record by id with where it sits, its area path read in the same query
    (`Place.grids` then holds the grid and every ancestor, nearest first, or the root for a
    record not placed yet); None if absent."""
    if entity in (E.legal_entity, E.household):
        record = get_record(session, entity, record_id)
        if record is None:
            return None
        return record, places(session, entity, [record])[record.id]
    row = session.connection().execute(_located_query(entity), {"id": record_id}).one_or_none()
    if row is None:
        return None
    record = row  # the record's fields by name, then the area columns (area_*)
    area = row._mapping
    codes = [area[f"area_path_{i}"] for i in range(TREE_DEPTH)]
    beyond, root = area["area_beyond"], area["area_root"]
    if beyond is not None:  # a deeper tree than this join reads: walk it instead
        from gridweave.areas.tree import ancestors

        codes = list(ancestors(session, codes[0]))
    path = tuple(c for c in codes if c) or ((root,) if root else ())
    people = frozenset({record.id}) if entity == E.person else frozenset()
    return record, Place(path, people)


def _person_grids(session: Session, where: ColumnElement[bool]) -> list[Any]:
    return list(
        session.execute(
            select(Person.id, Person.household_number, Building.grid_code)
            .outerjoin(Room, Room.room_code == Person.residence_room_code)
            .outerjoin(Building, Building.building_code == Room.building_code)
            .where(where)
        )
    )


def places(session: Session, entity: EntityType, records: Sequence[Any]) -> dict[int, Place]:
    """Where each record sits on the area tree, by record id."""
    if not records:
        return {}
    if entity == E.legal_entity:
        return {r.id: Place(None) for r in records}
    if entity in (E.building, E.city_component):
        return {r.id: Place((r.grid_code,) if r.grid_code else ()) for r in records}
    if entity == E.room:
        codes = {r.building_code for r in records if r.building_code}
        grid = dict(
            session.execute(
                select(Building.building_code, Building.grid_code).where(
                    Building.building_code.in_(codes)
                )
            ).all()
        )
        return {r.id: Place(_one(grid.get(r.building_code))) for r in records}
    if entity == E.person:
        ids = [r.id for r in records]
        rows = _person_grids(session, Person.id.in_(ids))
        return {pid: Place(_one(grid), frozenset({pid})) for pid, _, grid in rows}
    numbers = {r.household_number for r in records}
    members: dict[str, tuple[set[str], set[int]]] = {n: (set(), set()) for n in numbers}
    for pid, number, grid in _person_grids(session, Person.household_number.in_(numbers)):
        grids, people = members[number]
        people.add(pid)
        if grid:
            grids.add(grid)
    return {
        r.id: Place(
            tuple(sorted(members[r.household_number][0])),
            frozenset(members[r.household_number][1]),
        )
        for r in records
    }


def _one(grid: str | None) -> tuple[str, ...]:
    return (grid,) if grid else ()


def _in_grids(entity: EntityType, grids: list[str]) -> ColumnElement[bool] | None:
    """A condition keeping the records of `entity` that sit in one of `grids`."""
    in_person = (
        select(Person.id)
        .join(Room, Room.room_code == Person.residence_room_code)
        .join(Building, Building.building_code == Room.building_code)
        .where(Building.grid_code.in_(grids))
    )
    if entity == E.person:
        return Person.id.in_(in_person)
    if entity == E.household:
        return exists(in_person.where(Person.household_number == Household.household_number))
    if entity == E.room:
        return Room.building_code.in_(
            select(Building.building_code).where(Building.grid_code.in_(grids))
        )
    if entity == E.building:
        return Building.grid_code.in_(grids)
    if entity == E.city_component:
        return CityComponent.grid_code.in_(grids)
    return None  # legal entities are bound to no area


LAST_CODE_POINT = "\U0010ffff"

# Per entity: search parameter → how it matches (exact, prefix or substring) on which columns.
SEARCH: dict[EntityType, dict[str, tuple[str, tuple[Any, ...]]]] = {
    E.person: {
        "name": ("prefix", (Person.name,)),
        # ids and phones are stored encrypted: matched on their blind indexes (search())
        "citizen_id": ("blind", (Person.citizen_id_bidx,)),
        "phone": ("blind", (Person.phone_bidx,)),
        "address": ("contains", (Person.residence_address, Person.hukou_address)),
        "household_number": ("exact", (Person.household_number,)),
    },
    E.household: {
        "household_number": ("exact", (Household.household_number,)),
        "address": ("contains", (Household.address,)),
    },
    E.legal_entity: {
        "name": ("contains", (LegalEntity.name,)),
        "credit_code": ("exact", (LegalEntity.credit_code,)),
    },
    E.building: {
        "grid_code": ("exact", (Building.grid_code,)),
        "address": ("contains", (Building.address,)),
    },
    E.room: {
        "building_code": ("exact", (Room.building_code,)),
        "room_code": ("exact", (Room.room_code,)),
        "address": ("contains", (Room.address,)),
    },
    E.city_component: {
        "grid_code": ("exact", (CityComponent.grid_code,)),
        "class_code": ("exact", (CityComponent.class_code,)),
    },
}


def _match(how: str, column: Any, value: str, dialect: str) -> ColumnElement[bool]:
    if how == "prefix":
        starts = column.startswith(value, autoescape=True)
        if dialect != "sqlite":
            return starts
        # SQLite never looks a LIKE up in an index (its LIKE ignores case, the index does not):
        # the same names as a range of the index too: every text that starts with `value`
        # sorts between it and it followed by the last code point (a noncharacter no cleaned
        # name holds)
        return and_(column >= value, column < value + LAST_CODE_POINT, starts)
    if how == "contains":
        return column.contains(value, autoescape=True)
    return column == value


def search(
    session: Session,
    entity: EntityType,
    *,
    criteria: dict[str, str],
    grids: list[str] | None,
    limit: int,
    offset: int = 0,
) -> list[Any]:
    """Records matching every criterion, in `grids` (None: anywhere), ordered by id."""
    table = GOLDEN_TABLES[entity.value]
    dialect = session.get_bind().dialect.name
    query: Select[Any] = select(table)
    for name, value in criteria.items():
        how, columns = SEARCH[entity][name]
        if how == "blind":  # cleaned as ingest cleans, then indexed as ingest indexed it
            cleaned = clean_series(name, pl.Series([value], dtype=pl.String)).value[0]
            value = keyring_of(session).blind(str(cleaned or value), name)
        conditions = [_match(how, c, value, dialect) for c in columns]
        query = query.where(or_(*conditions))
    if grids is not None:
        scope = _in_grids(entity, grids)
        if scope is not None:
            query = query.where(scope)
    query = query.order_by(table.id).limit(limit).offset(offset)
    return list(session.scalars(query))


def household_members(session: Session, household_number: str) -> list[Person]:
    """The people the hukou register places in one household, by id."""
    return list(
        session.scalars(
            select(Person).where(Person.household_number == household_number).order_by(Person.id)
        )
    )


def household_id(session: Session, household_number: str) -> int | None:
    """The golden id of the household with this register number, if any."""
    return session.scalar(
        select(Household.id).where(Household.household_number == household_number)
    )
