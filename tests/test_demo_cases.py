"""The generated demo year on the Zhongshan demo district: the reference district's totals, a
realistic mix, the report's three stories as real clusters, grid people on duty (with a
mid-year rotation), and a load that never inserts anything twice.

The year is loaded once for the module, in a transaction that is rolled back at the end (the
gazetteer, the people and 2,841 cases take a few seconds; every test here only reads them).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from api.commands.demo_cases import add_parsers
from geo.cases.reference import load_reference_data
from geo.demo.cases import (
    CATEGORY_SHARES,
    COLLECTIVE_MIN,
    ENTERPRISE,
    REFERENCE_AGENT_CASES,
    REFERENCE_CASES,
    REFERENCE_PERSONS,
    RELOCATION_SITE,
    DemoYearReport,
    generate_demo_year,
    load_places,
    plan_demo_year,
)
from geo.demo.people import LEADER_ROTATION_DATE, ROTATION_DATE, assign_demo_people
from geo.errors import InvalidInput
from geo.geocode.gazetteer import build_gazetteer
from geo.privacy.crypto import PersonalDataCipher
from geo.privacy.repeat import find_repeat_petitioners
from geo.privacy.validate import normalize_id_number, normalize_phone

DEMO = "external_id LIKE 'DEMO-2020-%'"
CIPHER = PersonalDataCipher(bytes(range(32)))


@dataclass
class Loaded:
    """The module's session with the demo year loaded, and what loading it reported."""

    session: Session
    report: DemoYearReport
    people: dict[str, int]


@pytest.fixture(scope="module")
def demo(engine: Engine, zhongshan: None) -> Iterator[Loaded]:
    """Gazetteer, grid people and the 2020 demo year, loaded once and rolled back after."""
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
                load_reference_data(session)
                build_gazetteer(session)
                people = assign_demo_people(session)
                report = generate_demo_year(session, 2020, cipher=CIPHER)
                yield Loaded(session, report, people)
        finally:
            trans.rollback()


def _scalar(session: Session, query: str, **params: object) -> int:
    return int(session.execute(text(query), params).scalar_one())


def test_the_year_has_the_reference_districts_totals(demo: Loaded) -> None:
    r = demo.report
    assert (r.cases, r.persons, r.inserted) == (REFERENCE_CASES, REFERENCE_PERSONS, 2841)
    assert (r.cases, r.persons) == (2841, 3281)
    s = demo.session
    assert _scalar(s, f"SELECT count(*) FROM petition_case WHERE {DEMO}") == 2841
    assert _scalar(s, f"SELECT sum(persons_count) FROM petition_case WHERE {DEMO}") == 3281
    # Each case has its first submission (件次) with the same persons.
    assert _scalar(s, "SELECT sum(s.persons_count) FROM submission s JOIN petition_case c "
                      f"ON c.id = s.case_id WHERE c.{DEMO}") == 3281
    agents = _scalar(s, f"SELECT count(*) FROM petition_case WHERE {DEMO} "
                        "AND via_community_agent")
    assert agents == r.community_agent
    assert abs(agents - REFERENCE_AGENT_CASES) <= 0.02 * REFERENCE_AGENT_CASES


def test_every_category_is_present_in_a_plausible_share(demo: Loaded) -> None:
    known = set(demo.session.execute(text("SELECT code FROM category")).scalars())
    by_cat = demo.report.by_category
    assert set(by_cat) == known == set(CATEGORY_SHARES)
    share = {k: v / REFERENCE_CASES for k, v in by_cat.items()}
    big = ("relocation", "housing", "property", "labour")
    assert all(share[k] >= 0.10 for k in big)
    assert sum(share[k] for k in big) >= 0.5
    assert all(share[k] < 0.10 for k in share if k not in big)
    assert 0 < by_cat["accusation"] <= 0.01 * REFERENCE_CASES   # rare, and restricted


def test_every_channel_is_used_and_patrol_points_come_in_gcj02(demo: Loaded) -> None:
    by_channel = demo.report.by_channel
    assert set(by_channel) == {"letter", "visit", "phone", "online", "patrol", "platform"}
    assert max(by_channel, key=lambda k: by_channel[k]) == "visit"
    assert all(n >= 0.05 * REFERENCE_CASES for n in by_channel.values())
    rows = demo.session.execute(text(
        f"SELECT DISTINCT input_crs, location_status, geocode_level FROM petition_case "
        f"WHERE {DEMO} AND channel = 'patrol'")).all()
    assert rows == [("gcj02", "located", "coordinates")]


def test_dates_follow_weekdays_holidays_and_early_covid(demo: Loaded) -> None:
    rows = demo.session.execute(text(
        "SELECT (received_at AT TIME ZONE 'Asia/Shanghai')::date AS day, count(*) AS n "
        f"FROM petition_case WHERE {DEMO} GROUP BY 1")).all()
    per_day: dict[date, int] = {r.day: r.n for r in rows}
    days = [date(2020, 1, 1) + timedelta(days=i) for i in range(366)]
    assert min(per_day) >= days[0] and max(per_day) <= days[-1]

    def mean(ds: list[date]) -> float:
        return float(sum(per_day.get(d, 0) for d in ds)) / len(ds)

    normal = [d for d in days if d.month in (5, 6, 9, 11)]   # months without COVID factors
    weekdays = mean([d for d in normal if d.weekday() < 5 and d not in
                     (date(2020, 5, 1), date(2020, 5, 4), date(2020, 5, 5))])
    weekends = mean([d for d in normal if d.weekday() >= 5 and d not in
                     (date(2020, 5, 9), date(2020, 6, 28), date(2020, 9, 27))])
    assert weekends < 0.5 * weekdays
    spring_festival = mean([date(2020, 1, 24) + timedelta(days=i) for i in range(10)])
    assert spring_festival < 0.3 * weekdays
    months = [sum(n for d, n in per_day.items() if d.month == m) for m in range(1, 13)]
    assert months[1] < 0.6 * (REFERENCE_CASES / 12)      # February 2020
    assert months[1] == min(months)


def test_persons_are_mostly_one_with_a_tail_of_collective_visits(demo: Loaded) -> None:
    counts: dict[int, int] = dict(demo.session.execute(text(
        f"SELECT persons_count, count(*) FROM petition_case WHERE {DEMO} GROUP BY 1")).all())
    assert counts[1] >= 0.85 * REFERENCE_CASES
    collective = sum(n for p, n in counts.items() if p >= COLLECTIVE_MIN)
    assert collective == demo.report.collective and 15 <= collective <= 80


def _cases_within(session: Session, radius_m: float) -> list[tuple[str, str, float, int]]:
    """(kind, name, distance to the relocation site in m, cases within radius) per place."""
    site = load_places(session).relocation_site
    cases = session.execute(text(
        f"SELECT ST_X(location), ST_Y(location) FROM petition_case WHERE {DEMO} "
        "AND location IS NOT NULL")).all()
    places = session.execute(text(
        "SELECT kind, name, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
        "FROM gazetteer_entry WHERE kind IN ('building', 'project', 'landmark')")).all()
    kx, ky = 111_320 * math.cos(math.radians(site.lat)), 110_574  # metres per degree here

    def dist(ax: float, ay: float, bx: float, by: float) -> float:
        return math.hypot((ax - bx) * kx, (ay - by) * ky)

    return [(kind, name, dist(x, y, site.lon, site.lat),
             sum(1 for cx, cy in cases if dist(x, y, cx, cy) <= radius_m))
            for kind, name, x, y in places]


def test_the_relocation_site_is_the_single_largest_cluster(demo: Loaded) -> None:
    counts = _cases_within(demo.session, 300)
    at_site = next(n for _, name, _, n in counts if name == RELOCATION_SITE)
    elsewhere = max(n for _, _, d, n in counts if d > 300)
    assert at_site >= 150 and at_site > 1.2 * elsewhere
    assert max(counts, key=lambda c: c[3])[2] <= 300      # the densest place is at the site


def test_the_relocation_story_has_repeat_and_collective_petitions(demo: Loaded) -> None:
    s = demo.session
    where = f"c.{DEMO} AND c.properties->>'demo_cluster' = :site"
    per_person = s.execute(text(
        "SELECT p.name, count(*) FROM petition_case c JOIN case_petitioner cp ON cp.case_id = "
        f"c.id JOIN petitioner p ON p.id = cp.petitioner_id WHERE {where} GROUP BY 1 "
        "ORDER BY 2 DESC"), {"site": RELOCATION_SITE}).all()
    assert per_person[0][1] >= 5                          # someone came back many times
    assert sum(1 for _, n in per_person if n >= 2) >= 20
    rows = s.execute(text(f"SELECT category_code, persons_count, received_at FROM "
                          f"petition_case c WHERE {where}"), {"site": RELOCATION_SITE}).all()
    assert {r.category_code for r in rows} == {"relocation"}
    collective = [r for r in rows if r.persons_count >= COLLECTIVE_MIN]
    assert len(collective) >= 5
    assert len({r.received_at.month for r in collective}) >= 4   # through the year
    # Sold in February, resettled about half a year later: the petitions taper off.
    assert (sum(1 for r in rows if r.received_at.month >= 10) <
            0.15 * sum(1 for r in rows if 4 <= r.received_at.month <= 6))


def test_intake_flags_the_story_as_repeat_and_collective(demo: Loaded) -> None:
    s = demo.session
    counts = s.execute(text(
        f"SELECT count(*) FILTER (WHERE is_collective) AS flagged, "
        f"count(*) FILTER (WHERE persons_count >= {COLLECTIVE_MIN}) AS big, "
        f"count(*) FILTER (WHERE is_repeat) AS repeat, "
        f"count(*) FILTER (WHERE is_repeat AND properties->>'demo_cluster' = :site) AS at_site "
        f"FROM petition_case WHERE {DEMO}"), {"site": RELOCATION_SITE}).one()
    assert counts.flagged == counts.big > 0
    # The petitioners who come back to the relocation site are repeats (same person, same
    # category, same 社区); a first visit never is.
    assert counts.at_site >= 20 and counts.repeat < 0.5 * REFERENCE_CASES


def test_repeat_petitioners_keep_their_fake_numbers(demo: Loaded) -> None:
    s = demo.session
    rows = s.execute(text(
        "SELECT p.id, p.name, p.id_number_enc, p.id_number_hash, p.phone_hash "
        "FROM petition_case c JOIN case_petitioner cp ON cp.case_id = c.id "
        f"JOIN petitioner p ON p.id = cp.petitioner_id WHERE c.{DEMO} "
        "AND c.properties->>'demo_cluster' = :site"), {"site": RELOCATION_SITE}).all()
    assert all(r.id_number_hash is not None and r.phone_hash is not None for r in rows)
    people: dict[bytes, set[tuple[str, bytes]]] = {}
    for r in rows:
        people.setdefault(bytes(r.id_number_hash), set()).add((r.name, bytes(r.phone_hash)))
    assert all(len(v) == 1 for v in people.values())      # one hash: one name, one phone
    most = max(people, key=lambda h: sum(1 for r in rows if bytes(r.id_number_hash) == h))
    first = next(r for r in rows if bytes(r.id_number_hash) == most)
    id_number = CIPHER.decrypt(first.id_number_enc, "id_number")
    assert id_number.startswith("210202") and normalize_id_number(id_number) == id_number
    repeats = find_repeat_petitioners(s, CIPHER, id_number=id_number)
    assert len(repeats) >= 5 and first.id in repeats     # someone came back many times


def test_the_enterprise_and_the_new_complex_are_clusters_too(demo: Loaded) -> None:
    s = demo.session
    complex_name = load_places(s).complex_site.name
    rows = s.execute(text(
        "SELECT c.properties->>'demo_cluster' AS site, c.category_code, c.persons_count, "
        "c.content, p.name AS petitioner FROM petition_case c "
        "JOIN case_petitioner cp ON cp.case_id = c.id JOIN petitioner p ON p.id = "
        f"cp.petitioner_id WHERE c.{DEMO} AND c.properties ? 'demo_cluster'")).all()
    enterprise = [r for r in rows if r.site == ENTERPRISE]
    assert {r.category_code for r in enterprise} == {"labour"}
    assert all("台秤厂" in r.content for r in enterprise)
    assert len(enterprise) > len({r.petitioner for r in enterprise})   # repeat petitioners
    assert any(r.persons_count >= COLLECTIVE_MIN for r in enterprise)
    owners = [r for r in rows if r.site == complex_name]
    assert {r.category_code for r in owners} == {"housing", "property"}
    assert len({r.petitioner for r in owners}) >= 50                   # many owners
    assert any("人车" in r.content for r in owners) and any("绿化" in r.content for r in owners)


def test_most_cases_are_located_and_assigned_to_a_grid(demo: Loaded) -> None:
    s = demo.session
    assigned = _scalar(s, f"SELECT count(*) FROM petition_case WHERE {DEMO} "
                          "AND location_status = 'located' AND grid_code IS NOT NULL")
    assert assigned >= 0.9 * REFERENCE_CASES
    assert demo.report.by_location_status["located"] + demo.report.by_location_status[
        "needs_location"] == REFERENCE_CASES
    # The handful that name only a 社区 wait in the queue with the 社区 as a hint.
    waiting = s.execute(text(
        "SELECT geocode_level, properties->>'community_hint' AS hint FROM petition_case "
        f"WHERE {DEMO} AND location_status = 'needs_location'")).all()
    assert 5 <= len(waiting) <= 60
    assert sum(1 for w in waiting if w.geocode_level == "community" and w.hint) >= 5
    assert demo.report.by_assignment_flag.get("out_of_area", 0) <= 0.01 * REFERENCE_CASES


def test_assigned_cases_carry_the_people_on_duty_that_day(demo: Loaded) -> None:
    rows = demo.session.execute(text(f"""
        WITH c AS (
            SELECT id, grid_code, grid_worker_id, grid_leader_id, responsible_unit_id,
                   (received_at AT TIME ZONE 'Asia/Shanghai')::date AS day
            FROM petition_case WHERE {DEMO} AND grid_code IS NOT NULL)
        SELECT c.id, c.grid_worker_id, c.grid_leader_id, c.responsible_unit_id,
               (SELECT array_agg(a.staff_id) FROM grid_assignment a WHERE a.grid_code =
                c.grid_code AND a.role = 'grid_worker' AND a.start_date <= c.day
                AND (a.end_date IS NULL OR a.end_date >= c.day)) AS workers,
               (SELECT array_agg(a.staff_id) FROM grid_assignment a WHERE a.grid_code =
                c.grid_code AND a.role = 'grid_leader' AND a.start_date <= c.day
                AND (a.end_date IS NULL OR a.end_date >= c.day)) AS leaders,
               (SELECT array_agg(a.unit_id) FROM grid_assignment a WHERE a.grid_code =
                c.grid_code AND a.role = 'responsible_unit' AND a.start_date <= c.day
                AND (a.end_date IS NULL OR a.end_date >= c.day)) AS units,
               (SELECT u.code FROM unit u WHERE u.id = c.responsible_unit_id) AS unit_code,
               substr(c.grid_code, 1, 12) AS community
        FROM c""")).all()
    assert len(rows) >= 0.9 * REFERENCE_CASES
    for r in rows:
        assert r.workers == [r.grid_worker_id], r
        assert r.leaders == [r.grid_leader_id], r
        assert r.units == [r.responsible_unit_id], r
        assert r.unit_code == r.community          # the 社区居委会, keyed by the area code


def test_a_mid_year_rotation_changes_the_grid_worker_of_later_cases(demo: Loaded) -> None:
    rows = demo.session.execute(text(f"""
        SELECT c.grid_code, (c.received_at AT TIME ZONE 'Asia/Shanghai')::date >= :switch
               AS after, array_agg(DISTINCT c.grid_worker_id) AS workers
        FROM petition_case c
        WHERE c.{DEMO} AND c.grid_code IN (
            SELECT grid_code FROM grid_assignment WHERE role = 'grid_worker'
            AND end_date = :switch - 1)
        GROUP BY 1, 2"""), {"switch": ROTATION_DATE}).all()
    by_grid: dict[str, dict[bool, list[int]]] = {}
    for r in rows:
        by_grid.setdefault(r.grid_code, {})[r.after] = r.workers
    both = {g: v for g, v in by_grid.items() if len(v) == 2}
    assert len(both) >= 3
    for halves in both.values():
        assert len(halves[False]) == len(halves[True]) == 1
        assert halves[False] != halves[True]


def test_people_cover_every_grid_with_one_leader_per_community(demo: Loaded) -> None:
    s = demo.session
    assert demo.people["grids"] == 396 == demo.people["grid_worker"] == demo.people[
        "grid_leader"] == demo.people["responsible_unit"]
    assert 10 <= demo.people["worker_rotations"] <= 30
    leaders = s.execute(text("""
        SELECT substr(grid_code, 1, 12) AS community, count(DISTINCT staff_id) AS n
        FROM grid_assignment WHERE role = 'grid_leader' AND start_date <= :day
        AND (end_date IS NULL OR end_date >= :day) GROUP BY 1"""),
        {"day": LEADER_ROTATION_DATE - timedelta(days=1)}).all()
    assert len(leaders) == 65 and all(r.n == 1 for r in leaders)
    assert _scalar(s, "SELECT count(*) FROM staff WHERE NOT approximate") == 0
    assert _scalar(s, "SELECT count(DISTINCT name) FROM staff") == _scalar(
        s, "SELECT count(*) FROM staff")


def test_generated_cases_are_marked_as_demo_data(demo: Loaded) -> None:
    s = demo.session
    assert _scalar(s, f"SELECT count(*) FROM petition_case WHERE {DEMO} AND "
                      "properties @> '{\"demo\": true, \"approximate\": true}'") == 2841
    assert _scalar(s, "SELECT count(*) FROM petition_case WHERE external_id !~ "
                      "'^DEMO-2020-[0-9]{6}$'") == 0
    # No official named in the report is ever a generated petitioner or grid worker.
    assert _scalar(s, "SELECT count(*) FROM petitioner WHERE name IN ('王守宇', '刘磊')") == 0


def test_running_it_again_inserts_nothing(demo: Loaded) -> None:
    again = generate_demo_year(demo.session, 2020)
    assert (again.inserted, again.already_loaded, again.cases, again.persons) == (
        0, 2841, 2841, 3281)
    people = assign_demo_people(demo.session)
    assert people["staff"] == people["grid_worker"] == people["responsible_unit"] == 0
    assert _scalar(demo.session, "SELECT count(*) FROM petition_case") == 2841


def test_the_plan_is_a_function_of_the_seed(demo: Loaded) -> None:
    places = load_places(demo.session)
    first, second = plan_demo_year(places, seed=7), plan_demo_year(places, seed=7)
    assert [p.case for p in first] == [p.case for p in second]
    other = plan_demo_year(places, seed=8)
    assert [p.case.content for p in other] != [p.case.content for p in first]
    assert len(other) == 2841 and sum(p.case.persons() for p in other) == 3281
    # The numbers come from their own generator: without them the year is the same.
    bare = plan_demo_year(places, seed=7, personal_data=False)
    assert [p.case.model_dump(exclude={"petitioners"}) for p in bare] == [
        p.case.model_dump(exclude={"petitioners"}) for p in first]
    assert [[x.name for x in p.case.petitioners] for p in bare] == [
        [x.name for x in p.case.petitioners] for p in first]
    numbers = [x for p in first for x in p.case.petitioners]
    assert all(x.id_number and x.phone and normalize_phone(x.phone) == x.phone for x in numbers)
    assert all(x.id_number is None for p in bare for x in p.case.petitioners)


@pytest.mark.parametrize("year", [1999, date.today().year, 2100])
def test_a_year_that_cannot_be_a_demo_year_is_refused(demo: Loaded, year: int) -> None:
    with pytest.raises(InvalidInput) as err:
        generate_demo_year(demo.session, year)
    assert err.value.field == "year"


def test_the_cli_parses_demo_cases_and_people() -> None:
    parser = argparse.ArgumentParser(prog="gridmap")
    demo_sub = parser.add_subparsers(dest="action", required=True)
    add_parsers(demo_sub)
    args = parser.parse_args(["cases", "--year", "2020", "--seed", "5"])
    assert (args.year, args.seed, callable(args.func)) == (2020, 5, True)
    args = parser.parse_args(["people"])
    assert args.start == "2019-01-01" and callable(args.func)
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(["cases", "--year", "twenty"])
    assert exit_.value.code == 2
