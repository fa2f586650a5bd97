"""The resident's own views (their data with its provenance, the accesses to it) and the
auditor's (search, export, verify): each refuses other roles and is itself audited."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Any

import orjson
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gridweave.core import clock
from gridweave.registry import queries
from gridweave.registry import service as registry
from gridweave.registry.attributes import EntityType
from gridweave.sharing import access, audit
from gridweave.sharing.errors import forbidden
from gridweave.sharing.gate import Actor, Outcome
from gridweave.sharing.models import AuditEntry
from gridweave.sharing.roles import Role

PERSON_ACTIONS = ("person.read", "person.search")
HOUSEHOLD_ACTIONS = ("household.read", "household.search")


def _require(session: Session, actor: Actor, trail: audit.Trail, role: Role, action: str) -> None:
    if actor.role != role:
        event = audit.Event(action, "deny", detail={"reason": "forbidden_role"})
        audit.append(session, actor=actor, events=[event], trail=trail)
        raise forbidden(
            "forbidden_role",
            f"only a {role.value} may do this",
            "您的角色无权进行此操作",
        )


@dataclass
class Provenance:
    """Where one value of a resident's record came from, and what else was claimed."""

    attribute: str
    value: Any
    department: str | None = None
    source: str | None = None
    observed_at: str | None = None
    claims: list[dict[str, Any]] = field(default_factory=list)


def my_data(
    session: Session, *, actor: Actor, trail: audit.Trail
) -> tuple[access.Shown, list[Provenance]]:
    """A resident's own person record through the gate, with where each value came from."""
    _require(session, actor, trail, Role.resident, "person.read")
    assert actor.person_id is not None  # a resident account is always bound to a person
    shown = access.read_record(
        session, actor=actor, trail=trail, entity=EntityType.person, record_id=actor.person_id
    )
    golden = registry.find_golden(session, EntityType.person, str(actor.person_id))
    by_attribute: dict[str, Provenance] = {}
    for claim in registry.claims(session, EntityType.person, golden):
        decision = shown.decisions.get(claim.attribute)
        if decision is None or decision.outcome != Outcome.allow:
            continue  # every claim passes the gate too (a resident's own: all allowed)
        entry = by_attribute.setdefault(
            claim.attribute, Provenance(claim.attribute, shown.values.get(claim.attribute))
        )
        if claim.chosen:
            entry.department, entry.source = claim.department, claim.source
            entry.observed_at = claim.observed_at.isoformat()
        entry.claims.append(
            {
                "value": claim.value,
                "department": claim.department,
                "source": claim.source,
                "observed_at": claim.observed_at.isoformat(),
                "chosen": claim.chosen,
            }
        )
    return shown, list(by_attribute.values())


def my_accesses(
    session: Session, *, actor: Actor, trail: audit.Trail, limit: int = 200
) -> list[AuditEntry]:
    """Every access to a resident's own data — their person record, and their household while
    they were a member of it — newest first; confidential ones once released."""
    _require(session, actor, trail, Role.resident, "audit.tracker_read")
    assert actor.person_id is not None  # a resident account is always bound to a person
    now = clock.now()
    released = or_(AuditEntry.withheld_until.is_(None), AuditEntry.withheld_until <= now)
    entries = list(
        session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.person_id == actor.person_id,
                AuditEntry.action.in_(PERSON_ACTIONS),
                released,
            )
            .order_by(AuditEntry.seq.desc())
            .limit(limit)
        )
    )
    household = _household_of(session, actor.person_id)
    if household is not None:
        reads = session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.entity_type == EntityType.household.value,
                AuditEntry.record_id == household,
                AuditEntry.action.in_(HOUSEHOLD_ACTIONS),
                released,
            )
            .order_by(AuditEntry.seq.desc())
            .limit(limit)
        )
        # only reads made while the resident was a member (the entry names the members then)
        entries += [e for e in reads if actor.person_id in (e.detail or {}).get("members", ())]
        entries = sorted(entries, key=lambda e: e.seq or 0, reverse=True)[:limit]
    event = audit.Event("audit.tracker_read", "ok", detail={"entries": len(entries)})
    audit.append(session, actor=actor, events=[event], trail=trail)
    return entries


def _household_of(session: Session, person_id: int) -> int | None:
    person = queries.get_record(session, EntityType.person, person_id)
    if person is None or not person.household_number:
        return None
    return queries.household_id(session, person.household_number)


def search_audit(
    session: Session,
    *,
    actor: Actor,
    trail: audit.Trail,
    filters: audit.Filters,
    limit: int = 100,
    after_seq: int = 0,
) -> list[AuditEntry]:
    """Audit entries matching the filters (auditors only); the search is itself audited."""
    _require(session, actor, trail, Role.auditor, "audit.searched")
    entries = list(audit.find_entries(session, filters, limit=limit, after_seq=after_seq))
    detail = _filters_detail(filters) | {"results": len(entries)}
    audit.append(
        session,
        actor=actor,
        events=[audit.Event("audit.searched", "ok", detail=detail)],
        trail=trail,
    )
    return entries


def export_audit(
    session: Session, *, actor: Actor, trail: audit.Trail, filters: audit.Filters, out: IO[bytes]
) -> int:
    """Write matching entries as JSON Lines (auditors only); returns how many."""
    _require(session, actor, trail, Role.auditor, "audit.exported")
    n = 0
    for entry in audit.find_entries(session, filters, limit=None):
        out.write(orjson.dumps(audit.entry_json(entry)) + b"\n")
        n += 1
    detail = _filters_detail(filters) | {"results": n}
    audit.append(
        session,
        actor=actor,
        events=[audit.Event("audit.exported", "ok", detail=detail)],
        trail=trail,
    )
    return n


def verify_audit(session: Session, *, actor: Actor, trail: audit.Trail) -> audit.Verification:
    """Walk the chain (auditors only); the check is audited after it, so it checks itself next."""
    _require(session, actor, trail, Role.auditor, "audit.verified")
    result = audit.verify(session)
    detail = {"entries": result.entries, "problems": len(result.problems)}
    event = audit.Event("audit.verified", "ok" if result.ok else "fail", detail=detail)
    audit.append(session, actor=actor, events=[event], trail=trail)
    return result


def _filters_detail(filters: audit.Filters) -> dict[str, Any]:
    return {
        k: (v.isoformat() if hasattr(v, "isoformat") else v)
        for k, v in vars(filters).items()
        if v is not None
    }
