"""The area tree: city → district → street → community → grid."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gridweave.core.database import Base
from gridweave.core.types import Json


class Area(Base):
    """One node of the area tree; a grid's code has 15 digits (6 area + 3 street + 3 + 3)."""

    __tablename__ = "area"

    code: Mapped[str] = mapped_column(String(15), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(12), index=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("area.code"), index=True)
    depth: Mapped[int] = mapped_column(Integer)
    geometry: Mapped[dict[str, Any] | None] = mapped_column(Json)  # GeoJSON geometry, lon/lat
