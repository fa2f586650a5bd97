"""The API's shapes (Pydantic v2): what goes in and what comes out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

# no control characters: PostgreSQL refuses NUL in text, and none belongs in these inputs
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=60, pattern=PRINTABLE)
    password: str = Field(min_length=1, max_length=200)


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
    owners: list[str]


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
