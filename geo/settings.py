"""Settings for the spatial core, read from GRIDMAP_* environment variables.

Only the app factory and the CLI build these; everything else receives them as arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AwareDatetime, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class DatabaseSettings(BaseSettings):
    """Where the database is; empty `database_url` means the project-local PostGIS cluster."""

    model_config = SettingsConfigDict(env_prefix="GRIDMAP_", extra="ignore")

    database_url: str = ""
    test_database_url: str = ""
    pool_size: int = 5


class LocalDbSettings(BaseSettings):
    """The project-local PostgreSQL/PostGIS cluster started when no database URL is given."""

    model_config = SettingsConfigDict(env_prefix="GRIDMAP_LOCALDB_", extra="ignore")

    data_dir: Path = PROJECT_ROOT / ".pgdata"
    state_dir: Path = PROJECT_ROOT / ".local"
    host: str = "127.0.0.1"
    port: int = 55432
    database: str = "gridmap"
    test_database: str = "gridmap_test"
    pg_bin: Path = Path("/usr/lib/postgresql/15/bin")
    # False for throw-away clusters (CI): fsync and full-page writes off.
    durable: bool = True


class GeoSettings(BaseSettings):
    """Spatial rules: metric CRS and tolerances used by validation and assignment."""

    model_config = SettingsConfigDict(env_prefix="GRIDMAP_", extra="ignore")

    # CGCS2000 / 3-degree Gauss-Kruger CM 123E (EPSG:4550) covers Dalian; metres for buffers
    # and areas. DESIGN.md names EPSG:4551, which is the CM 126E zone: see geo.crs.
    metric_crs: str = "EPSG:4550"
    # Digitising tolerance in metres: a child may stick out of its parent by this much, and
    # gaps or overlaps narrower than this are slivers (warnings), not errors.
    tolerance_m: float = Field(default=1.0, ge=0)


class ServerSettings(BaseSettings):
    """Where uvicorn listens."""

    model_config = SettingsConfigDict(env_prefix="GRIDMAP_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)


class CaseSettings(BaseSettings):
    """Case intake: how far outside the grids a point may be, how precise a geocode must be."""

    model_config = SettingsConfigDict(env_prefix="GRIDMAP_", extra="ignore")

    # A point outside every grid but this close to one goes to the nearest grid (near_boundary);
    # farther away it is out_of_area.
    near_boundary_m: float = Field(default=200.0, ge=0)
    # The least precise geocode level that still places a case (see geo.geocode.base).
    geocode_min_level: str = "project"
    # A case with at least this many persons is collective (集体访), flagged at intake.
    collective_min_persons: int = Field(default=5, ge=2)


class HotspotSettings(BaseSettings):
    """Hotspot statistics and their privacy rule (GRIDMAP_HOTSPOT_*)."""

    model_config = SettingsConfigDict(env_prefix="GRIDMAP_HOTSPOT_", extra="ignore")

    # Aggregate layers shown below commander level null every measure of a feature with fewer
    # than k cases (small-count suppression, DESIGN.md privacy).
    suppress_k: int = Field(default=5, ge=1)
    # Density clusters (ST_ClusterDBSCAN in the metric CRS): neighbourhood radius in metres and
    # the points a core needs (itself included).
    eps_m: float = Field(default=150.0, gt=0, le=5000)
    min_points: int = Field(default=5, ge=2, le=1000)
    # Getis-Ord Gi*: conditional permutations and their fixed seed (repeatable classes).
    permutations: int = Field(default=999, ge=99, le=99_999)
    seed: int = 20200101
    # A project that does not give its own buffer attracts cases this close to it (metres).
    project_buffer_m: float = Field(default=50.0, ge=0, le=2000)


class SecuritySettings(BaseSettings):
    """Keys, tokens and login throttling. Empty keys are only acceptable in demo mode, where
    gridmap generates them into the git-ignored state directory."""

    model_config = SettingsConfigDict(env_prefix="GRIDMAP_", extra="ignore")

    # Signs bearer tokens. Outside demo mode an empty or well-known value refuses to start.
    secret_key: str = ""
    # 32 bytes, base64: encrypts ID/phone numbers (AES-GCM) and keys their hashes (HMAC).
    data_key: str = ""
    # Alternatively a file holding the base64 data key (never committed).
    data_key_file: Path | None = None
    demo: bool = False
    state_dir: Path = PROJECT_ROOT / ".local"
    token_minutes: int = Field(default=480, ge=1, le=7 * 24 * 60)  # one working day
    max_failed_logins: int = Field(default=5, ge=1)


class LimitSettings(BaseSettings):
    """Caps that keep one request from asking for everything (each answered with a clear 4xx)."""

    model_config = SettingsConfigDict(env_prefix="GRIDMAP_", extra="ignore")

    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    max_page: int = Field(default=1000, ge=1)
    # OGC API items pages (`limit`): GIS clients read whole layers, so pages are larger than
    # the JSON lists' max_page (the issue fixes 10,000; the features are built by PostGIS).
    ogc_max_limit: int = Field(default=10_000, ge=1)
    # A city is a few thousand km²; a request for more is a mistake or a scrape.
    max_bbox_km2: float = Field(default=2500.0, gt=0)
    tile_min_zoom: int = Field(default=8, ge=0, le=24)
    tile_max_zoom: int = Field(default=18, ge=0, le=24)
    # A point tile holding more than this many features is clustered (geo.tiles.mvt): a city's
    # cases at a low zoom would be megabytes of overlapping pins. The default is the extent's
    # 4096 units; a district's year (≈3k cases) never reaches it.
    tile_cluster_above: int = Field(default=4096, ge=1)
    # The side of a cluster's square in tile units (4096 per tile): 128 is 8 px on a 256-px tile.
    tile_cluster_cell: int = Field(default=128, ge=1, le=4096)


BaseMapKind = Literal["none", "local", "tianditu", "amap", "osm"]


class MapSettings(BaseSettings):
    """The map pages' base map. `none` (the default) draws the boundaries on a plain background
    and the pages ask nothing of any other host; `local` serves a z/x/y tile directory or an
    MBTiles file from gridmap itself; 天地图 needs a key; Amap is GCJ-02, so the overlays are
    requested shifted to GCJ-02 to line up with it."""

    model_config = SettingsConfigDict(env_prefix="GRIDMAP_", extra="ignore")

    basemap: BaseMapKind = "none"
    # A directory of {z}/{x}/{y}.png|jpg|webp tiles (XYZ rows) or an .mbtiles file (TMS rows).
    basemap_path: Path | None = None
    tianditu_key: str = ""

    @field_validator("basemap", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _complete(self) -> MapSettings:
        # Refuse to start half-configured rather than serve a page whose base map never loads.
        if self.basemap == "local":
            if self.basemap_path is None:
                raise ValueError("GRIDMAP_BASEMAP=local needs GRIDMAP_BASEMAP_PATH: a tile "
                                 "directory ({z}/{x}/{y}.png) or an .mbtiles file")
            if not self.basemap_path.exists():
                raise ValueError(f"GRIDMAP_BASEMAP_PATH {self.basemap_path} does not exist")
        if self.basemap == "tianditu" and not self.tianditu_key.strip():
            raise ValueError("GRIDMAP_BASEMAP=tianditu needs GRIDMAP_TIANDITU_KEY (a 天地图 "
                             "browser key from console.tianditu.gov.cn)")
        return self


class ClockSettings(BaseSettings):
    """The time the app acts at (GRIDMAP_CLOCK). Unset: the real time. Set — an ISO 8601
    date-time with its offset, e.g. 2020-12-31T17:00:00+08:00 — a fixed clock for what a
    request does and shows as of "now" (deadline bands, transitions, 督办, the workflow tick):
    the demo's 演示时钟. Tokens, audit timestamps and login throttling always use the real time."""

    model_config = SettingsConfigDict(env_prefix="GRIDMAP_", extra="ignore")

    clock: AwareDatetime | None = None

    @field_validator("clock", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value
