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
from gridweave.messages.models import OutboxMessage
from gridweave.registry.models import (
    Building,
    CityComponent,
    Household,
    LegalEntity,
    Person,
    Room,
)
from gridweave.sharing.models import (
    Account,
    ApiToken,
    Application,
    AuditEntry,
    AuditHead,
    ConsentDecider,
    ConsentRecord,
    CorrectionRequest,
)

__all__ = [
    "Account",
    "ApiToken",
    "Application",
    "Area",
    "AuditEntry",
    "AuditHead",
    "Batch",
    "Building",
    "CityComponent",
    "ConsentDecider",
    "ConsentRecord",
    "CorrectionRequest",
    "GoldenMerge",
    "Household",
    "LegalEntity",
    "LinkDecision",
    "LinkageRun",
    "OutboxMessage",
    "Person",
    "PersonBlockKey",
    "PersonFeature",
    "QuarantinedRow",
    "ReviewItem",
    "Room",
    "Source",
    "SourceRecord",
]
