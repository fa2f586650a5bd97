"""The one typed settings object: read once at start-up and passed in, never read at import."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal, TypedDict

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gridweave.core.crypto import CryptoError, Keyring, decode_key, new_key, parse_algorithm

DEVELOPMENT_SECRET = "development-only-secret-change-me"


class Settings(BaseSettings):
    """Deployment settings, from GRIDWEAVE_* environment variables or a .env file."""

    model_config = SettingsConfigDict(env_prefix="GRIDWEAVE_", env_file=".env", extra="ignore")

    environment: str = Field("development", description="development, test or production")
    data_dir: Path = Field(
        Path("data"), description="where the embedded database and extracts live"
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: a SQLite file in data_dir"
    )
    ingest_chunk_rows: int = Field(100_000, ge=1, description="rows cleaned and written per chunk")
    timezone: str = Field("Asia/Shanghai", description="how times are shown; storage is UTC")
    secret_key: str = Field(
        DEVELOPMENT_SECRET, description="keys the hashes of API and session tokens"
    )
    session_minutes: int = Field(480, ge=1, description="how long a login session lasts")
    api_token_days: int = Field(90, ge=1, le=366, description="default life of an API token")
    login_max_failures: int = Field(5, ge=1, description="failed logins before a lockout")
    lockout_minutes: int = Field(15, ge=1, description="how long a locked account stays locked")
    api_concurrency: int = Field(
        8,
        ge=1,
        le=200,
        description="requests one API worker process runs at once; each holds one pooled"
        " database connection, which the worker keeps open",
    )
    audit_hash: Literal["sha256", "sm3"] = Field("sha256", description="the audit chain's hash")
    purposes_file: Path | None = Field(
        None,
        description="the purposes of use (YAML, as sharing/purposes.yaml); default: that"
        " built-in list",
    )
    message_sender: str = Field(
        "log",
        description="how outbox messages leave: log (development: data_dir/messages.log),"
        " webhook (POSTed to message_webhook_url), or the name of an installed sender plugin"
        " (entry point group gridweave.senders)",
    )
    message_webhook_url: str | None = Field(
        None, description="webhook: where each message is POSTed as JSON"
    )
    message_webhook_secret: str | None = Field(
        None,
        description="webhook: key of the X-Gridweave-Signature header (HMAC-SHA256 of the body)",
        repr=False,
    )
    message_webhook_timeout: float = Field(10.0, gt=0, description="webhook: seconds per send")
    message_max_attempts: int = Field(8, ge=1, description="sends tried before a message is dead")
    message_retry_seconds: int = Field(
        30, ge=1, description="wait after a failed send, doubled on each further failure"
    )

    encryption_keys: dict[str, str] = Field(
        default_factory=dict,
        description='JSON {"key id": "base64 key"}: every key a stored value may be under',
        repr=False,
    )
    encryption_active_key: str | None = Field(
        None, description="the key id new values are encrypted under (default: the only key)"
    )
    encryption_algorithm: str = Field("aes-256-gcm", description="aes-256-gcm or sm4-gcm")
    blind_index_key: str | None = Field(
        None, description="base64 key of the blind indexes (exact look-up)", repr=False
    )

    @model_validator(mode="after")
    def _no_default_secret_outside_development(self) -> Settings:
        if self.environment != "development" and self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError(
                f"GRIDWEAVE_SECRET_KEY must be set in the {self.environment!r} environment"
                " (the default secret is for development only)"
            )
        if self.environment != "development" and not (
            self.encryption_keys and self.blind_index_key
        ):
            raise ValueError(
                "GRIDWEAVE_ENCRYPTION_KEYS and GRIDWEAVE_BLIND_INDEX_KEY must be set in the"
                f" {self.environment!r} environment (`gridweave keys generate` prints new ones)"
            )
        try:
            parse_algorithm(self.encryption_algorithm)
        except CryptoError as exc:
            raise ValueError(str(exc)) from None
        return self

    def keyring(self) -> Keyring:
        """The keyring of these settings. In development without keys, the keys of
        data_dir/encryption-keys.json, generated once (never a constant in the code)."""
        keys, active, blind = self.encryption_keys, self.encryption_active_key, self.blind_index_key
        if not keys or not blind:
            if self.environment != "development":  # the validator already refused this
                raise ValueError("encryption keys are missing")
            stored = _development_keys(self.data_dir, self.encryption_algorithm)
            keys = keys or stored["keys"]
            blind = blind or stored["blind_index_key"]
            active = active or (stored["active"] if keys == stored["keys"] else None)
        assert blind is not None
        if active is None:
            if len(keys) != 1:
                raise ValueError(
                    "GRIDWEAVE_ENCRYPTION_ACTIVE_KEY must name one of the"
                    f" {len(keys)} keys of GRIDWEAVE_ENCRYPTION_KEYS"
                )
            active = next(iter(keys))
        return Keyring(
            keys={k: decode_key(k, v) for k, v in keys.items()},
            active=active,
            algorithm=parse_algorithm(self.encryption_algorithm),
            blind_key=decode_key("blind index", blind),
        )

    def keys_origin(self) -> str:
        """Where `keyring()` takes its keys from, in words for a message."""
        named = [
            name
            for name, value in (
                ("GRIDWEAVE_ENCRYPTION_KEYS", self.encryption_keys),
                ("GRIDWEAVE_BLIND_INDEX_KEY", self.blind_index_key),
            )
            if value
        ]
        if len(named) < 2:
            path = (self.data_dir / "encryption-keys.json").resolve()
            named.append(
                f"{path} (development keys, made on first use in the data folder: run from the"
                " folder whose data/ holds this database's keys, or set GRIDWEAVE_DATA_DIR)"
            )
        return " and ".join(named)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'gridweave.sqlite').resolve()}"


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment, with explicit overrides winning."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]


class _DevelopmentKeys(TypedDict):
    keys: dict[str, str]
    active: str
    blind_index_key: str


def _development_keys(data_dir: Path, algorithm: str) -> _DevelopmentKeys:
    """Keys for a development database, made once and kept beside it (mode 0600)."""
    path = data_dir / "encryption-keys.json"
    if path.exists():
        loaded: _DevelopmentKeys = json.loads(path.read_text(encoding="utf-8"))
        return loaded
    stored: _DevelopmentKeys = {
        "keys": {"dev1": new_key(parse_algorithm(algorithm))},
        "active": "dev1",
        "blind_index_key": new_key(parse_algorithm("aes-256-gcm")),
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(stored, fh)
    return stored
