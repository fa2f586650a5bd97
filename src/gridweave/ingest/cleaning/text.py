"""Free text and values from closed code tables."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from gridweave.ingest.cleaning._chars import LATIN_UPPER, WS_CLASS

LATIN_LOWER: dict[str, str] = {v: k for k, v in LATIN_UPPER.items()}
_LOWER = str.maketrans(LATIN_LOWER)
_WS = re.compile(WS_CLASS + "+")
KNOWN_SHOWN = 20  # how many known codes a problem lists


@dataclass(frozen=True)
class Coded:
    """A canonical code, or why there is none."""

    value: str | None
    problem: str | None = None


def clean_text(raw: str | None) -> str | None:
    """Whitespace collapsed to single spaces and trimmed; None when nothing is left."""
    if raw is None:
        return None
    return _WS.sub(" ", raw).strip(" ") or None


def code_key(text: str) -> str:
    """How raw values and code-table keys are compared: trimmed, Latin letters in lower case."""
    return (clean_text(text) or "").translate(_LOWER)


def code_lookup(codes: Mapping[str, str] | None, allowed: frozenset[str]) -> dict[str, str]:
    """Compared key → canonical code: the allowed codes themselves, then the source's codes."""
    lookup = {code_key(a): a for a in sorted(allowed)}
    lookup.update({code_key(k): v for k, v in (codes or {}).items()})
    return lookup


def known_codes(codes: Mapping[str, str] | None, allowed: frozenset[str]) -> str:
    """The codes a problem lists as accepted."""
    known = sorted(set(codes or ()) | allowed)
    shown = ", ".join(known[:KNOWN_SHOWN])
    return shown + (", …" if len(known) > KNOWN_SHOWN else "")


def map_text(raw: str | None, codes: Mapping[str, str] | None = None) -> str | None:
    """Cleaned text, replaced by its mapping in `codes` when it has one."""
    text = clean_text(raw)
    if text is None or not codes:
        return text
    return code_lookup(codes, frozenset()).get(code_key(text), text)


def clean_code(
    raw: str | None, codes: Mapping[str, str] | None = None, allowed: frozenset[str] = frozenset()
) -> Coded:
    """The canonical code for a raw value, or why it is not one; with no `allowed`, any value."""
    text = clean_text(raw)
    if text is None:
        return Coded(None)
    mapped = code_lookup(codes, allowed).get(code_key(text))
    if not allowed:
        return Coded(mapped or text)
    if mapped in allowed:
        return Coded(mapped)
    return Coded(None, f"'{text}' is not a known code; known: {known_codes(codes, allowed)}")
