"""The files a synthetic city writes: determinism, contracts, headers, encodings, truth."""

from __future__ import annotations

from pathlib import Path

import orjson
import polars as pl
import pytest

from gridweave.ingest.contracts import check_header, load_contract
from gridweave.synth.city import SynthReport, synthesise
from gridweave.synth.extracts import WRITERS

from .conftest import PEOPLE, SEED, contract_of, read_extract


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_same_seed_gives_identical_files(city: SynthReport, tmp_path: Path) -> None:
    again = synthesise(tmp_path, people=PEOPLE, seed=SEED)
    first, second = _files(city.out_dir), _files(again.out_dir)
    assert first.keys() == second.keys()
    differing = [name for name in first if first[name] != second[name]]
    assert differing == []


def test_another_seed_gives_other_files(city: SynthReport, tmp_path: Path) -> None:
    other = synthesise(tmp_path, people=PEOPLE, seed=SEED + 1)
    first, second = _files(city.out_dir), _files(other.out_dir)
    for name in ("extracts/police_household_registration.csv", "truth/people.csv"):
        assert first[name] != second[name]


def test_a_subset_of_sources_writes_the_same_bytes(city: SynthReport, tmp_path: Path) -> None:
    subset = synthesise(
        tmp_path, people=PEOPLE, seed=SEED, sources={"urban_components", "housing_rentals"}
    )
    assert [e.source for e in subset.extracts] == ["housing_rentals", "urban_components"]
    assert sorted(p.name for p in (tmp_path / "extracts").iterdir()) == [
        "housing_rentals.csv",
        "urban_components.csv",
    ]
    for e in subset.extracts:
        assert e.file.read_bytes() == (city.out_dir / "extracts" / e.file.name).read_bytes()
    records = pl.read_csv(tmp_path / "truth" / "records.csv", infer_schema=False)
    assert set(records["source"]) == {"housing_rentals", "urban_components"}


def test_unknown_source_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown source"):
        synthesise(tmp_path, people=PEOPLE, sources={"tax_bureau"})


def test_every_contract_loads_and_matches_its_extract(city: SynthReport) -> None:
    written = sorted(p.stem for p in (city.out_dir / "contracts").glob("*.yaml"))
    assert written == sorted(WRITERS)
    for source in WRITERS:
        contract = load_contract(city.out_dir / "contracts" / f"{source}.yaml")
        assert contract.name == source


def test_every_header_holds_every_contract_column(city: SynthReport) -> None:
    for e in city.extracts:
        contract = contract_of(city, e.source)
        frame = read_extract(e.file, contract)
        check_header(contract, frame.columns, str(e.file))
        assert frame.height == e.rows > 0


def test_manifest_lists_extracts_in_ingest_order(city: SynthReport) -> None:
    manifest = orjson.loads((city.out_dir / "manifest.json").read_bytes())
    assert manifest["seed"] == SEED and manifest["people"] == PEOPLE
    assert manifest["areas"] == "areas.geojson"
    sources = [e["source"] for e in manifest["extracts"]]
    assert sources[0] == "housing_buildings"
    assert sorted(sources) == sorted(WRITERS)
    for e in manifest["extracts"]:
        assert (city.out_dir / e["file"]).is_file()
        assert (city.out_dir / e["contract"]).is_file()
        assert e["rows"] == next(x.rows for x in city.extracts if x.source == e["source"])


def test_truth_covers_every_row_once_per_entity(city: SynthReport) -> None:
    truth = pl.read_csv(city.out_dir / "truth" / "records.csv", infer_schema=False)
    assert truth.select("source", "record_key").is_duplicated().sum() == 0
    for e in city.extracts:
        contract = contract_of(city, e.source)
        frame = read_extract(e.file, contract)
        key = pl.concat_str([pl.col(c) for c in contract.record_id], separator="|")
        keys = frame.select(key).to_series()
        assert keys.null_count() == 0 and keys.n_unique() == frame.height
        expected = set()
        for ent in contract.entities:
            suffix = f"#{ent.role_name}" if len(contract.entities) > 1 else ""
            expected |= {(k + suffix, ent.entity.value) for k in keys}
        mine = truth.filter(pl.col("source") == e.source)
        assert set(mine.select("record_key", "entity_type").iter_rows()) == expected
        assert mine.height == len(expected)
        assert mine["entity_id"].null_count() == 0


def test_truth_ids_point_at_true_entities(city: SynthReport) -> None:
    truth = pl.read_csv(city.out_dir / "truth" / "records.csv", infer_schema=False)
    tables = {
        "person": "people",
        "household": "households",
        "legal_entity": "legal_entities",
        "building": "buildings",
        "room": "rooms",
        "city_component": "components",
    }
    for entity_type, table in tables.items():
        known = pl.read_csv(city.out_dir / "truth" / f"{table}.csv", infer_schema=False)
        ids = set(known.to_series(0))
        used = set(truth.filter(pl.col("entity_type") == entity_type)["entity_id"])
        assert used and used <= ids, entity_type


def test_encodings_are_what_the_contracts_say(city: SynthReport) -> None:
    for e in city.extracts:
        contract = contract_of(city, e.source)
        raw = e.file.read_bytes()
        if contract.file.format == "xlsx":
            assert raw[:2] == b"PK"
            continue
        encoding = contract.file.encoding
        raw.decode(encoding)
        if encoding == "utf-8-sig":
            assert raw.startswith(b"\xef\xbb\xbf")
        elif encoding == "utf-8":
            assert not raw.startswith(b"\xef\xbb\xbf")
        else:
            # Chinese text in GB18030/GBK is not valid UTF-8: the file really is in that encoding.
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")


def test_xlsx_serial_dates_are_numeric_cells(city: SynthReport) -> None:
    import openpyxl

    path = city.out_dir / "extracts" / "civil_affairs_subsistence.xlsx"
    sheet = openpyxl.load_workbook(path, read_only=True)["低保对象"]
    header, first = list(sheet.iter_rows(min_row=1, max_row=2, values_only=True))
    row = dict(zip(header, first, strict=True))
    assert isinstance(row["保障起始日期"], int) and 40_000 < row["保障起始日期"] < 46_000
    assert isinstance(row["保障金额"], int | float)
    assert isinstance(row["成员序号"], str)


@pytest.mark.slow
def test_default_city_is_fast_and_full(tmp_path: Path) -> None:
    report = synthesise(tmp_path)  # 50,000 people
    assert report.seconds < 30
    assert 80 <= report.grids <= 120
    assert report.legal_entities >= 5_000
    assert report.components >= 5 * report.grids
    assert report.truth["twins"] > 100 and report.truth["namesakes"] > 5
    rows = {e.source: e.rows for e in report.extracts}
    assert rows["police_household_registration"] > 25_000
    assert rows["health_population"] > 40_000
    people = pl.read_csv(tmp_path / "truth" / "people.csv", infer_schema=False)
    assert people["name"].is_in(["张伟", "王芳", "李娜", "刘洋"]).sum() > 50
