"""The gate: examples of each rule, and properties over every role, field and purpose."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridweave.registry.attributes import ATTRIBUTES, EntityType, Sensitivity
from gridweave.sharing.gate import (
    EVERY_DEPARTMENT,
    NO_PERMITS,
    OWNERS,
    Actor,
    Consent,
    Decision,
    Grant,
    Outcome,
    Permits,
    Subject,
    decide,
    is_owner,
    may_search,
    summarise,
)
from gridweave.sharing.purposes import Purpose, purposes
from gridweave.sharing.roles import ADMIN_ROLES, Department, Role

CITY, DISTRICT, STREET_A, COMMUNITY_A = "440300", "440303", "440303001", "440303001001"
GRID_A, GRID_B = "440303001001001", "440303002001001"
PATH_A = (GRID_A, COMMUNITY_A, STREET_A, DISTRICT, CITY)
PATH_B = (GRID_B, "440303002001", "440303002", DISTRICT, CITY)
P = EntityType.person

X = Subject(P, 1, PATH_A, frozenset({1}))  # a person living in grid A
Y = Subject(P, 2, PATH_B, frozenset({2}))  # a person living in grid B
FIRM = Subject(EntityType.legal_entity, 9, None)

grid_a = Actor(10, "gw_a", Role.grid_worker, area_code=GRID_A)
grid_b = Actor(11, "gw_b", Role.grid_worker, area_code=GRID_B)
street_a = Actor(12, "street_a", Role.street_officer, area_code=STREET_A)
police = Actor(13, "police", Role.department_officer, Department.public_security, CITY)
health = Actor(14, "health", Role.department_officer, Department.health, CITY)
civil = Actor(15, "civil", Role.department_officer, Department.civil_affairs, DISTRICT)
education = Actor(16, "edu", Role.department_officer, Department.education, CITY)
hr = Actor(17, "hr", Role.department_officer, Department.human_resources, CITY)
resident_x = Actor(20, "x", Role.resident, person_id=1)


def purpose(code: str) -> Purpose:
    return purposes()[code]


def outcome(actor: Actor, subject: Subject, field: str, code: str | None = None) -> Outcome:
    return decide(actor, subject, field, purpose(code) if code else None).outcome


A, M, D = Outcome.allow, Outcome.mask, Outcome.deny


@pytest.mark.parametrize(
    ("actor", "subject", "field", "code", "expected"),
    [
        # area scope
        (grid_a, X, "sex", None, A),
        (grid_a, Y, "sex", None, D),
        (grid_b, X, "name", "public_service", D),
        (street_a, X, "sex", None, A),
        (street_a, Y, "sex", None, D),
        (police, Y, "sex", None, A),
        # sensitive: masked without a purpose, shown with one that covers the field
        (grid_a, X, "name", None, M),
        (grid_a, X, "name", "public_service", A),
        (grid_a, X, "phone", "public_service", A),
        (grid_a, X, "marital_status", "public_service", M),  # not a field of that purpose
        (grid_a, X, "marital_status", "data_verification", A),
        (grid_a, X, "name", "police_investigation", M),  # not a purpose a grid worker may name
        # restricted: only an owning department, with a purpose
        (grid_a, X, "citizen_id", "public_service", M),
        (police, X, "citizen_id", None, M),
        (police, X, "citizen_id", "police_investigation", A),
        (civil, X, "allowance_amount", "subsistence_allowance_review", A),
        (civil, X, "allowance_amount", None, D),
        (education, X, "allowance_amount", "school_enrolment_check", D),
        (grid_a, X, "allowance_certificate", "data_verification", D),
        # a department's domain: other departments do not see it at all
        (education, X, "school", "school_enrolment_check", A),
        (education, X, "school", None, M),
        (police, X, "school", "police_investigation", D),
        (health, X, "school", "health_follow_up", D),
        (hr, X, "insurance_months", "social_insurance_check", A),
        (civil, X, "insurance_months", "subsistence_allowance_review", D),
        (health, X, "phone", "health_follow_up", M),  # needs consent: none given
        # the resident: their own record whole, nobody else's
        (resident_x, X, "citizen_id", None, A),
        (resident_x, X, "allowance_amount", None, A),
        (resident_x, Y, "sex", None, D),
        (resident_x, FIRM, "name", None, A),
        (resident_x, FIRM, "phone", None, D),
        # records bound to no area: public and internal fields for every staff member
        (grid_b, FIRM, "status", None, A),
        (grid_b, FIRM, "phone", None, M),  # a sole proprietor's phone is personal
        (police, X, "no_such_field", "police_investigation", D),
    ],
)
def test_rules(
    actor: Actor, subject: Subject, field: str, code: str | None, expected: Outcome
) -> None:
    assert outcome(actor, subject, field, code) == expected


ROLES = st.sampled_from(list(Role))
# the seven the gate knows, and one only a source contract names
DEPARTMENTS = st.one_of(st.none(), st.sampled_from([*Department, "migrant_rental"]))
AREAS = st.sampled_from([None, CITY, DISTRICT, STREET_A, COMMUNITY_A, GRID_A, GRID_B])
PERSON_FIELDS = st.sampled_from(sorted(ATTRIBUTES[P]))
PURPOSES = st.one_of(st.none(), st.sampled_from(sorted(purposes())))
SUBJECTS = st.sampled_from([X, Y])


@st.composite
def actors(draw: st.DrawFn) -> Actor:
    return Actor(
        draw(st.integers(1, 99)),
        "someone",
        draw(ROLES),
        draw(DEPARTMENTS),
        draw(AREAS),
        draw(st.sampled_from([None, 1, 2, 3])),
    )


def _purpose(code: str | None) -> Purpose | None:
    return purposes()[code] if code else None


@given(st.sampled_from(sorted(ADMIN_ROLES)), SUBJECTS, PERSON_FIELDS, PURPOSES)
def test_admin_duties_never_read_a_record(
    role: Role, subject: Subject, field: str, code: str | None
) -> None:
    actor = Actor(1, "admin", role, area_code=CITY)
    assert decide(actor, subject, field, _purpose(code)).outcome == D


@given(actors(), SUBJECTS, PERSON_FIELDS, PURPOSES)
def test_staff_outside_their_area_are_denied(
    actor: Actor, subject: Subject, field: str, code: str | None
) -> None:
    if actor.role == Role.resident or actor.area_code in (subject.area_path or ()):
        return
    assert decide(actor, subject, field, _purpose(code)).outcome == D


@given(actors(), SUBJECTS, PERSON_FIELDS)
def test_without_a_purpose_nothing_sensitive_is_shown_to_staff(
    actor: Actor, subject: Subject, field: str
) -> None:
    if actor.role == Role.resident:
        return
    cls = ATTRIBUTES[P][field].sensitivity
    if cls in (Sensitivity.sensitive, Sensitivity.restricted):
        assert decide(actor, subject, field, None).outcome != A


@given(actors(), SUBJECTS, PERSON_FIELDS, PURPOSES)
def test_restricted_fields_are_shown_only_to_their_owners_or_the_person(
    actor: Actor, subject: Subject, field: str, code: str | None
) -> None:
    if ATTRIBUTES[P][field].sensitivity != Sensitivity.restricted:
        return
    if decide(actor, subject, field, _purpose(code)).outcome == A:
        own = actor.role == Role.resident and actor.person_id in subject.person_ids
        assert own or is_owner(actor.department, OWNERS[(P, field)])


@given(actors(), SUBJECTS, PERSON_FIELDS, PURPOSES)
def test_a_purpose_the_role_may_not_name_unlocks_nothing(
    actor: Actor, subject: Subject, field: str, code: str | None
) -> None:
    p = _purpose(code)
    if p is None or p.permits(actor.role, actor.department):
        return
    assert decide(actor, subject, field, p) == decide(actor, subject, field, None)


ORDER = {D: 0, M: 1, A: 2}


@given(actors(), SUBJECTS, PERSON_FIELDS, PURPOSES)
def test_a_purpose_and_permits_only_ever_widen(
    actor: Actor, subject: Subject, field: str, code: str | None
) -> None:
    bare = decide(actor, subject, field, None).outcome
    with_purpose = decide(actor, subject, field, _purpose(code)).outcome
    assert ORDER[with_purpose] >= ORDER[bare]
    if actor.department and code:
        every = Permits(grants=frozenset({Grant(actor.department, P, field, code)}))
        assert (
            ORDER[decide(actor, subject, field, _purpose(code), every).outcome]
            >= ORDER[with_purpose]
        )


@given(actors(), SUBJECTS, PERSON_FIELDS, PURPOSES)
def test_a_resident_sees_their_own_record_whole_and_no_one_elses(
    actor: Actor, subject: Subject, field: str, code: str | None
) -> None:
    if actor.role != Role.resident:
        return
    expected = A if actor.person_id in subject.person_ids else D
    assert decide(actor, subject, field, _purpose(code)).outcome == expected


def test_a_grant_lets_another_department_read_a_field_for_that_purpose_only() -> None:
    p = purpose("social_insurance_check")
    grant = Permits(grants=frozenset({Grant(Department.human_resources, P, "school", p.code)}))
    assert decide(hr, X, "school", p).outcome == D
    assert decide(hr, X, "school", p, grant).outcome == A
    other = purpose("subsistence_allowance_review")
    assert decide(hr, X, "school", other, grant).outcome == D


def test_a_consent_lets_a_department_read_that_persons_field_only() -> None:
    p = purpose("subsistence_allowance_review")
    consent = Permits(
        consents=frozenset({Consent(1, Department.civil_affairs, "insurance_months", p.code)})
    )
    assert decide(civil, X, "insurance_months", p, consent).outcome == A
    assert decide(civil, Y, "insurance_months", p, consent).outcome == D
    assert decide(civil, X, "insurance_months", p, NO_PERMITS).outcome == D
    # a consent names its purpose: it does not count for another
    other = purpose("data_verification")
    assert decide(civil, X, "insurance_months", other, consent).outcome == D
    # a purpose's field list still binds: consent does not stretch health_follow_up
    follow_up = purpose("health_follow_up")
    health_consent = Permits(
        consents=frozenset({Consent(1, Department.health, "insurance_months", follow_up.code)})
    )
    shown = decide(health, X, "insurance_months", follow_up, health_consent)
    assert shown.outcome != A


def test_a_purpose_that_needs_consent_unlocks_nothing_without_one() -> None:
    follow_up = purpose("health_follow_up")
    assert follow_up.consent
    assert decide(health, X, "phone", follow_up) == Decision(Outcome.mask, "no_consent")
    assert decide(health, X, "citizen_id", follow_up) == Decision(Outcome.mask, "no_consent")
    phone = Permits(consents=frozenset({Consent(1, Department.health, "phone", follow_up.code)}))
    assert decide(health, X, "phone", follow_up, phone) == Decision(Outcome.allow, "consent")
    # only the consented field, only that person, only that department
    assert decide(health, X, "name", follow_up, phone).outcome == M
    assert decide(health, Y, "phone", follow_up, phone).outcome == M
    assert decide(civil, X, "phone", purpose("subsistence_allowance_review"), phone).outcome == A
    # a consent is to the person record, not to the household it belongs to
    household = Subject(EntityType.household, 5, PATH_A, frozenset({1}))
    shared = Permits(
        consents=frozenset({Consent(1, Department.health, "household_number", follow_up.code)})
    )
    assert not shared.consented(health, household, "household_number", follow_up)
    assert shared.consented(health, X, "household_number", follow_up)
    # public and internal fields never needed a purpose
    assert decide(health, X, "sex", follow_up).outcome == decide(health, X, "sex", None).outcome


def test_only_staff_search() -> None:
    assert may_search(grid_a) and may_search(police)
    assert not may_search(resident_x)
    assert not any(may_search(Actor(1, "a", r)) for r in ADMIN_ROLES)


def test_a_record_is_denied_only_when_nothing_is_shown() -> None:
    assert summarise([D, D]) == D
    assert summarise([]) == D
    assert summarise([A, D]) == A
    assert summarise([A, M, D]) == M


def test_owners_name_only_real_restricted_or_sensitive_fields() -> None:
    for (entity, field), owners in OWNERS.items():
        spec = ATTRIBUTES[entity][field]
        assert spec.sensitivity in (Sensitivity.sensitive, Sensitivity.restricted)
        assert owners == EVERY_DEPARTMENT or owners <= set(Department)


def test_a_contract_may_raise_a_fields_class_but_never_lower_it() -> None:
    assert decide(grid_a, X, "sex", None).outcome == A  # internal by default
    assert decide(grid_a, X, "sex", None, NO_PERMITS, Sensitivity.sensitive).outcome == M
    assert decide(grid_a, X, "sex", None, NO_PERMITS, Sensitivity.restricted).outcome == D
    assert decide(grid_a, X, "name", None, NO_PERMITS, Sensitivity.public).outcome == M


def test_a_department_only_a_contract_names_identifies_people_with_its_own_purpose() -> None:
    rental = Actor(18, "rental", Role.department_officer, "migrant_rental", CITY)
    registration = purposes()["migrant_residence_registration"]
    assert decide(rental, X, "citizen_id", registration).outcome == A
    assert decide(rental, X, "phone", registration).outcome == A
    assert decide(rental, X, "citizen_id", None).outcome == M  # no purpose: masked
    # its purpose reaches no other department's domain, and no one else may name it
    assert decide(rental, X, "insurance_months", registration).outcome == D
    assert not registration.permits(Role.department_officer, Department.health)
    assert decide(health, X, "citizen_id", registration).outcome == M
