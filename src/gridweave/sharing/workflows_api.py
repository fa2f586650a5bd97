"""Routes of the sharing workflows: applications and grants, consent, correction requests.
Thin: each calls one service function (sharing/applications.py, consents.py, corrections.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from gridweave.registry.attributes import ATTRIBUTES, EntityType
from gridweave.sharing import applications, catalog, consents, corrections
from gridweave.sharing.deps import AppSettings, AuditTrail, CurrentUser, Db, Lang, UnitOfWorkRoute
from gridweave.sharing.models import Application, ConsentRecord
from gridweave.sharing.purposes import purposes
from gridweave.sharing.schemas import (
    AcceptIn,
    ApplicationIn,
    ApplicationOut,
    ApprovalIn,
    ConsentOut,
    ConsentRequestIn,
    CorrectionIn,
    CorrectionOut,
    ReasonIn,
)

router = APIRouter(route_class=UnitOfWorkRoute)

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
ApplicationStatus = Literal["pending", "approved", "refused", "revoked", "withdrawn", "expired"]
ConsentStatus = Literal["pending", "granted", "refused", "revoked", "withdrawn", "spent", "expired"]
CorrectionStatus = Literal["pending", "accepted", "rejected"]


def _application_out(a: Application) -> ApplicationOut:
    return ApplicationOut(
        id=a.id,
        resource=a.resource,
        provider=a.provider,
        department=a.department,
        requested_by=a.requested_by_name,
        purpose=a.purpose,
        fields=[f"{e}.{n}" for e, n in a.fields],
        reason=a.reason,
        valid_from=a.valid_from,
        valid_until=a.valid_until,
        status=applications.status_of(a),
        decided_by=a.decided_by_name,
        decided_at=a.decided_at,
        decision_note=a.decision_note,
        revoked_at=a.revoked_at,
        created_at=a.created_at,
    )


@router.post("/applications", tags=["applications"], status_code=201)
def submit_application(
    body: ApplicationIn, db: Db, user: CurrentUser, trail: AuditTrail
) -> ApplicationOut:
    """Apply for fields of a resource shared on approval (有条件共享), for a purpose and period."""
    found = applications.submit(
        db,
        actor=user,
        trail=trail,
        resource=body.resource,
        purpose=body.purpose,
        fields=body.fields,
        reason=body.reason,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
    )
    return _application_out(found)


@router.get("/applications", tags=["applications"])
def list_applications(
    db: Db, user: CurrentUser, trail: AuditTrail, status: ApplicationStatus | None = None
) -> list[ApplicationOut]:
    """Applications the caller's department made or must decide, newest first."""
    found = applications.list_applications(db, actor=user, trail=trail, status=status)
    return [_application_out(a) for a in found]


@router.get("/applications/{application_id}", tags=["applications"])
def show_application(application_id: Id, db: Db, user: CurrentUser) -> ApplicationOut:
    """One application of or to the caller's department."""
    return _application_out(
        applications.get_application(db, actor=user, application_id=application_id)
    )


@router.post("/applications/{application_id}/approve", tags=["applications"])
def approve_application(
    application_id: Id, body: ApprovalIn, db: Db, user: CurrentUser, trail: AuditTrail
) -> ApplicationOut:
    """The providing department approves: a grant the gate honours until it expires."""
    found = applications.approve(
        db,
        actor=user,
        trail=trail,
        application_id=application_id,
        valid_until=body.valid_until,
        note=body.note,
    )
    return _application_out(found)


@router.post("/applications/{application_id}/refuse", tags=["applications"])
def refuse_application(
    application_id: Id, body: ReasonIn, db: Db, user: CurrentUser, trail: AuditTrail
) -> ApplicationOut:
    """The providing department refuses, with a reason."""
    found = applications.refuse(
        db, actor=user, trail=trail, application_id=application_id, reason=body.reason
    )
    return _application_out(found)


@router.post("/applications/{application_id}/revoke", tags=["applications"])
def revoke_grant(
    application_id: Id, body: ReasonIn, db: Db, user: CurrentUser, trail: AuditTrail
) -> ApplicationOut:
    """The providing department withdraws a grant in force."""
    found = applications.revoke(
        db, actor=user, trail=trail, application_id=application_id, reason=body.reason
    )
    return _application_out(found)


@router.post("/applications/{application_id}/withdraw", tags=["applications"])
def withdraw_application(
    application_id: Id, body: ReasonIn, db: Db, user: CurrentUser, trail: AuditTrail
) -> ApplicationOut:
    """The applying department withdraws a pending application, or gives up its grant before
    the grant runs out; the provider is told why."""
    found = applications.withdraw(
        db, actor=user, trail=trail, application_id=application_id, reason=body.reason
    )
    return _application_out(found)


def _consent_out(db: Session, c: ConsentRecord, lang: str) -> ConsentOut:
    purpose = purposes().get(c.purpose)
    return ConsentOut(
        id=c.id,
        person_id=c.person_id,
        department=c.department,
        department_label=catalog.department_label(db, c.department, lang),
        requested_by=c.requested_by_name,
        purpose=c.purpose,
        purpose_label=purpose.label(lang) if purpose else None,
        fields=c.fields,
        reason=c.reason,
        valid_until=c.valid_until,
        single_use=c.single_use,
        by_guardian=c.by_guardian,
        status=consents.status_of(c),
        decided_at=c.decided_at,
        revoked_at=c.revoked_at,
        uses=c.uses,
        created_at=c.created_at,
    )


@router.post("/consents", tags=["consent"], status_code=201)
def request_consent(
    body: ConsentRequestIn,
    db: Db,
    user: CurrentUser,
    trail: AuditTrail,
    settings: AppSettings,
    lang: Lang,
) -> ConsentOut:
    """Ask a person (a child's guardians) for consent; they are told through the outbox."""
    found = consents.request_consent(
        db,
        actor=user,
        trail=trail,
        person_id=body.person_id,
        purpose=body.purpose,
        fields=body.fields,
        reason=body.reason,
        valid_until=body.valid_until,
        single_use=body.single_use,
        timezone=settings.timezone,
    )
    return _consent_out(db, found, lang)


@router.get("/consents", tags=["consent"])
def department_consents(
    db: Db, user: CurrentUser, trail: AuditTrail, lang: Lang, status: ConsentStatus | None = None
) -> list[ConsentOut]:
    """The consent requests the caller's department made, newest first."""
    found = consents.for_department(db, actor=user, trail=trail, status=status)
    return [_consent_out(db, c, lang) for c in found]


@router.post("/consents/{consent_id}/withdraw", tags=["consent"])
def withdraw_consent(
    consent_id: Id, body: ReasonIn, db: Db, user: CurrentUser, trail: AuditTrail, lang: Lang
) -> ConsentOut:
    """The requesting department withdraws a pending request, or gives up a granted consent it
    no longer needs; those who answer for the person are told why."""
    found = consents.withdraw(
        db, actor=user, trail=trail, consent_id=consent_id, reason=body.reason
    )
    return _consent_out(db, found, lang)


@router.get("/me/consents", tags=["resident"])
def my_consents(db: Db, user: CurrentUser, trail: AuditTrail, lang: Lang) -> list[ConsentOut]:
    """Consent requests about the resident, or that they answer for a child."""
    return [_consent_out(db, c, lang) for c in consents.for_resident(db, actor=user, trail=trail)]


def _answer(
    db: Db, user: CurrentUser, trail: AuditTrail, settings: AppSettings, consent_id: int, what: str
) -> ConsentRecord:
    return consents.answer(
        db,
        actor=user,
        trail=trail,
        consent_id=consent_id,
        decision=what,
        timezone=settings.timezone,
    )


@router.post("/me/consents/{consent_id}/grant", tags=["resident"])
def grant_consent(
    consent_id: Id,
    db: Db,
    user: CurrentUser,
    trail: AuditTrail,
    settings: AppSettings,
    lang: Lang,
) -> ConsentOut:
    """Grant a consent request (the person, or a guardian for a child under 14)."""
    return _consent_out(db, _answer(db, user, trail, settings, consent_id, "grant"), lang)


@router.post("/me/consents/{consent_id}/refuse", tags=["resident"])
def refuse_consent(
    consent_id: Id,
    db: Db,
    user: CurrentUser,
    trail: AuditTrail,
    settings: AppSettings,
    lang: Lang,
) -> ConsentOut:
    """Refuse a consent request."""
    return _consent_out(db, _answer(db, user, trail, settings, consent_id, "refuse"), lang)


@router.post("/me/consents/{consent_id}/revoke", tags=["resident"])
def revoke_consent(
    consent_id: Id,
    db: Db,
    user: CurrentUser,
    trail: AuditTrail,
    settings: AppSettings,
    lang: Lang,
) -> ConsentOut:
    """Withdraw a granted consent: reads that relied on it are refused from now on."""
    return _consent_out(db, _answer(db, user, trail, settings, consent_id, "revoke"), lang)


def _correction_out(item: corrections.InboxItem, lang: str) -> CorrectionOut:
    r = item.request
    spec = ATTRIBUTES[EntityType.person][r.attribute]
    return CorrectionOut(
        id=r.id,
        person_id=r.person_id,
        attribute=r.attribute,
        label=spec.en if lang == "en" else spec.zh,
        shown=item.outcome,
        disputed_value=item.disputed_value,
        proposed_value=item.proposed_value,
        reason=r.reason,
        department=r.department,
        source=r.source,
        status=r.status,
        corrected_value=item.corrected_value if item.outcome == "allow" else None,
        answer=r.answer,
        answered_at=r.answered_at,
        created_at=r.created_at,
    )


@router.post("/me/corrections", tags=["resident"], status_code=201)
def request_correction(
    body: CorrectionIn, db: Db, user: CurrentUser, trail: AuditTrail, lang: Lang
) -> CorrectionOut:
    """Dispute a value of one's own record; it goes to the department that supplied it."""
    found = corrections.request_correction(
        db,
        actor=user,
        trail=trail,
        attribute=body.attribute,
        proposed_value=body.proposed_value,
        reason=body.reason,
    )
    return _correction_out(corrections.opened(db, found), lang)


@router.get("/me/corrections", tags=["resident"])
def my_corrections(db: Db, user: CurrentUser, trail: AuditTrail, lang: Lang) -> list[CorrectionOut]:
    """The resident's correction requests: status and the department's answer."""
    return [_correction_out(i, lang) for i in corrections.for_resident(db, actor=user, trail=trail)]


@router.get("/corrections", tags=["corrections"])
def correction_inbox(
    db: Db,
    user: CurrentUser,
    trail: AuditTrail,
    lang: Lang,
    status: CorrectionStatus | None = "pending",
    limit: Annotated[int, Query(ge=1, le=50)] = 50,
) -> list[CorrectionOut]:
    """The department's inbox of correction requests, values shown as the gate allows."""
    items = corrections.inbox(db, actor=user, trail=trail, status=status, limit=limit)
    return [_correction_out(i, lang) for i in items]


@router.post("/corrections/{correction_id}/accept", tags=["corrections"])
def accept_correction(
    correction_id: Id, body: AcceptIn, db: Db, user: CurrentUser, trail: AuditTrail, lang: Lang
) -> CorrectionOut:
    """Accept: the department has corrected its own record and notes the corrected value."""
    found = corrections.accept(
        db,
        actor=user,
        trail=trail,
        correction_id=correction_id,
        corrected_value=body.corrected_value,
        note=body.note,
    )
    return _correction_out(
        corrections.InboxItem(
            found, "allow", None, None, corrections.opened(db, found).corrected_value
        ),
        lang,
    )


@router.post("/corrections/{correction_id}/reject", tags=["corrections"])
def reject_correction(
    correction_id: Id, body: ReasonIn, db: Db, user: CurrentUser, trail: AuditTrail, lang: Lang
) -> CorrectionOut:
    """Reject, with the reason the resident will see."""
    found = corrections.reject(
        db, actor=user, trail=trail, correction_id=correction_id, reason=body.reason
    )
    return _correction_out(corrections.InboxItem(found, "deny", None, None), lang)
