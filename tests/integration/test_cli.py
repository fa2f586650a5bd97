"""The `gridweave` command as an operator uses it, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import orjson
import polars as pl
import pytest

from .extracts import CONTRACTS, police_people, write_csv


def gridweave(url: str, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRIDWEAVE_DATABASE_URL": url, "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "gridweave", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if ok:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic city, written once for this module."""
    out = tmp_path_factory.mktemp("city")
    done = subprocess.run(
        [sys.executable, "-m", "gridweave", "synth", str(out), "--people", "1500", "--seed", "3"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return out


def test_a_whole_city_through_the_command_line(database_url: str, city: Path) -> None:
    manifest = orjson.loads((city / "manifest.json").read_bytes())
    assert "grid" in gridweave(database_url, "areas", "load", str(city / "areas.geojson")).stdout
    contracts = [str(city / e["contract"]) for e in manifest["extracts"]]
    added = gridweave(database_url, "sources", "add", *contracts).stdout
    assert added.count("added:") == len(contracts)
    assert gridweave(database_url, "sources", "add", *contracts).stdout.count("unchanged:") == len(
        contracts
    )

    for extract in manifest["extracts"]:
        out = gridweave(
            database_url, "ingest", str(city / extract["file"]), "--source", extract["source"]
        ).stdout
        assert f"{extract['rows']:,} rows read" in out
    again = gridweave(
        database_url,
        "ingest",
        str(city / manifest["extracts"][1]["file"]),
        "--source",
        manifest["extracts"][1]["source"],
    ).stdout
    assert "already ingested as batch 2" in again and "nothing added" in again

    listing = gridweave(database_url, "sources", "list").stdout
    assert "police_household_registration" in listing and "有条件共享" in listing

    shown = gridweave(database_url, "sources", "show", "police_household_registration").stdout
    assert "公民身份号码" in shown and "restricted" in shown and "completed" in shown

    totals = gridweave(database_url, "registry", "totals").stdout
    truth_rooms = pl.read_csv(city / "truth" / "rooms.csv", infer_schema=False).height
    assert re.search(rf"\broom: {truth_rooms:,}\n", totals), totals

    person = pl.read_csv(city / "truth" / "people.csv", infer_schema=False).row(0, named=True)
    shown = gridweave(database_url, "registry", "show", "person", person["citizen_id"]).stdout
    assert person["name"] in shown and "police_household_registration" in shown


def test_quarantine_list_shows_reasons(database_url: str, tmp_path: Path) -> None:
    gridweave(database_url, "sources", "add", str(CONTRACTS / "police.yaml"))
    people = police_people(4)
    people[2].cid = "not-an-id"
    path = write_csv(tmp_path / "p.csv", [p.cells() for p in people])
    out = gridweave(database_url, "ingest", str(path), "--source", "police_test").stdout
    assert "1 quarantined" in out
    listed = gridweave(database_url, "quarantine", "list", "--json").stdout.splitlines()
    (row,) = [orjson.loads(line) for line in listed]
    assert row["line"] == 4 and row["source"] == "police_test"
    assert row["reasons"][0].startswith("公民身份号码:")
    assert row["row"]["公民身份号码"] == "not-an-id"
    # the next extract: the same rows, the good ones recognised, the bad one quarantined again
    path = write_csv(tmp_path / "next.csv", [p.cells() for p in people[::-1]])
    out = gridweave(database_url, "ingest", str(path), "--source", "police_test").stdout
    assert "3 accepted (3 exactly as sent before), 1 quarantined" in out


def test_errors_name_the_problem_and_exit_2(database_url: str, tmp_path: Path) -> None:
    gridweave(database_url, "sources", "add", str(CONTRACTS / "police.yaml"))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    done = gridweave(database_url, "ingest", str(empty), "--source", "police_test", ok=False)
    assert done.returncode == 2
    assert "error:" in done.stderr and "empty (0 bytes)" in done.stderr
    assert "Traceback" not in done.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (CONTRACTS / "police.yaml").read_text(encoding="utf-8").replace("name: {", "nmae: {"),
        encoding="utf-8",
    )
    done = gridweave(database_url, "sources", "add", str(bad), ok=False)
    assert done.returncode == 2 and "'nmae'" in done.stderr and "did you mean name" in done.stderr


def test_help_lists_every_command_and_a_command_imports_only_its_domain() -> None:
    """`gridweave --help` names every command with its help; running one imports its own
    domain's module, not every domain's (the web server, linkage and messaging stay out)."""
    from gridweave.cli import DOMAIN_COMMANDS

    listed = gridweave("sqlite://", "--help").stdout
    for name in [*DOMAIN_COMMANDS, "synth", "demo", "worker"]:
        assert re.search(rf"│ {re.escape(name)} +\S", listed), name
    assert "Register and inspect department source contracts." in listed  # a group's help
    assert "Ingest one extract file" in listed  # a command's help

    probe = (
        "import sys\n"
        "from gridweave.cli import app\n"
        "try:\n"
        "    app(['batches', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('gridweave') and m.endswith('cli')))\n"
    )
    loaded = (
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    assert loaded == "['gridweave.cli', 'gridweave.ingest.cli']"
    assert "No such command 'nosuch'" in gridweave("sqlite://", "nosuch", ok=False).stderr
