"""`gridweave sources …`, `gridweave ingest`, `gridweave batches`, `gridweave quarantine …`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from gridweave.core.database import keyring_of, transaction
from gridweave.core.runtime import Runtime
from gridweave.ingest import service
from gridweave.ingest.contracts import load_contract

sources_app = typer.Typer(
    help="Register and inspect department source contracts.", no_args_is_help=True
)
quarantine_app = typer.Typer(
    help="Rows that failed validation, kept with their reasons.", no_args_is_help=True
)

SHARING_ZH = {
    "shared_freely": "无条件共享",
    "shared_on_approval": "有条件共享",
    "not_shared": "不予共享",
}


@sources_app.command("add")
def sources_add(
    ctx: typer.Context, files: Annotated[list[Path], typer.Argument(help="contract YAML file(s)")]
) -> None:
    """Register (or update) source contracts."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        for path in files:
            source, outcome = service.register_source(session, path=path)
            rt.console.print(
                f"{outcome}: [bold]{source.name}[/] ({source.department_name} · {source.title})"
            )


@sources_app.command("list")
def sources_list(ctx: typer.Context) -> None:
    """The registered sources with their catalog entries."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        table = Table("name", "department", "topic", "updates", "sharing", "batches")
        for source, batches in service.list_sources(session):
            table.add_row(
                source.name,
                source.department_name,
                source.topic,
                source.update_frequency,
                f"{SHARING_ZH[source.sharing]} ({source.sharing})",
                str(batches),
            )
        rt.console.print(table)


@sources_app.command("show")
def sources_show(ctx: typer.Context, name: str) -> None:
    """One source: its catalog entry, attributes with their classes, and its batches."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        source = service.get_source(session, name)
        contract = service.contract_of(source)
        rt.console.print(f"[bold]{source.name}[/] — {contract.title}")
        rt.console.print(f"department: {contract.department.name} ({contract.department.code})")
        rt.console.print(f"topic: {contract.topic}; updates {contract.catalog.update_frequency}")
        cond = f" — {contract.catalog.condition}" if contract.catalog.condition else ""
        rt.console.print(
            f"sharing: {SHARING_ZH[contract.catalog.sharing.value]}"
            f" ({contract.catalog.sharing.value}){cond}"
        )
        rt.console.print(
            f"file: {contract.file.format}, {contract.file.encoding};"
            f" record id: {' + '.join(contract.record_id)}"
        )
        table = Table("entity", "attribute", "from", "class", "priority", "required")
        for ent in contract.entities:
            for attr, m in ent.attributes.items():
                origin = m.column if m.column is not None else f"= {m.value}"
                table.add_row(
                    ent.role_name,
                    attr,
                    origin,
                    contract.sensitivity(ent, attr).value,
                    str(m.priority),
                    "yes" if m.required else "",
                )
        rt.console.print(table)
        batches = Table(
            "batch",
            "status",
            "file",
            "read",
            "accepted",
            "quarantined",
            "rows as before",
            "new",
            "unchanged",
            "finished",
        )
        for b in service.list_batches(session, name):
            batches.add_row(
                str(b.id),
                b.status,
                Path(b.file_name).name,
                str(b.rows_read),
                str(b.rows_accepted),
                str(b.rows_quarantined),
                str(b.rows_unchanged),
                str(b.records_new),
                str(b.records_unchanged),
                b.finished_at.isoformat(timespec="seconds") if b.finished_at else "",
            )
        rt.console.print(batches)


def ingest_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="the extract file")],
    source: Annotated[str, typer.Option("--source", "-s", help="registered source name")],
    extracted_at: Annotated[
        datetime | None, typer.Option(help="when the department extracted it (default: now)")
    ] = None,
    chunk_rows: Annotated[int | None, typer.Option(help="rows per chunk")] = None,
) -> None:
    """Ingest one extract file: all of it or nothing; the same file twice adds nothing."""
    rt: Runtime = ctx.obj
    rows = chunk_rows or rt.settings.ingest_chunk_rows
    when = extracted_at.astimezone() if extracted_at else None
    if rt.console.is_terminal:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[rows]:,} rows"),
            TimeRemainingColumn(),
            console=rt.console,
        ) as bar:
            task = bar.add_task(
                file.name, total=file.stat().st_size if file.is_file() else 0, rows=0
            )
            report = service.ingest_file(
                rt.engine,
                path=file,
                source_name=source,
                extracted_at=when,
                chunk_rows=rows,
                progress=lambda done, total, n: bar.update(task, completed=done, rows=n),
            )
    else:
        report = service.ingest_file(
            rt.engine,
            path=file,
            source_name=source,
            extracted_at=when,
            chunk_rows=rows,
            progress=lambda done, total, n: print(
                f"progress: {n} rows read ({done * 100 // max(total, 1)}%)", flush=True
            ),
        )
    print_report(rt, report)


def print_report(rt: Runtime, report: service.BatchReport) -> None:
    if report.status == "already_ingested":
        rt.console.print(
            f"{report.file}: already ingested as batch {report.batch_id} for '{report.source}';"
            " nothing added."
        )
        return
    as_before = (
        f" ({report.rows_unchanged:,} exactly as sent before)" if report.rows_unchanged else ""
    )
    rt.console.print(
        f"batch {report.batch_id} · {report.source}: {report.rows_read:,} rows read, "
        f"{report.rows_accepted:,} accepted{as_before}, {report.rows_quarantined:,} quarantined; "
        f"{report.records_new:,} new source records ({report.records_flagged:,} with flagged"
        f" values), {report.records_unchanged:,} unchanged "
        f"({report.seconds:.1f} s)"
    )
    for reason, n in report.quarantine_reasons.items():
        rt.console.print(f"  quarantined {n:>6,} × {reason}")
    for entity, c in report.golden.items():
        rt.console.print(f"  {entity}: {c.created:,} golden records created, {c.updated:,} updated")


def batches_command(
    ctx: typer.Context, source: Annotated[str | None, typer.Option("--source", "-s")] = None
) -> None:
    """Every batch, completed or refused, with its counts."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        table = Table(
            "batch", "source", "status", "file", "read", "accepted", "quarantined", "error"
        )
        names = {s.id: s.name for s, _ in service.list_sources(session)}
        for b in service.list_batches(session, source):
            table.add_row(
                str(b.id),
                names[b.source_id],
                b.status,
                Path(b.file_name).name,
                str(b.rows_read),
                str(b.rows_accepted),
                str(b.rows_quarantined),
                (b.error or "").split("\n")[0][:80],
            )
        rt.console.print(table)


@quarantine_app.command("list")
def quarantine_list(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Option("--source", "-s")] = None,
    batch: Annotated[int | None, typer.Option("--batch", "-b")] = None,
    limit: Annotated[int, typer.Option(help="rows to show")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """Quarantined rows with the reason for each failing field."""
    rt: Runtime = ctx.obj
    with transaction(rt.engine) as session:
        rows, total = service.list_quarantine(
            session, source_name=source, batch_id=batch, limit=limit
        )
        if as_json:
            for q, name in rows:
                print(
                    orjson.dumps(
                        {
                            "source": name,
                            "batch": q.batch_id,
                            "line": q.line_number,
                            "record_key": q.record_key,
                            "reasons": q.reasons,
                            "row": service.quarantined_values(keyring_of(session), q.row),
                        }
                    ).decode()
                )
            return
        table = Table("source", "batch", "line", "record", "reasons")
        for q, name in rows:
            table.add_row(
                name, str(q.batch_id), str(q.line_number), q.record_key or "", "\n".join(q.reasons)
            )
        rt.console.print(table)
        rt.console.print(f"{len(rows)} of {total:,} quarantined rows shown")


def check_contract_command(contract: Path, extract: Path) -> None:
    """Check a contract against a sample extract without writing anything."""
    from gridweave.ingest.readers import read_extract

    c = load_contract(contract)
    first = next(iter(read_extract(extract, c, 1000)))
    typer.echo(
        f"{contract}: contract '{c.name}' reads every column it names from {extract}"
        f" ({first.frame.height} rows sampled)"
    )
