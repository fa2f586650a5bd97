"""Imports every domain's tables so that Base.metadata knows them all (Alembic, tests)."""

from gridweave.areas.models import Area
from gridweave.ingest.models import Batch, QuarantinedRow, Source, SourceRecord
from gridweave.registry.models import (
    Building,
    CityComponent,
    Household,
    LegalEntity,
    Person,
    Room,
)

__all__ = [
    "Area",
    "Batch",
    "Building",
    "CityComponent",
    "Household",
    "LegalEntity",
    "Person",
    "QuarantinedRow",
    "Room",
    "Source",
    "SourceRecord",
]
