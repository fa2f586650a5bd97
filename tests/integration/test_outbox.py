"""The message outbox on SQLite and PostgreSQL: a message exists exactly when its change commits;
the dispatcher sends what is due, retries failures with a doubling wait, counts them, and gives
up after the last attempt; two dispatchers never send one message twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from gridweave.cli import app
from gridweave.core import clock
from gridweave.core.database import session_factory, transaction
from gridweave.core.settings import Settings
from gridweave.messages import service
from gridweave.messages.models import OutboxMessage
from gridweave.messages.senders import LogSender, SendError

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


@pytest.fixture
def at() -> Iterator[list[datetime]]:
    """The clock, held at now[0]; tests move it by assigning."""
    now = [T0]
    clock.set_now(lambda: now[0])
    yield now
    clock.set_now(None)


class Flaky:
    """A channel that fails the first `failures` sends, then takes everything."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[int] = []

    def send(self, message: OutboxMessage) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise SendError("gateway timeout")
        self.sent.append(message.id)


def _enqueue(engine: Engine, n: int = 1, to: str = "health") -> None:
    with transaction(engine) as session:
        for i in range(n):
            service.enqueue(
                session,
                event="ConsentGranted",
                recipient_kind="department",
                recipient=to,
                payload={"consent_id": i},
            )


def _dispatch(engine: Engine, sender: object, settings: Settings) -> service.Dispatched:
    with transaction(engine) as session:
        return service.dispatch(session, sender=sender, settings=settings)  # type: ignore[arg-type]


def test_a_message_exists_only_if_its_change_commits(engine: Engine, at: list[datetime]) -> None:
    _enqueue(engine)
    with pytest.raises(RuntimeError), transaction(engine) as session:
        service.enqueue(
            session, event="ConsentRevoked", recipient_kind="person", recipient=7, payload={}
        )
        raise RuntimeError("the change failed")
    with transaction(engine) as session:
        rows = session.scalars(select(OutboxMessage)).all()
        assert [m.event for m in rows] == ["ConsentGranted"]
        assert rows[0].payload == {
            "schema_version": 1,
            "event": "ConsentGranted",
            "consent_id": 0,
        }


def test_failures_are_retried_with_a_doubling_wait_and_counted(
    engine: Engine, at: list[datetime]
) -> None:
    settings = Settings(message_retry_seconds=30, message_max_attempts=5)
    _enqueue(engine)
    sender = Flaky(failures=2)
    assert _dispatch(engine, sender, settings).failed == 1
    # not due again until 30 s later
    at[0] = T0 + timedelta(seconds=29)
    assert _dispatch(engine, sender, settings) == service.Dispatched()
    at[0] = T0 + timedelta(seconds=30)
    assert _dispatch(engine, sender, settings).failed == 1
    with transaction(engine) as session:
        message = session.scalars(select(OutboxMessage)).one()
        assert message.next_attempt_at == at[0] + timedelta(seconds=60)  # doubled
        assert message.attempts == 2 and message.last_error == "SendError: gateway timeout"
        assert service.counts(session)["failed_attempts"] == 2
    at[0] += timedelta(seconds=60)
    assert _dispatch(engine, sender, settings).sent == 1
    assert sender.sent == [1]
    assert _dispatch(engine, sender, settings) == service.Dispatched()  # sent once only
    with transaction(engine) as session:
        counts = service.counts(session)
    assert counts["sent"] == 1 and counts["pending"] == 0 and counts["failed_attempts"] == 2


def test_a_message_is_dead_after_its_last_attempt(engine: Engine, at: list[datetime]) -> None:
    settings = Settings(message_retry_seconds=1, message_max_attempts=3)
    _enqueue(engine)
    sender = Flaky(failures=10)
    outcomes = []
    for _ in range(3):
        outcomes.append(_dispatch(engine, sender, settings))
        at[0] += timedelta(hours=1)
    assert [(d.failed, d.dead) for d in outcomes] == [(1, 0), (1, 0), (0, 1)]
    assert _dispatch(engine, sender, settings) == service.Dispatched()
    with transaction(engine) as session:
        assert service.counts(session) == {
            "pending": 0,
            "sent": 0,
            "dead": 1,
            "failed_attempts": 3,
        }


def test_backoff_is_capped_at_a_day() -> None:
    settings = Settings(message_retry_seconds=30)
    assert service.backoff(settings, 1) == timedelta(seconds=30)
    assert service.backoff(settings, 4) == timedelta(seconds=240)
    assert service.backoff(settings, 60) == timedelta(days=1)


def test_two_dispatchers_never_send_one_message_twice(engine: Engine, at: list[datetime]) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: a second dispatcher waits its turn")
    _enqueue(engine, 6)
    settings = Settings()
    sessions = session_factory(engine)
    seen: list[int] = []
    inner: list[service.Dispatched] = []

    class Nested:
        """Sends; on its first send, a second dispatcher runs while this one holds its rows."""

        def send(self, message: OutboxMessage) -> None:
            if not inner:
                other = threading.Thread(target=lambda: inner.append(second()))
                other.start()
                other.join()
            seen.append(message.id)

    def second() -> service.Dispatched:
        with sessions() as session, session.begin():
            return service.dispatch(session, sender=Recorder(), settings=settings)

    class Recorder:
        def send(self, message: OutboxMessage) -> None:
            seen.append(message.id)

    with sessions() as session, session.begin():
        service.dispatch(session, sender=Nested(), settings=settings, limit=4)
    assert inner[0].sent == 2  # the two the first dispatcher had not claimed
    assert sorted(seen) == [1, 2, 3, 4, 5, 6]


def test_the_development_sender_writes_a_log(
    engine: Engine, at: list[datetime], tmp_path: Path
) -> None:
    _enqueue(engine, 2, to="civil_affairs")
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        app, ["--database-url", url, "--data-dir", str(tmp_path), "messages", "dispatch"]
    )
    assert result.exit_code == 0, result.output
    assert "sent 2" in result.output
    lines = [orjson.loads(x) for x in (tmp_path / "messages.log").read_bytes().splitlines()]
    assert [(m["event"], m["recipient"]) for m in lines] == [
        ("ConsentGranted", "civil_affairs")
    ] * 2
    status = CliRunner().invoke(app, ["--database-url", url, "messages", "status"])
    assert status.exit_code == 0 and "2" in status.output
    broken = LogSender(tmp_path / "messages.log" / "not-a-dir")
    with transaction(engine) as session:
        message = session.scalars(select(OutboxMessage)).first()
        assert message is not None
        with pytest.raises(SendError):
            broken.send(message)
