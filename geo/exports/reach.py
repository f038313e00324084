"""What boundaries (街道, 社区, 网格) a role may export: the scope turned into code lists.

Boundaries carry no personal data, but exports are scoped all the same (DESIGN.md, privacy): a
user gets the areas they work in, everything inside them, and the areas that contain them, so
a grid worker's export holds their grids, their 社区 and their 街道, never a neighbour's grid.

- registrar, commander, discipline, admin: the whole district.
- grid_worker / grid_leader: their grids; the 社区 and 街道 that hold them.
- community: their 社区 and its grids; the 街道 that holds it.
- street: their 街道 with its 社区 and grids.
- unit_handler: the area of their unit (a 街道 office or a 社区 unit: as street / community);
  a district department (a unit without an area) works on cases anywhere in the district, so
  it gets the whole district's boundaries; an unknown unit gets nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from geo.access.scope import Scope
from geo.sql_files import sql


@dataclass(frozen=True)
class Reach:
    """Codes in reach: `grids`, `communities`, `streets` with everything inside them;
    `up_communities`, `up_streets` only as containers of what is in reach."""

    all: bool = False
    grids: tuple[str, ...] = ()
    communities: tuple[str, ...] = ()
    streets: tuple[str, ...] = ()
    up_communities: tuple[str, ...] = ()
    up_streets: tuple[str, ...] = ()

    def params(self) -> dict[str, Any]:
        """Bound parameters (reach_*) of the boundary export SQL files."""
        return {"reach_all": self.all, "reach_grids": list(self.grids),
                "reach_communities": list(self.communities),
                "reach_streets": list(self.streets),
                "reach_up_communities": list(self.up_communities),
                "reach_up_streets": list(self.up_streets)}


def boundary_reach(session: Session, scope: Scope) -> Reach:
    """The boundary codes `scope` may export (one query; none for the district-wide roles)."""
    if scope.district_wide:
        return Reach(all=True)
    row = session.execute(sql("boundary_reach"), {
        "unit_id": scope.unit_id, "grids": list(scope.grid_codes),
        "community": scope.community_code}).one()
    communities = [scope.community_code] if scope.community_code else []
    streets = [scope.street_code] if scope.street_code else []
    if scope.unit_id is not None:
        if not row.unit_exists:
            return Reach()
        if row.unit_area_code is None or row.unit_area_level == "district":
            return Reach(all=True)
        if row.unit_area_level == "community":
            communities.append(row.unit_area_code)
        elif row.unit_area_level == "street":
            streets.append(row.unit_area_code)
    return Reach(grids=tuple(scope.grid_codes), communities=tuple(communities),
                 streets=tuple(streets), up_communities=tuple(row.grid_communities),
                 up_streets=tuple(row.parent_streets))
