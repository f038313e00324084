"""FastAPI dependencies: the database session and the app's settings, as Annotated aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from geo.settings import GeoSettings


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, from the factory the app's lifespan created."""
    factory = request.app.state.sessionmaker
    with factory() as session:
        yield session


def get_geo_settings(request: Request) -> GeoSettings:
    """The spatial settings the app was created with."""
    settings: GeoSettings = request.app.state.geo_settings
    return settings


SessionDep = Annotated[Session, Depends(get_session)]
GeoSettingsDep = Annotated[GeoSettings, Depends(get_geo_settings)]
