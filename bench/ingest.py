"""Ingest a 1,000,000-row synthetic extract end to end and print rows per second and peak memory.

    .venv/bin/python bench/ingest.py [--rows 1000000] [--source police_household_registration]
                                     [--database-url URL]

The city is synthesised first (not timed) with enough people for the chosen extract to have
`--rows` rows; the area tree and the building register are loaded before it, as in a real
deployment. The timed part is `gridweave ingest` in its own process: read, clean, validate,
quarantine, stage, build golden records, commit. Peak memory is that process's maximum RSS.
The city is synthesised in a process of its own (bench/processes.py says why).

Then the same file again (refused whole by its digest), and the source's next extract: the
same rows less 0.5 %, a daily feed in which nothing changed: for a source whose rows are hashed
(the police register's are) every row is recognised as sent before and not cleaned again; for
the others (health) every row is staged and its records compared with their newest versions.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import orjson

from processes import Measured, run_measured, synthesise_apart

OUT = Path(__file__).parent / "out" / "ingest"
# rows of each extract per person in the synthetic city (seed 7), to size the city
ROWS_PER_PERSON = {
    "police_household_registration": 0.655,
    "health_population": 0.892,
    "migrant_residents": 0.328,
    "hrss_insurance": 0.474,
}


def gridweave(url: str, *args: str) -> Measured:
    return run_measured([sys.executable, "-m", "gridweave", "--database-url", url, *args])


def report(run: Measured) -> str:
    """What `gridweave ingest` printed, without its progress lines (not a terminal here)."""
    return "\n".join(x for x in run.stdout.strip().splitlines() if not x.startswith("progress"))


def next_extract(path: Path, every: int = 200) -> Path:
    """The source's next extract: every row but each `every`-th (people who left), none of them
    changed, so the batch writes almost nothing. Line-based formats only
    (a CSV keeps its header; every extract this bench takes is CSV or JSON Lines)."""
    out = path.with_name(f"{path.stem}.next{path.suffix}")
    with path.open("rb") as rows, out.open("wb") as kept:
        for i, line in enumerate(rows):
            if i % every or (i == 0 and path.suffix == ".csv"):
                kept.write(line)
    return out


def cpu_reference() -> float:
    """Seconds of a fixed pure-Python loop: the same VM runs it 0.65-1.2 s from hour to hour, so
    figures taken at different times are compared through it."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--source", default="police_household_registration", choices=ROWS_PER_PERSON
    )
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()

    people = int(args.rows / ROWS_PER_PERSON[args.source]) + 1
    city = OUT / f"city-{people}"
    if not (city / "manifest.json").exists():
        print(f"synthesising {people:,} people …", flush=True)
        synthesise_apart(city, people=people, seed=7, sources={"housing_buildings", args.source})
    manifest = orjson.loads((city / "manifest.json").read_bytes())
    extracts = {e["source"]: e for e in manifest["extracts"]}

    url = args.database_url
    if url is None:
        db = OUT / "bench.sqlite"
        for f in OUT.glob("bench.sqlite*"):
            f.unlink()
        url = f"sqlite:///{db.resolve()}"
    gridweave(url, "areas", "load", str(city / manifest["areas"]))
    gridweave(url, "sources", "add", *(str(city / e["contract"]) for e in extracts.values()))
    register = extracts["housing_buildings"]
    gridweave(url, "ingest", str(city / register["file"]), "--source", "housing_buildings")

    reference = cpu_reference()
    target = extracts[args.source]
    path = city / target["file"]
    done = gridweave(url, "ingest", str(path), "--source", args.source)
    seconds = done.seconds
    rows = target["rows"]
    print(report(done))
    print(
        f"\n{args.source}: {rows:,} rows ({path.stat().st_size / 1e6:,.0f} MB, "
        f"{path.suffix[1:]}) into {url.split(':')[0]}"
    )
    print(f"wall time      {seconds:8.1f} s (process start to commit)")
    print(f"throughput     {rows / seconds:8,.0f} rows/s")
    print(f"peak memory    {done.peak_mb:8,.0f} MB (the ingest process)")
    cores = os.cpu_count() or 1
    print(
        f"cpu time       {done.cpu_seconds:8.1f} s (user + system, every thread: at least "
        f"{done.cpu_seconds / cores:.1f} s of wall time on {cores} cores)"
    )
    print(f"cpu reference  {reference:8.2f} s (a 10,000,000-step Python loop, before the ingest)")

    again = gridweave(url, "ingest", str(path), "--source", args.source)
    print(f"same file again {again.seconds:7.1f} s: {again.stdout.strip()}")

    following = next_extract(path)
    try:
        later = gridweave(url, "ingest", str(following), "--source", args.source)
    finally:
        following.unlink()
    print(f"next extract   {later.seconds:8.1f} s (0.5 % of the rows gone, the rest unchanged):")
    print(report(later))
    if args.database_url is None:
        shutil.rmtree(OUT / "tmp", ignore_errors=True)


if __name__ == "__main__":
    main()
