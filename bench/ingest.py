"""Ingest a 1,000,000-row synthetic extract end to end and print rows per second and peak memory.

    .venv/bin/python bench/ingest.py [--rows 1000000] [--source police_household_registration]
                                     [--database-url URL]

The city is synthesised first (not timed) with enough people for the chosen extract to have
`--rows` rows; the area tree and the building register are loaded before it, as in a real
deployment. The timed part is `gridweave ingest` in its own process: read, clean, validate,
quarantine, stage, build golden records, commit. Peak memory is that process's maximum RSS.

The city is synthesised in a process of its own, and the peak is read from the ingest's own
`wait4`: Linux hands a child that `exec`s the peak of the process it was forked from, so a
bench that synthesised several GB in itself would report that as the ingest's peak.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

OUT = Path(__file__).parent / "out" / "ingest"
# rows of each extract per person in the synthetic city (seed 7), to size the city
ROWS_PER_PERSON = {
    "police_household_registration": 0.655,
    "health_population": 0.892,
    "migrant_residents": 0.328,
    "hrss_insurance": 0.474,
}


def gridweave(url: str, *args: str) -> tuple[str, float]:
    """Run one command; return what it printed and its own peak memory in MB."""
    command = [sys.executable, "-m", "gridweave", "--database-url", url, *args]
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err)
        assert proc.stdout is not None
        out = proc.stdout.read()
        proc.stdout.close()
        # reaped here, not by Popen.wait(): wait4 gives this child's own resource usage
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise subprocess.CalledProcessError(proc.returncode, command, out, err.read())
    return out.decode(), usage.ru_maxrss / 1024


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
        from gridweave.synth.city import synthesise

        # in a process of its own: see the module's docstring
        spawn = multiprocessing.get_context("spawn")
        sources = {"housing_buildings", args.source}
        synth = spawn.Process(
            target=synthesise,
            args=(city,),
            kwargs={"people": people, "seed": 7, "sources": sources},
        )
        synth.start()
        synth.join()
        if synth.exitcode != 0:
            sys.exit(f"synthesising the city failed (exit code {synth.exitcode})")
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
    started = time.perf_counter()
    done, peak_mb = gridweave(url, "ingest", str(path), "--source", args.source)
    seconds = time.perf_counter() - started
    rows = target["rows"]
    print(done.strip())
    print(
        f"\n{args.source}: {rows:,} rows ({path.stat().st_size / 1e6:,.0f} MB, "
        f"{path.suffix[1:]}) into {url.split(':')[0]}"
    )
    print(f"wall time      {seconds:8.1f} s (process start to commit)")
    print(f"throughput     {rows / seconds:8,.0f} rows/s")
    print(f"peak memory    {peak_mb:8,.0f} MB (the ingest process)")
    print(f"cpu reference  {reference:8.2f} s (a 10,000,000-step Python loop, before the ingest)")

    started = time.perf_counter()
    again, _ = gridweave(url, "ingest", str(path), "--source", args.source)
    print(f"same file again {time.perf_counter() - started:7.1f} s: {again.strip()}")
    if args.database_url is None:
        shutil.rmtree(OUT / "tmp", ignore_errors=True)


if __name__ == "__main__":
    main()
