"""The geocoder interface: what any geocoder (ours, or a district's own address database) returns.

A district plugs in its own geocoder by implementing `Geocoder`; intake, bulk import and the
benchmarks only ever see this interface.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

# From most to least precise. A result reports the level it matched at.
GEOCODE_LEVELS = (
    "building",     # a named building / 小区 (optionally with 号楼/单元/室 — kept as detail)
    "road_number",  # road + house number, interpolated along the road
    "landmark",     # a named landmark (school, hospital, market, park…)
    "project",      # a project site (relocation plot, construction site, enterprise)
    "road",         # a road without a (known) number: the road's middle
    "community",    # only the 社区 could be recognised
    "street",       # only the 街道
    "district",     # only 中山区 / 大连市
    "none",         # nothing matched
)
# Below this (by default), the point is too vague to choose a grid: the case waits in the
# needs_location queue instead of landing on a wrong point.
DEFAULT_MIN_LEVEL = "project"


@dataclass(frozen=True)
class GeocodeResult:
    """Where an address is, how precisely, and how sure we are (confidence 0..1)."""

    level: str
    confidence: float
    lon: float | None = None           # WGS84
    lat: float | None = None
    community_code: str | None = None  # known even when the point is too vague
    street_code: str | None = None
    matched: str | None = None         # the gazetteer name(s) that matched, e.g. "五五路 28号"
    normalized: str = ""               # the address after normalisation
    source: str = "gazetteer"

    def precise_enough(self, min_level: str = DEFAULT_MIN_LEVEL) -> bool:
        """True when the level is at least `min_level` and a point is known."""
        if self.lon is None or self.lat is None:
            return False
        return GEOCODE_LEVELS.index(self.level) <= GEOCODE_LEVELS.index(min_level)


class Geocoder(Protocol):
    """Anything that turns Chinese address text into a GeocodeResult, offline."""

    def geocode(self, address: str) -> GeocodeResult:
        """Geocode one address."""
        ...

    def geocode_many(self, addresses: Sequence[str]) -> list[GeocodeResult]:
        """Geocode many addresses (same results as one by one, only faster)."""
        ...
