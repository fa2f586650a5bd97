"""How outbox messages leave the platform: a `Sender` per channel (SMS gateway, the government
app's push service, a department's message queue).

Built in: `log` (development: JSON lines in a file) and `webhook` (each message POSTed as JSON to
one URL: a department's system, or the adapter in front of an SMS or push gateway). A channel of
the city's own is a plugin: an installed package names a factory in the entry point group
`gridweave.senders` (`sms = "city_sms:make_sender"`), the factory takes the Settings and returns
a Sender, and `GRIDWEAVE_MESSAGE_SENDER=sms` selects it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import orjson

from gridweave.core.errors import GridweaveError
from gridweave.core.settings import Settings
from gridweave.messages.models import OutboxMessage

log = logging.getLogger("gridweave.messages")

PLUGINS = "gridweave.senders"  # the entry point group of senders other packages provide


class SendError(Exception):
    """The channel refused or failed to take the message; the dispatcher retries it later."""


class SenderError(GridweaveError):
    """The configured sender cannot be set up: unknown, missing a setting, or broken."""

    code = "sender_invalid"


class Sender(Protocol):
    def send(self, message: OutboxMessage) -> None:
        """Hand one message to the channel, or raise SendError (or any error) to retry it."""


def _document(message: OutboxMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "event": message.event,
        "recipient_kind": message.recipient_kind,
        "recipient": message.recipient,
        "payload": message.payload,
    }


class LogSender:
    """Development: each message as one JSON line in a file, and on the `gridweave.messages` log."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, message: OutboxMessage) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as out:
                out.write(orjson.dumps(_document(message)) + b"\n")
        except OSError as exc:
            raise SendError(f"cannot write {self.path}: {exc}") from exc
        log.info("%s → %s %s", message.event, message.recipient_kind, message.recipient)


class WebhookSender:
    """Each message POSTed as JSON to one URL; a 2xx answer is delivery, anything else (or no
    answer in time) is retried by the dispatcher.

    Headers: `X-Gridweave-Event`, `X-Gridweave-Message-Id` (a message may arrive twice if a
    dispatcher stops between sending and recording it: receivers deduplicate by this id) and,
    with a secret, `X-Gridweave-Signature: sha256=<HMAC-SHA256 of the body, hex>`.
    """

    def __init__(
        self,
        url: str,
        *,
        secret: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SenderError(
                f"the message webhook URL {url!r} is not an http(s) URL",
                hint="set GRIDWEAVE_MESSAGE_WEBHOOK_URL to e.g. https://sms-adapter.city.gov.cn/outbox",
            )
        self.url = url
        self.secret = secret.encode() if secret else None
        self.client = httpx.Client(timeout=timeout, transport=transport)

    def send(self, message: OutboxMessage) -> None:
        body = orjson.dumps(_document(message))
        headers = {
            "content-type": "application/json",
            "x-gridweave-event": message.event,
            "x-gridweave-message-id": str(message.id),
        }
        if self.secret is not None:
            signature = hmac.new(self.secret, body, hashlib.sha256).hexdigest()
            headers["x-gridweave-signature"] = f"sha256={signature}"
        try:
            answer = self.client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise SendError(f"{self.url}: {type(exc).__name__}: {exc}") from exc
        if not answer.is_success:
            raise SendError(f"{self.url} answered {answer.status_code}: {answer.text[:200]}")
        log.info("%s → %s %s", message.event, message.recipient_kind, message.recipient)


def _webhook(settings: Settings) -> Sender:
    if not settings.message_webhook_url:
        raise SenderError(
            "the webhook sender needs a URL: GRIDWEAVE_MESSAGE_WEBHOOK_URL is not set",
            hint="set it, or choose another GRIDWEAVE_MESSAGE_SENDER",
        )
    return WebhookSender(
        settings.message_webhook_url,
        secret=settings.message_webhook_secret,
        timeout=settings.message_webhook_timeout,
    )


BUILT_IN: dict[str, Callable[[Settings], Sender]] = {
    "log": lambda settings: LogSender(settings.data_dir / "messages.log"),
    "webhook": _webhook,
}


def sender_for(settings: Settings) -> Sender:
    """The sender the settings name: built in, or an installed plugin."""
    name = settings.message_sender
    if name in BUILT_IN:
        return BUILT_IN[name](settings)
    plugins = {e.name: e for e in entry_points(group=PLUGINS)}
    if name not in plugins:
        known = ", ".join([*BUILT_IN, *sorted(plugins)])
        raise SenderError(
            f"unknown message sender {name!r}: known are {known}",
            hint=f"a plugin package registers its sender in the entry point group {PLUGINS}",
        )
    try:
        factory = plugins[name].load()
        sender: Sender = factory(settings)
    except Exception as exc:
        raise SenderError(
            f"the message sender {name!r} ({plugins[name].value}) could not be set up:"
            f" {type(exc).__name__}: {exc}"
        ) from exc
    return sender
