"""Correction requests: a resident disputes one value of their own record; the request goes to
the department whose source supplied that value (its provenance), which accepts it (noting the
corrected value its own system now holds: the next extract brings it into the base library) or
rejects it with a reason. Every step is audited and announced in the outbox.

The department sees the disputed and proposed values through the gate, under the purpose
`data_correction`: a pending request is the resident's consent to show that one value to that
one department (sharing/permits.py), and each inbox read is in the resident's data tracker.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridweave.core import clock
from gridweave.core.database import keyring_of
from gridweave.ingest import service as ingest
from gridweave.messages import service as messages
from gridweave.registry import service as registry
from gridweave.registry.attributes import (
    ATTRIBUTES,
    EntityType,
    encrypted_attributes,
    field_name,
)
from gridweave.sharing import access, audit
from gridweave.sharing.errors import Refusal, SharingError, forbidden, invalid
from gridweave.sharing.gate import Actor, Outcome
from gridweave.sharing.masking import mask_value
from gridweave.sharing.models import CorrectionRequest
from gridweave.sharing.permits import CORRECTION_PURPOSE
from gridweave.sharing.roles import Role

PERSON = EntityType.person


def _resident(session: Session, actor: Actor, trail: audit.Trail, action: str) -> int:
    if actor.role != Role.resident or actor.person_id is None:
        event = audit.Event(action, "deny", detail={"reason": "forbidden_role"})
        audit.append(session, actor=actor, events=[event], trail=trail)
        raise forbidden("forbidden_role", "only a resident may do this", "只有居民可以进行此操作")
    return actor.person_id


def _officer(session: Session, actor: Actor, trail: audit.Trail, action: str) -> str:
    return access.require_officer(
        session,
        actor=actor,
        trail=trail,
        action=action,
        en="only an officer of the department that supplied the value may do this",
        zh="只有提供该数据的部门工作人员可以进行此操作",
    )


def request_correction(
    session: Session,
    *,
    actor: Actor,
    trail: audit.Trail,
    attribute: str,
    reason: str,
    proposed_value: str | None = None,
) -> CorrectionRequest:
    """A resident disputes the value of one attribute of their own record."""
    me = _resident(session, actor, trail, "correction.requested")
    if attribute not in ATTRIBUTES[PERSON]:
        raise invalid(
            "unknown_field",
            f"a person has no field {attribute!r}",
            f"人员记录没有字段 {attribute!r}",
        )
    golden = registry.find_golden(session, PERSON, str(me))
    chosen = [
        c for c in registry.claims(session, PERSON, golden) if c.attribute == attribute and c.chosen
    ]
    if not chosen:
        raise SharingError(
            "no_source",
            f"your record has no value of {attribute} from any department to correct",
            f"您的记录中“{ATTRIBUTES[PERSON][attribute].zh}”没有来自任何部门的数据，无法更正",
            status=409,
        )
    claim = chosen[-1]
    pending = session.scalar(
        select(CorrectionRequest.id).where(
            CorrectionRequest.person_id == me,
            CorrectionRequest.attribute == attribute,
            CorrectionRequest.status == "pending",
        )
    )
    if pending is not None:
        raise SharingError(
            "already_pending",
            f"your correction request {pending} for {attribute} is still being handled",
            f"您对该字段的更正申请（{pending}）正在处理中",
            status=409,
        )
    source = ingest.get_source(session, claim.source)
    # the value as the resident is shown it: read through the gate like /me/data
    own = access.read_record(
        session, actor=actor, trail=trail, entity=PERSON, record_id=me, only=frozenset({attribute})
    )
    value = own.values.get(attribute)
    request = CorrectionRequest(
        person_id=me,
        attribute=attribute,
        disputed_value=_sealed(session, attribute, None if value is None else str(value)),
        proposed_value=_sealed(session, attribute, proposed_value),
        reason=reason,
        department=source.department_code,
        source=source.name,
        status="pending",
        created_at=clock.now(),
    )
    session.add(request)
    session.flush()
    _record(session, actor, trail, "correction.requested", request)
    messages.enqueue(
        session,
        event="CorrectionRequested",
        recipient_kind="department",
        recipient=request.department,
        payload=_payload(request),
    )
    return request


def _payload(request: CorrectionRequest) -> dict[str, object]:
    """What a message says: never the values themselves (the inbox shows them, gated)."""
    return {
        "correction_id": request.id,
        "person_id": request.person_id,
        "attribute": request.attribute,
        "department": request.department,
        "source": request.source,
        "status": request.status,
    }


def _record(
    session: Session, actor: Actor, trail: audit.Trail, action: str, request: CorrectionRequest
) -> None:
    detail = {
        "correction_id": request.id,
        "attribute": request.attribute,
        "department": request.department,
        "source": request.source,
    }
    event = audit.Event(action, "ok", "person", request.person_id, request.person_id)
    event.detail = detail
    audit.append(session, actor=actor, events=[event], trail=trail)


def for_resident(session: Session, *, actor: Actor, trail: audit.Trail) -> list[InboxItem]:
    """The resident's own correction requests, newest first, with their status and answer;
    the values shown through the gate (their own record: whole)."""
    me = _resident(session, actor, trail, "correction.listed")
    requests = list(
        session.scalars(
            select(CorrectionRequest)
            .where(CorrectionRequest.person_id == me)
            .order_by(CorrectionRequest.id.desc())
        )
    )
    return [_through_gate(session, actor, trail, r, None) for r in requests]


@dataclass
class InboxItem:
    """A correction request as its department sees it: the values only as the gate allows."""

    request: CorrectionRequest
    outcome: str  # allow | mask | deny: how the gate let the values be shown
    disputed_value: str | None
    proposed_value: str | None
    corrected_value: str | None = None


def _sealed(session: Session, attribute: str, value: str | None) -> str | None:
    """A value of a request as stored: encrypted if the attribute is (ids, phones)."""
    if value is None or attribute not in encrypted_attributes(PERSON):
        return value
    return keyring_of(session).encrypt(value, _field(attribute))


def _field(attribute: str) -> str:
    return "correction_request." + field_name(PERSON, attribute)


def opened(session: Session, request: CorrectionRequest) -> InboxItem:
    """The request with its values decrypted, as its own resident sees it."""
    if request.attribute not in encrypted_attributes(PERSON):
        return InboxItem(
            request,
            "allow",
            request.disputed_value,
            request.proposed_value,
            request.corrected_value,
        )
    keyring = keyring_of(session)
    clear = [
        None if v is None else keyring.decrypt(v, _field(request.attribute))
        for v in (request.disputed_value, request.proposed_value, request.corrected_value)
    ]
    return InboxItem(request, "allow", clear[0], clear[1], clear[2])


def inbox(
    session: Session,
    *,
    actor: Actor,
    trail: audit.Trail,
    status: str | None = "pending",
    limit: int = 50,
) -> list[InboxItem]:
    """The correction requests routed to the officer's department, oldest pending first."""
    department = _officer(session, actor, trail, "correction.inbox_read")
    query = select(CorrectionRequest).where(CorrectionRequest.department == department)
    if status is not None:
        query = query.where(CorrectionRequest.status == status)
    items = []
    for request in session.scalars(query.order_by(CorrectionRequest.id).limit(limit)):
        items.append(_through_gate(session, actor, trail, request, CORRECTION_PURPOSE))
    return items


def _through_gate(
    session: Session,
    actor: Actor,
    trail: audit.Trail,
    request: CorrectionRequest,
    purpose: str | None,
) -> InboxItem:
    """The request with its values shown as the gate shows the actor that field of the person."""
    try:
        shown = access.read_record(
            session,
            actor=actor,
            trail=trail,
            entity=PERSON,
            record_id=request.person_id,
            purpose=purpose,
            only=frozenset({request.attribute}),
        )
    except Refusal:  # audited; the request is listed, its values withheld
        return InboxItem(request, Outcome.deny.value, None, None)
    except SharingError as exc:
        if exc.code != "not_found":  # a person merged or removed since: values withheld
            raise
        return InboxItem(request, Outcome.deny.value, None, None)
    decision = shown.decisions[request.attribute]
    clear = opened(session, request)
    if decision.outcome == Outcome.allow:
        return clear
    kind = ATTRIBUTES[PERSON][request.attribute].kind
    hidden = [
        None if v is None else str(mask_value(kind, v))
        for v in (clear.disputed_value, clear.proposed_value)
    ]
    return InboxItem(request, decision.outcome.value, hidden[0], hidden[1])


def _routed(
    session: Session, actor: Actor, trail: audit.Trail, correction_id: int, action: str
) -> CorrectionRequest:
    department = _officer(session, actor, trail, action)
    request = session.get(CorrectionRequest, correction_id)
    if request is None or request.department != department:
        raise SharingError(
            "not_found",
            f"no correction request {correction_id} routed to your department",
            f"没有编号为 {correction_id} 的本部门更正申请",
            status=404,
        )
    if request.status != "pending":
        raise SharingError(
            "wrong_status",
            f"correction request {correction_id} is already {request.status}",
            f"更正申请 {correction_id} 已处理（{request.status}）",
            status=409,
        )
    return request


def accept(
    session: Session,
    *,
    actor: Actor,
    trail: audit.Trail,
    correction_id: int,
    corrected_value: str,
    note: str | None = None,
) -> CorrectionRequest:
    """The department corrects its own record and notes the corrected value."""
    request = _routed(session, actor, trail, correction_id, "correction.accepted")
    return _answer(session, actor, trail, request, "accepted", note, corrected_value)


def reject(
    session: Session, *, actor: Actor, trail: audit.Trail, correction_id: int, reason: str
) -> CorrectionRequest:
    """The department keeps its value, and says why."""
    request = _routed(session, actor, trail, correction_id, "correction.rejected")
    return _answer(session, actor, trail, request, "rejected", reason, None)


def _answer(
    session: Session,
    actor: Actor,
    trail: audit.Trail,
    request: CorrectionRequest,
    status: str,
    answer: str | None,
    corrected_value: str | None,
) -> CorrectionRequest:
    request.status = status
    request.answer = answer
    request.corrected_value = _sealed(session, request.attribute, corrected_value)
    request.answered_by_name = actor.username
    request.answered_at = clock.now()
    session.flush()
    _record(session, actor, trail, f"correction.{status}", request)
    messages.enqueue(
        session,
        event=f"Correction{status.capitalize()}",
        recipient_kind="person",
        recipient=request.person_id,
        payload=_payload(request),
    )
    return request
