"""What widens the gate for one read: the grants (approved applications) of the reader's
department, the consents of the people the record belongs to, and their correction requests
routed to that department — those in force now, for the purpose named. Loaded here and passed
to the pure gate; a single-use consent is spent here, in the read's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from gridweave.core import clock
from gridweave.registry.attributes import EntityType
from gridweave.sharing import gate
from gridweave.sharing.gate import Actor, Consent, Grant, Permits
from gridweave.sharing.models import Application, ConsentRecord, CorrectionRequest
from gridweave.sharing.purposes import Purpose

# a resident's pending correction request lets the department it is routed to see that value,
# under this purpose only (purposes.yaml: it needs consent, and the request is that consent)
CORRECTION_PURPOSE = "data_correction"


@dataclass
class Loaded:
    """The permits of one read, and the consent rows behind them (to count their use)."""

    permits: Permits = gate.NO_PERMITS
    consents: list[ConsentRecord] = field(default_factory=list)


# built once: it runs on every read with a purpose (a Core query: no ORM objects are needed)
_GRANTED_FIELDS = select(Application.fields).where(
    Application.department == bindparam("department"),
    Application.purpose == bindparam("purpose"),
    Application.status == "approved",
    Application.valid_from <= bindparam("now"),
    Application.valid_until > bindparam("now"),
)


def load(
    session: Session, *, actor: Actor, person_ids: Iterable[int], purpose: Purpose | None
) -> Loaded:
    """The grants and consents in force for this actor's department, these people, this purpose.

    Every grant and consent names its purpose, so a read without one needs no query.
    """
    if actor.department is None or purpose is None:
        return Loaded()
    now = clock.now()
    grants = {
        Grant(actor.department, EntityType(entity), attribute, purpose.code)
        for fields in session.connection().scalars(
            _GRANTED_FIELDS,
            {"department": actor.department, "purpose": purpose.code, "now": now},
        )
        for entity, attribute in fields
    }
    people = sorted(set(person_ids))
    rows: list[ConsentRecord] = []
    consents: set[Consent] = set()
    if people and purpose.consent:
        rows = list(
            session.scalars(
                select(ConsentRecord)
                .where(
                    ConsentRecord.department == actor.department,
                    ConsentRecord.purpose == purpose.code,
                    ConsentRecord.person_id.in_(people),
                    ConsentRecord.status == "granted",
                    ConsentRecord.valid_until > now,
                )
                .order_by(ConsentRecord.id)
            )
        )
        for row in rows:
            consents |= {Consent(row.person_id, row.department, f, row.purpose) for f in row.fields}
    if people and purpose.code == CORRECTION_PURPOSE:
        for person_id, attribute in session.execute(
            select(CorrectionRequest.person_id, CorrectionRequest.attribute).where(
                CorrectionRequest.department == actor.department,
                CorrectionRequest.person_id.in_(people),
                CorrectionRequest.status == "pending",
            )
        ):
            consents.add(Consent(person_id, actor.department, attribute, CORRECTION_PURPOSE))
    return Loaded(Permits(frozenset(grants), frozenset(consents)), rows)


def used(loaded: Loaded, decisions: dict[str, gate.Decision]) -> list[ConsentRecord]:
    """The consent rows a read's decisions relied on (a field allowed by consent)."""
    by_consent = {name for name, d in decisions.items() if d.reason == "consent"}
    return [row for row in loaded.consents if by_consent & set(row.fields)]


def spend(session: Session, rows: list[ConsentRecord]) -> list[ConsentRecord]:
    """Count one use of each consent; a single-use one is spent. Returns those already spent
    by a concurrent read (the conditional update found them used), which this read may not use.
    """
    now = clock.now()
    lost = []
    for row in rows:
        statement = (
            update(ConsentRecord)
            .where(ConsentRecord.id == row.id, ConsentRecord.status == "granted")
            .values(uses=ConsentRecord.uses + 1, last_used_at=now)
        )
        if row.single_use:
            statement = statement.values(status="spent")
        if session.execute(statement).rowcount == 0:  # type: ignore[attr-defined]
            lost.append(row)
    return lost


def without(loaded: Loaded, rows: list[ConsentRecord]) -> Loaded:
    """The permits less the consents of these rows."""
    gone = {Consent(r.person_id, r.department, f, r.purpose) for r in rows for f in r.fields}
    kept = [r for r in loaded.consents if r not in rows]
    permits = Permits(loaded.permits.grants, loaded.permits.consents - gone)
    return Loaded(permits, kept)
