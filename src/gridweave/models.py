"""Imports every domain's tables so that Base.metadata knows them all (Alembic, tests)."""

from gridweave.areas.models import Area
from gridweave.ingest.models import Batch, QuarantinedRow, Source, SourceRecord
from gridweave.linkage.models import (
    GoldenMerge,
    LinkageRun,
    LinkDecision,
    PersonBlockKey,
    PersonFeature,
    ReviewItem,
)
from gridweave.registry.models import (
    Building,
    CityComponent,
    Household,
    LegalEntity,
    Person,
    Room,
)
from gridweave.sharing.models import Account, ApiToken, AuditEntry, AuditHead

__all__ = [
    "Account",
    "ApiToken",
    "Area",
    "AuditEntry",
    "AuditHead",
    "Batch",
    "Building",
    "CityComponent",
    "GoldenMerge",
    "Household",
    "LegalEntity",
    "LinkDecision",
    "LinkageRun",
    "Person",
    "PersonBlockKey",
    "PersonFeature",
    "QuarantinedRow",
    "ReviewItem",
    "Room",
    "Source",
    "SourceRecord",
]
