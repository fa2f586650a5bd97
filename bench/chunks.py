"""What a batch's memory of its earlier chunks costs, chunk after chunk; print CPU seconds.

    .venv/bin/python bench/chunks.py [--chunks 30] [--rows 100000]

Each chunk's record ids are checked against every id the batch has seen (a repeated id waits in
quarantine) and its household claims against every claim made (one is stored once): the
staging thread's `EarlierChunks`, fed `--chunks` chunks of `--rows` rows with new record ids and
household keys, as a police register's rows are. The figure to watch is the last chunk's CPU
against the first's: it must not grow with the chunks before it (docs/ingest.md).
"""

from __future__ import annotations

import argparse
import random
import time

import polars as pl

from gridweave.ingest.pipeline import EarlierChunks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=30)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    rng = random.Random(7)
    earlier = EarlierChunks()
    seconds: list[float] = []
    for number in range(args.chunks):
        start = number * args.rows
        rids = pl.Series([f"{rng.randrange(10**12):012d}#resident" for _ in range(args.rows)])
        lines = pl.int_range(start, start + args.rows, eager=True)
        households = args.rows * 2 // 5  # ~2.5 members a household
        records = pl.DataFrame(
            {
                "entity_type": "household",
                "entity_key": [
                    str(number * households + rng.randrange(households)) for _ in range(args.rows)
                ],
                "record_hash": "h",
                "line_number": lines,
            }
        )
        cpu = time.process_time()
        earlier.first_lines(rids, lines)
        earlier.first_claims(records, ["household"])
        seconds.append(time.process_time() - cpu)

    print(f"{args.chunks} chunks of {args.rows:,} rows")
    print(f"cpu, first chunk  {seconds[0]:7.3f} s")
    print(f"cpu, last chunk   {seconds[-1]:7.3f} s")
    print(f"cpu, all chunks   {sum(seconds):7.1f} s")


if __name__ == "__main__":
    main()
