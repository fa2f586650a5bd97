"""The tamper-evident audit log: every access and every change, appended to a hash chain.

Each entry's hash is H(previous hash + "\n" + canonical JSON of its content), H being SHA-256 or
SM3 (settings.audit_hash; each entry names its own). One head row holds the last sequence number
and hash; an append locks it first (row lock on PostgreSQL, the write lock on SQLite), so entries
are numbered and chained in commit order. `verify` walks the chain and names every entry that
was edited, deleted or moved.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes
from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from gridweave.core import clock
from gridweave.sharing.gate import Actor
from gridweave.sharing.models import AuditEntry, AuditHead

GENESIS = "0" * 64
HEAD_ID = 1
CONTENT = (
    "at",
    "action",
    "actor_id",
    "actor_name",
    "actor_role",
    "actor_department",
    "actor_area",
    "entity_type",
    "record_id",
    "person_id",
    "purpose",
    "outcome",
    "fields",
    "detail",
    "request_id",
    "withheld_until",
    "algorithm",
    "prev_hash",
)


@dataclass(frozen=True)
class Trail:
    """Where one unit of work's audit entries go: the chain's hash and the request they serve."""

    algorithm: str = "sha256"
    request_id: str | None = None


@dataclass
class Event:
    """What happened, to be appended: an access or a change."""

    action: str  # person.read, person.search, account.created, auth.login_failed, …
    outcome: str  # allow | mask | deny for reads; ok | fail for changes and logins
    entity_type: str | None = None
    record_id: int | None = None
    person_id: int | None = None
    purpose: str | None = None
    fields: dict[str, str] | None = None
    detail: dict[str, Any] | None = None
    withheld_until: datetime | None = None


def _timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(content: dict[str, Any]) -> bytes:
    """The content as canonical JSON: sorted keys, no spaces, UTF-8, times as UTC ISO text."""
    ready = {k: _timestamp(v) if isinstance(v, datetime) else v for k, v in content.items()}
    return orjson.dumps(ready, option=orjson.OPT_SORT_KEYS)


def digest(algorithm: str, prev_hash: str, payload: bytes) -> str:
    """H(prev_hash + "\\n" + payload) as hex, with SHA-256 or SM3."""
    data = prev_hash.encode() + b"\n" + payload
    if algorithm == "sha256":
        return hashlib.sha256(data).hexdigest()
    if algorithm == "sm3":
        h = hashes.Hash(hashes.SM3())
        h.update(data)
        return h.finalize().hex()
    raise ValueError(f"unknown audit hash algorithm {algorithm!r} (sha256 or sm3)")


def content_of(entry: AuditEntry) -> dict[str, Any]:
    """The hashed content of a stored entry."""
    return {k: getattr(entry, k) for k in CONTENT}


_INSERT = insert(AuditEntry.__table__)  # type: ignore[arg-type]
_SET_HEAD = (
    update(AuditHead.__table__)  # type: ignore[arg-type]
    .where(AuditHead.__table__.c.id == HEAD_ID)
    .values(hash=bindparam("hash"))
)
_PLACEHOLDER = f"prev-{uuid.uuid4().hex}"  # random per process: no input can contain it


def _content(
    event: Event, actor: Actor | None, name: str, trail: Trail, now: datetime
) -> dict[str, Any]:
    return {
        "at": now,
        "action": event.action,
        "actor_id": actor.account_id if actor else None,
        "actor_name": actor.username if actor else name,
        "actor_role": actor.role.value if actor else None,
        "actor_department": actor.department if actor else None,
        "actor_area": actor.area_code if actor else None,
        "entity_type": event.entity_type,
        "record_id": event.record_id,
        "person_id": event.person_id,
        "purpose": event.purpose,
        "outcome": event.outcome,
        "fields": event.fields,
        "detail": event.detail,
        "request_id": trail.request_id,
        "withheld_until": event.withheld_until,
        "algorithm": trail.algorithm,
    }


def append(
    session: Session, *, actor: Actor | None, events: list[Event], trail: Trail, name: str = ""
) -> None:
    """Record events in the session's transaction: they are written and chained as it commits.

    Chaining waits for the commit so that the head's lock is held as briefly as possible: a lock
    held across the rest of a request (or a thread hop, or a wait for the GIL) makes every other
    request queue behind it. A rollback drops them. `name` stands in for the actor when there is
    none (a failed login's attempted username).
    """
    now = clock.now()
    staged = session.info.setdefault(_STAGED, [])
    staged.extend(_content(e, actor, name, trail, now) for e in events)


_STAGED = "gridweave.audit.staged"


@sa_event.listens_for(Session, "before_commit")
def _write_staged(session: Session) -> None:
    contents = session.info.pop(_STAGED, None)
    if contents:
        write(session.connection(), contents)


@sa_event.listens_for(Session, "after_rollback")
def _drop_staged(session: Session) -> None:
    session.info.pop(_STAGED, None)


def write(connection: Connection, contents: list[dict[str, Any]]) -> None:
    """Insert entries: on PostgreSQL unchained, for the commit-time trigger of migration 0002
    to chain (SHA-256); otherwise chained here, under the head's lock."""
    if connection.dialect.name == "postgresql":
        rows = [r for r in map(_unchained, contents) if r is not None]
        if len(rows) == len(contents):
            connection.execute(_INSERT, rows)
            return
    _append_here(connection, contents)


def _unchained(content: dict[str, Any]) -> dict[str, Any] | None:
    """An entry for the trigger: its canonical JSON split where the previous hash goes."""
    if content["algorithm"] != "sha256":
        return None  # the database has no SM3
    payload = canonical({**content, "prev_hash": _PLACEHOLDER}).decode()
    parts = payload.split(_PLACEHOLDER)
    if len(parts) != 2:
        return None
    return {**content, "prev_hash": None, "payload_before": parts[0], "payload_after": parts[1]}


def _append_here(connection: Connection, contents: list[dict[str, Any]]) -> None:
    """Entries chained in Python, under the head's lock (SQLite, SM3, several at once)."""
    n = len(contents)
    # Lock the head as it is read (UPDATE … RETURNING): concurrent appends queue here, in
    # commit order, instead of forking the chain.
    last, prev = connection.execute(
        update(AuditHead.__table__)  # type: ignore[arg-type]
        .where(AuditHead.__table__.c.id == HEAD_ID)
        .values(seq=AuditHead.__table__.c.seq + n)
        .returning(AuditHead.__table__.c.seq, AuditHead.__table__.c.hash)
    ).one()
    first = last - n + 1
    rows = []
    for seq, content in enumerate(contents, start=first):
        chained = {**content, "prev_hash": prev}
        prev = digest(content["algorithm"], prev, canonical(chained))
        rows.append({**chained, "seq": seq, "hash": prev})
    connection.execute(_INSERT, rows)
    connection.execute(_SET_HEAD, {"hash": prev})


@dataclass(frozen=True)
class Problem:
    """One break in the chain, at an entry's sequence number."""

    seq: int
    kind: str  # edited | deleted | reordered | head | unchained
    message: str


@dataclass
class Verification:
    entries: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session) -> Verification:
    """Walk the chain in sequence order and report every entry that breaks it."""
    result = Verification()
    for (entry_id,) in session.execute(select(AuditEntry.id).where(AuditEntry.seq.is_(None))):
        result.entries += 1  # committed yet never chained: written around the chain
        result.problems.append(Problem(0, "unchained", f"row {entry_id} is not in the chain"))
    expected_seq, expected_prev = 1, GENESIS
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.seq.is_not(None))
        .order_by(AuditEntry.seq)
        .execution_options(yield_per=2000)
    )
    for entry in entries:
        result.entries += 1
        seq, prev_hash, stored = int(entry.seq or 0), entry.prev_hash or "", entry.hash or ""
        gap = seq > expected_seq
        if gap:
            span = (
                f"entry {expected_seq} is"
                if seq == expected_seq + 1
                else f"entries {expected_seq}–{seq - 1} are"
            )
            result.problems.append(
                Problem(expected_seq, "deleted", f"{span} missing: deleted from the chain")
            )
        if digest(entry.algorithm, prev_hash, canonical(content_of(entry))) != stored:
            result.problems.append(
                Problem(seq, "edited", f"entry {seq}: content does not match its hash")
            )
        elif prev_hash != expected_prev and not gap:
            result.problems.append(_misplaced(session, seq, prev_hash))
        expected_seq, expected_prev = seq + 1, stored
    _check_head(session, result, expected_seq - 1, expected_prev)
    return result


def _check_head(session: Session, result: Verification, last_seq: int, last_hash: str) -> None:
    """The head must name the last entry: else the tail was cut off (or entries added)."""
    head = session.get(AuditHead, HEAD_ID)
    if head is None:
        result.problems.append(Problem(0, "head", "the chain's head row is missing"))
    elif head.seq != last_seq:
        cut = head.seq > last_seq
        result.problems.append(
            Problem(
                last_seq + 1,
                "deleted" if cut else "head",
                f"the chain ends at entry {last_seq} but its head says {head.seq}"
                + (": the last entries were deleted" if cut else ""),
            )
        )
    elif head.hash != last_hash:
        result.problems.append(
            Problem(last_seq, "head", f"entry {last_seq} is not the entry the head recorded")
        )


def _misplaced(session: Session, seq: int, prev_hash: str) -> Problem:
    """Name the entry this one really follows, if it is still there."""
    before = session.scalar(select(AuditEntry.seq).where(AuditEntry.hash == prev_hash))
    if before is None:
        return Problem(
            seq, "deleted", f"entry {seq}: the entry it follows is no longer in the chain (deleted)"
        )
    return Problem(
        seq,
        "reordered",
        f"entry {seq} follows entry {before}, not entry {seq - 1}: reordered or swapped",
    )


@dataclass(frozen=True)
class Filters:
    """What an auditor searches the log for."""

    actor_name: str | None = None
    person_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _where(filters: Filters) -> list[Any]:
    clauses: list[Any] = []
    if filters.actor_name:
        clauses.append(AuditEntry.actor_name == filters.actor_name)
    if filters.person_id is not None:
        clauses.append(AuditEntry.person_id == filters.person_id)
    if filters.action:
        clauses.append(AuditEntry.action == filters.action)
    if filters.since:
        clauses.append(AuditEntry.at >= filters.since)
    if filters.until:
        clauses.append(AuditEntry.at < filters.until)
    return clauses


def find_entries(
    session: Session, filters: Filters, *, limit: int | None = 100, after_seq: int = 0
) -> Iterator[AuditEntry]:
    """Entries matching the filters, in sequence order, after `after_seq`."""
    query = (
        select(AuditEntry)
        .where(AuditEntry.seq > after_seq, *_where(filters))
        .order_by(AuditEntry.seq)
        .limit(limit)
        .execution_options(yield_per=2000)
    )
    yield from session.scalars(query)


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    """An entry as a JSON-ready dict, hashes included (one line of an export)."""
    out = {"seq": entry.seq, **content_of(entry), "hash": entry.hash}
    out["at"] = _timestamp(entry.at)
    out["withheld_until"] = _timestamp(entry.withheld_until)
    return out
