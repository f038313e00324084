"""Load the Zhongshan demo: committed boundaries through the same importer a district uses,
then reference data, gazetteer, grid people and the demo year, driven through the workflow."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.boundaries import ImportReport, import_boundaries
from geo.errors import GridmapError
from geo.models import GazetteerEntry
from geo.privacy.crypto import PersonalDataCipher
from geo.settings import PROJECT_ROOT, CaseSettings, GeoSettings

DEMO_DIR = PROJECT_ROOT / "data" / "boundaries"
DEMO_FILES = (
    ("district", "zhongshan_district.geojson"),
    ("street", "zhongshan_streets.geojson"),
    ("community", "zhongshan_communities.geojson"),
    ("grid", "zhongshan_grids.geojson"),
)


def load_demo_boundaries(session: Session, settings: GeoSettings,
                         data_dir: Path = DEMO_DIR) -> list[ImportReport]:
    """Import and activate each level top-down; a level already loaded from the same file is
    skipped. Stops at the first rejected file; the caller commits only if all are ok."""
    reports = []
    for level, name in DEMO_FILES:
        report = import_boundaries(session, data_dir / name, level, activate=True,
                                   skip_unchanged=True, settings=settings,
                                   note="gridmap demo: generated 示意 boundaries")
        reports.append(report)
        if not report.ok:
            break
    return reports


def load_demo(session: Session, geo_settings: GeoSettings, case_settings: CaseSettings,
              year: int = 2020, cipher: PersonalDataCipher | None = None) -> list[str]:
    """Everything `make run` shows: boundaries, reference data, gazetteer, grid people and the
    demo year, each step idempotent. Returns lines to print; raises DemoLoadError on a rejected
    boundary file (the caller rolls back). With a `cipher` the demo's petitioners carry FAKE
    ID and phone numbers, encrypted."""
    from geo.cases.reference import ensure_area_units, load_reference_data
    from geo.demo.cases import generate_demo_year
    from geo.demo.people import assign_demo_people
    from geo.demo.users import create_demo_users
    from geo.geocode.gazetteer import build_gazetteer
    from geo.geocode.matcher import GazetteerGeocoder

    lines: list[str] = []
    for report in load_demo_boundaries(session, geo_settings):
        if not report.ok:
            raise DemoLoadError(report.format())
        lines.append(f"{report.level:9} unchanged (generation {report.generation_id})"
                     if report.skipped_unchanged else report.format())
    units, cats = load_reference_data(session)
    ensure_area_units(session)
    lines.append(f"reference: {units} units, {cats} categories")
    if session.scalar(select(func.count()).select_from(GazetteerEntry)) == 0:
        counts = build_gazetteer(session)
        lines.append("gazetteer: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    people = assign_demo_people(session)
    lines.append(f"grid people: {people.get('staff', 0)} staff")
    geocoder = GazetteerGeocoder.from_session(session)
    lines.append(generate_demo_year(session, year, geocoder=geocoder,
                                    settings=case_settings, cipher=cipher).format())
    # The demo year through the workflow up to the demo clock's moment (演示时钟), before
    # anything that counts open or overdue cases.
    from geo.demo.workflow import demo_as_of, run_demo_workflow

    lines.append(run_demo_workflow(session, demo_as_of(year), cipher=cipher).format())
    # …and what the office keeps around those cases: 包案, 清单, 联合接访, 三调联动.
    from geo.demo.coordination import load_demo_coordination

    lines.append(load_demo_coordination(session, demo_as_of(year), cipher=cipher).format())
    # The report's projects (华联宾馆地块, 台秤厂, the new complex), their cases attached, and the
    # hotspot layers of the demo year materialised for the map.
    from geo.demo.projects import load_demo_projects

    lines.extend(load_demo_projects(session, geo_settings, year))
    created = create_demo_users(session)
    if created:
        # Printed this once: only argon2 hashes are stored.
        lines.append("demo users (write the passwords down, they are shown only now):")
        lines.extend(f"  {name:22} {role:13} {password}" for name, role, password in created)
    return lines


class DemoLoadError(GridmapError):
    """A demo file was rejected by the importer (the report says why)."""
