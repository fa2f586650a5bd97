"""The API's shapes (Pydantic v2): what goes in and what comes out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, Field

# no control characters: PostgreSQL refuses NUL in text, and none belongs in these inputs
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=60, pattern=PRINTABLE)
    password: str = Field(min_length=1, max_length=200)


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class AccountOut(BaseModel):
    username: str
    role: str
    role_label: str | None
    department: str | None
    area_code: str | None
    person_id: int | None


class PurposeOut(BaseModel):
    code: str
    label: str
    confidential: bool
    fields: list[str] | None


class CatalogAttributeOut(BaseModel):
    entity: str
    role: str
    attribute: str
    label: str
    sensitivity: str
    owners: list[str] = Field(
        description="the departments whose domain the field is; `*`: every department"
    )


class CatalogEntryOut(BaseModel):
    name: str
    title: str
    department_code: str
    department_name: str
    topic: str
    update_frequency: str
    sharing: str
    sharing_label: str
    condition: str | None
    batches: int
    attributes: list[CatalogAttributeOut] = Field(default_factory=list)


class RecordOut(BaseModel):
    """A golden record as the gate let the caller see it."""

    entity: str
    id: int
    outcome: str = Field(description="allow, or mask when any field is shown masked")
    purpose: str | None = None
    values: dict[str, Any] = Field(description="field → value, or its masked form")
    masked: list[str] = Field(description="fields shown masked")
    denied: list[str] = Field(description="fields withheld")


class ProvenanceOut(BaseModel):
    attribute: str
    label: str
    value: Any
    department: str | None
    source: str | None
    observed_at: str | None
    claims: list[dict[str, Any]]


class MyDataOut(BaseModel):
    record: RecordOut
    provenance: list[ProvenanceOut]


class AccessOut(BaseModel):
    """One access to a resident's data, as their data tracker shows it."""

    at: datetime
    entity: str | None = Field(None, description="person, or household: the resident's own")
    department: str | None
    department_label: str | None
    role: str | None
    role_label: str | None
    purpose: str | None
    purpose_label: str | None
    outcome: str
    fields: list[str] = Field(description="fields shown, whole or masked")


class AuditEntryOut(BaseModel):
    seq: int
    at: datetime
    action: str
    actor_name: str
    actor_role: str | None
    actor_department: str | None
    actor_area: str | None
    entity_type: str | None
    record_id: int | None
    person_id: int | None
    purpose: str | None
    outcome: str
    fields: dict[str, str] | None
    detail: dict[str, Any] | None
    request_id: str | None
    withheld_until: datetime | None
    algorithm: str
    prev_hash: str
    hash: str


class ProblemOut(BaseModel):
    seq: int
    kind: str
    message: str


class VerificationOut(BaseModel):
    ok: bool
    entries: int
    problems: list[ProblemOut]


class ErrorOut(BaseModel):
    code: str
    message: str


Text = Annotated[str, Field(min_length=1, max_length=2000, pattern=PRINTABLE)]
FieldName = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[a-z_]+(\.[a-z_]+)?$")]


class ApplicationIn(BaseModel):
    """An application for fields of a resource shared on approval."""

    resource: str = Field(pattern=r"^[a-z][a-z0-9_]{1,62}$", description="a catalog entry's name")
    purpose: str = Field(pattern=r"^[a-z_]{1,60}$")
    fields: list[FieldName] = Field(
        min_length=1, max_length=100, description="`attribute` or `entity.attribute`"
    )
    reason: Text
    valid_from: AwareDatetime | None = Field(None, description="default: now")
    valid_until: AwareDatetime


class ApprovalIn(BaseModel):
    valid_until: AwareDatetime | None = Field(
        None, description="shorten the period asked for (default: as asked)"
    )
    note: str | None = Field(None, min_length=1, max_length=2000, pattern=PRINTABLE)


class ReasonIn(BaseModel):
    reason: Text


class ApplicationOut(BaseModel):
    id: int
    resource: str
    provider: str
    department: str
    requested_by: str
    purpose: str
    fields: list[str]
    reason: str
    valid_from: datetime
    valid_until: datetime
    status: str = Field(
        description="pending, approved, refused, revoked (by the provider), withdrawn (by the"
        " applicant) or expired"
    )
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    revoked_at: datetime | None
    created_at: datetime


class ConsentRequestIn(BaseModel):
    person_id: int = Field(ge=1, le=2**62)
    purpose: str = Field(pattern=r"^[a-z_]{1,60}$")
    fields: list[FieldName] = Field(min_length=1, max_length=50)
    reason: Text
    valid_until: AwareDatetime
    single_use: bool = False


class ConsentOut(BaseModel):
    id: int
    person_id: int
    department: str
    department_label: str | None
    requested_by: str
    purpose: str
    purpose_label: str | None
    fields: list[str]
    reason: str
    valid_until: datetime
    single_use: bool
    by_guardian: bool = Field(description="asked of the person's guardians: under 14 when asked")
    status: str = Field(
        description="pending, granted, refused, revoked (by the person), withdrawn (by the"
        " department), spent or expired"
    )
    decided_at: datetime | None
    revoked_at: datetime | None
    uses: int
    created_at: datetime


class CorrectionIn(BaseModel):
    attribute: str = Field(pattern=r"^[a-z_]{1,60}$")
    proposed_value: str | None = Field(None, min_length=1, max_length=300, pattern=PRINTABLE)
    reason: Text


class AcceptIn(BaseModel):
    corrected_value: str = Field(min_length=1, max_length=300, pattern=PRINTABLE)
    note: str | None = Field(None, min_length=1, max_length=2000, pattern=PRINTABLE)


class CorrectionOut(BaseModel):
    id: int
    person_id: int
    attribute: str
    label: str
    shown: str = Field(description="how the gate let the values be shown: allow, mask or deny")
    disputed_value: str | None
    proposed_value: str | None
    reason: str
    department: str
    source: str
    status: str = Field(description="pending, accepted or rejected")
    corrected_value: str | None
    answer: str | None
    answered_at: datetime | None
    created_at: datetime
