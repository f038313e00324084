"""The process-wide gazetteer geocoder cache (GazetteerCache) and the hot path's shortcuts.

The cache hands out one GazetteerGeocoder until the gazetteer table changes (a rebuild, rows
deleted), then loads a new one; the API's get_geocoder goes through it. The matcher and the
parser build their frozen results without the dataclass __init__; every field must still be
set, equal to the regular constructor's.
"""

from __future__ import annotations

from dataclasses import fields
from types import SimpleNamespace
from typing import cast

from fastapi import Request
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.deps import get_geocoder
from geo.geocode.base import GeocodeResult
from geo.geocode.gazetteer import build_gazetteer
from geo.geocode.matcher import GazetteerCache
from geo.geocode.normalize import ParsedAddress, parse_address


def test_cache_loads_once_and_reloads_after_the_gazetteer_changes(
        session: Session, zhongshan: None) -> None:
    build_gazetteer(session)
    cache = GazetteerCache()
    first = cache.current(session)
    assert cache.current(session) is first and cache.loads == 1
    assert first.geocode("春海小区3号楼").matched == "春海小区3号楼"

    session.execute(text("DELETE FROM gazetteer_entry WHERE name = '春海小区3号楼'"))
    after_delete = cache.current(session)
    assert after_delete is not first and cache.loads == 2
    result = after_delete.geocode("春海小区3号楼")
    assert (result.level, result.matched) == ("building", "春海小区")  # the 小区 itself
    assert first.geocode("春海小区3号楼").matched == "春海小区3号楼"  # the old one is unchanged

    build_gazetteer(session)  # a rebuild: same names, new rows
    rebuilt = cache.current(session)
    assert rebuilt is not after_delete and cache.loads == 3
    assert rebuilt.geocode("春海小区3号楼").matched == "春海小区3号楼"
    assert cache.current(session) is rebuilt and cache.loads == 3


def test_fast_results_equal_the_regular_constructor(session: Session, zhongshan: None) -> None:
    build_gazetteer(session)
    geocoder = GazetteerCache().current(session)
    names = {f.name for f in fields(GeocodeResult)}
    for address in ("人民路28号", "春海小区3栋2单元", "春海小曲3号楼附近", "大连市中山区",
                    "西岗区人民路1号", ""):
        result = geocoder.geocode(address)
        assert set(vars(result)) == names, address
        assert result == GeocodeResult(**{n: getattr(result, n) for n in names})


def test_parsed_address_has_every_field() -> None:
    names = {f.name for f in fields(ParsedAddress)}
    for address in ("大连市中山区人民路28-3-502室", "春海小区三栋二单元五〇二", "五五路口附近", ""):
        parsed = parse_address(address)
        assert set(vars(parsed)) == names
        assert parsed == ParsedAddress(**{n: getattr(parsed, n) for n in names})


def test_the_api_dependency_reloads_the_gazetteer_and_keeps_a_districts_own(
        session: Session, zhongshan: None) -> None:
    build_gazetteer(session)
    state = SimpleNamespace(geocoder=None)
    request = cast(Request, SimpleNamespace(app=SimpleNamespace(state=state)))
    first = get_geocoder(request, session)
    assert get_geocoder(request, session) is first
    session.execute(text("DELETE FROM gazetteer_entry WHERE name = '春海小区3号楼'"))
    assert get_geocoder(request, session) is not first
    own = GazetteerCache().current(session)  # stands for a district's own geocoder
    state.geocoder = own
    assert get_geocoder(request, session) is own
