"""Walks of the area tree: a code's ancestors, the grids under an area, the root."""

from __future__ import annotations

from sqlalchemy import literal, select
from sqlalchemy.orm import Session, aliased

from gridweave.areas.models import Area


def ancestors(session: Session, code: str) -> tuple[str, ...]:
    """The area and every area above it, nearest first; empty for an unknown code."""
    up = select(Area.code, Area.parent_code, literal(0).label("depth")).where(Area.code == code)
    up_cte = up.cte("up", recursive=True)
    parent = aliased(Area)
    up_cte = up_cte.union_all(
        select(parent.code, parent.parent_code, (up_cte.c.depth + 1).label("depth")).join(
            up_cte, parent.code == up_cte.c.parent_code
        )
    )
    return tuple(session.scalars(select(up_cte.c.code).order_by(up_cte.c.depth)))


def grids_under(session: Session, code: str) -> list[str]:
    """The codes of every grid in the subtree of `code` (itself, if it is a grid)."""
    down = select(Area.code, Area.level).where(Area.code == code).cte("down", recursive=True)
    child = aliased(Area)
    down = down.union_all(
        select(child.code, child.level).join(down, child.parent_code == down.c.code)
    )
    return list(session.scalars(select(down.c.code).where(down.c.level == "grid")))


def root_code(session: Session) -> str | None:
    """The code of the tree's root (the city), if the tree is loaded."""
    return session.scalar(select(Area.code).where(Area.parent_code.is_(None)).limit(1))
