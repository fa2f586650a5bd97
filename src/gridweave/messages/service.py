"""Write messages to the outbox with the change they announce; send what is due.

`enqueue` adds rows to the caller's session, so a message exists exactly when its change
commits. `dispatch` takes due messages (on PostgreSQL `FOR UPDATE SKIP LOCKED`, so several
dispatchers never send one message twice), hands each to the sender and records the outcome:
sent; or retried after `message_retry_seconds` × 2^(failures−1), capped at a day; or, after
`message_max_attempts` failures, dead (kept, with the last error, for an operator).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridweave.core import clock
from gridweave.core.settings import Settings
from gridweave.messages.models import OutboxMessage
from gridweave.messages.senders import Sender

SCHEMA_VERSION = 1
MAX_BACKOFF = timedelta(days=1)


def enqueue(
    session: Session,
    *,
    event: str,
    recipient_kind: str,
    recipient: str | int,
    payload: dict[str, Any],
) -> OutboxMessage:
    """Add one message to the outbox in the caller's transaction."""
    now = clock.now()
    message = OutboxMessage(
        event=event,
        recipient_kind=recipient_kind,
        recipient=str(recipient),
        payload={"schema_version": SCHEMA_VERSION, "event": event, **payload},
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    return message


@dataclass
class Dispatched:
    """What one dispatch pass did."""

    sent: int = 0
    failed: int = 0  # failed this pass, to be retried
    dead: int = 0  # failed for the last time this pass


def backoff(settings: Settings, failures: int) -> timedelta:
    """How long to wait after the `failures`-th failed send."""
    wait = timedelta(seconds=settings.message_retry_seconds * 2 ** min(failures - 1, 20))
    return min(wait, MAX_BACKOFF)


def dispatch(
    session: Session, *, sender: Sender, settings: Settings, limit: int = 100
) -> Dispatched:
    """Send up to `limit` due messages, oldest first; the caller commits."""
    now = clock.now()
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    done = Dispatched()
    for message in session.scalars(query):
        try:
            sender.send(message)
        except Exception as exc:  # any channel failure is retried, never lost
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= settings.message_max_attempts:
                message.status = "dead"
                done.dead += 1
            else:
                message.next_attempt_at = now + backoff(settings, message.attempts)
                done.failed += 1
            continue
        message.attempts += 1
        message.status = "sent"
        message.sent_at = now
        message.last_error = None
        done.sent += 1
    session.flush()
    return done


def counts(session: Session) -> dict[str, int]:
    """Messages by status, and how many send attempts have failed in all."""
    out = {
        status: n
        for status, n in session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
    }
    attempts = session.scalar(select(func.coalesce(func.sum(OutboxMessage.attempts), 0)))
    failures = int(attempts or 0) - out.get("sent", 0)  # every sent message's last try worked
    return {"pending": 0, "sent": 0, "dead": 0, **out, "failed_attempts": failures}


def messages_for(
    session: Session, *, recipient_kind: str, recipient: str | int, limit: int = 100
) -> list[OutboxMessage]:
    """The newest messages to one recipient."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.recipient_kind == recipient_kind,
                OutboxMessage.recipient == str(recipient),
            )
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )
