"""Purposes of use: which role (and department) may name which purpose, and what it unlocks."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from gridweave.sharing.roles import Department, Role

PURPOSES_FILE = Path(__file__).with_name("purposes.yaml")


class Purpose(BaseModel):
    """One purpose of use from purposes.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    zh: str
    en: str
    roles: frozenset[Role]
    departments: frozenset[Department] | None = None  # limits department officers only
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


def parse_purposes(text: str) -> dict[str, Purpose]:
    """The purposes in a purposes.yaml text, by code."""
    data = yaml.safe_load(text)["purposes"]
    return {code: Purpose(code=code, **spec) for code, spec in data.items()}


@cache
def purposes() -> dict[str, Purpose]:
    """The deployment's purposes (sharing/purposes.yaml), by code."""
    return parse_purposes(PURPOSES_FILE.read_text(encoding="utf-8"))


def allowed_purposes(role: Role, department: str | None) -> list[Purpose]:
    """The purposes an actor of this role and department may name."""
    return [p for p in purposes().values() if p.permits(role, department)]
