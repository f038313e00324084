"""bbox parsing: good boxes, and a 422-ready error naming the field for each bad kind."""

from __future__ import annotations

import pytest

from geo import crs as gcrs
from geo.bbox import parse_bbox
from geo.errors import InvalidInput


def test_good_bbox_parses() -> None:
    b = parse_bbox("121.6,38.8,121.9,39.0", max_km2=2500)
    assert (b.minx, b.miny, b.maxx, b.maxy) == (121.6, 38.8, 121.9, 39.0)


def test_gcj02_bbox_is_converted_to_wgs84() -> None:
    lon, lat = gcrs.from_wgs84(121.7, 38.9, "gcj02")
    b = parse_bbox(f"{lon},{lat},{lon + 0.01},{lat + 0.01}", "gcj02", max_km2=2500)
    assert b.minx == pytest.approx(121.7, abs=1e-7) and b.miny == pytest.approx(38.9, abs=1e-7)


@pytest.mark.parametrize(("text", "needle"), [
    ("1,2,3", "4 numbers"),
    ("a,38,122,39", "not a number"),
    ("nan,38,122,39", "finite"),
    ("121,38,200,39", "-180..180"),
    ("38.8,121.6,39.0,121.9", "swapped"),
    ("122,38,121,39", "min < max"),
    ("100,20,130,50", "km²"),
])
def test_bad_bbox_names_the_field(text: str, needle: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_bbox(text, max_km2=2500)
    assert info.value.field == "bbox" and needle in info.value.message
