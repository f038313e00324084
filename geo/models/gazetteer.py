"""The offline gazetteer: place names a geocoder can match, with their geometry and 社区."""

from __future__ import annotations

from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Boolean, CheckConstraint, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.models.base import Base

# Most precise first; a geocoder reports the level it matched at.
GAZETTEER_KINDS = ("building", "landmark", "project", "road", "community", "street", "district")


class GazetteerEntry(Base):
    """A named place: building (小区/楼), landmark, project site, road, 社区, 街道 or the 区.

    Roads carry house-number ranges (number_from..number_to along the line) so a road + number
    can be interpolated; areas and points carry their geometry as is.
    """

    __tablename__ = "gazetteer_entry"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('building','landmark','project','road','community','street','district')",
            name="gazetteer_kind_known"),
        Index("gazetteer_entry_normalized_idx", "normalized"),
        Index("gazetteer_entry_geom_idx", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(Text)
    aliases: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    community_code: Mapped[str | None] = mapped_column(String(12))
    street_code: Mapped[str | None] = mapped_column(String(12))
    number_from: Mapped[int | None] = mapped_column(Integer)
    number_to: Mapped[int | None] = mapped_column(Integer)
    approximate: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    source: Mapped[str] = mapped_column(Text)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    geom: Mapped[Any] = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=False),
                                      nullable=False)
