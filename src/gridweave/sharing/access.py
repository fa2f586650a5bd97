"""Reads of the base library through the gate: every field decided, every access audited.

The service functions here are the only way routes read golden records. Each decides every field
with `gate.decide`, shows the value, its masked form or nothing, and appends one audit entry per
record in the same transaction; a refused read is audited too (a `Refusal` commits).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from gridweave.areas import tree
from gridweave.core import clock
from gridweave.core.crypto import Keyring, is_sealed
from gridweave.core.database import keyring_of
from gridweave.registry import queries
from gridweave.registry.attributes import (
    ATTRIBUTES,
    EntityType,
    Sensitivity,
    encrypted_attributes,
    field_name,
)
from gridweave.sharing import audit, gate, permits
from gridweave.sharing.catalog import declared_classes
from gridweave.sharing.errors import Refusal, SharingError, forbidden, invalid
from gridweave.sharing.gate import Actor, Outcome, Subject
from gridweave.sharing.masking import mask_value
from gridweave.sharing.purposes import Purpose, purposes
from gridweave.sharing.roles import Role

MAX_RESULTS = 50
# entities whose area path queries.get_located reads in the record's own query
AREA_READ_WITH_RECORD = frozenset(
    {EntityType.person, EntityType.room, EntityType.building, EntityType.city_component}
)


@dataclass
class Shown:
    """One record as the gate let an actor see it."""

    entity: EntityType
    id: int
    outcome: Outcome
    values: dict[str, Any] = field(default_factory=dict)  # shown: the value or its masked form
    masked: list[str] = field(default_factory=list)  # fields shown masked
    denied: list[str] = field(default_factory=list)  # every field withheld, with a value or not
    decisions: dict[str, gate.Decision] = field(default_factory=dict)


class Paths:
    """Area paths of grids, memoised for one unit of work (the tree can change between them)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cache: dict[str, tuple[str, ...]] = {}
        self._root: str | None = None

    def root(self) -> str:
        if self._root is None:
            self._root = tree.root_code(self.session) or ""
        return self._root

    def of(self, place: queries.Place) -> tuple[str, ...] | None:
        """The union of the ancestors of a record's grids; an unplaced record sits at the root."""
        if place.grids is None:
            return None
        if not place.grids:
            return (self.root(),)
        path: list[str] = []
        for grid in place.grids:
            if grid not in self.cache:
                self.cache[grid] = tree.ancestors(self.session, grid)
            path.extend(c for c in self.cache[grid] if c not in path)
        return tuple(path)


def require_officer(
    session: Session, *, actor: Actor, trail: audit.Trail, action: str, en: str, zh: str
) -> str:
    """The department of a department officer (or a department's system); anyone else is
    refused, with the refusal audited, and told why (`en`/`zh`)."""
    if actor.role != Role.department_officer or actor.department is None:
        event = audit.Event(action, "deny", detail={"reason": "forbidden_role"})
        audit.append(session, actor=actor, events=[event], trail=trail)
        raise forbidden("forbidden_role", en, zh)
    return actor.department


def resolve_purpose(
    session: Session, *, actor: Actor, trail: audit.Trail, code: str | None, entity: EntityType
) -> Purpose | None:
    """The named purpose; refused (and audited) if the actor's role may not name it."""
    if code is None or code == "":
        return None
    found = purposes().get(code)
    if found is None:
        raise invalid(
            "unknown_purpose",
            f"unknown purpose {code!r}: see GET /purposes for yours",
            f"未知的使用目的 {code!r}，可用目的见 GET /purposes",
        )
    if not found.permits(actor.role, actor.department):
        event = audit.Event(
            f"{entity.value}.read",
            "deny",
            entity.value,
            purpose=code,
            detail={"reason": "purpose_not_allowed"},
        )
        audit.append(session, actor=actor, events=[event], trail=trail)
        raise forbidden(
            "purpose_not_allowed",
            f"your role may not name the purpose {code!r}",
            f"您的角色不能以“{found.zh}”为使用目的",
        )
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


Classes = dict[tuple[EntityType, str], Sensitivity]


def show(
    actor: Actor,
    subject: Subject,
    record: Any,
    purpose: Purpose | None,
    permits: gate.Permits,
    classes: Classes,
    keyring: Keyring,
    only: frozenset[str] | None = None,
) -> Shown:
    """Decide every field of a record (or `only` these) and keep what may be shown, masked where
    the gate says."""
    shown = Shown(subject.entity, subject.record_id, Outcome.deny)
    for name, spec in ATTRIBUTES[subject.entity].items():
        if only is not None and name not in only:
            continue
        declared = classes.get((subject.entity, name))
        decision = gate.decide(actor, subject, name, purpose, permits, declared)
        shown.decisions[name] = decision
        value = (
            None
            if decision.outcome == Outcome.deny
            else stored_value(record, name, subject.entity, keyring)
        )
        if decision.outcome == Outcome.deny:
            shown.denied.append(name)
        elif value is not None and decision.outcome == Outcome.mask:
            shown.values[name] = mask_value(spec.kind, value)
            shown.masked.append(name)
        elif value is not None:
            shown.values[name] = _plain(value)
    shown.outcome = gate.summarise(d.outcome for d in shown.decisions.values())
    return shown


def stored_value(record: Any, name: str, entity: EntityType, keyring: Keyring) -> Any:
    """A golden record's value of `name` (an ORM object or a row), decrypted if it is stored
    encrypted (core.crypto): the one place reads through the gate open ciphertexts, and only for
    fields not denied."""
    value = getattr(record, name, None)
    if not is_sealed(value) or name not in encrypted_attributes(entity):
        return value
    return keyring.decrypt(value, field_name(entity, name))


def _event(
    action: str, shown: Shown, purpose: Purpose | None, subject: Subject, **detail: Any
) -> audit.Event:
    withheld = None
    if purpose is not None and purpose.confidential:
        withheld = clock.now() + timedelta(days=purpose.release_after_days)
    if shown.entity == EntityType.household:
        # its members when read: each sees the read in their data tracker
        detail["members"] = sorted(subject.person_ids)
    return audit.Event(
        action,
        shown.outcome.value,
        shown.entity.value,
        shown.id,
        person_id=shown.id if shown.entity == EntityType.person else None,
        purpose=purpose.code if purpose else None,
        fields={k: d.outcome.value for k, d in shown.decisions.items()},
        detail=detail or None,
        withheld_until=withheld,
    )


def _refused(shown: Shown) -> Refusal:
    reasons = {d.reason for d in shown.decisions.values()}
    if "out_of_scope" in reasons:
        return forbidden(
            "out_of_scope",
            f"{shown.entity.value} {shown.id} is outside your area",
            f"该记录不在您的管辖区域内（{shown.entity.value} {shown.id}）",
        )
    return forbidden(
        "not_permitted",
        f"your role may not read {shown.entity.value} {shown.id}",
        f"您的角色无权查看该记录（{shown.entity.value} {shown.id}）",
    )


def _not_found(entity: EntityType, record_id: int) -> SharingError:
    return SharingError(
        "not_found",
        f"no {entity.value} with id {record_id}",
        f"没有 id 为 {record_id} 的{entity.value}记录",
        status=404,
    )


def read_record(
    session: Session,
    *,
    actor: Actor,
    trail: audit.Trail,
    entity: EntityType,
    record_id: int,
    purpose: str | None = None,
    only: frozenset[str] | None = None,
) -> Shown:
    """One golden record through the gate; refused (and audited) if nothing of it may be shown.

    The grants and consents in force for the actor's department and the record's people widen
    what the purpose unlocks (sharing/permits.py); a single-use consent relied on is spent.
    `only`: decide and show just these fields (the audit entry names just them).
    """
    chosen = resolve_purpose(session, actor=actor, trail=trail, code=purpose, entity=entity)
    located = queries.get_located(session, entity, record_id)
    if located is None:
        raise _not_found(entity, record_id)
    record, place = located
    paths = Paths(session)
    # read with the record (an unplaced one sits at the root), or walked for households
    path = place.grids or (paths.root(),) if entity in AREA_READ_WITH_RECORD else paths.of(place)
    subject = Subject(entity, record.id, path, place.person_ids)
    classes = declared_classes(session)
    keyring = keyring_of(session)
    people = place.person_ids if entity == EntityType.person else frozenset()  # consents: people
    loaded = permits.load(session, actor=actor, person_ids=people, purpose=chosen)
    shown = show(actor, subject, record, chosen, loaded.permits, classes, keyring, only)
    relied = permits.used(loaded, shown.decisions)
    lost = permits.spend(session, relied)
    if lost:  # a concurrent read spent a single-use consent first: decide again without it
        loaded = permits.without(loaded, lost)
        shown = show(actor, subject, record, chosen, loaded.permits, classes, keyring, only)
        relied = [r for r in relied if r not in lost]
    extra = {"consents": [r.id for r in relied]} if relied else {}
    event = _event(f"{entity.value}.read", shown, chosen, subject, **extra)
    audit.append(session, actor=actor, events=[event], trail=trail)
    if shown.outcome == Outcome.deny:
        raise _refused(shown)
    return shown


def scope_grids(session: Session, actor: Actor) -> list[str] | None:
    """The grids an actor's searches are limited to; None for a city-wide scope."""
    if actor.area_code is None:
        return []
    if actor.area_code == tree.root_code(session):
        return None
    return tree.grids_under(session, actor.area_code)


def search(
    session: Session,
    *,
    actor: Actor,
    trail: audit.Trail,
    entity: EntityType,
    criteria: dict[str, str],
    limit: int = MAX_RESULTS,
    offset: int = 0,
) -> list[Shown]:
    """Records matching `criteria` inside the actor's scope, masked as for no purpose."""
    action = f"{entity.value}.search"
    wanted = sorted(criteria)
    if not gate.may_search(actor):
        event = audit.Event(action, "deny", entity.value, detail={"criteria": wanted})
        audit.append(session, actor=actor, events=[event], trail=trail)
        raise forbidden(
            "forbidden_role",
            f"a {actor.role.value} may not search the base library",
            "您的角色不能查询基础信息库",
        )
    records = queries.search(
        session,
        entity,
        criteria=criteria,
        grids=scope_grids(session, actor),
        limit=min(limit, MAX_RESULTS),
        offset=offset,
    )
    where = queries.places(session, entity, records)
    paths = Paths(session)
    classes = declared_classes(session)
    keyring = keyring_of(session)
    results, events = [], []
    for record in records:
        place = where.get(record.id, queries.Place(()))
        subject = Subject(entity, record.id, paths.of(place), place.person_ids)
        shown = show(actor, subject, record, None, gate.NO_PERMITS, classes, keyring)
        event = _event(action, shown, None, subject, criteria=wanted)
        events.append(event)
        if shown.outcome != Outcome.deny:
            results.append(shown)
    if not events:
        events.append(
            audit.Event(action, "allow", entity.value, detail={"criteria": wanted, "results": 0})
        )
    audit.append(session, actor=actor, events=events, trail=trail)
    return results
