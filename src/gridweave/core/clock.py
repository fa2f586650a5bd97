"""The one place to ask for the time, so tests can move it. Always UTC and time-zone aware."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current time, UTC, time-zone aware."""
    return _now()


def set_now(fn: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests only); None restores the real one."""
    global _now
    _now = fn if fn is not None else (lambda: datetime.now(UTC))
