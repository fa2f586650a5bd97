"""Source contracts: one YAML file declares a department's extract, with no code.

A contract says who provides the extract and on what sharing condition (the catalog entry), how
the file is encoded, which column is the source's own record id, and how its columns map onto the
canonical attributes of one or more entities per row (an education row carries a pupil and a
guardian; a rental contract a room, a landlord and a tenant).
"""

from __future__ import annotations

import difflib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gridweave.core.errors import ContractError
from gridweave.registry.attributes import ATTRIBUTES, EntityType, Kind, Sensitivity, attribute

Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,62}$")]


class Sharing(StrEnum):
    """The three sharing conditions of the Government Data Sharing Regulations."""

    shared_freely = "shared_freely"  # 无条件共享
    shared_on_approval = "shared_on_approval"  # 有条件共享
    not_shared = "not_shared"  # 不予共享


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Department(Strict):
    code: Slug
    name: str


class CatalogEntry(Strict):
    update_frequency: Literal["realtime", "daily", "weekly", "monthly", "quarterly", "yearly"]
    sharing: Sharing
    condition: str | None = None  # the condition of sharing on approval, or why it is not shared


class FileSpec(Strict):
    format: Literal["csv", "xlsx", "jsonl"]
    encoding: Literal["utf-8", "utf-8-sig", "gb18030", "gbk"] = "utf-8"
    delimiter: str = Field(",", min_length=1, max_length=1)
    sheet: str | int | None = None  # xlsx: sheet name or 0-based index; default the first


class AttributeMapping(Strict):
    """How one canonical attribute is read from a row: a column, or a constant value."""

    column: str | None = None
    value: str | None = None
    codes: dict[str, str] | None = None  # source code → canonical code
    formats: list[str] | None = None  # strptime formats tried before the built-in ones
    sensitivity: Sensitivity | None = Field(None, alias="class")
    priority: int = Field(50, ge=0, le=1000)  # survivorship trust: higher wins
    required: bool = False  # missing or invalid → the row is quarantined

    @model_validator(mode="after")
    def _one_origin(self) -> AttributeMapping:
        if (self.column is None) == (self.value is None):
            raise ValueError("give exactly one of 'column' or 'value'")
        return self


class EntityMapping(Strict):
    entity: EntityType
    role: Slug | None = None  # distinguishes two entities of one type in a row (pupil, guardian)
    attributes: dict[str, AttributeMapping]
    links: dict[Slug, Slug] = Field(default_factory=dict)  # relation → role of the other entity

    @property
    def role_name(self) -> str:
        return self.role or self.entity.value


class Contract(Strict):
    name: Slug
    title: str
    department: Department
    topic: str
    catalog: CatalogEntry
    file: FileSpec
    record_id: list[str] = Field(min_length=1)  # columns that together are the source's record id
    observed_at: AttributeMapping | None = None  # column with the time the source observed a row
    entities: list[EntityMapping] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _record_id_as_list(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("record_id"), str):
            data = {**data, "record_id": [data["record_id"]]}
        return data

    def columns(self) -> list[str]:
        """Every column the contract reads, in first-use order."""
        seen: dict[str, None] = dict.fromkeys(self.record_id)
        if self.observed_at and self.observed_at.column:
            seen[self.observed_at.column] = None
        for ent in self.entities:
            for m in ent.attributes.values():
                if m.column:
                    seen[m.column] = None
        return list(seen)

    def sensitivity(self, entity: EntityMapping, name: str) -> Sensitivity:
        declared = entity.attributes[name].sensitivity
        return declared or attribute(entity.entity, name).sensitivity


def _check_semantics(c: Contract, origin: str) -> None:
    """Refuse what pydantic cannot see: unknown attributes, codes outside their table, bad links."""
    roles = [e.role_name for e in c.entities]
    if len(set(roles)) != len(roles):
        raise ContractError(
            f"{origin}: two entities share the role name; give each a distinct 'role' ({roles})"
        )
    for ent in c.entities:
        known = ATTRIBUTES[ent.entity]
        for name, mapping in ent.attributes.items():
            where = f"{origin}: entity '{ent.role_name}' ({ent.entity.value}), attribute '{name}'"
            if name not in known:
                close = difflib.get_close_matches(name, known, n=3)
                hint = f"did you mean {', '.join(close)}?" if close else ""
                raise ContractError(
                    f"{where}: there is no canonical attribute '{name}' on {ent.entity.value}",
                    hint=hint or f"known attributes: {', '.join(known)}",
                )
            spec = known[name]
            if spec.kind == Kind.code:
                targets = set((mapping.codes or {}).values())
                if mapping.value is not None:
                    targets.add(mapping.value)
                bad = sorted(targets - spec.codes)
                if bad:
                    raise ContractError(
                        f"{where}: code(s) {bad} are not in the table of '{name}'",
                        hint=f"allowed: {sorted(spec.codes)}",
                    )
            elif mapping.codes is not None and spec.kind != Kind.text:
                raise ContractError(f"{where}: 'codes' only applies to code or text attributes")
        if not any(known[n].is_key for n in ent.attributes) and ent.entity != EntityType.person:
            key = next(a.name for a in known.values() if a.is_key)
            raise ContractError(
                f"{origin}: entity '{ent.role_name}' ({ent.entity.value}) maps no '{key}'",
                hint=f"a {ent.entity.value} record needs its key attribute '{key}'",
            )
        for relation, other in ent.links.items():
            if other not in roles:
                raise ContractError(
                    f"{origin}: link '{relation}' of '{ent.role_name}' points to role '{other}',"
                    f" which this contract does not declare (roles: {roles})"
                )


def parse_contract(text: str, origin: str = "<contract>") -> Contract:
    """Parse and check a contract from YAML text; ContractError names what is wrong and where."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ContractError(f"{origin}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ContractError(f"{origin}: a contract is a YAML mapping, got {type(data).__name__}")
    try:
        contract = Contract.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise ContractError(f"{origin}: {problems}") from None
    _check_semantics(contract, origin)
    return contract


def load_contract(path: Path) -> Contract:
    """Read and check the contract in a YAML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractError(f"{path}: no such contract file") from None
    return parse_contract(text, str(path))


def check_header(contract: Contract, header: list[str], file: str) -> None:
    """Refuse an extract whose header lacks a column the contract reads, naming both."""
    present = set(header)
    missing = [c for c in contract.columns() if c not in present]
    if missing:
        guesses = []
        for col in missing:
            close = difflib.get_close_matches(col, header, n=1, cutoff=0.4)
            guesses.append(f"'{col}'" + (f" (the file has '{close[0]}')" if close else ""))
        raise ContractError(
            f"{file}: contract '{contract.name}' reads column(s) {', '.join(guesses)},"
            f" which the file's header lacks",
            hint=f"the file's header is: {', '.join(header)}. Fix the contract's column names"
            " or ask the department for the agreed layout.",
        )
