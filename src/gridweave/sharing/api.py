"""Routes of the sharing gate: sign-in, the catalog, purposes, the resident's own data and
tracker, and the audit log. Thin: each calls one service function."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime

from gridweave.registry.attributes import ATTRIBUTES, EntityType
from gridweave.sharing import access, audit, catalog, identities, service
from gridweave.sharing.deps import (
    AppSettings,
    AuditTrail,
    Credentials,
    CurrentUser,
    Db,
    Lang,
    UnitOfWorkRoute,
)
from gridweave.sharing.purposes import allowed_purposes, purposes
from gridweave.sharing.roles import Role, label
from gridweave.sharing.schemas import (
    PRINTABLE,
    AccessOut,
    AccountOut,
    AuditEntryOut,
    CatalogAttributeOut,
    CatalogEntryOut,
    LoginRequest,
    MyDataOut,
    PasswordChange,
    ProvenanceOut,
    PurposeOut,
    RecordOut,
    TokenOut,
    VerificationOut,
)

router = APIRouter(route_class=UnitOfWorkRoute)


@router.post("/auth/token", tags=["auth"])
def login(body: LoginRequest, db: Db, settings: AppSettings, trail: AuditTrail) -> TokenOut:
    """Sign in with a username and password; returns a bearer token for the session."""
    token, row = identities.login(
        db, trail=trail, settings=settings, username=body.username, password=body.password
    )
    return TokenOut(access_token=token, expires_at=row.expires_at)


@router.post("/auth/logout", tags=["auth"], status_code=204)
def logout(
    db: Db, user: CurrentUser, settings: AppSettings, trail: AuditTrail, credentials: Credentials
) -> None:
    """End this session: its token stops working."""
    assert credentials is not None  # CurrentUser has already refused a missing token
    identities.logout(db, actor=user, trail=trail, settings=settings, token=credentials.credentials)


@router.post("/me/password", tags=["auth"], status_code=204)
def change_password(
    body: PasswordChange,
    db: Db,
    user: CurrentUser,
    settings: AppSettings,
    trail: AuditTrail,
    credentials: Credentials,
) -> None:
    """Change your password (the current one is asked for; wrong ones count towards the
    lockout). Your other sessions end; this one goes on."""
    assert credentials is not None  # CurrentUser has already refused a missing token
    identities.change_password(
        db,
        actor=user,
        trail=trail,
        settings=settings,
        token=credentials.credentials,
        current=body.current_password,
        new=body.new_password,
    )


@router.get("/me", tags=["auth"])
def me(user: CurrentUser, lang: Lang) -> AccountOut:
    """Who the token belongs to: role, department, area scope."""
    return AccountOut(
        username=user.username,
        role=user.role.value,
        role_label=label(user.role, lang),
        department=user.department,
        area_code=user.area_code,
        person_id=user.person_id,
    )


@router.get("/purposes", tags=["catalog"])
def my_purposes(user: CurrentUser, lang: Lang) -> list[PurposeOut]:
    """The purposes of use the caller's role (and department) may name."""
    return [
        PurposeOut(
            code=p.code,
            label=p.label(lang),
            confidential=p.confidential,
            fields=sorted(p.fields) if p.fields is not None else None,
        )
        for p in allowed_purposes(user.role, user.department)
    ]


def _catalog_out(entry: catalog.CatalogEntry, lang: str) -> CatalogEntryOut:
    return CatalogEntryOut(
        name=entry.name,
        title=entry.title,
        department_code=entry.department_code,
        department_name=entry.department_name,
        topic=entry.topic,
        update_frequency=entry.update_frequency,
        sharing=entry.sharing,
        sharing_label=catalog.SHARING_LABELS[entry.sharing][1 if lang == "en" else 0],
        condition=entry.condition,
        batches=entry.batches,
        attributes=[
            CatalogAttributeOut(
                entity=a.entity,
                role=a.role,
                attribute=a.attribute,
                label=a.en if lang == "en" else a.zh,
                sensitivity=a.sensitivity,
                owners=list(a.owners),
            )
            for a in entry.attributes
        ],
    )


@router.get("/catalog", tags=["catalog"])
def list_catalog(db: Db, user: CurrentUser, lang: Lang) -> list[CatalogEntryOut]:
    """The resource catalog: every source, its department, topic, sharing condition, attributes."""
    return [_catalog_out(e, lang) for e in catalog.list_catalog(db)]


@router.get("/catalog/{name}", tags=["catalog"])
def show_catalog_entry(
    name: Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,62}$")],
    db: Db,
    user: CurrentUser,
    lang: Lang,
) -> CatalogEntryOut:
    """One source's catalog entry."""
    return _catalog_out(catalog.catalog_entry(db, name), lang)


def record_out(shown: access.Shown, purpose: str | None = None) -> RecordOut:
    return RecordOut(
        entity=shown.entity.value,
        id=shown.id,
        outcome=shown.outcome.value,
        purpose=purpose,
        values=shown.values,
        masked=shown.masked,
        denied=shown.denied,
    )


@router.get("/me/data", tags=["resident"])
def my_data(db: Db, user: CurrentUser, trail: AuditTrail, lang: Lang) -> MyDataOut:
    """The resident's own record, and where each value came from (department, source, time)."""
    shown, provenance = service.my_data(db, actor=user, trail=trail)
    labels = ATTRIBUTES[EntityType.person]
    return MyDataOut(
        record=record_out(shown),
        provenance=[
            ProvenanceOut(
                attribute=p.attribute,
                label=labels[p.attribute].en if lang == "en" else labels[p.attribute].zh,
                value=p.value,
                department=p.department,
                source=p.source,
                observed_at=p.observed_at,
                claims=p.claims,
            )
            for p in provenance
        ],
    )


@router.get("/me/accesses", tags=["resident"])
def my_accesses(db: Db, user: CurrentUser, trail: AuditTrail, lang: Lang) -> list[AccessOut]:
    """The data tracker: who read the resident's data, when, for what purpose."""
    out = []
    for e in service.my_accesses(db, actor=user, trail=trail):
        p = purposes().get(e.purpose or "")
        out.append(
            AccessOut(
                at=e.at,
                entity=e.entity_type,
                department=e.actor_department,
                department_label=catalog.department_label(db, e.actor_department, lang),
                role=e.actor_role,
                role_label=label(Role(e.actor_role), lang) if e.actor_role else None,
                purpose=e.purpose,
                purpose_label=p.label(lang) if p else None,
                outcome=e.outcome,
                fields=sorted(k for k, v in (e.fields or {}).items() if v != "deny"),
            )
        )
    return out


@router.get("/audit", tags=["audit"])
def search_audit(
    db: Db,
    user: CurrentUser,
    trail: AuditTrail,
    actor: Annotated[str | None, Query(max_length=100, pattern=PRINTABLE)] = None,
    person_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    action: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_.]+$")] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    after_seq: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEntryOut]:
    """Search the audit log (auditors only)."""
    filters = audit.Filters(actor, person_id, action, since, until)
    entries = service.search_audit(
        db, actor=user, trail=trail, filters=filters, limit=limit, after_seq=after_seq
    )
    return [AuditEntryOut.model_validate(audit.entry_json(e)) for e in entries]


@router.get("/audit/verify", tags=["audit"])
def verify_audit(db: Db, user: CurrentUser, trail: AuditTrail) -> VerificationOut:
    """Walk the audit chain and report every edited, deleted or moved entry (auditors only)."""
    result = service.verify_audit(db, actor=user, trail=trail)
    return VerificationOut.model_validate(
        {"ok": result.ok, "entries": result.entries, "problems": [vars(p) for p in result.problems]}
    )
