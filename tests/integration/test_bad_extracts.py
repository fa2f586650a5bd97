"""Every kind of bad extract gets a clear error naming the file and line; nothing else is lost."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import xlsxwriter
from sqlalchemy import Engine, select

from gridweave.core.database import transaction
from gridweave.core.errors import ContractError, ExtractError
from gridweave.ingest import readers
from gridweave.ingest.models import QuarantinedRow, SourceRecord
from gridweave.ingest.service import ingest_file, quarantined_values
from tests.conftest import keyring_for_tests

from .extracts import POLICE_HEADER, police_people, write_csv
from .test_ingest import register, snapshot


@pytest.fixture
def loaded(engine: Engine, tmp_path: Path) -> Engine:
    """A library that already holds one good batch, which no bad file may disturb."""
    register(engine, "police", "clinic")
    ingest_file(
        engine,
        path=write_csv(tmp_path / "good.csv", [p.cells() for p in police_people(9)]),
        source_name="police_test",
    )
    return engine


def refused(engine: Engine, path: Path, source: str = "police_test") -> str:
    """Ingest a file that must be refused whole; check nothing changed; return the message."""
    before = snapshot(engine)
    with pytest.raises((ExtractError, ContractError)) as caught:
        ingest_file(engine, path=path, source_name=source)
    after = snapshot(engine)
    # the only trace of a refused file is its line in the batch log
    assert len(after.pop("batch")) == len(before.pop("batch")) + 1
    assert after == before
    return str(caught.value)


def quarantine(engine: Engine) -> list[QuarantinedRow]:
    with transaction(engine) as session:
        return list(session.scalars(select(QuarantinedRow).order_by(QuarantinedRow.line_number)))


def test_wrong_encoding(loaded: Engine, tmp_path: Path) -> None:
    rows = [p.cells() for p in police_people(3, 50)]
    path = write_csv(tmp_path / "gbk.csv", rows, encoding="gb18030")
    message = refused(loaded, path)
    assert str(path) in message
    assert "not valid UTF-8 at line 1, byte 1" in message  # the Chinese header itself
    assert "decode as GB18030" in message and "encoding" in message


def test_empty_file(loaded: Engine, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    message = refused(loaded, path)
    assert str(path) in message and "empty (0 bytes)" in message and "export it again" in message


def test_header_only(loaded: Engine, tmp_path: Path) -> None:
    message = refused(loaded, write_csv(tmp_path / "h.csv", []))
    assert "header but no rows" in message


def test_header_lacks_a_contract_column(loaded: Engine, tmp_path: Path) -> None:
    header = ["人员编号", "身份证号码", *POLICE_HEADER[2:]]
    path = write_csv(tmp_path / "renamed.csv", [p.cells() for p in police_people(2)], header=header)
    message = refused(loaded, path)
    assert str(path) in message and "police_test" in message
    assert "'公民身份号码' (the file has '身份证号码')" in message


def test_ragged_row_is_quarantined_and_the_rest_kept(loaded: Engine, tmp_path: Path) -> None:
    rows = [p.cells() for p in police_people(4, 100)]
    rows[1] = rows[1][:5]
    rows[2] = [*rows[2], "extra"]
    report = ingest_file(
        loaded, path=write_csv(tmp_path / "ragged.csv", rows), source_name="police_test"
    )
    assert (report.rows_read, report.rows_accepted, report.rows_quarantined) == (4, 2, 2)
    held = quarantine(loaded)
    assert [q.line_number for q in held] == [3, 4]
    assert held[0].reasons == [
        "line 3 has 5 fields, the header has 9 (cut short: is the file truncated?)"
    ]
    assert held[1].reasons == ["line 4 has 10 fields, the header has 9"]
    assert quarantined_values(keyring_for_tests(), held[1].row)["_extra_fields"] == ["extra"]


def test_truncated_file(loaded: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "cut.csv", [p.cells() for p in police_people(5, 200)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])  # the export stopped mid-row
    report = ingest_file(loaded, path=path, source_name="police_test")
    assert (report.rows_accepted, report.rows_quarantined) == (4, 1)
    (held,) = quarantine(loaded)
    assert held.line_number == 6 and "truncated" in held.reasons[0]


def test_file_ending_inside_a_quote(loaded: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "q.csv", [p.cells() for p in police_people(3, 300)])
    path.write_bytes(path.read_bytes() + 'R9,"unterminated,张三\n'.encode())
    report = ingest_file(loaded, path=path, source_name="police_test")
    assert (report.rows_accepted, report.rows_quarantined) == (3, 1)
    assert "ends inside a quoted field" in quarantine(loaded)[0].reasons[0]


def test_broken_json_line(loaded: Engine, tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(
        '{"档案号": "D1", "身份证号": null, "姓名": "李四", "手机": null,'
        ' "婚姻状况": null, "更新时间": null}\n{"档案号": "D2", "姓'.encode()
    )
    report = ingest_file(loaded, path=path, source_name="clinic_test")
    assert (report.rows_accepted, report.rows_quarantined) == (1, 1)
    (held,) = quarantine(loaded)
    assert held.line_number == 2 and "not JSON (last line cut short: truncated?)" in held.reasons[0]


def test_broken_json_line_deep_in_a_large_file(
    loaded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks before the broken one are kept as read; the line reader takes over from there."""
    monkeypatch.setattr(readers, "FIRST_BLOCK_BYTES", 400)  # ~4 lines a block:
    monkeypatch.setattr(readers, "BLOCK_BYTES", 400)  # the break is in block 10
    lines = [
        orjson.dumps(
            {
                "档案号": f"D{n}",
                "身份证号": None,
                "姓名": f"李{n}",
                "手机": None,
                "婚姻状况": None,
                "更新时间": None,
            }
        ).decode()
        for n in range(1, 61)
    ]
    lines[36] = lines[36][:25]  # line 37 cut in the middle, the file goes on
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ingest_file(loaded, path=path, source_name="clinic_test")
    assert (report.rows_read, report.rows_accepted, report.rows_quarantined) == (60, 59, 1)
    (held,) = quarantine(loaded)
    assert held.line_number == 37 and "line 37: not JSON" in held.reasons[0]
    with transaction(loaded) as session:
        where = {
            key: line
            for key, line in session.execute(
                select(SourceRecord.record_key, SourceRecord.line_number).where(
                    SourceRecord.batch_id == report.batch_id
                )
            )
        }
    assert where == {f"D{n}": n for n in range(1, 61) if n != 37}


def test_missing_file_and_unknown_source(loaded: Engine, tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match="no such file"):
        ingest_file(loaded, path=tmp_path / "nope.csv", source_name="police_test")
    with pytest.raises(Exception, match="no source named 'polise'"):
        ingest_file(loaded, path=tmp_path / "nope.csv", source_name="polise")


def test_xlsx_without_the_contract_sheet(engine: Engine, tmp_path: Path) -> None:
    contract = tmp_path / "xlsx.yaml"
    contract.write_text(
        (Path(__file__).parent / "contracts" / "police.yaml")
        .read_text(encoding="utf-8")
        .replace("name: police_test", "name: police_xlsx")
        .replace("{format: csv, encoding: utf-8}", "{format: xlsx, sheet: 户籍}"),
        encoding="utf-8",
    )
    from gridweave.ingest.service import register_source

    with transaction(engine) as session:
        register_source(session, path=contract)
    path = tmp_path / "p.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Sheet1")
    sheet.write_row(0, 0, POLICE_HEADER)
    book.close()
    message = refused(engine, path, "police_xlsx")
    assert "no sheet named '户籍' (sheets: Sheet1)" in message
