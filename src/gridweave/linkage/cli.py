"""`gridweave link`, `gridweave review …` and `gridweave export links`."""

from __future__ import annotations

import getpass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gridweave.core.database import transaction
from gridweave.core.runtime import Runtime
from gridweave.linkage import reports, review
from gridweave.linkage.config import load_config, with_backend
from gridweave.linkage.entities import EntityLinkReport, link_entities, unlink
from gridweave.linkage.evaluate import Quality, read_truth
from gridweave.linkage.service import (
    LinkReport,
    conflict_report,
    link_people,
    person_conflicts,
)
from gridweave.linkage.spark import check_available

review_app = typer.Typer(
    help="The steward's review queue of uncertain links.", no_args_is_help=True
)
export_app = typer.Typer(help="Export from the base library.", no_args_is_help=True)


class Backend(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


def actor() -> str:
    """Who is acting, for the decisions' record (the CLI has no login yet)."""
    return f"cli:{getpass.getuser()}"


def link_command(
    ctx: typer.Context,
    full: Annotated[bool, typer.Option("--full", help="relink everything and retrain")] = False,
    config: Annotated[
        Path | None, typer.Option(help="linkage YAML (default: linkage/defaults.yaml)")
    ] = None,
    evaluate: Annotated[
        Path | None, typer.Option(help="truth/records.csv: print pairwise precision/recall/F1")
    ] = None,
    backend: Annotated[
        Backend | None,
        typer.Option(help="where Splink trains and scores (default: the configuration's, duckdb)"),
    ] = None,
) -> None:
    """Link source records into golden records: people (incremental unless --full), then legal
    entities, buildings and rooms without a key, by name and address."""
    rt: Runtime = ctx.obj
    settings = with_backend(load_config(config), backend.value if backend else None)
    if settings.backend == "spark":
        check_available()  # before the run, not at its training step
    truth = read_truth(evaluate) if evaluate else None
    with rt.console.status("linking …") as status:
        report = link_people(
            rt.engine,
            actor=actor(),
            config=settings,
            full=full,
            progress=lambda message: status.update(message),
        )
    print_report(rt.console, report)
    with rt.console.status("linking legal entities, buildings and rooms …") as status:
        entity_reports = link_entities(
            rt.engine, actor=actor(), progress=lambda message: status.update(message)
        )
    print_entity_reports(rt.console, entity_reports)
    if truth is not None:
        with transaction(rt.engine) as session:
            print_quality(rt.console, reports.evaluate_links(session, truth))


def print_report(console: Console, report: LinkReport) -> None:
    console.print(
        f"[bold]{report.mode} link run {report.run_id}[/] in {report.seconds:.1f} s:"
        f" {report.records_in:,} person source records in the base library,"
        f" {report.records_new:,} new, {report.records_read:,} read"
    )
    console.print(
        f"  pairs scored {report.pairs_scored:,} · auto-links {report.auto_links:,}"
        f" · held apart {report.held_apart:,} · id conflicts {report.id_conflicts:,}"
        f" · new review items {report.review_items:,}"
    )
    console.print(
        f"  golden people out {report.golden_out:,}: created {report.golden_created:,},"
        f" rewritten {report.golden_updated:,}, merged away {report.merges:,}"
    )
    console.print("  time: " + " · ".join(f"{k} {v:.1f}s" for k, v in report.timings.items()))


def print_entity_reports(console: Console, reports: list[EntityLinkReport]) -> None:
    table = Table(
        "entity",
        "run",
        "records",
        "new",
        "without key",
        "linked",
        "to review",
        "still without",
        "s",
    )
    for r in reports:
        table.add_row(
            r.entity_type,
            f"{r.mode} {r.run_id}",
            f"{r.records_in:,}",
            f"{r.records_new:,}",
            f"{r.waiting:,}",
            f"{r.auto_links:,}",
            f"{r.review_items:,}",
            f"{r.left_waiting:,}",
            f"{r.seconds:.1f}",
        )
    console.print(table)


def print_quality(console: Console, qualities: list[Quality]) -> None:
    table = Table("entity", "records", "true pairs", "linked pairs", "precision", "recall", "F1")
    for q in qualities:
        if q.true_pairs == q.linked_pairs == 0:  # one source only: nothing to link
            continue
        table.add_row(
            q.entity_type,
            f"{q.records:,}",
            f"{q.true_pairs:,}",
            f"{q.linked_pairs:,}",
            f"{q.precision:.5f}",
            f"{q.recall:.5f}",
            f"{q.f1:.5f}",
        )
    console.print(table)


@review_app.command("list")
def list_command(
    ctx: typer.Context,
    status: Annotated[str, typer.Option(help="open, accepted, rejected or all")] = "open",
    kind: Annotated[str | None, typer.Option(help="uncertain or id_conflict")] = None,
    entity: Annotated[
        str, typer.Option(help="person, legal_entity, building, room or all")
    ] = "person",
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """Review items, most likely first: the two records of each."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        views, total = review.list_items(
            session,
            status=None if status == "all" else status,
            kind=kind,
            entity_type=None if entity == "all" else entity,
            limit=limit,
        )
        table = Table("id", "kind", "p", "status", "record", "other record")
        for v in views:
            p = v.item.match_probability
            table.add_row(
                str(v.item.id),
                v.item.kind,
                "" if p is None else f"{p:.3f}",
                v.item.status,
                _brief(v.left),
                _brief(v.right),
            )
        rt.console.print(table)
        rt.console.print(f"{len(views)} of {total:,} shown")


def _brief(r: review.RecordView) -> str:
    v = r.values
    parts = [v.get("name"), v.get("birth_date"), v.get("citizen_id"), v.get("credit_code")]
    parts += [v.get("phone"), v.get("address"), v.get("operating_address")]
    return f"{r.source} #{r.record_id} → {r.golden_id}: " + " ".join(str(p) for p in parts if p)


@review_app.command("show")
def show_command(ctx: typer.Context, item_id: Annotated[int, typer.Argument()]) -> None:
    """Both records of a review item side by side."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        v = review.get_item(session, item_id)
        p = v.item.match_probability
        rt.console.print(
            f"[bold]review item {v.item.id}[/] ({v.item.kind}, {v.item.status})"
            + ("" if p is None else f", match probability {p:.4f}")
        )
        table = Table(
            "", f"{v.left.source} {v.left.record_key}", f"{v.right.source} {v.right.record_key}"
        )
        table.add_row(f"golden {v.item.entity_type}", str(v.left.golden_id), str(v.right.golden_id))
        for name in sorted(set(v.left.values) | set(v.right.values)):
            a, b = v.left.values.get(name), v.right.values.get(name)
            mark = "" if a is None or b is None else ("=" if a == b else "≠")
            table.add_row(f"{name} {mark}", str(a or ""), str(b or ""))
        rt.console.print(table)


@review_app.command("accept")
def accept_command(
    ctx: typer.Context,
    item_id: Annotated[int, typer.Argument()],
    note: Annotated[str | None, typer.Option()] = None,
) -> None:
    """One person (or legal entity, room…): link the two records now."""
    _decide(ctx, item_id, True, note)


@review_app.command("reject")
def reject_command(
    ctx: typer.Context,
    item_id: Annotated[int, typer.Argument()],
    note: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Two people (or legal entities, rooms…): never link the two records."""
    _decide(ctx, item_id, False, note)


def _decide(ctx: typer.Context, item_id: int, accept: bool, note: str | None) -> None:
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        v = review.decide(session, item_id=item_id, accept=accept, actor=actor(), note=note)
    kind = v.item.entity_type
    rt.console.print(
        f"review item {item_id} {v.item.status}: records {v.left.record_id} → {kind}"
        f" {v.left.golden_id}, {v.right.record_id} → {kind} {v.right.golden_id}"
    )


@review_app.command("split")
def split_command(
    ctx: typer.Context,
    golden_id: Annotated[int, typer.Argument(help="the golden person merged wrongly")],
    records: Annotated[str, typer.Option(help="source record ids to move out, comma-separated")],
    note: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Split a wrong merge: move records into a new golden person, kept apart from now on."""
    rt: Runtime = ctx.obj
    ids = [int(r) for r in records.replace(" ", "").split(",") if r]
    with transaction(rt.engine) as session:
        new_id = review.split(
            session, golden_id=golden_id, record_ids=ids, actor=actor(), note=note
        )
    rt.console.print(f"records {ids} moved from person {golden_id} to new person {new_id}")


@review_app.command("unlink")
def unlink_command(
    ctx: typer.Context,
    record: Annotated[int, typer.Argument(help="a legal entity, building or room source record")],
    note: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Undo a wrong link of a record without a key: out of its golden record, kept apart."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        left = unlink(session, record_id=record, actor=actor(), note=note)
    rt.console.print(f"record {record} taken out of {left}; later runs keep it apart from it")


@review_app.command("conflicts")
def conflicts_command(
    ctx: typer.Context,
    person: Annotated[int | None, typer.Argument(help="one golden person's conflicts")] = None,
    top: Annotated[int, typer.Option(min=1)] = 20,
) -> None:
    """Where departments disagree: per pair of sources, or each value for one person."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        names = reports.source_names(session)
        if person is not None:
            values = person_conflicts(session, person)
            table = Table("attribute", "value", "claimed by")
            for attribute, value, sources in values.iter_rows():
                table.add_row(attribute, value, ", ".join(names.get(s, str(s)) for s in sources))
            rt.console.print(table)
            return
        counts = conflict_report(session)
    table = Table("source", "other source", "attribute", "golden people")
    for a, b, attribute, n in counts.head(top).iter_rows():
        table.add_row(names.get(a, str(a)), names.get(b, str(b)), attribute, f"{n:,}")
    rt.console.print(table)


@export_app.command("links")
def export_links_command(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="the CSV file to write")],
    entity: Annotated[str, typer.Option(help="person, legal_entity, room… or all")] = "person",
) -> None:
    """Every source record with the golden record it is linked to (source, record id, golden id)."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        n = reports.export_links(session, out=out, entity_type=None if entity == "all" else entity)
    rt.console.print(f"{n:,} links written to {out}")
