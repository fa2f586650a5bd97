"""Applications for resources shared on approval (有条件共享), their approval, and the grants
they become.

A department officer (or a department's system) applies for fields of a catalog resource for
a purpose and a period; an officer of the providing department approves (possibly for a
shorter period) or refuses with a reason; an approved application is a grant the gate honours
until it expires or the provider revokes it (sharing/permits.py loads it). Each step is audited
and announced in the outbox in the same transaction as the change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gridweave.core import clock
from gridweave.messages import service as messages
from gridweave.sharing import access, audit, catalog
from gridweave.sharing.errors import SharingError, forbidden, invalid
from gridweave.sharing.gate import Actor
from gridweave.sharing.models import Application
from gridweave.sharing.purposes import Purpose, purposes

MAX_PERIOD = timedelta(days=366)  # a grant is reviewed at least yearly
STATUSES = ("pending", "approved", "refused", "revoked", "withdrawn", "expired")


def status_of(application: Application, now: datetime | None = None) -> str:
    """pending, approved, refused, revoked, or expired (approved, its period over)."""
    now = now or clock.now()
    if application.status == "approved" and application.valid_until <= now:
        return "expired"
    return application.status


def in_force(application: Application, now: datetime | None = None) -> bool:
    """Does the gate honour this application now?"""
    now = now or clock.now()
    return application.status == "approved" and application.valid_from <= now < (
        application.valid_until
    )


def _officer(session: Session, actor: Actor, trail: audit.Trail, action: str) -> str:
    return access.require_officer(
        session,
        actor=actor,
        trail=trail,
        action=action,
        en="only a department officer (or a department's system) may do this",
        zh="只有部门工作人员（或部门系统）可以进行此操作",
    )


def _purpose(session: Session, actor: Actor, trail: audit.Trail, code: str) -> Purpose:
    found = purposes().get(code)
    if found is None:
        raise invalid(
            "unknown_purpose",
            f"unknown purpose {code!r}: see GET /purposes for yours",
            f"未知的使用目的 {code!r}，可用目的见 GET /purposes",
        )
    if not found.permits(actor.role, actor.department):
        event = audit.Event("application.submitted", "deny", purpose=code)
        event.detail = {"reason": "purpose_not_allowed"}
        audit.append(session, actor=actor, events=[event], trail=trail)
        raise forbidden(
            "purpose_not_allowed",
            f"your department may not name the purpose {code!r}",
            f"您的部门不能以“{found.zh}”为使用目的",
        )
    return found


def resolve_fields(entry: catalog.CatalogEntry, wanted: Sequence[str]) -> list[list[str]]:
    """[entity, attribute] of each wanted field of a resource: `attribute` or `entity.attribute`."""
    out: list[list[str]] = []
    for name in wanted:
        entity, _, attribute = name.rpartition(".")
        matches = sorted(
            {
                (a.entity, a.attribute)
                for a in entry.attributes
                if a.attribute == attribute and entity in ("", a.entity)
            }
        )
        if not matches:
            offered = ", ".join(sorted({f"{a.entity}.{a.attribute}" for a in entry.attributes}))
            raise invalid(
                "unknown_field",
                f"the resource {entry.name} has no field {name!r}; it offers: {offered}",
                f"资源 {entry.name} 没有字段 {name!r}，可申请的字段：{offered}",
            )
        if len(matches) > 1:
            choices = ", ".join(f"{e}.{a}" for e, a in matches)
            raise invalid(
                "ambiguous_field",
                f"{name!r} is in several entities of {entry.name}: name one of {choices}",
                f"字段 {name!r} 在资源 {entry.name} 的多个实体中，请写明：{choices}",
            )
        if list(matches[0]) not in out:
            out.append(list(matches[0]))
    return out


def submit(
    session: Session,
    *,
    actor: Actor,
    trail: audit.Trail,
    resource: str,
    purpose: str,
    fields: Sequence[str],
    reason: str,
    valid_until: datetime,
    valid_from: datetime | None = None,
) -> Application:
    """Apply for fields of a resource shared on approval, for a purpose and a period."""
    department = _officer(session, actor, trail, "application.submitted")
    entry = catalog.catalog_entry(session, resource)  # not_found names the registered sources
    if entry.sharing == "not_shared":
        raise invalid(
            "not_shared",
            f"{entry.name} is not shared (不予共享): it cannot be applied for",
            f"资源 {entry.name} 属于不予共享类，不能申请",
        )
    if entry.sharing == "shared_freely":
        raise invalid(
            "shared_freely",
            f"{entry.name} is shared freely (无条件共享): no application is needed",
            f"资源 {entry.name} 属于无条件共享类，无需申请",
        )
    if entry.department_code == department:
        raise invalid(
            "own_resource",
            f"{entry.name} is your own department's resource",
            f"资源 {entry.name} 由本部门提供，无需申请",
        )
    chosen = _purpose(session, actor, trail, purpose)
    resolved = resolve_fields(entry, fields)
    uncovered = [f"{e}.{a}" for e, a in resolved if not chosen.covers(a)]
    if uncovered:
        raise invalid(
            "purpose_does_not_cover",
            f"the purpose {chosen.code} does not reach {', '.join(uncovered)}",
            f"使用目的“{chosen.zh}”不涉及字段：{', '.join(uncovered)}",
        )
    now = clock.now()
    start = valid_from or now
    _check_period(start, valid_until, now)
    application = Application(
        resource=entry.name,
        provider=entry.department_code,
        department=department,
        requested_by=actor.account_id,
        requested_by_name=actor.username,
        purpose=chosen.code,
        fields=resolved,
        reason=reason,
        valid_from=start,
        valid_until=valid_until,
        status="pending",
        created_at=now,
    )
    session.add(application)
    session.flush()
    _record(session, actor, trail, "application.submitted", application)
    messages.enqueue(
        session,
        event="ApplicationSubmitted",
        recipient_kind="department",
        recipient=application.provider,
        payload=_payload(application),
    )
    return application


def _check_period(start: datetime, until: datetime, now: datetime) -> None:
    if until <= start or until <= now:
        raise invalid(
            "invalid_period",
            "valid_until must be after valid_from and in the future",
            "有效期截止时间须晚于开始时间且晚于当前时间",
        )
    if until - start > MAX_PERIOD:
        raise invalid(
            "invalid_period",
            f"a grant lasts at most {MAX_PERIOD.days} days: apply again to renew it",
            f"共享授权最长 {MAX_PERIOD.days} 天，到期后请重新申请",
        )


def _payload(application: Application) -> dict[str, object]:
    return {
        "application_id": application.id,
        "resource": application.resource,
        "provider": application.provider,
        "department": application.department,
        "purpose": application.purpose,
        "fields": [f"{e}.{a}" for e, a in application.fields],
        "valid_from": application.valid_from.isoformat(),
        "valid_until": application.valid_until.isoformat(),
        "status": application.status,
        "note": application.decision_note,
    }


def _record(
    session: Session,
    actor: Actor,
    trail: audit.Trail,
    action: str,
    application: Application,
    reason: str | None = None,
) -> None:
    detail = {
        "application_id": application.id,
        "resource": application.resource,
        "department": application.department,
        "fields": [f"{e}.{a}" for e, a in application.fields],
        "valid_until": application.valid_until.isoformat(),
    }
    if application.decision_note:
        detail["note"] = application.decision_note
    if reason is not None:
        detail["reason"] = reason
    event = audit.Event(action, "ok", purpose=application.purpose, detail=detail)
    audit.append(session, actor=actor, events=[event], trail=trail)


def list_applications(
    session: Session,
    *,
    actor: Actor,
    trail: audit.Trail,
    status: str | None = None,
    limit: int = 200,
) -> list[Application]:
    """Applications the actor's department made or must decide, newest first (officers only);
    `status` filters, `expired` included."""
    department = _officer(session, actor, trail, "application.listed")
    query = select(Application).where(
        or_(Application.department == department, Application.provider == department)
    )
    now = clock.now()
    if status == "expired":
        query = query.where(Application.status == "approved", Application.valid_until <= now)
    elif status == "approved":
        query = query.where(Application.status == "approved", Application.valid_until > now)
    elif status is not None:
        query = query.where(Application.status == status)
    return list(session.scalars(query.order_by(Application.id.desc()).limit(limit)))


def all_applications(session: Session, *, status: str | None = None) -> list[Application]:
    """Every application, newest first (the console's steward view)."""
    query = select(Application).order_by(Application.id.desc())
    if status is not None and status != "expired":
        query = query.where(Application.status == status)
    found = list(session.scalars(query))
    return [a for a in found if status is None or status_of(a) == status]


def get_application(session: Session, *, actor: Actor, application_id: int) -> Application:
    """One application the actor's department made or provides for; else not found."""
    found = session.get(Application, application_id)
    if found is None or actor.department not in (found.department, found.provider):
        raise SharingError(
            "not_found",
            f"no application {application_id} of or to your department",
            f"没有编号为 {application_id} 的本部门共享申请",
            status=404,
        )
    return found


def _as_provider(
    session: Session, actor: Actor, trail: audit.Trail, application_id: int, action: str
) -> Application:
    department = _officer(session, actor, trail, action)
    application = get_application(session, actor=actor, application_id=application_id)
    if application.provider != department:
        event = audit.Event(action, "deny", detail={"application_id": application_id})
        audit.append(session, actor=actor, events=[event], trail=trail)
        raise forbidden(
            "not_provider",
            f"only {application.provider}, which provides {application.resource}, may do this",
            f"只有资源提供部门（{application.provider}）可以进行此操作",
        )
    return application


def _conflict(application: Application, wanted: str) -> SharingError:
    now_status = status_of(application)
    return SharingError(
        "wrong_status",
        f"application {application.id} is {now_status}, not {wanted}",
        f"共享申请 {application.id} 当前状态为 {now_status}，不是 {wanted}",
        status=409,
    )


def approve(
    session: Session,
    *,
    actor: Actor,
    trail: audit.Trail,
    application_id: int,
    valid_until: datetime | None = None,
    note: str | None = None,
) -> Application:
    """The provider approves: the application becomes a grant until `valid_until` (which may
    shorten, never lengthen, the period asked for)."""
    application = _as_provider(session, actor, trail, application_id, "application.approved")
    if application.status != "pending":
        raise _conflict(application, "pending")
    if valid_until is not None:
        if valid_until > application.valid_until:
            raise invalid(
                "invalid_period",
                "an approval may shorten the period asked for, not lengthen it",
                "审批只能缩短、不能延长申请的有效期",
            )
        _check_period(application.valid_from, valid_until, clock.now())
        application.valid_until = valid_until
    elif application.valid_until <= clock.now():
        raise _conflict(application, "within its period")
    return _decide(session, actor, trail, application, "approved", note, "ApplicationApproved")


def refuse(
    session: Session, *, actor: Actor, trail: audit.Trail, application_id: int, reason: str
) -> Application:
    """The provider refuses, with a reason the applicant sees."""
    application = _as_provider(session, actor, trail, application_id, "application.refused")
    if application.status != "pending":
        raise _conflict(application, "pending")
    return _decide(session, actor, trail, application, "refused", reason, "ApplicationRefused")


def revoke(
    session: Session, *, actor: Actor, trail: audit.Trail, application_id: int, reason: str
) -> Application:
    """The provider withdraws a grant in force; the gate denies again from now on."""
    application = _as_provider(session, actor, trail, application_id, "grant.revoked")
    if status_of(application) != "approved":
        raise _conflict(application, "approved")
    application.revoked_at = clock.now()
    return _decide(session, actor, trail, application, "revoked", reason, "GrantRevoked")


def withdraw(
    session: Session, *, actor: Actor, trail: audit.Trail, application_id: int, reason: str
) -> Application:
    """The applying department withdraws its application while it is pending, or gives up the
    grant it became before it runs out (its work done: minimum necessity). The gate denies from
    now on, and the provider is told why."""
    department = _officer(session, actor, trail, "application.withdrawn")
    application = get_application(session, actor=actor, application_id=application_id)
    if application.department != department:
        event = audit.Event(
            "application.withdrawn", "deny", detail={"application_id": application_id}
        )
        audit.append(session, actor=actor, events=[event], trail=trail)
        raise forbidden(
            "not_applicant",
            f"only {application.department}, which applied, may withdraw application"
            f" {application.id}",
            f"只有申请部门（{application.department}）可以撤回该申请",
        )
    was = status_of(application)
    if was not in ("pending", "approved"):
        raise _conflict(application, "pending or approved")
    if was == "approved":
        application.revoked_at = clock.now()  # the grant ends now
    application.status = "withdrawn"
    session.flush()
    _record(session, actor, trail, "application.withdrawn", application, reason=reason)
    messages.enqueue(
        session,
        event="ApplicationWithdrawn",
        recipient_kind="department",
        recipient=application.provider,
        payload=_payload(application) | {"reason": reason, "was": was},
    )
    return application


def _decide(
    session: Session,
    actor: Actor,
    trail: audit.Trail,
    application: Application,
    status: str,
    note: str | None,
    event: str,
) -> Application:
    application.status = status
    application.decision_note = note
    if status != "revoked":
        application.decided_by_name = actor.username
        application.decided_at = clock.now()
    session.flush()
    action = "grant.revoked" if status == "revoked" else f"application.{status}"
    _record(session, actor, trail, action, application)
    messages.enqueue(
        session,
        event=event,
        recipient_kind="department",
        recipient=application.department,
        payload=_payload(application),
    )
    return application
