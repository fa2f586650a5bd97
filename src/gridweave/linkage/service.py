"""Link person source records into golden people: deterministic, then Splink, then stable ids.

A full run reads every person record, trains the model and clusters everything again (keeping
every golden id that can be kept). An incremental run reads only the records new since the last
run and those sharing a blocking key with them, scores them with the stored model and changes
only the golden people they touch. See docs/linkage.md and decision 0003.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from gridweave.core import clock
from gridweave.core.bulk import bulk_insert, reserve_ids, timestamp_text
from gridweave.core.database import keyring_of, transaction
from gridweave.ingest.models import Source
from gridweave.linkage import store
from gridweave.linkage.clustering import assign_golden_ids, cluster
from gridweave.linkage.config import LinkageConfig, load_config
from gridweave.linkage.deterministic import id_groups
from gridweave.linkage.features import comparison_frame, name_pinyin
from gridweave.linkage.golden import (
    conflict_counts,
    conflicts,
    disagreements,
    golden_people,
    owned_keys,
)
from gridweave.linkage.models import GoldenMerge, LinkageRun
from gridweave.linkage.probabilistic import score, train, with_term_frequencies
from gridweave.registry.models import Person
from gridweave.registry.service import source_priorities

PERSON = store.PERSON
Progress = Callable[[str], None]


@dataclass
class LinkReport:
    """What one `gridweave link` did."""

    run_id: int
    mode: str  # full | incremental
    records_in: int = 0  # person source records in the base library
    records_new: int = 0  # not seen by linkage before
    records_read: int = 0  # read and compared in this run
    pairs_scored: int = 0
    auto_links: int = 0  # pairs that joined two clusters without a steward
    held_apart: int = 0  # likely pairs refused: two valid ids, or a steward's decision
    id_conflicts: int = 0  # one valid id, clearly two people: sent to review
    review_items: int = 0  # new items in the review queue
    golden_out: int = 0  # golden people in the base library afterwards
    golden_created: int = 0
    golden_updated: int = 0
    merges: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    conflicts: list[dict[str, object]] = field(default_factory=list)  # by source pair


def link_people(
    engine: Engine,
    *,
    actor: str,
    config: LinkageConfig | None = None,
    full: bool = False,
    progress: Progress | None = None,
) -> LinkReport:
    """Resolve the person source records into golden people, in one transaction."""
    with transaction(engine) as session:
        return _link(session, actor, config or load_config(), full, progress or (lambda _: None))


def _lock(session: Session, run: LinkageRun) -> None:
    """Wait for running ingests to finish and hold new ones back until this run commits.

    An ingest holds its batch row from start to commit: a share lock on `batch` waits for every
    one in flight, so every record id up to the newest is committed and seen (PostgreSQL hands
    out ids in one sequence). SQLite has one writer: the run's own first write takes the lock.
    """
    if session.connection().dialect.name == "postgresql":
        session.connection().exec_driver_sql("LOCK TABLE batch IN SHARE MODE")
    session.add(run)
    session.flush()


def _link(
    session: Session, actor: str, config: LinkageConfig, full: bool, say: Progress
) -> LinkReport:
    started = time.perf_counter()
    tick = started
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal tick
        now = time.perf_counter()
        timings[name] = round(now - tick, 2)
        tick = now

    last_full = session.scalar(
        select(LinkageRun)
        .where(LinkageRun.entity_type == PERSON, LinkageRun.mode == "full")
        .order_by(LinkageRun.id.desc())
        .limit(1)
    )
    incremental = (
        not full
        and last_full is not None
        and last_full.model is not None
        and last_full.blocking == config.fingerprint
    )
    run = LinkageRun(
        entity_type=PERSON,
        mode="incremental" if incremental else "full",
        actor=actor,
        started_at=clock.now(),
        blocking=config.fingerprint,
    )
    _lock(session, run)
    report = LinkReport(run_id=run.id, mode=run.mode, timings=timings)

    say("reading new person source records")
    new_records = store.records_after(session, store.last_featured(session))
    features_new = store.add_features(session, new_records, config)
    if last_full is not None and last_full.blocking != config.fingerprint:
        store.rebuild_block_keys(session, config)
    report.records_new = new_records.height
    new_ids = features_new["record_id"]
    lap("features")

    model: dict[str, Any] | None = None
    if incremental:
        assert last_full is not None and last_full.model is not None
        wanted = set(new_ids.to_list())
        if wanted:
            keys = store.block_keys(comparison_frame(features_new), config, keyring_of(session))
            wanted |= set(store.candidates(session, keys))
        frame = store.load_features(session, sorted(wanted))
        model = last_full.model
    else:
        frame = store.load_features(session)
    report.records_read = frame.height
    lap("load")

    priorities = source_priorities(session)
    frame = _with_name_priority(frame, priorities)
    is_new = frame["record_id"].is_in(new_ids.implode()) if incremental else None
    conflict_ids, must_link, keep_apart, new_conflicts = _deterministic(session, frame, is_new)
    report.id_conflicts = new_conflicts.height
    lap("deterministic")

    compare = comparison_frame(frame).with_columns(
        pl.when(pl.col("record_id").is_in(conflict_ids.implode()))
        .then(pl.lit(None, pl.String))
        .otherwise(pl.col("id_key"))
        .alias("id_key")
    )
    if incremental:
        tf = store.name_frequencies(session, compare["name"])
        compare = compare.join(tf, on="name", how="left").with_columns(probe=is_new)
    else:
        compare = with_term_frequencies(compare, config).with_columns(
            probe=pl.col("id_key").is_null()
        )
        if compare.height >= 2 and compare["probe"].any():  # else nothing to score
            say(f"training the model on {compare.height:,} records")
            model = train(compare, config)
            lap("train")
    say("scoring candidate pairs")
    thresholds = config.person.thresholds
    pairs, report.pairs_scored = score(compare, model, config, threshold=thresholds.review)
    lap("score")

    seeds = _seeds(session, compare, is_new)
    clusters = cluster(
        seeds,
        pairs,
        link=thresholds.link,
        review=thresholds.review,
        must_link=must_link,
        keep_apart=keep_apart,
    )
    report.auto_links, report.held_apart = clusters.auto_links, clusters.held_apart
    report.review_items = _queue(session, run.id, clusters.review, new_conflicts)
    lap("cluster")

    say("writing golden people")
    current = clusters.records.join(frame.select("record_id", "golden_id"), on="record_id")
    connection = session.connection()
    ids = assign_golden_ids(current, lambda n: reserve_ids(connection, "person", n))
    rebuilt, disagreements = apply_golden_ids(
        session, current=current, final=ids.records, merges=ids.merges, conflict_ids=conflict_ids
    )
    report.conflicts = _named_counts(session, conflict_counts(disagreements))
    record_merges(session, ids.merges, run.id, "linkage")
    report.golden_created = len(ids.created)
    report.golden_updated = rebuilt - report.golden_created
    report.merges = ids.merges.height
    lap("write")

    if not incremental:
        run.model = model
    run.last_record_id = max(frame["record_id"].to_list(), default=0)
    report.records_in = _count_person_records(session)
    report.golden_out = session.scalar(select(func.count()).select_from(Person)) or 0
    report.seconds = round(time.perf_counter() - started, 2)
    _finish(run, report, config)
    return report


def now_text(session: Session) -> str:
    """The clock's now as the dialect stores timestamps written as text (bulk writes)."""
    stamp = timestamp_text(pl.lit(clock.now()), session.connection().dialect.name)
    return str(pl.select(stamp).item())


def _with_name_priority(frame: pl.DataFrame, priorities: pl.DataFrame) -> pl.DataFrame:
    names = priorities.filter(
        (pl.col("entity_type") == PERSON) & (pl.col("attribute") == "name")
    ).select("source_id", "priority")
    return frame.join(names, on="source_id", how="left").with_columns(
        pl.col("priority").fill_null(50)
    )


def _deterministic(
    session: Session, frame: pl.DataFrame, is_new: pl.Series | None
) -> tuple[pl.Series, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Conflicting records, must-link and keep-apart pairs, and conflicts not yet queued.

    A full run judges every record against its id's most trusted record; an incremental run
    judges the new records against the golden person holding their id (earlier records were
    judged by earlier runs).
    """
    columns = ["record_id", "id_key", "name", "name_py", "birth_date", "priority"]
    if is_new is None:
        found = id_groups(frame.select(columns)).conflicts
    else:
        new = frame.filter(is_new & pl.col("id_key").is_not_null()).select(columns)
        anchors = store.golden_anchors(session, new["id_key"].unique().to_list())
        anchors = anchors.filter(~pl.col("record_id").is_in(new["record_id"].implode()))
        anchors = anchors.with_columns(
            name_pinyin(anchors["name"]).alias("name_py"), pl.lit(2**31, pl.Int64).alias("priority")
        )
        found = id_groups(pl.concat([new, anchors.select(columns)])).conflicts
        found = found.filter(pl.col("record_id").is_in(new["record_id"].implode()))
    items = store.review_pairs(session).filter(pl.col("kind") == "id_conflict")
    accepted = items.filter(pl.col("status") == "accepted")["record_id"]
    held = items.filter(pl.col("status") != "accepted").select(
        "record_id", pl.col("other_id").alias("anchor_id")
    )
    queued = items["record_id"]
    new_conflicts = found.filter(~pl.col("record_id").is_in(queued.implode()))
    found = found.filter(~pl.col("record_id").is_in(accepted.implode()))
    conflict_pairs = pl.concat([found.select("record_id", "anchor_id"), held]).unique()
    link, apart = store.decisions(session)
    apart = pl.concat(
        [apart, conflict_pairs.rename({"anchor_id": "other_id"})], how="vertical_relaxed"
    )
    return conflict_pairs["record_id"].unique(), link, apart, new_conflicts


def _seeds(session: Session, compare: pl.DataFrame, is_new: pl.Series | None) -> pl.DataFrame:
    """record_id, seed, key: which records start together, and the valid id each brings.

    A full run starts from the valid ids alone. An incremental run keeps every earlier record
    in its golden person (which brings the id it holds) and adds the new records.
    """
    alone = pl.lit("r") + pl.col("record_id").cast(pl.String)
    keyed = pl.lit("k") + pl.col("id_key")
    if is_new is None:
        return compare.select(
            "record_id", pl.coalesce(keyed, alone).alias("seed"), pl.col("id_key").alias("key")
        )
    frame = compare.select("record_id", "id_key", "golden_id", is_new.alias("new"))
    held = store.golden_keys(session, frame["golden_id"].drop_nulls().unique())
    frame = frame.join(held, on="golden_id", how="left")
    golden = pl.lit("g") + pl.col("golden_id").cast(pl.String)
    old = pl.coalesce(golden, alone)
    new = pl.when(pl.col("id_key").is_not_null()).then(pl.coalesce(golden, keyed)).otherwise(alone)
    return frame.select(
        "record_id",
        pl.when(pl.col("new")).then(new).otherwise(old).alias("seed"),
        pl.when(pl.col("new")).then(pl.col("id_key")).otherwise(pl.col("key")).alias("key"),
    )


def _queue(session: Session, run_id: int, uncertain: pl.DataFrame, found: pl.DataFrame) -> int:
    """Add review items for uncertain pairs and id conflicts not queued before."""
    known = store.review_pairs(session).select("record_id", "other_id")
    fresh = uncertain.join(known, on=["record_id", "other_id"], how="anti")
    rows = pl.concat(
        [
            fresh.select("record_id", "other_id", "match_probability", kind=pl.lit("uncertain")),
            found.select(
                "record_id",
                pl.col("anchor_id").alias("other_id"),
                pl.lit(None, pl.Float64).alias("match_probability"),
                kind=pl.lit("id_conflict"),
            ),
        ]
    ).with_columns(created_at=pl.lit(now_text(session)))
    columns = ["kind", "record_id", "other_id", "match_probability", "created_at"]
    constants = {"entity_type": PERSON, "status": "open", "run_id": run_id}
    bulk_insert(
        session.connection(), "review_item", columns, rows.select(columns).rows(), constants
    )
    return rows.height


def apply_golden_ids(
    session: Session,
    *,
    current: pl.DataFrame,
    final: pl.DataFrame,
    merges: pl.DataFrame,
    conflict_ids: pl.Series,
) -> tuple[int, pl.DataFrame]:
    """Move records to their golden ids and rebuild every golden person that changed.

    `current`: record_id, golden_id before; `final`: record_id, golden_id after; `merges`:
    from_id, into_id. Returns how many golden people were written, and where the sources of
    those disagree (linkage.golden.conflicts).
    """
    moved = (
        current.join(final, on="record_id", suffix="_new")
        .filter(pl.col("golden_id").ne_missing(pl.col("golden_id_new")))
        .select("record_id", "golden_id", "golden_id_new")
    )
    retired = merges["from_id"]
    touched = pl.concat(
        [moved["golden_id_new"], moved["golden_id"].drop_nulls(), merges["into_id"]]
    ).unique()
    touched = touched.filter(~touched.is_in(retired.implode()))
    store.set_golden_ids(session, moved.select("record_id", "golden_id_new"))
    store.repoint(session, merges)
    disagreements = rebuild_golden(
        session, touched=touched.to_list(), retired=retired.to_list(), conflict_ids=conflict_ids
    )
    return touched.len(), disagreements


def rebuild_golden(
    session: Session, *, touched: list[int], retired: list[int], conflict_ids: pl.Series | None
) -> pl.DataFrame:
    """Write the golden people `touched` from their claims, delete `retired`; the conflicts."""
    claims = store.claims(session, touched)
    owners = owned_keys(claims, conflict_ids)
    taken = store.keys_owned_elsewhere(session, owners["key"].drop_nulls(), touched)
    owners = owners.filter(~pl.col("key").is_in(list(taken)))
    golden = golden_people(claims, owners, source_priorities(session))
    store.write_people(session, golden, retired, now_text(session))
    return conflicts(claims)


def record_merges(session: Session, merges: pl.DataFrame, run_id: int | None, why: str) -> None:
    now = clock.now()
    for from_id, into_id in merges.iter_rows():
        session.add(
            GoldenMerge(
                entity_type=PERSON,
                from_id=from_id,
                into_id=into_id,
                run_id=run_id,
                reason=why,
                merged_at=now,
            )
        )
    session.flush()


def _count_person_records(session: Session) -> int:
    value = session.connection().exec_driver_sql(
        f"SELECT count(*) FROM source_record WHERE entity_type = '{PERSON}'"
    )
    return int(value.scalar() or 0)


def _finish(run: LinkageRun, report: LinkReport, config: LinkageConfig) -> None:
    run.finished_at = clock.now()
    for name in (
        "records_new",
        "records_read",
        "pairs_scored",
        "auto_links",
        "review_items",
        "golden_created",
        "golden_updated",
        "merges",
        "seconds",
    ):
        setattr(run, name, getattr(report, name))
    run.report = {
        "records_in": report.records_in,
        "golden_out": report.golden_out,
        "held_apart": report.held_apart,
        "id_conflicts": report.id_conflicts,
        "timings": report.timings,
        "thresholds": config.person.thresholds.model_dump(),
        "conflicts": report.conflicts,
    }


def _named_counts(session: Session, counts: pl.DataFrame, top: int = 20) -> list[dict[str, object]]:
    """The most frequent disagreements, with source names."""
    names = {i: n for i, n in session.execute(select(Source.id, Source.name)).all()}
    return [
        {"sources": f"{names.get(a, a)} × {names.get(b, b)}", "attribute": attr, "golden": n}
        for a, b, attr, n in counts.head(top).iter_rows()
    ]


def resolve_person(session: Session, golden_id: int) -> int:
    """The golden person an id stands for now: itself, or the one it was merged into."""
    seen = {golden_id}
    while True:
        into = session.scalar(
            select(GoldenMerge.into_id)
            .where(GoldenMerge.entity_type == PERSON, GoldenMerge.from_id == golden_id)
            .order_by(GoldenMerge.id.desc())
            .limit(1)
        )
        if into is None or into in seen:
            return golden_id
        seen.add(into)
        golden_id = into


def person_conflicts(session: Session, golden_id: int) -> pl.DataFrame:
    """attribute, value, sources: what the departments claim where they disagree on a person."""
    return disagreements(store.claims(session, [resolve_person(session, golden_id)]))


def conflict_report(session: Session) -> pl.DataFrame:
    """source_a, source_b, attribute, golden: disagreements over every golden person."""
    ids = [r[0] for r in session.execute(select(Person.id)).all()]
    return conflict_counts(conflicts(store.claims(session, ids)))
