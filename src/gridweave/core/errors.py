"""Errors that reach a user: a stable code, and what is wrong, where, and what to do."""

from __future__ import annotations


class GridweaveError(Exception):
    """An error a user can act on. `code` is stable; `message` names the thing and the place."""

    code = "gridweave_error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  → {self.hint}" if self.hint else self.message


class ContractError(GridweaveError):
    code = "contract_invalid"


class ExtractError(GridweaveError):
    """The extract file itself cannot be read as its contract says (encoding, header, empty…)."""

    code = "extract_unreadable"


class NotFound(GridweaveError):
    code = "not_found"
