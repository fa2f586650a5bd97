"""The one gate: may this actor see this field of this record, for this purpose?

A pure function of its arguments: every read of the base library calls `decide` per field and
shows the value, its masked form, or nothing. Rules, in order (docs/sharing.md has the table):

1. a field the entity does not have → deny;
2. the three admin duties (auditor, security admin, system admin) → deny: they read no records;
3. a resident → allow their own person and household records; public fields of records bound to
   no area (legal entities); deny the rest;
4. staff outside their area scope → deny (a grid worker sees their grid, an officer the subtree);
5. public → allow; internal → allow unless another department owns the field;
6. a field another department owns (OWNERS) → deny, or mask where the field has a masking form;
7. sensitive → allow with a purpose the actor may name and that covers the field, else mask;
8. restricted → allow only to an owning department with such a purpose, else mask or deny.

A purpose that needs the person's consent (purposes.yaml `consent: true`) unlocks a field only
with a consent of theirs for that department, field and purpose (else mask, `no_consent`).
`Permits` carries the grants (approved applications) and consents in force, loaded by the
service layer (sharing/permits.py): a matching one counts as ownership in rules 6 and 8.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from gridweave.registry.attributes import ATTRIBUTES, Attribute, EntityType, Kind, Sensitivity
from gridweave.sharing.purposes import Purpose
from gridweave.sharing.roles import ADMIN_ROLES, STAFF_ROLES, Department, Role


class Outcome(StrEnum):
    allow = "allow"
    mask = "mask"
    deny = "deny"


@dataclass(frozen=True)
class Actor:
    """Who is reading: an account's role, department, area scope and (residents) own person."""

    account_id: int | None
    username: str
    role: Role
    department: str | None = None
    area_code: str | None = None
    person_id: int | None = None


@dataclass(frozen=True)
class Subject:
    """The record read: its type and id, where it sits, and whose own record it is."""

    entity: EntityType
    record_id: int
    area_path: tuple[str, ...] | None  # its grid and every ancestor; None: bound to no area
    person_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Grant:
    """An approved application: a department may read a field of an entity for a purpose."""

    department: str
    entity: EntityType
    field: str
    purpose: str


@dataclass(frozen=True)
class Consent:
    """A citizen's consent that a department may read one field of their records for a purpose."""

    person_id: int
    department: str
    field: str
    purpose: str


@dataclass(frozen=True)
class Permits:
    """The grants and consents in force for one read (loaded by sharing/permits.py)."""

    grants: frozenset[Grant] = field(default_factory=frozenset)
    consents: frozenset[Consent] = field(default_factory=frozenset)

    def cover(self, actor: Actor, subject: Subject, name: str, purpose: Purpose | None) -> bool:
        """Does a grant or consent let this actor's department read this field?"""
        if actor.department is None or purpose is None:
            return False
        wanted = Grant(actor.department, subject.entity, name, purpose.code)
        return wanted in self.grants or self.consented(actor, subject, name, purpose)

    def consented(self, actor: Actor, subject: Subject, name: str, purpose: Purpose) -> bool:
        """Has the person whose record this is consented to this department, field and purpose?
        (A consent covers fields of the person record, not of their household's.)"""
        if actor.department is None or subject.entity != EntityType.person:
            return False
        return any(
            Consent(p, actor.department, name, purpose.code) in self.consents
            for p in subject.person_ids
        )


NO_PERMITS = Permits()


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str  # a stable code: own_record, public, internal, purpose, no_purpose, …


# every department, the built-in seven and any a source contract names (sharing.catalog)
EVERY_DEPARTMENT: frozenset[str] = frozenset({"*"})
P = EntityType.person

# The departments whose domain a field is: only they may unmask it (restricted) or see it at all
# (fields without a masking form). Special-population, criminal and health-condition fields will
# join this table (public_security, health) when registry/attributes.py gains them.
OWNERS: dict[tuple[EntityType, str], frozenset[str]] = {
    (P, "citizen_id"): EVERY_DEPARTMENT,  # each department identifies people in its own service
    (P, "allowance_certificate"): frozenset({Department.civil_affairs}),
    (P, "allowance_amount"): frozenset({Department.civil_affairs}),
    (P, "allowance_since"): frozenset({Department.civil_affairs}),
    (P, "insurance_months"): frozenset({Department.human_resources}),
    (P, "school"): frozenset({Department.education}),
    (P, "grade"): frozenset({Department.education}),
}

MASKABLE = frozenset({Kind.name, Kind.citizen_id, Kind.phone, Kind.address})


def is_owner(department: str | None, owners: frozenset[str]) -> bool:
    """Is the field in this department's domain (OWNERS)?"""
    return department is not None and (department in owners or owners == EVERY_DEPARTMENT)


def in_scope(actor: Actor, subject: Subject) -> bool:
    """Is the record inside the actor's area (or bound to no area)?"""
    return subject.area_path is None or (
        actor.area_code is not None and actor.area_code in subject.area_path
    )


RANK = {c: i for i, c in enumerate(Sensitivity)}  # public < internal < sensitive < restricted


def decide(
    actor: Actor,
    subject: Subject,
    name: str,
    purpose: Purpose | None,
    permits: Permits = NO_PERMITS,
    declared: Sensitivity | None = None,
) -> Decision:
    """Allow, mask or deny one field of one record to one actor for one purpose.

    `declared`: the strictest class a source contract gives the field, if any; a contract may
    raise a field's class, never lower it.
    """
    spec = ATTRIBUTES[subject.entity].get(name)
    if spec is None:
        return Decision(Outcome.deny, "unknown_field")
    if declared is not None and RANK[declared] > RANK[spec.sensitivity]:
        spec = replace(spec, sensitivity=declared)
    if actor.role in ADMIN_ROLES:
        return Decision(Outcome.deny, "admin_duty")
    if actor.role == Role.resident:
        return _resident(actor, subject, spec)
    if not in_scope(actor, subject):
        return Decision(Outcome.deny, "out_of_scope")
    return _staff(actor, subject, spec, purpose, permits)


def _resident(actor: Actor, subject: Subject, spec: Attribute) -> Decision:
    if actor.person_id is not None and actor.person_id in subject.person_ids:
        return Decision(Outcome.allow, "own_record")
    if subject.area_path is None and spec.sensitivity == Sensitivity.public:
        return Decision(Outcome.allow, "public")
    return Decision(Outcome.deny, "not_own_record")


def _staff(
    actor: Actor, subject: Subject, spec: Attribute, purpose: Purpose | None, permits: Permits
) -> Decision:
    cls = spec.sensitivity
    if cls == Sensitivity.public:
        return Decision(Outcome.allow, "public")
    owners = OWNERS.get((subject.entity, spec.name))
    owns = (owners is not None and is_owner(actor.department, owners)) or permits.cover(
        actor, subject, spec.name, purpose
    )
    maskable = spec.kind in MASKABLE
    if owners is not None and not owns and not maskable:
        return Decision(Outcome.deny, "department_domain")
    if cls == Sensitivity.internal:
        return Decision(Outcome.allow, "internal")
    purposeful = (
        purpose is not None
        and purpose.permits(actor.role, actor.department)
        and purpose.covers(spec.name)
    )
    via = "purpose"
    if purposeful and purpose is not None and purpose.consent:
        # the purpose is lawful only with the person's consent: without it, it unlocks nothing
        purposeful = permits.consented(actor, subject, spec.name, purpose)
        via = "consent" if purposeful else "no_consent"
    if cls == Sensitivity.sensitive and (owners is None or owns):
        return Decision(Outcome.allow, via) if purposeful else _mask(_why(via, "no_purpose"))
    if owns and purposeful:
        return Decision(Outcome.allow, via)
    if maskable:
        return _mask(_why(via, "restricted"))
    return Decision(Outcome.deny, _why(via, "restricted"))


def _why(via: str, otherwise: str) -> str:
    return "no_consent" if via == "no_consent" else otherwise


def _mask(reason: str) -> Decision:
    return Decision(Outcome.mask, reason)


def may_search(actor: Actor) -> bool:
    """Only staff search the base library; residents read their own record, admins none."""
    return actor.role in STAFF_ROLES


def summarise(outcomes: Iterable[Outcome]) -> Outcome:
    """One record's outcome: denied if nothing shown, masked if anything masked, else allowed."""
    seen = set(outcomes)
    if not seen or seen == {Outcome.deny}:
        return Outcome.deny
    return Outcome.mask if Outcome.mask in seen else Outcome.allow
