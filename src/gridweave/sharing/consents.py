"""Consent: a department asks a person (or, for a child under 14, a guardian) to let it read
fields of their record for a purpose that needs consent; the person grants, refuses, or later
revokes it; the department may withdraw its request, or give up a consent it no longer needs.
The gate honours a granted consent until it expires, is revoked or withdrawn, or — single use —
has been used once (sharing/permits.py). Every step is audited and announced in the outbox in
the same transaction: ConsentRequested and ConsentWithdrawn to each person who may decide,
ConsentGranted / ConsentRefused / ConsentRevoked to the department.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from gridweave.areas import tree
from gridweave.core import clock
from gridweave.messages import service as messages
from gridweave.registry import queries
from gridweave.registry.attributes import ATTRIBUTES, EntityType
from gridweave.registry.models import Person
from gridweave.sharing import access, audit, gate
from gridweave.sharing.applications import MAX_PERIOD
from gridweave.sharing.errors import Refusal, SharingError, forbidden, invalid
from gridweave.sharing.gate import Actor, Subject
from gridweave.sharing.models import ConsentDecider, ConsentRecord
from gridweave.sharing.purposes import purposes
from gridweave.sharing.roles import Role

AGE_OF_CONSENT = 14  # PIPL art. 31: a guardian consents for a child under 14
ADULT = 18
# who in the hukou household register is a child's guardian, by the child's relation to the head
GUARDIANS = {
    "child": frozenset({"head", "spouse"}),
    "grandchild": frozenset({"child"}),  # the head's children: the parents (or their siblings)
    "sibling": frozenset({"parent"}),  # the head's young sibling: their parents
}


def age_on(birth: date, day: date) -> int:
    """Completed years of age on `day`."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def today(timezone: str) -> date:
    """The date now where the platform is (ages change at local midnight)."""
    return clock.now().astimezone(ZoneInfo(timezone)).date()


def status_of(consent: ConsentRecord, now: datetime | None = None) -> str:
    """pending, granted, refused, revoked, withdrawn, spent, or expired (pending or granted,
    its period over)."""
    now = now or clock.now()
    if consent.status in ("granted", "pending") and consent.valid_until <= now:
        return "expired"
    return consent.status


def guardians_of(session: Session, child: Person, day: date) -> list[int]:
    """The adult members of a child's hukou household who are its guardians."""
    relations = GUARDIANS.get(child.relation_to_head or "")
    if not relations or not child.household_number:
        return []
    return [
        m.id
        for m in queries.household_members(session, child.household_number)
        if m.id != child.id
        and m.relation_to_head in relations
        and m.status in (None, "alive")
        and m.birth_date is not None
        and age_on(m.birth_date, day) >= ADULT
    ]


def _officer(
    session: Session, actor: Actor, trail: audit.Trail, action: str = "consent.requested"
) -> str:
    return access.require_officer(
        session,
        actor=actor,
        trail=trail,
        action=action,
        en="only a department officer (or a department's system) may ask for consent",
        zh="只有部门工作人员（或部门系统）可以发起授权请求",
    )


def _not_found(consent_id: int) -> SharingError:
    return SharingError(
        "not_found",
        f"no consent request {consent_id} for you",
        f"没有编号为 {consent_id} 的授权请求",
        status=404,
    )


def request_consent(
    session: Session,
    *,
    actor: Actor,
    trail: audit.Trail,
    person_id: int,
    purpose: str,
    fields: Sequence[str],
    reason: str,
    valid_until: datetime,
    single_use: bool,
    timezone: str = "Asia/Shanghai",
) -> ConsentRecord:
    """Ask a person (a child's guardians) for consent to read these fields for this purpose."""
    department = _officer(session, actor, trail)
    chosen = purposes().get(purpose)
    if chosen is None or not chosen.permits(actor.role, actor.department):
        raise invalid(
            "unknown_purpose",
            f"{purpose!r} is not a purpose your department may name (GET /purposes)",
            f"{purpose!r} 不是本部门可用的使用目的（见 GET /purposes）",
        )
    if not chosen.consent:
        raise invalid(
            "consent_not_needed",
            f"the purpose {purpose} does not rest on consent",
            f"使用目的“{chosen.zh}”无需个人授权",
        )
    known = ATTRIBUTES[EntityType.person]
    unknown = [f for f in fields if f not in known]
    if unknown:
        raise invalid(
            "unknown_field",
            f"a person has no field {', '.join(unknown)}",
            f"人员记录没有字段：{', '.join(unknown)}",
        )
    uncovered = [f for f in fields if not chosen.covers(f)]
    if uncovered:
        raise invalid(
            "purpose_does_not_cover",
            f"the purpose {purpose} does not reach {', '.join(uncovered)}",
            f"使用目的“{chosen.zh}”不涉及字段：{', '.join(uncovered)}",
        )
    now = clock.now()
    if valid_until <= now or valid_until - now > MAX_PERIOD:
        raise invalid(
            "invalid_period",
            f"valid_until must be in the next {MAX_PERIOD.days} days",
            f"有效期截止时间须在今后 {MAX_PERIOD.days} 天之内",
        )
    located = queries.get_located(session, EntityType.person, person_id)
    if located is None:
        raise SharingError(
            "not_found",
            f"no person with id {person_id}",
            f"没有 id 为 {person_id} 的人员",
            status=404,
        )
    person, place = located
    path = place.grids or (tree.root_code(session) or "",)  # an unplaced person: the root
    if not gate.in_scope(actor, Subject(EntityType.person, person.id, path)):
        event = audit.Event("consent.requested", "deny", "person", person.id, person.id)
        event.detail = {"reason": "out_of_scope"}
        audit.append(session, actor=actor, events=[event], trail=trail)
        raise forbidden(
            "out_of_scope",
            f"person {person_id} is outside your area",
            f"该人员不在您的管辖区域内（{person_id}）",
        )
    deciders, by_guardian = _deciders(session, person, today(timezone))
    consent = ConsentRecord(
        person_id=person.id,
        department=department,
        requested_by_name=actor.username,
        purpose=chosen.code,
        fields=sorted(set(fields)),
        reason=reason,
        valid_until=valid_until,
        single_use=single_use,
        by_guardian=by_guardian,
        status="pending",
        uses=0,
        created_at=now,
    )
    session.add(consent)
    session.flush()
    session.add_all(ConsentDecider(consent_id=consent.id, person_id=p) for p in deciders)
    _record(session, actor, trail, "consent.requested", consent)
    for decider in deciders:
        messages.enqueue(
            session,
            event="ConsentRequested",
            recipient_kind="person",
            recipient=decider,
            payload=_payload(consent),
        )
    return consent


def _deciders(session: Session, person: Person, day: date) -> tuple[list[int], bool]:
    """Who answers for this person: themselves, or — under 14 — their guardians."""
    if person.birth_date is None:
        raise SharingError(
            "age_unknown",
            f"person {person.id} has no birth date: whether a guardian must answer is unknown",
            f"该人员（{person.id}）无出生日期，无法确定是否需由监护人授权",
            status=409,
        )
    if age_on(person.birth_date, day) >= AGE_OF_CONSENT:
        return [person.id], False
    guardians = guardians_of(session, person, day)
    if not guardians:
        raise SharingError(
            "no_guardian",
            f"person {person.id} is under {AGE_OF_CONSENT} and the household register names no"
            " adult guardian to answer",
            f"该人员（{person.id}）未满{AGE_OF_CONSENT}周岁，户籍登记中没有可代为授权的成年监护人",
            status=409,
        )
    return guardians, True


def _payload(consent: ConsentRecord) -> dict[str, object]:
    return {
        "consent_id": consent.id,
        "person_id": consent.person_id,
        "department": consent.department,
        "purpose": consent.purpose,
        "fields": consent.fields,
        "valid_until": consent.valid_until.isoformat(),
        "single_use": consent.single_use,
        "by_guardian": consent.by_guardian,
        "status": consent.status,
    }


def _record(
    session: Session,
    actor: Actor,
    trail: audit.Trail,
    action: str,
    consent: ConsentRecord,
    reason: str | None = None,
) -> None:
    detail = {
        "consent_id": consent.id,
        "department": consent.department,
        "fields": consent.fields,
        "valid_until": consent.valid_until.isoformat(),
        "single_use": consent.single_use,
        "by_guardian": consent.by_guardian,
    }
    if reason is not None:
        detail["reason"] = reason
    event = audit.Event(
        action,
        "ok",
        "person",
        consent.person_id,
        person_id=consent.person_id,
        purpose=consent.purpose,
        detail=detail,
    )
    audit.append(session, actor=actor, events=[event], trail=trail)


def _resident(session: Session, actor: Actor, trail: audit.Trail, action: str) -> int:
    if actor.role != Role.resident or actor.person_id is None:
        event = audit.Event(action, "deny", detail={"reason": "forbidden_role"})
        audit.append(session, actor=actor, events=[event], trail=trail)
        raise forbidden("forbidden_role", "only a resident may do this", "只有居民可以进行此操作")
    return actor.person_id


def for_resident(session: Session, *, actor: Actor, trail: audit.Trail) -> list[ConsentRecord]:
    """Consent requests about the resident or that they answer for (a child), newest first."""
    me = _resident(session, actor, trail, "consent.listed")
    deciding = select(ConsentDecider.consent_id).where(ConsentDecider.person_id == me)
    return list(
        session.scalars(
            select(ConsentRecord)
            .where(or_(ConsentRecord.person_id == me, ConsentRecord.id.in_(deciding)))
            .order_by(ConsentRecord.id.desc())
        )
    )


def may_decide(session: Session, consent: ConsentRecord, person_id: int) -> bool:
    """Is this person one of those who answer this request?"""
    return (
        session.get(ConsentDecider, {"consent_id": consent.id, "person_id": person_id}) is not None
    )


def _hand_over(
    session: Session, consent: ConsentRecord, day: date, actor: Actor, trail: audit.Trail
) -> None:
    """A child asked through their guardians answers for themselves from their 14th birthday:
    from then on the person is the one who decides (a pending request is asked of them again; a
    granted one is theirs to revoke). Done by the daily sweep (`hand_over_due`), or by the first
    answer after the birthday if that comes sooner."""
    if not consent.by_guardian or may_decide(session, consent, consent.person_id):
        return
    person = session.get(Person, consent.person_id)
    if person is None or person.birth_date is None:
        return
    if age_on(person.birth_date, day) < AGE_OF_CONSENT:
        return
    session.execute(delete(ConsentDecider).where(ConsentDecider.consent_id == consent.id))
    session.add(ConsentDecider(consent_id=consent.id, person_id=person.id))
    session.flush()
    _record(session, actor, trail, "consent.handed_over", consent)
    if status_of(consent) == "pending":
        messages.enqueue(
            session,
            event="ConsentRequested",
            recipient_kind="person",
            recipient=person.id,
            payload=_payload(consent) | {"now_of_age": True},
        )


def _guards(session: Session, guardian: int, child: int, day: date) -> bool:
    """Is `guardian` one of the child's guardians by the household register?"""
    person = session.get(Person, child)
    return person is not None and guardian in guardians_of(session, person, day)


def answer(
    session: Session,
    *,
    actor: Actor,
    trail: audit.Trail,
    consent_id: int,
    decision: str,
    timezone: str = "Asia/Shanghai",
) -> ConsentRecord:
    """The person (or a guardian, while the person is under 14) grants, refuses, or revokes a
    consent."""
    if decision not in ("grant", "refuse", "revoke"):
        raise ValueError(f"unknown consent decision {decision!r}")
    status = {"grant": "granted", "refuse": "refused", "revoke": "revoked"}[decision]
    me = _resident(session, actor, trail, f"consent.{status}")
    consent = session.get(ConsentRecord, consent_id)
    if consent is None:
        raise _not_found(consent_id)
    day = today(timezone)
    _hand_over(session, consent, day, actor, trail)
    if not may_decide(session, consent, me):
        if not (consent.by_guardian and _guards(session, me, consent.person_id, day)):
            raise _not_found(consent_id)
        event = audit.Event(
            f"consent.{status}",
            "deny",
            "person",
            consent.person_id,
            person_id=consent.person_id,
            purpose=consent.purpose,
            detail={"consent_id": consent.id, "reason": "now_of_age"},
        )
        audit.append(session, actor=actor, events=[event], trail=trail)
        raise Refusal(
            "now_of_age",
            f"person {consent.person_id} has turned {AGE_OF_CONSENT}: they answer consent"
            f" request {consent.id} themselves now",
            f"该人员已年满{AGE_OF_CONSENT}周岁，授权请求 {consent.id} 改由本人答复",
            status=409,
        )
    now_status = status_of(consent)
    wanted = "granted" if decision == "revoke" else "pending"
    if now_status != wanted:
        raise SharingError(
            "wrong_status",
            f"consent request {consent_id} is {now_status}, not {wanted}",
            f"授权请求 {consent_id} 当前状态为 {now_status}，不是 {wanted}",
            status=409,
        )
    now = clock.now()
    consent.status = status
    if decision == "revoke":
        consent.revoked_at = now
    else:
        consent.decided_by_person = me
        consent.decided_at = now
    session.flush()
    _record(session, actor, trail, f"consent.{status}", consent)
    messages.enqueue(
        session,
        event=f"Consent{status.capitalize()}",
        recipient_kind="department",
        recipient=consent.department,
        payload=_payload(consent) | {"decided_by_guardian": consent.by_guardian},
    )
    return consent


def hand_over_due(
    session: Session, *, actor: Actor, trail: audit.Trail, timezone: str = "Asia/Shanghai"
) -> int:
    """Hand every pending or granted request that guardians answer for a child who has turned
    14 to the child (run daily: `gridweave consents hand-over`). Returns how many."""
    day = today(timezone)
    born_by = _years_before(day, AGE_OF_CONSENT)
    child_decides = select(ConsentDecider.consent_id).where(
        ConsentDecider.consent_id == ConsentRecord.id,
        ConsentDecider.person_id == ConsentRecord.person_id,
    )
    due = session.scalars(
        select(ConsentRecord)
        .join(Person, Person.id == ConsentRecord.person_id)
        .where(
            ConsentRecord.by_guardian.is_(True),
            ConsentRecord.status.in_(("pending", "granted")),
            ConsentRecord.valid_until > clock.now(),
            Person.birth_date <= born_by,
            ~child_decides.exists(),
        )
        .order_by(ConsentRecord.id)
    ).all()
    for consent in due:
        _hand_over(session, consent, day, actor, trail)
    return len(due)


def _years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (28 February for a 29 February that year lacks)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def withdraw(
    session: Session, *, actor: Actor, trail: audit.Trail, consent_id: int, reason: str
) -> ConsentRecord:
    """The requesting department withdraws its request while it is pending, or gives up a
    granted consent it no longer needs; those who answer for the person are told why."""
    department = _officer(session, actor, trail, "consent.withdrawn")
    consent = session.get(ConsentRecord, consent_id)
    if consent is None or consent.department != department:
        raise _not_found(consent_id)
    was = status_of(consent)
    if was not in ("pending", "granted"):
        raise SharingError(
            "wrong_status",
            f"consent request {consent_id} is {was}, not pending or granted",
            f"授权请求 {consent_id} 当前状态为 {was}，不是待答复或已授权",
            status=409,
        )
    if was == "granted":
        consent.revoked_at = clock.now()  # in force until now
    consent.status = "withdrawn"
    session.flush()
    _record(session, actor, trail, "consent.withdrawn", consent, reason=reason)
    deciders = session.scalars(
        select(ConsentDecider.person_id).where(ConsentDecider.consent_id == consent.id)
    )
    for decider in deciders:
        messages.enqueue(
            session,
            event="ConsentWithdrawn",
            recipient_kind="person",
            recipient=decider,
            payload=_payload(consent) | {"reason": reason, "was": was},
        )
    return consent


def for_department(
    session: Session,
    *,
    actor: Actor,
    trail: audit.Trail,
    status: str | None = None,
    limit: int = 200,
) -> list[ConsentRecord]:
    """The consent requests the officer's department made, newest first."""
    department = _officer(session, actor, trail, "consent.listed")
    query = select(ConsentRecord).where(ConsentRecord.department == department)
    if status is not None and status != "expired":
        query = query.where(ConsentRecord.status == status)
    found = list(session.scalars(query.order_by(ConsentRecord.id.desc()).limit(limit)))
    return [c for c in found if status is None or status_of(c) == status]
