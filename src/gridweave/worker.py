"""`gridweave worker`: the platform's recurring duties in one long-running process, so that a
deployment needs no cron beside it.

- the message outbox is dispatched every few seconds (at once again while a pass is full);
- consent requests that guardians answer for a child who has turned 14 are handed to the child,
  once a day in the city's time zone (at start, then whenever the local date changes).

A duty that fails (the database restarting, an unreachable channel) is reported and tried again
on the next tick; the worker itself keeps running. One worker runs per database (`sole_worker`):
a second is refused, since two dispatchers on SQLite could both send a message.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date

from filelock import FileLock, Timeout
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from gridweave.core.database import transaction
from gridweave.core.errors import GridweaveError
from gridweave.core.settings import Settings
from gridweave.messages import service as messages
from gridweave.messages.senders import Sender, sender_for
from gridweave.sharing import audit, consents, identities
from gridweave.sharing.roles import Role

Report = Callable[[str], None]


@dataclass
class Worker:
    engine: Engine
    settings: Settings
    dispatch_every: float = 5.0  # seconds between outbox passes
    batch: int = 100  # messages a pass
    report: Report = print
    # the settings' sender, made with the worker: one set up wrongly is refused before it starts
    sender: Sender = field(init=False)
    _handed_over_on: date | None = field(default=None, init=False)
    _next_dispatch: float = field(default=0.0, init=False)  # time.monotonic() it is due at

    def __post_init__(self) -> None:
        self.sender = sender_for(self.settings)

    def tick(self, now: float) -> float:
        """Run the duties due at `now` (a `time.monotonic()` reading); return when the next is
        due."""
        day = consents.today(self.settings.timezone)
        if self._handed_over_on != day and self._duty("consent hand-over", self._hand_over):
            self._handed_over_on = day
        if now >= self._next_dispatch:
            full = self._duty("message dispatch", self._dispatch)
            self._next_dispatch = now if full else now + self.dispatch_every
        return self._next_dispatch

    def run(self, stop: threading.Event) -> None:
        """Tick until `stop` is set (by a signal, or a test)."""
        self.report(
            f"worker started: outbox every {self.dispatch_every:g} s, consent hand-over daily"
            f" ({self.settings.timezone})"
        )
        while not stop.is_set():
            due = self.tick(time.monotonic())
            # wake at least once a minute, so the hand-over follows the local date
            stop.wait(timeout=min(max(due - time.monotonic(), 0.0), 60.0))
        self.report("worker stopped")

    def _duty(self, name: str, duty: Callable[[], bool]) -> bool:
        """Run one duty and return what it returns; a failure is reported, not raised (False)."""
        try:
            return duty()
        except Exception as exc:  # retried on the next tick; the worker goes on
            self.report(f"{name} failed, tried again on the next tick: {type(exc).__name__}: {exc}")
            return False

    def _hand_over(self) -> bool:
        with transaction(self.engine) as session:
            done = consents.hand_over_due(
                session,
                actor=identities.console_actor(Role.system_admin),
                trail=audit.Trail(algorithm=self.settings.audit_hash),
                timezone=self.settings.timezone,
            )
        self.report(f"consent hand-over: {done} request(s) handed to children who turned 14")
        return True

    def _dispatch(self) -> bool:
        """One outbox pass; True when it was full (more may be waiting)."""
        with transaction(self.engine) as session:
            done = messages.dispatch(
                session, sender=self.sender, settings=self.settings, limit=self.batch
            )
        if done.sent or done.failed or done.dead:
            self.report(
                f"messages: sent {done.sent}, failed {done.failed} (retried later),"
                f" dead {done.dead}"
            )
        return done.sent + done.failed + done.dead >= self.batch


# the PostgreSQL advisory lock a worker holds: a fixed 64-bit key of its own
_LOCK_KEY = int.from_bytes(hashlib.sha256(b"gridweave worker").digest()[:8], "big", signed=True)


class WorkerRunning(GridweaveError):
    code = "worker_running"


def _refused(where: str) -> WorkerRunning:
    return WorkerRunning(
        f"another gridweave worker is running on this database ({where})",
        hint="one worker per database: stop the other one first (SIGTERM or Ctrl-C)",
    )


@contextmanager
def sole_worker(engine: Engine) -> Iterator[None]:
    """Hold the database's worker lock while the block runs; refuse (WorkerRunning) if another
    worker holds it. PostgreSQL: a session advisory lock, on a connection kept for the block;
    SQLite: an exclusive lock (`filelock`) on a file beside the database (a database in memory
    belongs to one process: nothing to hold). Either lock goes with the process that held it,
    even if that process is killed."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            taken = connection.exec_driver_sql(f"SELECT pg_try_advisory_lock({_LOCK_KEY})")
            if not taken.scalar_one():
                raise _refused(f"PostgreSQL advisory lock {_LOCK_KEY}")
            connection.commit()
            try:
                yield
            finally:
                with suppress(DBAPIError):  # a server that went away took the lock with it
                    connection.exec_driver_sql(f"SELECT pg_advisory_unlock({_LOCK_KEY})")
        return
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        yield
        return
    lock = FileLock(f"{database}.worker-lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise _refused(f"{lock.lock_file} is locked") from None
    try:
        yield
    finally:
        lock.release()
