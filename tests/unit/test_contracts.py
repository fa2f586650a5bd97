"""Source contracts: what is accepted, and what is refused with a message naming the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridweave.core.errors import ContractError
from gridweave.ingest.contracts import check_header, load_contract, parse_contract

BASE = """
name: police
title: 户籍人口信息
department: {code: public_security, name: 市公安局}
topic: 户籍人口
catalog: {update_frequency: daily, sharing: shared_on_approval}
file: {format: csv, encoding: gb18030}
record_id: 人员编号
entities:
"""


def contract(entities: str) -> str:
    return BASE + entities


PERSON = """
  - entity: person
    attributes:
      citizen_id: {column: 公民身份号码, required: true}
      sex: {column: 性别, codes: {"1": male, 男: male, "2": female, 女: female}}
"""


def test_a_good_contract_lists_its_columns_and_classes() -> None:
    c = parse_contract(contract(PERSON))
    assert c.columns() == ["人员编号", "公民身份号码", "性别"]
    assert c.record_id == ["人员编号"]
    person = c.entities[0]
    assert c.sensitivity(person, "citizen_id").value == "restricted"  # the attribute's default
    assert c.file.encoding == "gb18030"


def test_unknown_attribute_is_named_with_a_suggestion() -> None:
    with pytest.raises(ContractError) as caught:
        parse_contract(contract(PERSON.replace("sex:", "sexx:")), "police.yaml")
    message = str(caught.value)
    assert "police.yaml" in message and "'sexx'" in message and "did you mean sex" in message


def test_code_outside_the_attribute_table_is_refused() -> None:
    with pytest.raises(ContractError, match=r"code\(s\) \['woman'\] are not in the table of 'sex'"):
        parse_contract(contract(PERSON.replace("女: female", "女: woman")))


def test_link_to_an_undeclared_role_is_refused() -> None:
    text = contract(
        PERSON.replace(
            "    attributes:", "    role: pupil\n    links: {guardian_of: parent}\n    attributes:"
        )
    )
    with pytest.raises(ContractError, match="points to role 'parent'"):
        parse_contract(text)


def test_schema_errors_name_the_field() -> None:
    with pytest.raises(ContractError, match=r"catalog\.sharing"):
        parse_contract(contract(PERSON).replace("shared_on_approval", "sometimes"))
    with pytest.raises(ContractError, match="exactly one of 'column' or 'value'"):
        parse_contract(contract(PERSON.replace("{column: 性别, ", "{")))


def test_non_person_entity_needs_its_key() -> None:
    text = contract("""
  - entity: legal_entity
    attributes:
      name: {column: 企业名称}
""")
    with pytest.raises(ContractError, match="maps no 'credit_code'"):
        parse_contract(text)


def test_header_check_names_missing_column_and_what_the_file_has() -> None:
    c = parse_contract(contract(PERSON))
    with pytest.raises(ContractError) as caught:
        check_header(c, ["人员编号", "身份证号码", "性别"], "extract.csv")
    assert "extract.csv" in str(caught.value)
    assert "'公民身份号码' (the file has '身份证号码')" in str(caught.value)


def test_missing_contract_file(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="no such contract file"):
        load_contract(tmp_path / "nope.yaml")


def test_not_yaml(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="not valid YAML"):
        parse_contract("name: [unclosed", "x.yaml")
