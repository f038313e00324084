"""What a user may see, as bound parameters for SQL: every read applies it inside the query.

grid_worker / grid_leader: their grids; community: one 社区; street: one 街道; unit_handler:
cases routed (交办) to their unit, whose responsible unit it is, or that it took first
(首接首办 keeps it accountable through transfers); registrar, commander, admin,
discipline: the whole district.
检举控告 (restricted categories) only for discipline and admin. Unmasked personal data only for
registrar, unit_handler, discipline and admin, with a stated purpose, and audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DISTRICT_WIDE = ("registrar", "commander", "discipline", "admin")
SEES_RESTRICTED = ("discipline", "admin")
MAY_UNMASK = ("registrar", "unit_handler", "discipline", "admin")
# Who may register cases (a grid worker files what they find on patrol).
MAY_CREATE = ("grid_worker", "grid_leader", "community", "street", "registrar", "commander",
              "admin")
# Who may place a case by hand or re-assign.
MAY_PLACE = ("grid_worker", "grid_leader", "community", "street", "registrar", "admin")
# Aggregate layers shown below commander level suppress small counts (hotspots issue).
COMMAND_LEVEL = ("commander", "discipline", "admin")


@dataclass(frozen=True)
class Scope:
    """A user's reach, ready to bind into SQL (see `params`)."""

    username: str
    role: str
    district_wide: bool = False
    grid_codes: tuple[str, ...] = ()
    community_code: str | None = None
    street_code: str | None = None
    unit_id: int | None = None
    sees_restricted: bool = False

    @property
    def may_unmask(self) -> bool:
        """Whether this role may ask for unmasked personal data (with a purpose)."""
        return self.role in MAY_UNMASK

    @property
    def command_level(self) -> bool:
        """Commander-level roles see aggregates without small-count suppression."""
        return self.role in COMMAND_LEVEL

    def params(self) -> dict[str, Any]:
        """Bound parameters used by every scoped SQL file (scope_* names)."""
        return {
            "scope_all": self.district_wide,
            "scope_grids": list(self.grid_codes),
            "scope_community": self.community_code,
            "scope_street": self.street_code,
            "scope_unit": self.unit_id,
            "scope_restricted": self.sees_restricted,
        }


def scope_for(username: str, role: str, grid_codes: list[str] | tuple[str, ...] = (),
              community_code: str | None = None, street_code: str | None = None,
              unit_id: int | None = None) -> Scope:
    """The scope of a user with this role and these assignments."""
    wide = role in DISTRICT_WIDE
    return Scope(
        username=username, role=role, district_wide=wide,
        grid_codes=tuple(grid_codes) if role in ("grid_worker", "grid_leader") else (),
        community_code=community_code if role == "community" else None,
        street_code=street_code if role == "street" else None,
        unit_id=unit_id if role == "unit_handler" else None,
        sees_restricted=role in SEES_RESTRICTED,
    )


# The WHERE fragment every scoped case query uses (kept in SQL files verbatim):
#   AND (:scope_restricted OR NOT cat.restricted)
#   AND (:scope_all OR c.grid_code = ANY(CAST(:scope_grids AS text[]))
#        OR c.community_code = :scope_community OR c.street_code = :scope_street
#        OR c.routed_unit_id = :scope_unit OR c.responsible_unit_id = :scope_unit)
