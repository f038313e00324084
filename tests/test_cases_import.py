"""Bulk case import (CSV/XLSX) on the 3×3 squares: exact grids, all-or-nothing, reject files,
idempotent re-import, dry run, out_of_area and vague addresses.

The database is real; only the geocoder is a test double (a dict address → result), which is
what the `Geocoder` protocol is for.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo import crs as gcrs
from geo.cases.import_file import CaseImportReport, import_cases_file
from geo.cases.reference import load_reference_data
from geo.cases.schema import CHINA_TZ
from geo.geocode.base import GeocodeResult
from geo.models import CasePetitioner, PetitionCase, Petitioner, Submission
from geo.settings import CaseSettings
from tests.squares import COMMUNITY, STREET, grid_code, load_squares

HEADER = ["external_id", "channel", "received_at", "category", "content", "persons_count",
          "petitioners", "address", "lon", "lat", "crs", "via_community_agent"]
# Centres of squares 1, 5 and 9; 0.0005° (≈43 m) east of square 9; Beijing, far outside.
SQ1, SQ5, SQ9 = (121.705, 38.925), (121.715, 38.915), (121.725, 38.905)
NEAR9 = (121.7305, 38.905)
FAR = (116.40, 39.90)


class DictGeocoder:
    """A Geocoder that knows a few addresses; everything else matches nothing."""

    def __init__(self, known: dict[str, GeocodeResult]) -> None:
        self.known = known

    def geocode(self, address: str) -> GeocodeResult:
        """The known result, or level none."""
        return self.known.get(address, GeocodeResult(level="none", confidence=0.0))

    def geocode_many(self, addresses: Sequence[str]) -> list[GeocodeResult]:
        """One by one."""
        return [self.geocode(a) for a in addresses]


GEOCODER = DictGeocoder({
    "测试路1号": GeocodeResult(level="road_number", confidence=0.9, lon=SQ5[0], lat=SQ5[1],
                               community_code=COMMUNITY, street_code=STREET,
                               matched="测试路 1号"),
    "测试社区": GeocodeResult(level="community", confidence=0.5, lon=SQ5[0], lat=SQ5[1],
                              community_code=COMMUNITY, street_code=STREET, matched="测试社区"),
})


@pytest.fixture
def world(session: Session, tmp_path: Path) -> None:
    """The squares, active, and the units and categories."""
    load_squares(session, tmp_path)
    load_reference_data(session)


def write_csv(path: Path, header: list[str], rows: list[list[Any]],
              encoding: str = "utf-8") -> Path:
    """A CSV file as a district would save it."""
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in r] for r in rows])
    return path


def run(session: Session, path: Path, **kwargs: Any) -> CaseImportReport:
    """Import with the squares' geocoder and default settings."""
    return import_cases_file(session, path, geocoder=GEOCODER, settings=CaseSettings(),
                             **kwargs)


def case_count(session: Session) -> int:
    """Rows in petition_case."""
    return int(session.scalar(select(func.count()).select_from(PetitionCase)) or 0)


def cases(session: Session) -> dict[str | None, tuple[str | None, str, str]]:
    """external_id → (grid_code, assignment_flag, location_status)."""
    rows = session.execute(select(PetitionCase.external_id, PetitionCase.grid_code,
                                  PetitionCase.assignment_flag, PetitionCase.location_status))
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def errors(report: CaseImportReport) -> set[tuple[int | None, str]]:
    """(row, field) of every error."""
    return {(e.row, e.field) for e in report.errors}


def good_rows() -> list[list[Any]]:
    """Four good rows: a point, an address, a GCJ-02 point, a point just outside the grids."""
    gcj9 = gcrs.from_wgs84(SQ9[0], SQ9[1], "gcj02")
    return [
        ["A-1", "visit", "2020-03-05 14:30", "物业", "电梯停运", 2, "张三、李四", "",
         SQ1[0], SQ1[1], "", "是"],
        ["A-2", "来电", "2020/3/6", "housing", "房屋漏水", "", "", "测试路1号", "", "", "", "否"],
        ["A-3", "12345/平台转办", "2020年3月7日", "欠薪", "拖欠工资", 5, "", "",
         float(gcj9[0]), float(gcj9[1]), "gcj02", "1"],
        ["A-4", "letter", "2020-03-08", "城管", "违建", "", "", "", NEAR9[0], NEAR9[1], "wgs84",
         "0"],
    ]


BAD_ROWS: list[list[Any]] = [
    ["B-1", "visit", "2020-03-05", "物业", "good one", "", "", "", SQ1[0], SQ1[1], "", ""],
    ["B-2", "visit", "2020-03-05", "不存在的类别", "unknown category", "", "", "", SQ1[0], SQ1[1],
     "", ""],
    ["B-3", "visit", "2020-03-05", "物业", "swapped", "", "", "", SQ5[1], SQ5[0], "", ""],
    ["B-4", "visit", "2099-01-01", "物业", "future", "", "", "", SQ1[0], SQ1[1], "", ""],
    ["B-5", "visit", "2020-03-05", "物业", "too few persons", 1, "甲、乙", "", SQ1[0], SQ1[1],
     "", ""],
    ["B-6", "visit", "昨天下午", "物业", "bad date", "", "", "", SQ1[0], SQ1[1], "", ""],
    ["B-7", "visit", "2020-03-05", "物业", "", "", "", "", SQ1[0], SQ1[1], "", ""],
    ["B-8", "visit", "2020-03-05", "物业", "good two", "", "", "", SQ9[0], SQ9[1], "", ""],
]
BAD_ERRORS = {(3, "category"), (4, "lat"), (5, "received_at"), (6, "persons_count"),
              (7, "received_at"), (8, "content")}


def test_good_csv_imports_every_row_into_its_grid(session: Session, world: None,
                                                  tmp_path: Path) -> None:
    report = run(session, write_csv(tmp_path / "cases.csv", HEADER, good_rows()))
    assert report.ok, report.format()
    assert (report.rows_read, report.inserted, report.unchanged, report.rejected,
            report.needs_location) == (4, 4, 0, 0, 0)
    assert report.flags == {"inside": 3, "near_boundary": 1}
    assert cases(session) == {
        "A-1": (grid_code(1), "inside", "located"),
        "A-2": (grid_code(5), "inside", "located"),
        "A-3": (grid_code(9), "inside", "located"),
        "A-4": (grid_code(9), "near_boundary", "located"),
    }
    rows = {c.external_id: c for c in session.scalars(select(PetitionCase))}
    assert [rows[k].channel for k in ("A-1", "A-2", "A-3", "A-4")] == [
        "visit", "phone", "platform", "letter"]
    assert [rows[k].category_code for k in ("A-1", "A-2", "A-3", "A-4")] == [
        "property", "housing", "labour", "urban"]
    assert rows["A-1"].received_at == datetime(2020, 3, 5, 14, 30, tzinfo=CHINA_TZ)
    assert rows["A-3"].received_at == datetime(2020, 3, 7, tzinfo=CHINA_TZ)
    assert [rows[k].persons_count for k in ("A-1", "A-2", "A-3")] == [2, 1, 5]
    assert [rows[k].via_community_agent for k in ("A-1", "A-2", "A-3", "A-4")] == [
        True, False, True, False]
    assert rows["A-2"].geocode_level == "road_number"
    names = session.scalars(select(Petitioner.name).join(
        CasePetitioner, CasePetitioner.petitioner_id == Petitioner.id).where(
        CasePetitioner.case_id == rows["A-1"].id).order_by(Petitioner.name)).all()
    assert sorted(names) == ["张三", "李四"]
    assert session.scalar(select(func.count()).select_from(Submission)) == 4


def test_chinese_headers_in_gb18030_are_read(session: Session, world: None,
                                             tmp_path: Path) -> None:
    header = ["信访编号", "来源", "登记时间", "问题类别", "诉求内容", "人数", "信访人",
              "问题发生地", "经度", "纬度", "坐标系", "社区代办"]
    rows = [["C-1", "来访", "2020年3月5日 14时30分", "物业", "楼道漏水", "", "王五；赵六", "",
             SQ1[0], SQ1[1], "WGS84", "是"],
            ["C-2", "网上信访", "2020/3/6 9:05", "征地拆迁/回迁", "回迁房延期", 3, "", "测试路1号",
             "", "", "", "否"]]
    path = write_csv(tmp_path / "导出.csv", header, rows, encoding="gb18030")
    report = run(session, path)
    assert report.ok, report.format()
    assert (report.encoding, report.rows_read, report.inserted) == ("gb18030", 2, 2)
    assert cases(session) == {"C-1": (grid_code(1), "inside", "located"),
                              "C-2": (grid_code(5), "inside", "located")}
    c1 = session.scalars(select(PetitionCase).where(PetitionCase.external_id == "C-1")).one()
    c2 = session.scalars(select(PetitionCase).where(PetitionCase.external_id == "C-2")).one()
    assert (c1.content, c1.persons_count, c1.via_community_agent) == ("楼道漏水", 2, True)
    assert c1.received_at == datetime(2020, 3, 5, 14, 30, tzinfo=CHINA_TZ)
    assert (c2.channel, c2.category_code, c2.address) == ("online", "relocation", "测试路1号")
    assert c2.received_at == datetime(2020, 3, 6, 9, 5, tzinfo=CHINA_TZ)


def test_xlsx_with_date_cells_and_numbers_is_read(session: Session, world: None,
                                                  tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["编号", "渠道", "受理时间", "类别", "内容", "人数", "地址", "经度", "纬度"])
    ws.append([20200001, "visit", datetime(2020, 3, 5, 14, 30), "物业", "电梯停运", 2, None,
               SQ1[0], SQ1[1]])
    ws.append([20200002, "phone", datetime(2020, 3, 6), "住建", "漏水", None, "测试路1号",
               None, None])
    ws.append([None] * 9)  # an empty row is skipped
    ws.append([20200003, "patrol", datetime(2020, 3, 7, 8, 0), "城管", "占道", 1, None,
               SQ9[0], SQ9[1]])
    path = tmp_path / "cases.xlsx"
    wb.save(path)
    report = run(session, path)
    assert report.ok, report.format()
    assert (report.rows_read, report.inserted) == (3, 3)
    assert cases(session) == {"20200001": (grid_code(1), "inside", "located"),
                              "20200002": (grid_code(5), "inside", "located"),
                              "20200003": (grid_code(9), "inside", "located")}
    first = session.scalars(select(PetitionCase).where(
        PetitionCase.external_id == "20200001")).one()
    assert first.received_at == datetime(2020, 3, 5, 14, 30, tzinfo=CHINA_TZ)
    assert first.persons_count == 2


def test_bad_rows_reject_the_whole_file_with_row_and_field(session: Session, world: None,
                                                           tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", HEADER, BAD_ROWS)
    report = run(session, path)
    assert not report.ok
    assert errors(report) == BAD_ERRORS
    assert (report.rows_read, report.inserted, report.rejected) == (8, 0, 6)
    assert case_count(session) == 0
    assert session.scalar(select(func.count()).select_from(Submission)) == 0
    assert report.reject_file is None and not (tmp_path / "bad.rejects.csv").exists()
    messages = {(e.row, e.field): e.message for e in report.errors}
    assert "swapped" in messages[(4, "lat")]
    assert "future" in messages[(5, "received_at")]
    assert "昨天下午" in messages[(7, "received_at")]
    assert "nothing was written" in report.format()


def test_skip_invalid_imports_good_rows_and_writes_the_bad_ones(session: Session, world: None,
                                                                tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", HEADER, BAD_ROWS)
    report = run(session, path, skip_invalid=True)
    assert errors(report) == BAD_ERRORS
    assert (report.inserted, report.rejected) == (2, 6)
    assert cases(session) == {"B-1": (grid_code(1), "inside", "located"),
                              "B-8": (grid_code(9), "inside", "located")}
    assert report.reject_file == tmp_path / "bad.rejects.csv"
    raw = report.reject_file.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens it as UTF-8
    with report.reject_file.open(encoding="utf-8-sig", newline="") as fh:
        rejects = list(csv.DictReader(fh))
    assert list(rejects[0]) == [*HEADER, "row", "error"]
    assert [(r["row"], r["external_id"]) for r in rejects] == [
        ("3", "B-2"), ("4", "B-3"), ("5", "B-4"), ("6", "B-5"), ("7", "B-6"), ("8", "B-7")]
    assert [r["error"].split(":")[0] for r in rejects] == [
        "category", "lat", "received_at", "persons_count", "received_at", "content"]
    assert rejects[1]["lon"] == str(SQ5[1])  # original cells kept as they were


def test_reimport_of_the_same_file_changes_nothing(session: Session, world: None,
                                                   tmp_path: Path) -> None:
    path = write_csv(tmp_path / "cases.csv", HEADER, good_rows())
    assert run(session, path).inserted == 4
    before = cases(session)
    again = run(session, path)
    assert again.ok, again.format()
    assert (again.rows_read, again.inserted, again.unchanged) == (4, 0, 4)
    assert case_count(session) == 4 and cases(session) == before
    assert session.scalar(select(func.count()).select_from(Submission)) == 4


def test_rows_without_external_id_get_a_stable_derived_one(session: Session, world: None,
                                                           tmp_path: Path) -> None:
    rows = [["", *r[1:]] for r in good_rows()]
    path = write_csv(tmp_path / "noid.csv", HEADER, rows)
    first = run(session, path)
    assert (first.ok, first.inserted) == (True, 4)
    ids = set(cases(session))
    assert len(ids) == 4 and all(str(i).startswith("auto-") for i in ids)
    again = run(session, path)
    assert (again.inserted, again.unchanged) == (0, 4)
    assert set(cases(session)) == ids


def test_duplicate_external_id_in_a_file_is_an_error_on_the_later_row(
        session: Session, world: None, tmp_path: Path) -> None:
    rows = good_rows()
    rows[2][0] = "A-1"
    report = run(session, write_csv(tmp_path / "dup.csv", HEADER, rows))
    assert errors(report) == {(4, "external_id")}
    assert "row 2" in report.errors[0].message
    assert (report.inserted, case_count(session)) == (0, 0)


def test_missing_required_column_is_named(session: Session, world: None,
                                          tmp_path: Path) -> None:
    header = [h for h in HEADER if h != "content"]
    rows = [[v for h, v in zip(HEADER, r, strict=True) if h != "content"] for r in good_rows()]
    report = run(session, write_csv(tmp_path / "nocontent.csv", header, rows))
    assert errors(report) == {(None, "content")}
    assert "content" in report.errors[0].message and "内容" in report.errors[0].message
    assert (report.rows_read, case_count(session)) == (0, 0)


def test_no_address_and_no_coordinates_columns_is_an_error(session: Session, world: None,
                                                           tmp_path: Path) -> None:
    path = write_csv(tmp_path / "nowhere.csv", ["category", "content"], [["物业", "x"]])
    report = run(session, path)
    assert errors(report) == {(None, "address")}
    assert case_count(session) == 0


def test_unknown_columns_are_warnings(session: Session, world: None, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "extra.csv", [*HEADER, "备注"],
                     [[*good_rows()[0], "随便写写"]])
    report = run(session, path)
    assert report.ok and report.inserted == 1
    assert report.warnings == ["unknown column '备注': ignored"]


def test_dry_run_reports_and_writes_nothing(session: Session, world: None,
                                            tmp_path: Path) -> None:
    path = write_csv(tmp_path / "cases.csv", HEADER, good_rows())
    report = run(session, path, dry_run=True)
    assert report.ok, report.format()
    assert (report.rows_read, report.inserted, report.unchanged) == (4, 4, 0)
    assert report.flags == {"inside": 3, "near_boundary": 1}
    assert case_count(session) == 0
    assert session.scalar(select(func.count()).select_from(Submission)) == 0
    assert session.scalar(select(func.count()).select_from(Petitioner)) == 0
    assert "dry run: nothing was written" in report.format()


def test_far_away_point_is_out_of_area_and_rejects_the_file(session: Session, world: None,
                                                            tmp_path: Path) -> None:
    rows = [good_rows()[0],
            ["F-1", "visit", "2020-03-05", "物业", "北京", "", "", "", FAR[0], FAR[1], "", ""]]
    report = run(session, write_csv(tmp_path / "far.csv", HEADER, rows))
    assert errors(report) == {(3, "location")}
    assert "outside the district" in report.errors[0].message
    assert report.flags == {"inside": 1, "out_of_area": 1}
    assert (report.inserted, case_count(session)) == (0, 0)


def test_far_away_point_with_skip_invalid_keeps_the_good_rows(session: Session, world: None,
                                                              tmp_path: Path) -> None:
    rows = [good_rows()[0],
            ["F-1", "visit", "2020-03-05", "物业", "北京", "", "", "", FAR[0], FAR[1], "", ""],
            good_rows()[1]]
    report = run(session, write_csv(tmp_path / "far.csv", HEADER, rows), skip_invalid=True)
    assert errors(report) == {(3, "location")}
    assert (report.inserted, report.rejected) == (2, 1)
    assert cases(session) == {"A-1": (grid_code(1), "inside", "located"),
                              "A-2": (grid_code(5), "inside", "located")}
    assert session.scalar(select(func.count()).select_from(Submission)) == 2
    assert report.reject_file is not None
    with report.reject_file.open(encoding="utf-8-sig", newline="") as fh:
        assert [r["external_id"] for r in csv.DictReader(fh)] == ["F-1"]


def test_vague_address_is_imported_as_needs_location(session: Session, world: None,
                                                     tmp_path: Path) -> None:
    rows = [["V-1", "visit", "2020-03-05", "物业", "小区噪音", "", "", "测试社区", "", "", "", ""]]
    report = run(session, write_csv(tmp_path / "vague.csv", HEADER, rows))
    assert report.ok, report.format()
    assert (report.inserted, report.needs_location, report.flags) == (1, 1, {})
    case = session.scalars(select(PetitionCase).where(PetitionCase.external_id == "V-1")).one()
    assert (case.location_status, case.location, case.grid_code, case.assignment_flag) == (
        "needs_location", None, None, "unassigned")
    assert case.geocode_level == "community"
    assert case.properties["community_hint"] == COMMUNITY


def test_cli_parser_wires_the_import_command() -> None:
    from api.commands.cases_import import add_parser, cmd_cases_import

    parser = argparse.ArgumentParser(prog="gridmap")
    group = parser.add_subparsers(dest="group", required=True)
    add_parser(group.add_parser("cases").add_subparsers(dest="action", required=True))
    args = parser.parse_args(["cases", "import", "x.xlsx", "--dry-run", "--skip-invalid",
                              "--quiet"])
    assert (args.file, args.dry_run, args.skip_invalid, args.quiet) == (
        "x.xlsx", True, True, True)
    assert args.func is cmd_cases_import
