"""The one typed settings object: read once at start-up and passed in, never read at import."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    audit_hash: Literal["sha256", "sm3"] = Field("sha256", description="the audit chain's hash")
    message_sender: Literal["log"] = Field(
        "log", description="how outbox messages leave: log (development: data_dir/messages.log)"
    )
    message_max_attempts: int = Field(8, ge=1, description="sends tried before a message is dead")
    message_retry_seconds: int = Field(
        30, ge=1, description="wait after a failed send, doubled on each further failure"
    )

    @model_validator(mode="after")
    def _no_default_secret_outside_development(self) -> Settings:
        if self.environment != "development" and self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError(
                f"GRIDWEAVE_SECRET_KEY must be set in the {self.environment!r} environment"
                " (the default secret is for development only)"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'gridweave.sqlite').resolve()}"


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment, with explicit overrides winning."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
