"""Golden records of the base library: one row per real person, household, legal entity,
building, room and city component.

Each column holds the value chosen by survivorship; `provenance` maps every attribute to the
source record it came from, so the library can always say where a value came from and what other
departments claimed (ingest.models.SourceRecord holds every claim). A record one source record
describes alone stores `{"*": its id}`; read it through `survivorship.chosen_records`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column

from gridweave.core.database import Base, UTCDateTime
from gridweave.core.types import Json
from gridweave.ingest.models import BigId


class GoldenRecord:
    """Columns every golden table has."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provenance: Mapped[dict[str, int]] = mapped_column(Json)  # attribute or "*" → source_record.id
    sources: Mapped[int] = mapped_column(Integer)  # how many source records are linked
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Person(GoldenRecord, Base):
    __tablename__ = "person"

    # citizen_id and phone hold ciphertexts (core.crypto); *_bidx their blind indexes
    citizen_id: Mapped[str | None] = mapped_column(String(160))
    citizen_id_bidx: Mapped[str | None] = mapped_column(String(32), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    sex: Mapped[str | None] = mapped_column(String(10))
    birth_date: Mapped[date | None] = mapped_column(Date)
    ethnicity: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(160))
    phone_bidx: Mapped[str | None] = mapped_column(String(32))
    hukou_address: Mapped[str | None] = mapped_column(String(300))
    residence_address: Mapped[str | None] = mapped_column(String(300))
    residence_room_code: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str | None] = mapped_column(String(12))
    death_date: Mapped[date | None] = mapped_column(Date)
    marital_status: Mapped[str | None] = mapped_column(String(12))
    household_number: Mapped[str | None] = mapped_column(String(40), index=True)
    relation_to_head: Mapped[str | None] = mapped_column(String(12))
    employer_name: Mapped[str | None] = mapped_column(String(200))
    employer_credit_code: Mapped[str | None] = mapped_column(String(18))
    insurance_months: Mapped[int | None] = mapped_column(Integer)
    allowance_certificate: Mapped[str | None] = mapped_column(String(40))
    allowance_amount: Mapped[float | None] = mapped_column(Numeric(12, 2))
    allowance_since: Mapped[date | None] = mapped_column(Date)
    school: Mapped[str | None] = mapped_column(String(200))
    grade: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (
        # a name search is a prefix LIKE: PostgreSQL takes it to an index comparing bytes only
        # (SQLite to a range of it: registry.queries, migration 0013)
        Index("ix_person_name", "name", postgresql_ops={"name": "varchar_pattern_ops"}),
        # only the people who have one: most sources know no phone or room (a police register
        # fills neither), and an entry per NULL cost every ingest an index insert (migration 0012)
        *(
            Index(
                f"ix_person_{column}",
                column,
                sqlite_where=text(f"{column} IS NOT NULL"),
                postgresql_where=text(f"{column} IS NOT NULL"),
            )
            for column in ("phone_bidx", "residence_room_code")
        ),
    )


class Household(GoldenRecord, Base):
    """A hukou household: its register number, type and registered address."""

    __tablename__ = "household"

    household_number: Mapped[str] = mapped_column(String(40), unique=True)
    household_type: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(300))


class LegalEntity(GoldenRecord, Base):
    __tablename__ = "legal_entity"

    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str | None] = mapped_column(String(200), index=True)
    entity_type: Mapped[str | None] = mapped_column(String(100))
    legal_representative: Mapped[str | None] = mapped_column(String(100))
    registered_address: Mapped[str | None] = mapped_column(String(300))
    operating_address: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str | None] = mapped_column(String(12))
    established_date: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(160))  # a ciphertext


class Building(GoldenRecord, Base):
    __tablename__ = "building"

    building_code: Mapped[str] = mapped_column(String(40), unique=True)
    address: Mapped[str | None] = mapped_column(String(300))
    address_key: Mapped[str | None] = mapped_column(String(200), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    floors: Mapped[int | None] = mapped_column(Integer)
    building_use: Mapped[str | None] = mapped_column(String(40))
    longitude: Mapped[float | None] = mapped_column(Numeric(10, 6))
    latitude: Mapped[float | None] = mapped_column(Numeric(10, 6))
    grid_code: Mapped[str | None] = mapped_column(ForeignKey("area.code"), index=True)


class Room(GoldenRecord, Base):
    __tablename__ = "room"

    room_code: Mapped[str] = mapped_column(String(40), unique=True)  # the door-plate code
    building_code: Mapped[str | None] = mapped_column(String(40), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    address_key: Mapped[str | None] = mapped_column(String(200), index=True)
    room_number: Mapped[str | None] = mapped_column(String(40))
    floor: Mapped[int | None] = mapped_column(Integer)
    room_use: Mapped[str | None] = mapped_column(String(12))
    floor_area: Mapped[float | None] = mapped_column(Numeric(10, 2))
    rent: Mapped[float | None] = mapped_column(Numeric(12, 2))
    lease_start: Mapped[date | None] = mapped_column(Date)
    lease_end: Mapped[date | None] = mapped_column(Date)


class CityComponent(GoldenRecord, Base):
    __tablename__ = "city_component"

    component_code: Mapped[str] = mapped_column(String(17), unique=True)
    class_code: Mapped[str | None] = mapped_column(String(5))
    name: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str | None] = mapped_column(String(12))
    owner: Mapped[str | None] = mapped_column(String(100))
    longitude: Mapped[float | None] = mapped_column(Numeric(10, 6))
    latitude: Mapped[float | None] = mapped_column(Numeric(10, 6))
    grid_code: Mapped[str | None] = mapped_column(ForeignKey("area.code"), index=True)


GOLDEN_TABLES: dict[str, type[GoldenRecord]] = {
    "person": Person,
    "household": Household,
    "legal_entity": LegalEntity,
    "building": Building,
    "room": Room,
    "city_component": CityComponent,
}
