"""Purposes of use: which role (and department) may name which purpose, and what it unlocks.

The list is the deployment's: the built-in `purposes.yaml` unless `GRIDWEAVE_PURPOSES_FILE`
names another (the city's data administration keeps it, beside the catalog). It is checked when
a command or the API starts (`use_purposes_file`): a mistake is refused there, naming the file,
the purpose and what is wrong, rather than found by the first read that names that purpose.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gridweave.core.errors import GridweaveError
from gridweave.registry.attributes import ATTRIBUTES
from gridweave.sharing.roles import Role

PURPOSES_FILE = Path(__file__).with_name("purposes.yaml")  # the built-in list
CODE = re.compile(r"^[a-z_]{1,60}$")  # what the API's `purpose` parameter accepts
DEPARTMENT = re.compile(r"^[a-z][a-z0-9_]{1,39}$")  # a department code, as contracts give it
KNOWN_FIELDS = frozenset(name for attributes in ATTRIBUTES.values() for name in attributes)


class PurposesError(GridweaveError):
    code = "purposes_invalid"


class Purpose(BaseModel):
    """One purpose of use from the purposes file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    roles: frozenset[Role] = Field(min_length=1)
    departments: frozenset[str] | None = None  # limits department officers only
    fields: frozenset[str] | None = None  # what it may unmask; None: whatever the gate allows
    confidential: bool = False
    consent: bool = False  # lawful only with the person's (or their guardian's) consent
    release_after_days: int = Field(0, ge=0)

    def permits(self, role: Role, department: str | None) -> bool:
        """May an actor of this role and department name this purpose?"""
        if role not in self.roles:
            return False
        if role == Role.department_officer and self.departments is not None:
            return department in self.departments
        return True

    def covers(self, field: str) -> bool:
        """Does this purpose reach this field at all?"""
        return self.fields is None or field in self.fields

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


def parse_purposes(text: str, source: str = "purposes.yaml") -> dict[str, Purpose]:
    """The purposes in a purposes file's text, by code; a mistake is a PurposesError naming
    `source`, the purpose and what is wrong."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise PurposesError(
            f"{source}: not valid YAML{where}: {getattr(exc, 'problem', exc)}",
            hint="fix the file; `gridweave purposes check FILE` checks it again",
        ) from None
    listed = data.get("purposes") if isinstance(data, dict) else None
    if not isinstance(listed, dict) or not listed:
        raise PurposesError(
            f"{source}: no purposes: the file must hold a mapping `purposes:` of code → purpose",
            hint=f"see the built-in list, {PURPOSES_FILE}",
        )
    return {str(code): _purpose(source, str(code), spec) for code, spec in listed.items()}


def _purpose(source: str, code: str, spec: Any) -> Purpose:
    def wrong(problem: str) -> PurposesError:
        return PurposesError(
            f"{source}: purpose {code!r}: {problem}",
            hint=f"the built-in list shows the format: {PURPOSES_FILE}",
        )

    if not CODE.match(code):
        raise wrong("a code is 1-60 lower-case letters and underscores")
    if not isinstance(spec, dict):
        raise wrong("must be a mapping of zh, en, roles, …")
    try:
        purpose = Purpose(code=code, **spec)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise wrong(f"{where}: {first['msg']}") from None
    unknown = sorted((purpose.fields or frozenset()) - KNOWN_FIELDS)
    if unknown:
        raise wrong(f"unknown fields {', '.join(unknown)}: not an attribute of any record")
    bad = sorted(d for d in purpose.departments or () if not DEPARTMENT.match(d))
    if bad:
        raise wrong(f"{', '.join(bad)} is not a department code (lower-case, as contracts name it)")
    if purpose.departments is not None and Role.department_officer not in purpose.roles:
        raise wrong("`departments` limits department officers, but its roles have none")
    return purpose


@cache
def load_purposes(path: Path) -> dict[str, Purpose]:
    """The purposes of a file (read once per process)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PurposesError(
            f"cannot read the purposes file {path}: {exc}",
            hint="GRIDWEAVE_PURPOSES_FILE names it; unset, the built-in list is used",
        ) from None
    return parse_purposes(text, str(path))


_active = PURPOSES_FILE


def use_purposes_file(path: Path | None) -> None:
    """Make this file (None: the built-in list) the deployment's purposes, checked first."""
    global _active
    chosen = PURPOSES_FILE if path is None else path
    load_purposes(chosen)
    _active = chosen


def purposes_file() -> Path:
    """The file the deployment's purposes come from."""
    return _active


def purposes() -> dict[str, Purpose]:
    """The deployment's purposes, by code."""
    return load_purposes(_active)


def allowed_purposes(role: Role, department: str | None) -> list[Purpose]:
    """The purposes an actor of this role and department may name."""
    return [p for p in purposes().values() if p.permits(role, department)]
