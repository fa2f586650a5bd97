"""`gridweave link`, `review` and `export links` as a data steward uses them."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine

from .cities import city, ingest_city
from .test_cli import gridweave

pytestmark = pytest.mark.slow


def test_link_review_and_export_from_the_command_line(
    database_url: str, engine: Engine, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    folder = city(tmp_path_factory.getbasetemp(), 500, 5)
    ingest_city(engine, folder)
    truth = folder / "truth" / "records.csv"
    strict = tmp_path / "strict.yaml"
    strict.write_text(
        "person: {thresholds: {link: 0.9999999, review: 0.5},"
        " training: {u_max_pairs: 50000, em_max_pairs: 50000}}\n"
    )

    out = gridweave(database_url, "link", "--config", str(strict), "--evaluate", str(truth)).stdout
    assert "full link run 1" in out
    assert re.search(r"person\s+│\s+[\d,]+\s+│", out), out
    # legal entities and rooms without a key are linked too, and scored: no false link
    for entity in ("legal_entity", "room"):
        assert re.search(rf"{entity}\s+│ full \d+", out), out
        assert re.search(rf"{entity}\s+│\s+[\d,]+\s+│\s+[\d,]+\s+│\s+[\d,]+\s+│\s+1\.00000", out)
    pending = int(re.search(r"new review items ([\d,]+)", out).group(1).replace(",", ""))
    assert pending > 0

    listed = gridweave(database_url, "review", "list", "--limit", "3").stdout
    first = int(re.search(r"│\s*(\d+)\s*│ uncertain", listed).group(1))
    shown = gridweave(database_url, "review", "show", str(first)).stdout
    assert f"review item {first} (uncertain, open)" in shown and "golden person" in shown
    accepted = gridweave(
        database_url, "review", "accept", str(first), "--note", "same phone"
    ).stdout
    assert f"review item {first} accepted" in accepted
    accepted_person = int(re.search(r"→ person (\d+)", accepted).group(1))
    again = gridweave(database_url, "review", "accept", str(first), ok=False)
    assert again.returncode == 2 and "already accepted" in again.stderr

    out = gridweave(database_url, "link").stdout
    assert re.search(r"incremental link run \d+ in", out) and "0 new" in out

    export = tmp_path / "links.csv"
    assert (
        "links written" in gridweave(database_url, "export", "links", "--out", str(export)).stdout
    )
    links = pl.read_csv(export)
    assert links.columns == ["source", "record_key", "record_id", "entity_type", "golden_id"]
    assert links["golden_id"].null_count() == 0 and set(links["entity_type"]) == {"person"}
    conflicts = gridweave(database_url, "review", "conflicts", "--top", "5").stdout
    assert "golden people" in conflicts
    person = gridweave(database_url, "review", "conflicts", str(accepted_person)).stdout
    assert "claimed by" in person
