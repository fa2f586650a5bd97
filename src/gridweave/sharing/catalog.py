"""The resource catalog (信息资源目录), generated from the registered source contracts."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridweave.ingest import service as ingest
from gridweave.ingest.contracts import Contract
from gridweave.ingest.models import Source
from gridweave.registry.attributes import EntityType, Sensitivity, attribute
from gridweave.sharing.gate import OWNERS, RANK
from gridweave.sharing.roles import DEPARTMENT_LABELS, Department

SHARING_LABELS = {
    "shared_freely": ("无条件共享", "shared freely"),
    "shared_on_approval": ("有条件共享", "shared on approval"),
    "not_shared": ("不予共享", "not shared"),
}


@dataclass(frozen=True)
class CatalogAttribute:
    entity: str
    role: str
    attribute: str
    zh: str
    en: str
    sensitivity: str
    owners: tuple[str, ...]  # departments whose domain it is (the gate's OWNERS); ("*",): all


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    title: str
    department_code: str
    department_name: str
    topic: str
    update_frequency: str
    sharing: str
    sharing_zh: str
    condition: str | None
    batches: int
    attributes: list[CatalogAttribute] = field(default_factory=list)


def entry_of(source: Source, contract: Contract, batches: int) -> CatalogEntry:
    """A source's catalog entry: its department, topic, sharing condition and attributes."""
    attributes = []
    for ent in contract.entities:
        for name in ent.attributes:
            spec = attribute(ent.entity, name)
            owners = OWNERS.get((ent.entity, name), frozenset())
            attributes.append(
                CatalogAttribute(
                    entity=ent.entity.value,
                    role=ent.role_name,
                    attribute=name,
                    zh=spec.zh,
                    en=spec.en,
                    sensitivity=contract.sensitivity(ent, name).value,
                    owners=tuple(sorted(owners)),
                )
            )
    sharing = contract.catalog.sharing.value
    return CatalogEntry(
        name=source.name,
        title=contract.title,
        department_code=contract.department.code,
        department_name=contract.department.name,
        topic=contract.topic,
        update_frequency=contract.catalog.update_frequency,
        sharing=sharing,
        sharing_zh=SHARING_LABELS[sharing][0],
        condition=contract.catalog.condition,
        batches=batches,
        attributes=attributes,
    )


@dataclass
class _Declared:
    fingerprint: tuple[object, ...]
    checked: float  # time.monotonic() of the last fingerprint check
    classes: dict[tuple[EntityType, str], Sensitivity]


_declared: dict[str, _Declared] = {}  # by database URL
RECHECK_SECONDS = 1.0  # a changed contract's stricter class applies within this long


def declared_classes(session: Session) -> dict[tuple[EntityType, str], Sensitivity]:
    """(entity, attribute) → the strictest class any registered contract declares for it.

    Parsed again only when the registered contracts change (their count or newest update,
    checked at most once a second), not on every request.
    """
    url = str(session.connection().engine.url)
    cached = _declared.get(url)
    now = time.monotonic()
    if cached is not None and now - cached.checked < RECHECK_SECONDS:
        return cached.classes
    # reads ingest's table directly: the catalog is generated from it (like decision 0001)
    fingerprint = tuple(session.execute(select(func.count(), func.max(Source.updated_at))).one())
    if cached is None or cached.fingerprint != fingerprint:
        strictest: dict[tuple[EntityType, str], Sensitivity] = {}
        for source, _ in ingest.list_sources(session):
            contract = ingest.contract_of(source)
            for ent in contract.entities:
                for name in ent.attributes:
                    cls = contract.sensitivity(ent, name)
                    old = strictest.get((ent.entity, name))
                    if old is None or RANK[cls] > RANK[old]:
                        strictest[(ent.entity, name)] = cls
        cached = _Declared(fingerprint, now, strictest)
        _declared[url] = cached
    cached.checked = now
    return cached.classes


def list_catalog(session: Session) -> list[CatalogEntry]:
    """Every registered source's catalog entry, by name."""
    return [
        entry_of(source, ingest.contract_of(source), batches)
        for source, batches in ingest.list_sources(session)
    ]


def catalog_entry(session: Session, name: str) -> CatalogEntry:
    """One source's catalog entry; NotFound names the registered sources."""
    source = ingest.get_source(session, name)
    batches = next(n for s, n in ingest.list_sources(session) if s.id == source.id)
    return entry_of(source, ingest.contract_of(source), batches)


def departments(session: Session) -> dict[str, str]:
    """Department code → its name: the seven whose domains the gate knows (roles.Department),
    and every department a registered source contract names (a city's tax office, its urban
    management, …), so that each department supplying data can have officers who answer for
    it."""
    cached = session.info.get(_DEPARTMENTS)
    if cached is not None and cached[0] is session.get_transaction():  # read once a transaction:
        return dict(cached[1])  # a tracker labels many entries
    known = {d.value: zh for d, (zh, _) in DEPARTMENT_LABELS.items()}
    for code, name in session.execute(
        select(Source.department_code, func.min(Source.department_name)).group_by(
            Source.department_code
        )
    ):
        known.setdefault(code, name)
    session.info[_DEPARTMENTS] = (session.get_transaction(), known)
    return dict(known)


_DEPARTMENTS = "gridweave.catalog.departments"


def department_label(session: Session, code: str | None, lang: str) -> str | None:
    """A department's name in zh-CN or en: a contract's department known only by its zh name
    is named by its code in English ("urban management")."""
    if code is None:
        return None
    if code in set(Department):
        zh, en = DEPARTMENT_LABELS[Department(code)]
        return en if lang == "en" else zh
    if lang == "en":
        return code.replace("_", " ")
    return departments(session).get(code, code)
