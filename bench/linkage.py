"""Link ~1,000,000 person source records; print wall time, peak memory and pairwise F1, beside
a plain Splink model on the same records.

    .venv/bin/python bench/linkage.py [--people 325000] [--seed 7] [--database-url URL]

A synthetic city of `--people` people (about 3.1 person source records each) is synthesised and
ingested, all but one extract (hrss_insurance), into a fresh SQLite file (not timed). Then, each
in its own process so that its peak memory is its own:

1. gridweave full link (features, training, scoring, clustering, golden people written back);
2. hrss_insurance ingested, and the incremental link that follows (the new extract only);
3. a plain Splink model, "what a competent Splink user would write in an afternoon": jaro-winkler
   on the name, exact birth date, levenshtein on the id number, blocking on birth date, on the
   id and on surname + birth month, EM training, connected components at 0.95, same records.

Pairwise precision, recall and F1 are against the city's truth/records.csv.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from processes import run_measured, synthesise_apart

OUT = Path(__file__).parent / "out" / "linkage"
LATER = "hrss_insurance"


def phase(name: str, args: argparse.Namespace) -> dict[str, object]:
    """Run one phase of this script in a child process; its result, time and peak memory."""
    cmd = [sys.executable, __file__, "--phase", name, "--people", str(args.people)]
    cmd += ["--seed", str(args.seed), "--database-url", args.database_url]
    try:
        done = run_measured(cmd)
    except subprocess.CalledProcessError as exc:
        failed = f"phase {name} failed:\n{exc.stdout.decode()}{exc.stderr.decode()}"
        raise SystemExit(failed) from None
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result | {"wall_s": round(done.seconds, 1), "peak_mb": round(done.peak_mb)}


def city_folder(args: argparse.Namespace) -> Path:
    return OUT / f"city-{args.people}-{args.seed}"


def run_phase(args: argparse.Namespace) -> dict[str, object]:
    from gridweave.core.database import make_engine
    from gridweave.core.settings import load_settings

    engine = make_engine(args.database_url, keyring=load_settings().keyring())
    folder = city_folder(args)
    if args.phase == "ingest":
        return _ingest(engine, folder, skip={LATER})
    if args.phase == "link":
        return _link(engine, folder)
    if args.phase == "incremental":
        _ingest(engine, folder, only=LATER, areas=False)
        return _link(engine, folder)
    if args.phase == "baseline":
        return _baseline(engine, folder)
    raise SystemExit(f"unknown phase {args.phase}")


def _ingest(engine, folder: Path, *, skip=(), only=None, areas=True) -> dict[str, object]:  # type: ignore[no-untyped-def]
    import orjson

    from gridweave.areas.service import load_areas
    from gridweave.core.database import migrate, transaction
    from gridweave.ingest.service import ingest_file, register_source

    manifest = orjson.loads((folder / "manifest.json").read_bytes())
    if areas:
        migrate(engine)
        with transaction(engine) as session:
            load_areas(session, path=folder / manifest["areas"])
            for extract in manifest["extracts"]:
                register_source(session, path=folder / extract["contract"])
    rows = 0
    for extract in manifest["extracts"]:
        if extract["source"] in skip or (only and extract["source"] != only):
            continue
        report = ingest_file(engine, path=folder / extract["file"], source_name=extract["source"])
        rows += report.rows_read
    return {"rows": rows}


def _quality(engine, folder: Path) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from gridweave.core.database import transaction
    from gridweave.linkage.evaluate import read_truth
    from gridweave.linkage.reports import evaluate_links

    with transaction(engine) as session:
        q = evaluate_links(session, read_truth(folder / "truth" / "records.csv"))[0]
    return {"precision": q.precision, "recall": q.recall, "f1": q.f1, "records": q.records}


def _link(engine, folder: Path) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from gridweave.linkage.service import link_people

    report = link_people(engine, actor="bench")
    return {
        "mode": report.mode,
        "records_in": report.records_in,
        "records_new": report.records_new,
        "records_read": report.records_read,
        "pairs_scored": report.pairs_scored,
        "auto_links": report.auto_links,
        "review_items": report.review_items,
        "golden_out": report.golden_out,
        "link_s": report.seconds,
        "timings": report.timings,
    } | _quality(engine, folder)


def _baseline(engine, folder: Path) -> dict[str, object]:  # type: ignore[no-untyped-def]
    import logging

    import duckdb
    import polars as pl
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from gridweave.core.database import keyring_of, transaction
    from gridweave.linkage.evaluate import pairwise_quality, read_truth

    started = time.perf_counter()
    with transaction(engine) as session:
        rows = (
            session.connection()
            .exec_driver_sql(
                'SELECT r.id, s.name, r.record_key, CAST(r."values" AS TEXT) FROM source_record r'
                " JOIN source s ON s.id = r.source_id WHERE r.entity_type = 'person'"
            )
            .all()
        )
    frame = pl.DataFrame(
        rows,
        schema={"unique_id": pl.Int64, "source": pl.String, "record_key": pl.String}
        | {"v": pl.String},
        orient="row",
    )
    attrs = ("name", "birth_date", "citizen_id")
    frame = frame.with_columns(
        pl.col("v").str.json_decode(pl.Struct({a: pl.String for a in attrs}))
    ).unnest("v")
    keyring = keyring_of(engine)  # ids are stored encrypted (decision 0008)
    frame = frame.with_columns(keyring.decrypt_series(frame["citizen_id"], "person.citizen_id"))
    records = frame.select(
        "unique_id",
        *attrs,
        pl.col("name").str.slice(0, 1).alias("surname"),
        pl.col("birth_date").str.slice(0, 7).alias("birth_month"),
    )
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("name", [0.9, 0.8]),
            cl.ExactMatch("birth_date"),
            cl.LevenshteinAtThresholds("citizen_id", [1, 2]),
        ],
        # a third of the records (guardians, landlords, representatives) have no birth date:
        # without the id rule they are never compared, and F1 falls to ~0.58
        blocking_rules_to_generate_predictions=[
            block_on("birth_date"),
            block_on("citizen_id"),
            block_on("surname", "birth_month"),
        ],
    )
    con = duckdb.connect()
    db = DuckDBAPI(con)
    linker = Linker(db.register(records.to_arrow()), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("citizen_id")], recall=0.9
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=7)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.95)
    out = con.sql(f"SELECT unique_id, cluster_id FROM {clusters.physical_name}").pl()
    seconds = time.perf_counter() - started
    truth = read_truth(folder / "truth" / "records.csv").filter(pl.col("entity_type") == "person")
    linked = (
        frame.select("unique_id", "source", "record_key")
        .join(out, on="unique_id")
        .join(truth, on=["source", "record_key"])
        .select(
            pl.col("unique_id").alias("record_id"),
            pl.col("cluster_id").rank("dense").cast(pl.Int64).alias("golden_id"),
            "entity_id",
        )
    )
    q = pairwise_quality(linked, "person")
    return {
        "link_s": round(seconds, 1),
        "precision": q.precision,
        "recall": q.recall,
        "f1": q.f1,
        "records": q.records,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=325_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--phase", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(run_phase(args)), flush=True)
        return

    folder = city_folder(args)
    if not (folder / "manifest.json").exists():
        print(f"synthesising {args.people:,} people …", flush=True)
        synthesise_apart(folder, people=args.people, seed=args.seed)
    if args.database_url is None:
        db = OUT / f"bench-{args.people}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        args.database_url = f"sqlite:///{db.resolve()}"
    print(f"ingesting every extract but {LATER} into {args.database_url} …", flush=True)
    ingested = phase("ingest", args)
    print(f"  {ingested['rows']:,} rows in {ingested['wall_s']} s", flush=True)
    results = {"ingest": ingested}
    for name, title in [
        ("link", "gridweave full link"),
        ("incremental", f"{LATER} ingested + incremental link"),
        ("baseline", "plain Splink"),
    ]:
        print(f"{title} …", flush=True)
        results[name] = r = phase(name, args)
        print(
            f"  wall {r['wall_s']} s (linking {r['link_s']} s), peak {r['peak_mb']:,} MB;"
            f" precision {r['precision']:.5f} recall {r['recall']:.5f} F1 {r['f1']:.5f}"
            f" over {r['records']:,} records",
            flush=True,
        )
        if "timings" in r:
            print(f"  {r}", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"result-{args.people}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
