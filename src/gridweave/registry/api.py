"""Routes of the base library: search and read golden records, always through the sharing gate
(sharing.access), which masks, denies and audits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from gridweave.registry.attributes import EntityType
from gridweave.sharing import access
from gridweave.sharing.api import record_out
from gridweave.sharing.deps import AuditTrail, CurrentUser, Db, UnitOfWorkRoute
from gridweave.sharing.schemas import PRINTABLE, RecordOut

router = APIRouter(tags=["base library"], route_class=UnitOfWorkRoute)

E = EntityType
Id = Annotated[int, Path(ge=1, le=2**62, description="the golden record's id")]
Limit = Annotated[int, Query(ge=1, le=access.MAX_RESULTS)]
Offset = Annotated[int, Query(ge=0, le=100_000)]
Purpose = Annotated[
    str | None,
    Query(pattern=r"^[a-z_]{1,60}$", description="a purpose of use (GET /purposes) to unmask"),
]
Text = Annotated[str | None, Query(min_length=1, max_length=100, pattern=PRINTABLE)]
Code = Annotated[str | None, Query(pattern=r"^[0-9A-Za-z_-]{1,40}$")]
CitizenId = Annotated[str | None, Query(pattern=r"^([0-9]{15}|[0-9]{17}[0-9Xx])$")]
Phone = Annotated[str | None, Query(pattern=r"^[0-9+-]{3,20}$")]
GridCode = Annotated[str | None, Query(pattern=r"^[0-9]{15}$")]
CreditCode = Annotated[str | None, Query(pattern=r"^[0-9A-Z]{18}$")]


def _criteria(**given: str | None) -> dict[str, str]:
    return {k: v for k, v in given.items() if v is not None}


def _search(
    db: Db,
    user: CurrentUser,
    trail: AuditTrail,
    entity: EntityType,
    limit: int,
    offset: int,
    **given: str | None,
) -> list[RecordOut]:
    found = access.search(
        db,
        actor=user,
        trail=trail,
        entity=entity,
        criteria=_criteria(**given),
        limit=limit,
        offset=offset,
    )
    return [record_out(s) for s in found]


def _read(
    db: Db,
    user: CurrentUser,
    trail: AuditTrail,
    entity: EntityType,
    record_id: int,
    purpose: str | None,
) -> RecordOut:
    shown = access.read_record(
        db, actor=user, trail=trail, entity=entity, record_id=record_id, purpose=purpose
    )
    return record_out(shown, purpose)


@router.get("/people")
def search_people(
    db: Db,
    user: CurrentUser,
    trail: AuditTrail,
    name: Annotated[str | None, Query(min_length=1, max_length=50, pattern=PRINTABLE)] = None,
    citizen_id: CitizenId = None,
    phone: Phone = None,
    address: Text = None,
    household_number: Code = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> list[RecordOut]:
    """People in the caller's area matching every criterion given; masked (no purpose)."""
    return _search(
        db,
        user,
        trail,
        E.person,
        limit,
        offset,
        name=name,
        citizen_id=citizen_id.upper() if citizen_id else None,
        phone=phone,
        address=address,
        household_number=household_number,
    )


@router.get("/people/{record_id}")
def read_person(
    db: Db, user: CurrentUser, trail: AuditTrail, record_id: Id, purpose: Purpose = None
) -> RecordOut:
    """One person; sensitive fields unmasked only for a purpose the caller's role may name."""
    return _read(db, user, trail, E.person, record_id, purpose)


@router.get("/households")
def search_households(
    db: Db,
    user: CurrentUser,
    trail: AuditTrail,
    household_number: Code = None,
    address: Text = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> list[RecordOut]:
    """Hukou households with a member in the caller's area."""
    return _search(
        db,
        user,
        trail,
        E.household,
        limit,
        offset,
        household_number=household_number,
        address=address,
    )


@router.get("/households/{record_id}")
def read_household(
    db: Db, user: CurrentUser, trail: AuditTrail, record_id: Id, purpose: Purpose = None
) -> RecordOut:
    """One hukou household."""
    return _read(db, user, trail, E.household, record_id, purpose)


@router.get("/legal-entities")
def search_legal_entities(
    db: Db,
    user: CurrentUser,
    trail: AuditTrail,
    name: Text = None,
    credit_code: CreditCode = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> list[RecordOut]:
    """Legal entities by name or unified social credit code."""
    return _search(
        db, user, trail, E.legal_entity, limit, offset, name=name, credit_code=credit_code
    )


@router.get("/legal-entities/{record_id}")
def read_legal_entity(
    db: Db, user: CurrentUser, trail: AuditTrail, record_id: Id, purpose: Purpose = None
) -> RecordOut:
    """One legal entity."""
    return _read(db, user, trail, E.legal_entity, record_id, purpose)


@router.get("/buildings")
def search_buildings(
    db: Db,
    user: CurrentUser,
    trail: AuditTrail,
    grid_code: GridCode = None,
    address: Text = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> list[RecordOut]:
    """Buildings in the caller's area."""
    return _search(db, user, trail, E.building, limit, offset, grid_code=grid_code, address=address)


@router.get("/buildings/{record_id}")
def read_building(
    db: Db, user: CurrentUser, trail: AuditTrail, record_id: Id, purpose: Purpose = None
) -> RecordOut:
    """One building."""
    return _read(db, user, trail, E.building, record_id, purpose)


@router.get("/rooms")
def search_rooms(
    db: Db,
    user: CurrentUser,
    trail: AuditTrail,
    building_code: Code = None,
    room_code: Code = None,
    address: Text = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> list[RecordOut]:
    """Rooms in the caller's area."""
    return _search(
        db,
        user,
        trail,
        E.room,
        limit,
        offset,
        building_code=building_code,
        room_code=room_code,
        address=address,
    )


@router.get("/rooms/{record_id}")
def read_room(
    db: Db, user: CurrentUser, trail: AuditTrail, record_id: Id, purpose: Purpose = None
) -> RecordOut:
    """One room (door plate)."""
    return _read(db, user, trail, E.room, record_id, purpose)


@router.get("/components")
def search_components(
    db: Db,
    user: CurrentUser,
    trail: AuditTrail,
    grid_code: GridCode = None,
    class_code: Code = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> list[RecordOut]:
    """City components in the caller's area."""
    return _search(
        db,
        user,
        trail,
        E.city_component,
        limit,
        offset,
        grid_code=grid_code,
        class_code=class_code,
    )


@router.get("/components/{record_id}")
def read_component(
    db: Db, user: CurrentUser, trail: AuditTrail, record_id: Id, purpose: Purpose = None
) -> RecordOut:
    """One city component."""
    return _read(db, user, trail, E.city_component, record_id, purpose)
