"""Factories for small extract files and valid citizen ids, for the ingestion tests."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import orjson

from gridweave.ingest.cleaning.citizen_id import check_char

CONTRACTS = Path(__file__).parent / "contracts"
POLICE_HEADER = [
    "人员编号",
    "公民身份号码",
    "姓名",
    "性别代码",
    "出生日期",
    "联系电话",
    "户号",
    "与户主关系",
    "户籍地址",
]


def citizen_id(area: str, birth: date, seq: int, male: bool) -> str:
    """A valid 18-character citizen id number; `seq` (0–499) tells apart people born one day."""
    first17 = f"{area}{birth:%Y%m%d}{seq * 2 + (1 if male else 0):03d}"
    return first17 + check_char(first17)


@dataclass
class PoliceRow:
    record: str
    cid: str
    name: str
    sex: str
    birth: str
    phone: str = ""
    household: str = ""
    relation: str = ""
    address: str = ""

    def cells(self) -> list[str]:
        return [
            self.record,
            self.cid,
            self.name,
            self.sex,
            self.birth,
            self.phone,
            self.household,
            self.relation,
            self.address,
        ]


def police_people(n: int, start: int = 0) -> list[PoliceRow]:
    """`n` distinct, valid registered residents, in households of three."""
    rows = []
    for i in range(start, start + n):
        male = i % 2 == 0
        birth = date(1940, 1, 1) + timedelta(days=(i // 500) % 30_000)
        rows.append(
            PoliceRow(
                record=f"R{i:07d}",
                cid=citizen_id("440303", birth, i % 500, male),
                name=f"张{'伟芳娜强'[i % 4]}{i}",
                sex="1" if male else "2",
                birth=f"{birth:%Y%m%d}",
                phone=f"138{i:08d}",
                household=f"H{i // 3:06d}",
                relation=["户主", "配偶", "子"][i % 3],
                address=f"罗湖区东门街道解放路{i // 3}号",
            )
        )
    return rows


def write_csv(
    path: Path, rows: list[list[str]], header: list[str] = POLICE_HEADER, encoding: str = "utf-8"
) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_jsonl(path: Path, objects: list[dict[str, object]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(o) + b"\n" for o in objects))
    return path
