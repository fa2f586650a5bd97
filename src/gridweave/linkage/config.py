"""Linkage configuration: YAML with defaults (linkage/defaults.yaml), checked on load."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gridweave.core.errors import GridweaveError


class ConfigError(GridweaveError):
    code = "linkage_config_invalid"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(Strict):
    link: float = Field(0.99, gt=0, lt=1)
    review: float = Field(0.5, gt=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.review > self.link:
            raise ValueError(f"review ({self.review}) must not be above link ({self.link})")
        return self


class Level(Strict):
    """One comparison level written as SQL over the feature columns."""

    label: str
    sql: str
    null: bool = False  # the level of pairs where a value is missing: it carries no weight
    tf: str | None = None  # column for a term-frequency adjustment of this level


class CustomComparison(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    levels: list[Level] = Field(min_length=2)


class Training(Strict):
    em_blocking: list[list[str]] = Field(default=[["birth_date"], ["name_py"]], min_length=1)
    em_max_pairs: int = Field(300_000, ge=1000)
    u_max_pairs: int = Field(500_000, ge=1000)
    id_recall: float = Field(0.93, gt=0, le=1)
    seed: int = 7


class PersonLinkage(Strict):
    thresholds: Thresholds
    comparisons: list[dict[str, dict[str, Any]]] = Field(min_length=1)
    custom_comparisons: list[CustomComparison] = []
    blocking: list[list[str]] = Field(min_length=1)
    training: Training

    @field_validator("comparisons", mode="before")
    @classmethod
    def _named(cls, value: Any) -> Any:
        """`- sex` and `- name: {…}` both become {name: options}."""
        if not isinstance(value, list):
            return value
        out: list[dict[str, Any]] = []
        for item in value:
            if isinstance(item, str):
                out.append({item: {}})
            elif isinstance(item, dict) and len(item) == 1:
                name, options = next(iter(item.items()))
                out.append({name: options or {}})
            else:
                raise ValueError(f"a comparison is a name or one name: options, not {item!r}")
        return out

    @property
    def comparison_options(self) -> list[tuple[str, dict[str, Any]]]:
        return [next(iter(c.items())) for c in self.comparisons]


class Spark(Strict):
    """The Spark session the `spark` backend uses (linkage/spark.py)."""

    # None: whatever spark-submit or the environment says, else local mode on every core
    master: str | None = None
    shuffle_partitions: int = Field(200, ge=1)
    # intermediate tables go here as Parquet (a cluster: object storage); none: kept in memory
    checkpoint_dir: str | None = None
    conf: dict[str, str | int | float | bool] = {}  # any other spark.* setting, as given


class LinkageConfig(Strict):
    person: PersonLinkage
    backend: Literal["duckdb", "spark"]  # where Splink trains and scores
    spark: Spark  # defaults.yaml holds its defaults

    @property
    def fingerprint(self) -> str:
        """A hash of the settings that decide which pairs exist (blocking keys)."""
        text = repr(self.person.blocking)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def default_config_text() -> str:
    return resources.files("gridweave.linkage").joinpath("defaults.yaml").read_text("utf-8")


def parse_config(text: str, where: str = "linkage configuration") -> LinkageConfig:
    """A configuration from YAML text; whatever it leaves out comes from the defaults."""
    from gridweave.linkage.comparisons import check_config

    defaults = yaml.safe_load(default_config_text())
    try:
        given = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where} is not YAML: {exc}") from None
    if not isinstance(given, dict):
        raise ConfigError(f"{where} must be a mapping with a `person` section")
    merged = _merge(defaults, given)
    try:
        config = LinkageConfig.model_validate(merged)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{where}: {problems}") from None
    check_config(config, where)
    return config


def with_backend(config: LinkageConfig, backend: str | None) -> LinkageConfig:
    """`config` run on `backend` (duckdb or spark) instead of its own, checked again."""
    if backend is None or backend == config.backend:
        return config
    return parse_config(yaml.safe_dump(config.model_dump() | {"backend": backend}))


def _merge(base: Any, over: Any) -> Any:
    """Mappings merge key by key; anything else given replaces the default whole."""
    if isinstance(base, dict) and isinstance(over, dict):
        return {k: _merge(base.get(k), over[k]) if k in over else base[k] for k in base | over}
    return over if over is not None else base


def load_config(path: Path | None = None) -> LinkageConfig:
    """The configuration in `path`, or the defaults."""
    if path is None:
        return parse_config("")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read linkage configuration {path}: {exc.strerror}") from None
    return parse_config(text, str(path))
