"""Roles, departments and which level of the area tree each role's scope sits at."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    grid_worker = "grid_worker"
    community_staff = "community_staff"
    street_officer = "street_officer"
    district_officer = "district_officer"
    city_officer = "city_officer"
    department_officer = "department_officer"
    command_centre = "command_centre"
    auditor = "auditor"
    security_admin = "security_admin"
    system_admin = "system_admin"
    resident = "resident"


class Department(StrEnum):
    public_security = "public_security"
    health = "health"
    civil_affairs = "civil_affairs"
    human_resources = "human_resources"
    education = "education"
    housing = "housing"
    market_regulation = "market_regulation"


# The three duties of 三员分立 are kept apart: none of them reads personal data.
ADMIN_ROLES = frozenset({Role.auditor, Role.security_admin, Role.system_admin})
STAFF_ROLES = frozenset(Role) - ADMIN_ROLES - {Role.resident}

# The level an account's area scope must be at; None: any level (a department's jurisdiction).
SCOPE_LEVEL: dict[Role, str | None] = {
    Role.grid_worker: "grid",
    Role.community_staff: "community",
    Role.street_officer: "street",
    Role.district_officer: "district",
    Role.city_officer: "city",
    Role.department_officer: None,
    Role.command_centre: None,
}

ROLE_LABELS: dict[Role, tuple[str, str]] = {
    Role.grid_worker: ("网格员", "grid worker"),
    Role.community_staff: ("社区工作人员", "community staff"),
    Role.street_officer: ("街道工作人员", "street officer"),
    Role.district_officer: ("区级工作人员", "district officer"),
    Role.city_officer: ("市级工作人员", "city officer"),
    Role.department_officer: ("部门工作人员", "department officer"),
    Role.command_centre: ("指挥中心", "command centre"),
    Role.auditor: ("安全审计员", "auditor"),
    Role.security_admin: ("安全保密管理员", "security administrator"),
    Role.system_admin: ("系统管理员", "system administrator"),
    Role.resident: ("居民", "resident"),
}

DEPARTMENT_LABELS: dict[Department, tuple[str, str]] = {
    Department.public_security: ("公安", "public security"),
    Department.health: ("卫生健康", "health"),
    Department.civil_affairs: ("民政", "civil affairs"),
    Department.human_resources: ("人力资源和社会保障", "human resources and social security"),
    Department.education: ("教育", "education"),
    Department.housing: ("住房和建设", "housing"),
    Department.market_regulation: ("市场监管", "market regulation"),
}


def label(value: Role | Department | None, lang: str) -> str | None:
    """The zh-CN or en label of a role or department."""
    if value is None:
        return None
    zh, en = ROLE_LABELS[value] if isinstance(value, Role) else DEPARTMENT_LABELS[value]
    return en if lang == "en" else zh
