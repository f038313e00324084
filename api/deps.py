"""FastAPI dependencies: the database session and the app's settings, as Annotated aliases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from geo.geocode.base import Geocoder
from geo.privacy.crypto import PersonalDataCipher
from geo.settings import CaseSettings, GeoSettings, LimitSettings
from geo.workflow.calendar import HolidayCalendar


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, from the factory the app's lifespan created."""
    factory = request.app.state.sessionmaker
    with factory() as session:
        yield session


def get_geo_settings(request: Request) -> GeoSettings:
    """The spatial settings the app was created with."""
    settings: GeoSettings = request.app.state.geo_settings
    return settings


def get_case_settings(request: Request) -> CaseSettings:
    """The case intake settings the app was created with."""
    settings: CaseSettings = request.app.state.case_settings
    return settings


def get_geocoder(request: Request, session: Annotated[Session, Depends(get_session)]
                 ) -> Geocoder | None:
    """The offline gazetteer geocoder: app.state.geocoder when one was set (a district's own),
    else the gazetteer's, loaded once per process and reloaded when the gazetteer changes."""
    state = request.app.state
    if getattr(state, "geocoder", None) is not None:
        own: Geocoder = state.geocoder
        return own
    from geo.geocode.matcher import GazetteerCache

    if getattr(state, "gazetteer_cache", None) is None:
        state.gazetteer_cache = GazetteerCache()
    geocoder: Geocoder = state.gazetteer_cache.current(session)
    return geocoder


def get_cipher(request: Request) -> PersonalDataCipher | None:
    """The personal-data cipher built from the data key when the app started."""
    cipher: PersonalDataCipher | None = getattr(request.app.state, "cipher", None)
    return cipher


def get_limits(request: Request) -> LimitSettings:
    """Request caps (page size, bbox area, tile zooms)."""
    limits: LimitSettings = request.app.state.limits
    return limits


def get_now(request: Request) -> datetime:
    """The time a request acts at: the app's fixed clock when GRIDMAP_CLOCK is set (the demo's
    演示时钟), else the real time (tests override it to act on a fixed day). Tokens, audit
    timestamps and login throttling never use it: they keep the real time."""
    clock: datetime | None = getattr(request.app.state, "clock", None)
    return clock if clock is not None else datetime.now(UTC)


def get_calendar(request: Request) -> HolidayCalendar:
    """The holiday calendar (geo/data/holidays_cn.json), read once per app."""
    calendar: HolidayCalendar | None = getattr(request.app.state, "calendar", None)
    if calendar is None:
        from geo.workflow.schedule import default_calendar

        calendar = request.app.state.calendar = default_calendar()
    return calendar


SessionDep = Annotated[Session, Depends(get_session)]
LimitsDep = Annotated[LimitSettings, Depends(get_limits)]
CipherDep = Annotated["PersonalDataCipher | None", Depends(get_cipher)]
CaseSettingsDep = Annotated[CaseSettings, Depends(get_case_settings)]
GeocoderDep = Annotated[Geocoder | None, Depends(get_geocoder)]
GeoSettingsDep = Annotated[GeoSettings, Depends(get_geo_settings)]
NowDep = Annotated[datetime, Depends(get_now)]
CalendarDep = Annotated[HolidayCalendar, Depends(get_calendar)]
