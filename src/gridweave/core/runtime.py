"""What a command needs at run time: the settings, read once, and the migrated engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from rich.console import Console
from sqlalchemy import Engine

from gridweave.core.database import make_engine, migrate
from gridweave.core.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    console: Console = field(default_factory=Console)

    @cached_property
    def engine(self) -> Engine:
        """The database engine, its schema brought up to date on first use."""
        engine = make_engine(self.settings.resolved_database_url, keyring=self.settings.keyring())
        migrate(engine)
        return engine
