"""The demo's projects (data/projects/zhongshan_projects.geojson): the report's stories as
project polygons, written from the demo gazetteer's project sites, and loaded into the demo
(import, attach, hotspots refresh) after the demo year.

Regenerate the file after the gazetteer or the boundaries change (the gazetteer must be built,
e.g. by `gridmap demo load`):

    .venv/bin/python -m geo.demo.projects [--out PATH]

Every polygon is the gazetteer's generated footprint (示意, `approximate: true`): no open data
gives the real sites. Households come from the report where it gives them (华联宾馆地块: "120余户
动迁户", cited) and are otherwise an illustrative figure marked `households_approximate: true`.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from geo.errors import GridmapError
from geo.settings import PROJECT_ROOT, GeoSettings, HotspotSettings
from geo.sql_files import sql

DEMO_PROJECTS = PROJECT_ROOT / "data" / "projects" / "zhongshan_projects.geojson"
REPORT = ("法治日报 2021-03-23 地方新闻《大连中山积极构建三级联动多元化解信访矛盾工作体系》"
          "（记者 张国强 韩宇）")
GENERATED = "gridmap demo: generated (示意), not from any source"


@dataclass(frozen=True)
class DemoProject:
    """A demo project: the gazetteer site it is drawn from and what the file says about it."""

    code: str
    site: str                       # gazetteer project name (the footprint)
    project_type: str
    households: int | None
    households_approximate: bool
    households_source: str | None
    phase: str
    buffer_m: float
    keywords: tuple[str, ...]
    note: str
    source: str = REPORT
    start_date: date | None = None
    end_date: date | None = None


PROJECTS: tuple[DemoProject, ...] = (
    DemoProject("ZS-XM-001", "华联宾馆地块", "relocation", 120, False,
                f"{REPORT}：“120余户动迁户未能及时回迁”", "回迁安置", 50.0,
                ("华联宾馆",),
                "旧城区改造项目；该地块于2020年2月出让，半年多后未回迁群众全部得到妥善安置（据报道）"),
    DemoProject("ZS-XM-002", "大连市台秤厂", "enterprise", None, False, None,
                "停产；拖欠工资、公积金、保险", 30.0, ("台秤厂",),
                "企业长期停产，自2008年起拖欠职工工资、公积金、保险，经一年多努力全面解决（据报道）；"
                "报道未给出涉及职工人数"),
    DemoProject("ZS-XM-003", "海韵新城", "residential", 960, True, GENERATED,
                "交付入住；人车分流、绿化整改", 30.0, ("海韵新城",),
                "报道中的“某新建楼盘”（人车不分流、绿化率未到60%），名称为示意；户数为示意值"),
    DemoProject("ZS-XM-004", "桃源街棚户区改造地块", "relocation", 260, True, GENERATED,
                "征收", 50.0, ("桃源街棚改", "桃源街棚户区"),
                "示意项目（报道未提及），户数为示意值", source=GENERATED),
)


def demo_project_features(session: Session) -> list[dict[str, Any]]:
    """The demo projects as GeoJSON features, polygons from the built gazetteer."""
    sites = {r.name: r.geometry for r in session.execute(sql("demo_project_sites"))}
    missing = [p.site for p in PROJECTS if p.site not in sites]
    if missing:
        raise GridmapError(f"the gazetteer lacks the project sites {', '.join(missing)}: "
                           "build it first (gridmap demo load)")
    features = []
    for p in PROJECTS:
        features.append({"type": "Feature", "properties": {
            "code": p.code, "name": p.site, "project_type": p.project_type,
            "households": p.households, "households_approximate": p.households_approximate,
            "households_source": p.households_source, "phase": p.phase,
            "start_date": p.start_date.isoformat() if p.start_date else None,
            "end_date": p.end_date.isoformat() if p.end_date else None,
            "buffer_m": p.buffer_m, "keywords": "、".join(p.keywords),
            "approximate": True, "source": p.source,
            "geometry_source": "gridmap demo: the generated gazetteer's site footprint (示意)",
            "note": p.note,
        }, "geometry": json.loads(sites[p.site])})
    return features


def write_demo_projects(session: Session, out: Path = DEMO_PROJECTS) -> Path:
    """Write the demo project file (one feature per line, sorted by code) from the gazetteer."""
    features = demo_project_features(session)
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = ",\n".join(json.dumps(f, ensure_ascii=False, separators=(",", ":"))
                       for f in features)
    out.write_text('{"type":"FeatureCollection","features":[\n' + lines + "\n]}\n",
                   encoding="utf-8")
    return out


def load_demo_projects(session: Session, geo_settings: GeoSettings, year: int,
                       hotspot_settings: HotspotSettings | None = None,
                       path: Path = DEMO_PROJECTS) -> list[str]:
    """Import the demo projects (by code: idempotent), attach the cases and refresh the
    hotspot layers for the demo year; lines to print. Raises GridmapError on a bad file."""
    from geo.hotspots.refresh import refresh_hotspots
    from geo.projects import import_projects

    settings = hotspot_settings or HotspotSettings()
    report = import_projects(session, path, geo_settings=geo_settings,
                             hotspot_settings=settings)
    if not report.ok:
        raise GridmapError(f"demo projects rejected:\n{report.format()}")
    refresh = refresh_hotspots(session, geo_settings, settings, today=date(year, 12, 31),
                               date_from=date(year, 1, 1), date_to=date(year + 1, 1, 1))
    return [f"projects: {report.inserted} new, {report.updated} updated; attached cases: "
            + ", ".join(f"{k} {v}" for k, v in (report.attached or {}).items()),
            refresh.format()]


def main(argv: list[str] | None = None) -> int:
    """Write data/projects/zhongshan_projects.geojson from the configured database."""
    from geo.db import make_engine, make_sessionmaker, resolve_database_url
    from geo.settings import DatabaseSettings, LocalDbSettings

    parser = argparse.ArgumentParser(prog="python -m geo.demo.projects",
                                     description="write the demo project file")
    parser.add_argument("--out", default=str(DEMO_PROJECTS))
    args = parser.parse_args(argv)
    url = resolve_database_url(DatabaseSettings(), LocalDbSettings())
    with make_sessionmaker(make_engine(url, pool_size=1))() as session:
        print(write_demo_projects(session, Path(args.out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
