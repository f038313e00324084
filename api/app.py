"""The FastAPI application factory: settings, database, routers, static assets, error handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from api.errors import register_error_handlers
from api.limits import BodySizeLimit
from api.routes import (
    audit,
    auth,
    backlog,
    cases,
    exports,
    grids,
    health,
    hotspots,
    leaders,
    maps,
    mediations,
    ogc,
    projects,
    receptions,
    stats,
    tiles,
    workflow,
)
from api.security import guard_openapi, require_user
from geo.access.keys import resolve_keys
from geo.db import make_engine, make_sessionmaker, resolve_database_url
from geo.privacy.crypto import PersonalDataCipher
from geo.settings import (
    CaseSettings,
    ClockSettings,
    DatabaseSettings,
    GeoSettings,
    HotspotSettings,
    LimitSettings,
    LocalDbSettings,
    MapSettings,
    SecuritySettings,
)
from static_map.assets import static_mounts


@dataclass
class AppSettings:
    """Everything the app needs, built once by `create_app` (or handed in by tests)."""

    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    local_db: LocalDbSettings = field(default_factory=LocalDbSettings)
    geo: GeoSettings = field(default_factory=GeoSettings)
    cases: CaseSettings = field(default_factory=CaseSettings)
    hotspots: HotspotSettings = field(default_factory=HotspotSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    maps: MapSettings = field(default_factory=MapSettings)
    clock: ClockSettings = field(default_factory=ClockSettings)
    database_url: str | None = None


def create_app(settings: AppSettings | None = None) -> FastAPI:
    """Build the gridmap app; the database engine is opened in the lifespan. Raises
    KeyConfigError (refuses to start) when the secret or data key is missing or weak."""
    settings = settings or AppSettings()
    keys = resolve_keys(settings.security)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = settings.database_url or resolve_database_url(settings.database, settings.local_db)
        engine = make_engine(url, pool_size=settings.database.pool_size)
        app.state.sessionmaker = make_sessionmaker(engine)
        try:
            yield
        finally:
            engine.dispose()

    # FastAPIOffline: /docs and /redoc with Swagger UI and ReDoc served locally, not from a CDN.
    app = FastAPIOffline(
        static_url="/static/docs",
        title="gridmap 网格化信访地图",
        description="Grid-management map of a district petition office: boundaries, grid "
        "cells, point lookup and maps, served from PostGIS.",
        version="0.1.0",
        lifespan=lifespan,
        # Deny by default: every route, including /docs and routers added later, needs a
        # token unless api.security.PUBLIC_PATHS lists it.
        dependencies=[Depends(require_user)],
    )
    guard_openapi(app)
    app.state.keys = keys
    app.state.cipher = PersonalDataCipher(keys.data_key)
    app.state.security_settings = settings.security
    app.state.geo_settings = settings.geo
    app.state.case_settings = settings.cases
    app.state.hotspot_settings = settings.hotspots
    app.state.limits = settings.limits
    app.state.map_settings = settings.maps
    # GRIDMAP_CLOCK: a fixed time for requests (api.deps.get_now), e.g. the demo's 演示时钟.
    app.state.clock = settings.clock.clock
    app.state.map_cache = {}
    app.state.geocoder = None
    app.add_middleware(BodySizeLimit, max_bytes=settings.limits.max_body_bytes)
    register_error_handlers(app)
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(grids.router)
    app.include_router(maps.router)
    app.include_router(cases.router)
    app.include_router(audit.router)
    app.include_router(exports.router)
    app.include_router(workflow.router)
    app.include_router(projects.router)
    app.include_router(hotspots.router)
    app.include_router(leaders.router)
    app.include_router(backlog.router)
    app.include_router(receptions.router)
    app.include_router(mediations.router)
    app.include_router(stats.router)
    app.include_router(ogc.router)
    app.include_router(tiles.router)
    # Leaflet, jQuery and our own CSS come from gridmap itself: offices often have no internet.
    for prefix, directory in static_mounts().items():
        app.mount(prefix, StaticFiles(directory=directory), name=prefix.strip("/"))
    return app
