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
from gridweave.messages.senders import LogSender, SenderError, SendError, sender_for

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


class _Receiver:
    """A department's system on 127.0.0.1: records each POST, answers with the next status."""

    def __init__(self, statuses: list[int]) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.statuses = statuses
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 204
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/outbox"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    r = _Receiver([])
    yield r
    r.close()


def test_the_webhook_sender_posts_signed_json_and_a_refusal_is_retried(
    engine: Engine, at: list[datetime], receiver: _Receiver
) -> None:
    import hashlib
    import hmac

    _enqueue(engine, 2, to="civil_affairs")
    receiver.statuses = [503]  # the first send is refused, the second taken
    settings = Settings(
        database_url=str(engine.url),
        message_sender="webhook",
        message_webhook_url=receiver.url,
        message_webhook_secret="shared-with-civil-affairs",
    )
    sender = sender_for(settings)
    first = _dispatch(engine, sender, settings)
    assert (first.sent, first.failed) == (1, 1)
    at[0] = T0 + timedelta(seconds=settings.message_retry_seconds)
    again = _dispatch(engine, sender, settings)
    assert (again.sent, again.failed) == (1, 0)
    assert len(receiver.received) == 3
    ids = []
    for headers, body in receiver.received[1:]:
        document = orjson.loads(body)
        assert document["event"] == "ConsentGranted" and document["recipient"] == "civil_affairs"
        assert headers["x-gridweave-event"] == "ConsentGranted"
        assert headers["x-gridweave-message-id"] == str(document["id"])
        expected = hmac.new(b"shared-with-civil-affairs", body, hashlib.sha256).hexdigest()
        assert headers["x-gridweave-signature"] == f"sha256={expected}"
        ids.append(document["id"])
    assert sorted(ids) == [1, 2]


def test_a_webhook_nobody_answers_is_retried(engine: Engine, at: list[datetime]) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _enqueue(engine, 1)
    settings = Settings(
        database_url=str(engine.url),
        message_sender="webhook",
        message_webhook_url=f"http://127.0.0.1:{port}/outbox",
    )
    done = _dispatch(engine, sender_for(settings), settings)
    assert (done.sent, done.failed) == (0, 1)
    with transaction(engine) as session:
        message = session.scalars(select(OutboxMessage)).one()
        assert message.status == "pending" and message.attempts == 1
        assert "ConnectError" in (message.last_error or "")


class _Sms:
    """A city's own channel, as a plugin package would provide it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, message: OutboxMessage) -> None:
        pass


def test_a_sender_is_chosen_by_name_and_a_wrong_one_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from importlib.metadata import EntryPoint

    from gridweave.messages import senders

    plugin = EntryPoint(name="sms", value=f"{__name__}:_Sms", group=senders.PLUGINS)
    monkeypatch.setattr(senders, "entry_points", lambda group: [plugin])
    assert isinstance(sender_for(Settings(message_sender="sms")), _Sms)
    with pytest.raises(
        SenderError, match=r"unknown message sender 'fax': known are log, webhook, sms"
    ):
        sender_for(Settings(message_sender="fax"))
    with pytest.raises(SenderError, match="GRIDWEAVE_MESSAGE_WEBHOOK_URL is not set"):
        sender_for(Settings(message_sender="webhook"))
    with pytest.raises(SenderError, match="is not an http"):
        sender_for(Settings(message_sender="webhook", message_webhook_url="ftp://x/outbox"))
    broken = EntryPoint(name="sms", value="no_such_module:make", group=senders.PLUGINS)
    monkeypatch.setattr(senders, "entry_points", lambda group: [broken])
    with pytest.raises(SenderError, match=r"'sms' \(no_such_module:make\) could not be set up"):
        sender_for(Settings(message_sender="sms"))
    # at the console: the message, not a traceback
    result = CliRunner().invoke(
        app,
        ["--data-dir", str(tmp_path), "messages", "dispatch"],
        env={"GRIDWEAVE_MESSAGE_SENDER": "fax"},
    )
    assert result.exit_code != 0 and isinstance(result.exception, SenderError)


def test_the_console_dispatches_through_a_webhook(
    engine: Engine, at: list[datetime], receiver: _Receiver
) -> None:
    _enqueue(engine, 2)
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        app,
        ["--database-url", url, "messages", "dispatch"],
        env={"GRIDWEAVE_MESSAGE_SENDER": "webhook", "GRIDWEAVE_MESSAGE_WEBHOOK_URL": receiver.url},
    )
    assert result.exit_code == 0, result.output
    assert "sent 2" in result.output and len(receiver.received) == 2
