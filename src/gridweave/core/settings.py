"""The one typed settings object: read once at start-up and passed in, never read at import."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'gridweave.sqlite').resolve()}"


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment, with explicit overrides winning."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
