"""The canonical attributes of the base library: what a source contract may map its columns onto.

Each attribute has a kind (which cleaner parses it), a survivorship rule (how the golden value is
chosen when departments disagree), a default sensitivity class and zh-CN/en labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class EntityType(StrEnum):
    person = "person"
    household = "household"
    legal_entity = "legal_entity"
    building = "building"
    room = "room"
    city_component = "city_component"


class Kind(StrEnum):
    citizen_id = "citizen_id"  # GB 11643
    credit_code = "credit_code"  # GB 32100
    name = "name"  # a person's name: simplified, half-width, no inner spaces
    text = "text"  # trimmed free text
    phone = "phone"
    date = "date"
    datetime = "datetime"
    code = "code"  # a value from a closed code table
    address = "address"
    integer = "integer"
    decimal = "decimal"


class Survivorship(StrEnum):
    priority = "priority"  # the most trusted source wins; recency breaks ties
    recency = "recency"  # the newest observation wins; priority breaks ties


class Sensitivity(StrEnum):
    public = "public"
    internal = "internal"
    sensitive = "sensitive"
    restricted = "restricted"


@dataclass(frozen=True)
class Attribute:
    entity: EntityType
    name: str
    kind: Kind
    zh: str
    en: str
    survivorship: Survivorship = Survivorship.priority
    sensitivity: Sensitivity = Sensitivity.internal
    codes: frozenset[str] = field(default_factory=frozenset)
    is_key: bool = False  # the strong identifier golden records are keyed on before linkage


P, H, L, B, R, C = (
    EntityType.person,
    EntityType.household,
    EntityType.legal_entity,
    EntityType.building,
    EntityType.room,
    EntityType.city_component,
)
PRI, REC = Survivorship.priority, Survivorship.recency
PUB, INT, SEN, RES = (
    Sensitivity.public,
    Sensitivity.internal,
    Sensitivity.sensitive,
    Sensitivity.restricted,
)

SEX = frozenset({"male", "female", "unknown"})
PERSON_STATUS = frozenset({"alive", "deceased", "moved_out"})
MARITAL = frozenset({"unmarried", "married", "divorced", "widowed", "unknown"})
RELATION = frozenset(
    {"head", "spouse", "child", "parent", "grandchild", "grandparent", "sibling", "other"}
)
ROOM_USE = frozenset({"home", "rental", "shop", "office", "vacant"})
ENTITY_STATUS = frozenset({"active", "revoked", "cancelled"})
COMPONENT_STATUS = frozenset({"intact", "damaged", "missing", "removed"})

_ALL: tuple[Attribute, ...] = (
    # people
    Attribute(
        P, "citizen_id", Kind.citizen_id, "公民身份号码", "citizen id number", PRI, RES, is_key=True
    ),
    Attribute(P, "name", Kind.name, "姓名", "name", PRI, SEN),
    Attribute(P, "sex", Kind.code, "性别", "sex", PRI, INT, SEX),
    Attribute(P, "birth_date", Kind.date, "出生日期", "birth date", PRI, SEN),
    Attribute(P, "ethnicity", Kind.text, "民族", "ethnicity", PRI, SEN),
    Attribute(P, "phone", Kind.phone, "联系电话", "phone", REC, SEN),
    Attribute(
        P, "hukou_address", Kind.address, "户籍地址", "household registration address", PRI, SEN
    ),
    Attribute(
        P, "residence_address", Kind.address, "实际居住地址", "actual residence address", REC, SEN
    ),
    Attribute(P, "residence_room_code", Kind.text, "居住房屋编码", "residence room code", REC, SEN),
    Attribute(P, "status", Kind.code, "人员状态", "status", PRI, INT, PERSON_STATUS),
    Attribute(P, "death_date", Kind.date, "死亡日期", "death date", PRI, SEN),
    Attribute(P, "marital_status", Kind.code, "婚姻状况", "marital status", REC, SEN, MARITAL),
    Attribute(P, "household_number", Kind.text, "户号", "household register number", PRI, SEN),
    Attribute(
        P, "relation_to_head", Kind.code, "与户主关系", "relation to head", PRI, SEN, RELATION
    ),
    Attribute(P, "employer_name", Kind.text, "工作单位", "employer", REC, INT),
    Attribute(
        P,
        "employer_credit_code",
        Kind.credit_code,
        "单位统一社会信用代码",
        "employer credit code",
        REC,
        INT,
    ),
    Attribute(P, "insurance_months", Kind.integer, "累计缴费月数", "contribution months", REC, SEN),
    Attribute(
        P,
        "allowance_certificate",
        Kind.text,
        "低保证号",
        "subsistence-allowance certificate",
        REC,
        RES,
    ),
    Attribute(
        P, "allowance_amount", Kind.decimal, "保障金额", "monthly allowance (yuan)", REC, RES
    ),
    Attribute(P, "allowance_since", Kind.date, "保障起始日期", "allowance since", REC, RES),
    Attribute(P, "school", Kind.text, "就读学校", "school", REC, SEN),
    Attribute(P, "grade", Kind.text, "年级", "grade", REC, SEN),
    # households (the hukou register)
    Attribute(
        H, "household_number", Kind.text, "户号", "household register number", PRI, SEN, is_key=True
    ),
    Attribute(H, "household_type", Kind.text, "户别", "household type", PRI, INT),
    Attribute(H, "address", Kind.address, "户籍地址", "registered address", PRI, SEN),
    # legal entities
    Attribute(
        L,
        "credit_code",
        Kind.credit_code,
        "统一社会信用代码",
        "unified social credit code",
        PRI,
        PUB,
        is_key=True,
    ),
    Attribute(L, "name", Kind.text, "名称", "name", PRI, PUB),
    Attribute(L, "entity_type", Kind.text, "类型", "type", PRI, PUB),
    Attribute(L, "legal_representative", Kind.name, "法定代表人", "legal representative", PRI, PUB),
    Attribute(L, "registered_address", Kind.address, "住所", "registered address", PRI, PUB),
    Attribute(L, "operating_address", Kind.address, "经营场所", "operating address", REC, PUB),
    Attribute(L, "status", Kind.code, "登记状态", "status", PRI, PUB, ENTITY_STATUS),
    Attribute(L, "established_date", Kind.date, "成立日期", "established", PRI, PUB),
    # a sole proprietor's contact phone is usually their own mobile: personal data
    Attribute(L, "phone", Kind.phone, "联系电话", "phone", REC, SEN),
    # buildings
    Attribute(B, "building_code", Kind.text, "楼栋编码", "building code", PRI, PUB, is_key=True),
    Attribute(B, "address", Kind.address, "楼栋地址", "address", PRI, PUB),
    Attribute(B, "name", Kind.text, "楼栋名称", "name", PRI, PUB),
    Attribute(B, "floors", Kind.integer, "楼层数", "floors", PRI, PUB),
    Attribute(B, "building_use", Kind.text, "建筑用途", "use", PRI, PUB),
    Attribute(B, "longitude", Kind.decimal, "经度", "longitude", PRI, PUB),
    Attribute(B, "latitude", Kind.decimal, "纬度", "latitude", PRI, PUB),
    Attribute(B, "grid_code", Kind.text, "网格编码", "grid code", PRI, PUB),
    # rooms
    Attribute(
        R,
        "room_code",
        Kind.text,
        "房屋编码(门牌码)",
        "room (door-plate) code",
        PRI,
        PUB,
        is_key=True,
    ),
    Attribute(R, "building_code", Kind.text, "楼栋编码", "building code", PRI, PUB),
    Attribute(R, "address", Kind.address, "房屋地址", "address", PRI, INT),
    Attribute(R, "room_number", Kind.text, "房号", "room number", PRI, PUB),
    Attribute(R, "floor", Kind.integer, "楼层", "floor", PRI, PUB),
    Attribute(R, "room_use", Kind.code, "房屋用途", "use", REC, INT, ROOM_USE),
    Attribute(R, "floor_area", Kind.decimal, "建筑面积", "floor area (m²)", PRI, INT),
    Attribute(R, "rent", Kind.decimal, "月租金", "monthly rent (yuan)", REC, SEN),
    Attribute(R, "lease_start", Kind.date, "租赁起始日期", "lease start", REC, SEN),
    Attribute(R, "lease_end", Kind.date, "租赁终止日期", "lease end", REC, SEN),
    # city components
    Attribute(C, "component_code", Kind.text, "部件标识码", "component id", PRI, PUB, is_key=True),
    Attribute(C, "class_code", Kind.text, "部件小类代码", "standard class code", PRI, PUB),
    Attribute(C, "name", Kind.text, "部件名称", "name", PRI, PUB),
    Attribute(C, "status", Kind.code, "部件状态", "status", REC, PUB, COMPONENT_STATUS),
    Attribute(C, "owner", Kind.text, "主管部门", "owner department", PRI, PUB),
    Attribute(C, "longitude", Kind.decimal, "经度", "longitude", PRI, PUB),
    Attribute(C, "latitude", Kind.decimal, "纬度", "latitude", PRI, PUB),
    Attribute(C, "grid_code", Kind.text, "网格编码", "grid code", PRI, PUB),
)

ATTRIBUTES: dict[EntityType, dict[str, Attribute]] = {}
for _a in _ALL:
    ATTRIBUTES.setdefault(_a.entity, {})[_a.name] = _a


def attribute(entity: EntityType | str, name: str) -> Attribute:
    """The canonical attribute `name` of `entity`; KeyError if there is none."""
    return ATTRIBUTES[EntityType(entity)][name]


def key_attribute(entity: EntityType | str) -> Attribute:
    """The strong key of an entity type (citizen id, credit code, building code…)."""
    return next(a for a in ATTRIBUTES[EntityType(entity)].values() if a.is_key)


# Stored encrypted (core.crypto) wherever the database holds them, with a blind index for
# exact look-up: the identifiers a leaked table would expose first (decision 0008).
ENCRYPTED_KINDS = frozenset({Kind.citizen_id, Kind.phone})


def encrypted_attributes(entity: EntityType | str) -> list[str]:
    """The attributes of `entity` stored encrypted."""
    return [a.name for a in ATTRIBUTES[EntityType(entity)].values() if a.kind in ENCRYPTED_KINDS]


def field_name(entity: EntityType | str, name: str) -> str:
    """What a ciphertext of this attribute is bound to (its associated data)."""
    return f"{EntityType(entity).value}.{name}"
