"""How outbox messages leave the platform: a `Sender` per channel (SMS gateway, the government
app's push service, a department's message queue); development writes them to a log."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import orjson

from gridweave.core.settings import Settings
from gridweave.messages.models import OutboxMessage

log = logging.getLogger("gridweave.messages")


class SendError(Exception):
    """The channel refused or failed to take the message; the dispatcher retries it later."""


class Sender(Protocol):
    def send(self, message: OutboxMessage) -> None:
        """Hand one message to the channel, or raise SendError (or any error) to retry it."""


class LogSender:
    """Development: each message as one JSON line in a file, and on the `gridweave.messages` log."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, message: OutboxMessage) -> None:
        line = {
            "id": message.id,
            "event": message.event,
            "recipient_kind": message.recipient_kind,
            "recipient": message.recipient,
            "payload": message.payload,
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as out:
                out.write(orjson.dumps(line) + b"\n")
        except OSError as exc:
            raise SendError(f"cannot write {self.path}: {exc}") from exc
        log.info("%s → %s %s", message.event, message.recipient_kind, message.recipient)


def sender_for(settings: Settings) -> Sender:
    """The sender the settings name."""
    if settings.message_sender == "log":
        return LogSender(settings.data_dir / "messages.log")
    raise ValueError(f"unknown message sender {settings.message_sender!r}")
