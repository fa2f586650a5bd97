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
    verify_keys: bool = True  # off only for `gridweave keys`, which mends keys that do not fit

    @cached_property
    def engine(self) -> Engine:
        """The database engine, its schema brought up to date and the keys checked against the
        stored data on first use."""
        from gridweave.registry.keys import verify_keyring  # the composition of a command

        engine = make_engine(self.settings.resolved_database_url, keyring=self.settings.keyring())
        migrate(engine)
        if self.verify_keys:
            verify_keyring(engine, keys_from=self.settings.keys_origin())
        return engine
