"""Bulk import of cases from a CSV or XLSX file: read, validate every row, place, then write all
(or, with skip_invalid, the good rows and a reject file) through the one intake path.

Columns (English name, case-insensitive, or one of the Chinese headers):

    external_id          编号, 信访编号       the case's id in the source system; unique
    channel              渠道, 来源           letter 来信, visit 来访, phone 来电, online 网上信访,
                                              patrol 网格巡查, platform 12345/平台转办 — code or
                                              label; empty: visit
    received_at          受理时间, 登记时间   2020-03-05 14:30, 2020/3/5, 2020年3月5日 14时30分,
                                              20200305, ISO 8601, Excel date cells; China time
                                              unless an offset is given; empty: now
    category             类别, 问题类别       code or Chinese name (住建, 物业, 欠薪, …); required
    content              内容, 诉求内容       required
    persons_count        人数                 人次; empty: the petitioners named, at least 1
    petitioners          信访人               names separated by 、 , ， ; or ；
    id_number            身份证号, 身份证号码, 证件号码
                                              resident ID numbers, one per petitioner in the
                                              same order and with the same separators (an
                                              empty entry: none for that petitioner); format
                                              the column as text in Excel, a number cell loses
                                              digits
    phone                电话, 手机, 手机号, 联系电话
                                              phone numbers, likewise one per petitioner
    address              地址, 问题发生地     geocoded when the row has no lon/lat
    lon, lat             经度, 纬度           the point (also lng/longitude, latitude)
    crs                  坐标系               wgs84 (default), cgcs2000, gcj02 (Amap/Tencent),
                                              bd09 (Baidu)
    via_community_agent  社区代办             是/否, true/false, 1/0; empty: 否

ID and phone numbers are validated and normalised (see geo.privacy.validate) and stored only
encrypted, so a file with those columns needs the cipher (the data key); without it the whole
file is refused before anything is read. Error messages never repeat a number.

A file needs category, content, and an address column or lon and lat columns. Unknown columns are
reported as warnings and ignored (`row` and `error`, which a reject file adds, silently).

Rows are numbered as in the file: the header is row 1, the first data row is row 2; empty rows are
skipped. Importing is idempotent by external_id: a row whose external_id is already in
`petition_case` is counted as unchanged and never updated. A row without external_id gets a
derived one, ``auto-`` + the first 32 hex digits of the SHA-256 of its validated content
(channel, received_at, category code, content, petitioners' names, persons_count, address,
location, via_community_agent as canonical JSON), so re-importing the same rows is idempotent as
well; two such rows with identical content in one file are reported as a duplicate. ID and
phone numbers are left out of that hash on purpose: an unkeyed hash over them would let anyone
who can read the other columns recover the numbers by trying them all.

A point that lands farther than `near_boundary_m` from every grid (out_of_area) is an error of
the row (field `location`). Placement runs inside a SAVEPOINT, so a dry run, or a rejected
all-or-nothing import, rolls back everything it tried; with skip_invalid only the bad rows are
left out. The caller owns the transaction: commit when the report is ok (or with skip_invalid),
roll back otherwise.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import math
import re
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from tqdm import tqdm

from geo.cases.intake import AssignmentOutcome, create_cases
from geo.cases.reference import CategoryIndex
from geo.cases.schema import CHANNEL_LABELS, CaseIn
from geo.errors import InvalidInput
from geo.geocode.base import Geocoder
from geo.models import PetitionCase
from geo.privacy.crypto import PersonalDataCipher
from geo.settings import CaseSettings

# Canonical column → the headers districts use (first the English name).
COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("external_id", "编号", "信访编号"),
    "channel": ("channel", "渠道", "来源"),
    "received_at": ("received_at", "受理时间", "登记时间"),
    "category": ("category", "类别", "问题类别"),
    "content": ("content", "内容", "诉求内容"),
    "persons_count": ("persons_count", "人数"),
    "petitioners": ("petitioners", "信访人"),
    "id_number": ("id_number", "身份证号", "身份证号码", "证件号码"),
    "phone": ("phone", "电话", "手机", "手机号", "联系电话"),
    "address": ("address", "地址", "问题发生地"),
    "lon": ("lon", "lng", "longitude", "经度"),
    "lat": ("lat", "latitude", "纬度"),
    "crs": ("crs", "坐标系"),
    "via_community_agent": ("via_community_agent", "社区代办"),
}
REQUIRED = ("category", "content")
# Added by a reject file; ignored without a warning so a corrected reject file imports cleanly.
REJECT_COLUMNS = ("row", "error")
BATCH_SIZE = 1000
AUTO_ID_PREFIX = "auto-"

_CHANNELS: dict[str, str] = {}
for _code, _label in CHANNEL_LABELS.items():
    _CHANNELS[_code] = _code
    _CHANNELS[_label] = _code
    for _part in _label.split("/"):
        _CHANNELS[_part] = _code
_CRS_ALIASES = {
    "wgs84": "wgs84", "cgcs2000": "cgcs2000", "gcj02": "gcj02", "bd09": "bd09",
    "国家2000": "cgcs2000", "火星坐标": "gcj02", "高德": "gcj02", "百度": "bd09",
}
_TRUE = {"是", "true", "1", "yes", "y", "t", "√", "✓"}
_FALSE = {"否", "false", "0", "no", "n", "f", "×", "✗"}
_NAME_SEPARATORS = re.compile(r"[、,，;；]")
_DATE = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*T?\s*(?P<H>\d{1,2})\s*[:：时点]\s*(?P<M>\d{1,2})"
    r"(?:\s*(?:[:：]|分)\s*(?P<S>\d{1,2})(?:\.\d+)?\s*秒?|\s*分)?)?")
_COMPACT_DATE = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})")
DATE_FORMATS = "2020-03-05 14:30, 2020/3/5, 2020年3月5日, 20200305 or ISO 8601"
# Excel's day serials: 1 = 1900-01-01 .. 2958465 = 9999-12-31.
_EXCEL_SERIALS = (1, 2958465)


class RowError(NamedTuple):
    """One problem: the file row (header = 1; None = the whole file), the field, the message."""

    row: int | None
    field: str
    message: str


@dataclass
class CaseImportReport:
    """What a case import found and did.

    `inserted` counts the rows written — in a dry run, the rows that would be written; `flags`
    counts the grid assignment of the new located rows (inside, near_boundary, out_of_area,
    unassigned); `needs_location` the new rows whose address geocoded too vaguely.
    """

    path: str
    dry_run: bool = False
    skip_invalid: bool = False
    encoding: str | None = None
    rows_read: int = 0
    inserted: int = 0
    unchanged: int = 0
    needs_location: int = 0
    flags: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reject_file: Path | None = None
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no row and nothing in the file has an error."""
        return not self.errors

    @property
    def file_error(self) -> bool:
        """True when the file as a whole could not be used (nothing was looked at row by row)."""
        return any(e.row is None for e in self.errors)

    @property
    def rejected(self) -> int:
        """How many rows have at least one error."""
        return len({e.row for e in self.errors if e.row is not None})

    def error(self, row: int | None, field_name: str, message: str) -> None:
        """Record a problem."""
        self.errors.append(RowError(row, field_name, message))

    def format(self) -> str:
        """The report as text: a headline, placement counts, warnings, errors, the outcome."""
        enc = f" ({self.encoding})" if self.encoding else ""
        lines = [f"{self.path}{enc}: {self.rows_read} rows read, "
                 f"{'would insert' if self.dry_run else 'inserted'} {self.inserted}, "
                 f"unchanged {self.unchanged}, rejected {self.rejected}, "
                 f"needs_location {self.needs_location}"]
        if self.flags:
            lines.append("grid assignment: " + ", ".join(
                f"{k} {v}" for k, v in sorted(self.flags.items())))
        lines += [f"warning {w}" for w in self.warnings]
        for e in self.errors:
            where = "file" if e.row is None else f"row {e.row}"
            header = self.columns.get(e.field)
            name = e.field if header in (None, e.field) else f"{e.field} ({header})"
            if name != where:
                where = f"{where} {name}"
            lines.append(f"error   {where}: {e.message}")
        if self.file_error:
            lines.append("rejected: nothing was written")
        elif self.errors and not self.skip_invalid:
            good = self.rows_read - self.unchanged - self.rejected
            lines.append(f"rejected: nothing was written ({good} good rows; fix the rows above "
                         "or use --skip-invalid to import the good ones)")
        elif self.dry_run:
            lines.append("dry run: nothing was written")
        else:
            lines.append(f"written: {self.inserted} new cases")
        if self.reject_file is not None:
            lines.append(f"rejected rows written to {self.reject_file}")
        return "\n".join(lines)


class _FileError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class _Table:
    header: list[str]
    rows: list[tuple[int, list[Any]]]   # (row number in the file, cells)
    encoding: str | None


# ---------------------------------------------------------------------------------------------
# Reading


def _decode(data: bytes) -> tuple[str, str]:
    """Text and encoding: UTF-8 (BOM or not), UTF-16 with BOM, else GB18030 (a GBK superset)."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise _FileError(f"starts with a UTF-8 BOM but byte {exc.start} is not UTF-8") from exc
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise _FileError(f"starts with a UTF-16 BOM but byte {exc.start} is not UTF-16"
                             ) from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        # Chinese Excel saves "CSV" in the ANSI code page, GBK (CP936); GB18030 contains it.
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise _FileError(f"cannot decode the file as UTF-8 or GB18030/GBK (byte {exc.start}); "
                         "save it as CSV UTF-8 or XLSX") from exc


def _read_csv(path: Path) -> _Table:
    text_, encoding = _decode(path.read_bytes())
    first = text_.split("\n", 1)[0]
    # Excel's "Unicode text" export is tab-separated.
    delimiter = "\t" if "\t" in first and "," not in first else ","
    records = list(csv.reader(io.StringIO(text_, newline=""), delimiter=delimiter))
    if not records:
        raise _FileError("the file is empty")
    return _Table([str(h) for h in records[0]],
                  [(i, list(r)) for i, r in enumerate(records[1:], start=2)], encoding)


def _read_xlsx(path: Path) -> _Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise _FileError(f"cannot read the workbook: {exc}") from exc
    try:
        if not wb.worksheets:
            raise _FileError("the workbook has no sheet")
        rows = wb.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise _FileError("the first sheet is empty")
        body = [(i, list(r)) for i, r in enumerate(rows, start=2)]
    finally:
        wb.close()
    return _Table(["" if h is None else str(h) for h in header], body, None)


def _read_table(path: Path) -> _Table:
    suffix = path.suffix.lower()
    if not path.is_file():
        raise _FileError(f"no such file: {path}")
    if suffix in (".csv", ".txt", ".tsv"):
        return _read_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix == ".xls":
        raise _FileError("the old .xls format is not read: save it as .xlsx or CSV")
    raise _FileError(f"unknown file type {suffix or '(none)'}: give a .csv or .xlsx file")


def _header_key(header: str) -> str:
    return re.sub(r"[\s*＊]", "", header.lstrip("\ufeff")).lower()


_ALIASES = {_header_key(a): canonical for canonical, aliases in COLUMNS.items() for a in aliases}


def _map_columns(header: list[str], report: CaseImportReport) -> dict[str, int]:
    """Canonical column → index; unknown columns become warnings, missing required ones errors."""
    found: dict[str, int] = {}
    for i, name in enumerate(header):
        key = _header_key(name)
        canonical = _ALIASES.get(key)
        if canonical is None:
            if key and key not in REJECT_COLUMNS:
                report.warnings.append(f"unknown column {name.strip()!r}: ignored")
            continue
        if canonical in found:
            other = header[found[canonical]].strip()
            report.error(None, canonical, f"columns {other!r} and {name.strip()!r} both give "
                         f"{canonical}: keep one")
            continue
        found[canonical] = i
        report.columns[canonical] = name.strip()

    def names(col: str) -> str:
        return "/".join(COLUMNS[col])

    for col in REQUIRED:
        if col not in found:
            report.error(None, col, f"missing required column {col} ({names(col)})")
    has_lon, has_lat = "lon" in found, "lat" in found
    if has_lon != has_lat:
        missing = "lat" if has_lon else "lon"
        report.error(None, missing, f"missing column {missing} ({names(missing)}): lon and lat "
                     "come together")
    elif not has_lon and "address" not in found:
        report.error(None, "address", f"missing column: address ({names('address')}), or lon "
                     f"and lat ({names('lon')}; {names('lat')})")
    return found


# ---------------------------------------------------------------------------------------------
# Cells → a CaseIn


def _cell_text(value: Any) -> str | None:
    """A cell as stripped text (None when empty); numbers from spreadsheets without '.0'."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    text_ = str(value).strip()
    return text_ or None


def _parse_datetime(value: Any) -> datetime:
    """A received_at cell: a spreadsheet date, an Excel serial, or text in a known format."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not _EXCEL_SERIALS[0] <= value <= _EXCEL_SERIALS[1]:
            raise ValueError(f"{value!r} is not a date")
        from openpyxl.utils.datetime import from_excel

        result = from_excel(value)
        if not isinstance(result, datetime):
            raise ValueError(f"{value!r} is not a date")
        return result
    text_ = str(value).strip()
    m = _DATE.fullmatch(text_) or _COMPACT_DATE.fullmatch(text_)
    if m is not None:
        parts = m.groupdict()
        try:
            return datetime(int(parts["y"]), int(parts["m"]), int(parts["d"]),
                            int(parts.get("H") or 0), int(parts.get("M") or 0),
                            int(parts.get("S") or 0))
        except ValueError as exc:
            raise ValueError(f"{text_!r} is not a valid date: {exc}") from exc
    try:
        return datetime.fromisoformat(text_)
    except ValueError:
        raise ValueError(f"cannot read {text_!r} as a date; use {DATE_FORMATS}") from None


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    key = (_cell_text(value) or "").lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(f"{key!r} is not 是/否, true/false or 1/0")


def _parse_channel(value: str) -> str:
    code = _CHANNELS.get(value) or _CHANNELS.get(value.lower())
    if code is None:
        known = ", ".join(f"{c} {label}" for c, label in CHANNEL_LABELS.items())
        raise ValueError(f"unknown channel {value!r}; known: {known}")
    return code


def _parse_crs(value: str) -> str:
    key = re.sub(r"[\s_\-]", "", value).lower()
    return _CRS_ALIASES.get(key, value)


def _persons(value: str) -> int | str:
    try:
        number = float(value)
    except ValueError:
        return value   # pydantic names the field and the problem
    return int(number) if number.is_integer() else value


PERSONAL_COLUMNS = ("id_number", "phone")
# Excel shows an 18-digit number as 2.10202E+17 and keeps only 15 significant digits.
_SCIENTIFIC = re.compile(r"\d(?:\.\d+)?E\+?\d+", re.IGNORECASE)


def _numeric_cell(cell: Any) -> bool:
    """Whether an ID cell went through a spreadsheet as a number (and lost digits)."""
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return True
    return isinstance(cell, str) and _SCIENTIFIC.search(cell) is not None


def _pydantic_field(loc: tuple[int | str, ...]) -> str:
    if not loc:
        return "row"
    if loc[0] == "petitioners" and len(loc) > 2 and loc[2] in PERSONAL_COLUMNS:
        return str(loc[2])
    if loc[0] == "location" and len(loc) > 1:
        return str(loc[1])
    return str(loc[0])


def _pydantic_message(err: Any) -> str:
    if err["type"] == "missing":
        return "the cell is empty but a value is required"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


@dataclass(frozen=True)
class _ValidRow:
    number: int
    case: CaseIn
    derived_id: bool


def _validate_row(number: int, cells: list[Any], columns: dict[str, int], width: int,
                  categories: CategoryIndex) -> tuple[_ValidRow | None, list[RowError]]:
    """One row → a validated case (with its external_id) or the row's errors."""
    errors: list[RowError] = []

    def raw(col: str) -> Any:
        i = columns.get(col)
        if i is None or i >= len(cells):
            return None
        v = cells[i]
        return None if isinstance(v, str) and not v.strip() else v

    def txt(col: str) -> str | None:
        return _cell_text(raw(col))

    extra = [c for c in cells[width:] if _cell_text(c) is not None]
    if extra:
        errors.append(RowError(number, "row", f"{len(cells)} cells but the header has {width} "
                               "columns (an unquoted comma?)"))
    data: dict[str, Any] = {}
    for col in ("external_id", "category", "content", "address"):
        if (value := txt(col)) is not None:
            data[col] = value
    if (value := txt("channel")) is not None:
        try:
            data["channel"] = _parse_channel(value)
        except ValueError as exc:
            errors.append(RowError(number, "channel", str(exc)))
    if (cell := raw("received_at")) is not None:
        try:
            data["received_at"] = _parse_datetime(cell)
        except ValueError as exc:
            errors.append(RowError(number, "received_at", str(exc)))
    if (value := txt("persons_count")) is not None:
        data["persons_count"] = _persons(value)
    if (value := txt("petitioners")) is not None:
        data["petitioners"] = [{"name": n.strip()} for n in _NAME_SEPARATORS.split(value)
                               if n.strip()]
    for col in PERSONAL_COLUMNS:
        if (value := txt(col)) is None:
            continue
        people = data.get("petitioners") or []
        entries = [e.strip() or None for e in _NAME_SEPARATORS.split(value)]
        if len(entries) != len(people):
            errors.append(RowError(number, col, f"{len(entries)} {col} entries for "
                                   f"{len(people)} petitioners named: give one per petitioner, "
                                   "in the same order"))
            continue
        for person, entry in zip(people, entries, strict=True):
            person[col] = entry
    if (cell := raw("via_community_agent")) is not None:
        try:
            data["via_community_agent"] = _parse_bool(cell)
        except ValueError as exc:
            errors.append(RowError(number, "via_community_agent", str(exc)))
    lon, lat = txt("lon"), txt("lat")
    location_error = False
    if lon is not None and lat is not None:
        crs = txt("crs")
        data["location"] = {"lon": lon, "lat": lat, "crs": _parse_crs(crs) if crs else "wgs84"}
    elif lon is not None or lat is not None:
        missing = "lat" if lat is None else "lon"
        errors.append(RowError(number, missing, f"{missing} is empty but "
                               f"{'lon' if missing == 'lat' else 'lat'} is given"))
        location_error = True
    case: CaseIn | None = None
    try:
        case = CaseIn.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            name = _pydantic_field(err["loc"])
            if name == "location" and location_error:
                continue   # already said which coordinate is missing
            message = _pydantic_message(err)
            if name in PERSONAL_COLUMNS and isinstance(err["loc"][1], int):
                message = f"petitioner {err['loc'][1] + 1}: {message}"
                if name == "id_number" and _numeric_cell(raw("id_number")):
                    message += " (the cell is a number, which loses digits: format the " \
                               "column as text)"
            errors.append(RowError(number, name, message))
    category: str | None = None
    if "category" in data:
        try:
            category = categories.resolve(data["category"])
        except InvalidInput as exc:
            errors.append(RowError(number, exc.field, exc.message))
    if errors or case is None or category is None:
        return None, errors
    if case.external_id:
        return _ValidRow(number, case, False), []
    derived = derive_external_id(case, category)
    return _ValidRow(number, case.model_copy(update={"external_id": derived}), True), []


def derive_external_id(case: CaseIn, category_code: str) -> str:
    """The stable id of a row without external_id: a hash of its validated content."""
    payload = case.model_dump(mode="json", exclude={
        "external_id": True, "category": True,
        "petitioners": {"__all__": set(PERSONAL_COLUMNS)}})
    payload["category"] = category_code
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return AUTO_ID_PREFIX + hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


# ---------------------------------------------------------------------------------------------
# Writing


def _existing_ids(session: Session, ids: Sequence[str]) -> set[str]:
    if not ids:
        return set()
    found = session.scalars(select(PetitionCase.external_id)
                            .where(PetitionCase.external_id.in_(list(ids))))
    return {i for i in found if i is not None}


def _row_flags(session: Session, ids: Sequence[int], outcomes: Sequence[AssignmentOutcome]
               ) -> list[tuple[str, float]]:
    """Per new case, in order: its assignment flag (or needs_location) and distance in metres."""
    by_id = {o.case_id: o for o in outcomes}
    missing = [i for i in ids if i not in by_id]
    status: dict[int, str] = {}
    if missing:
        status = {r.id: r.location_status for r in session.execute(
            select(PetitionCase.id, PetitionCase.location_status)
            .where(PetitionCase.id.in_(missing)))}
    flags: list[tuple[str, float]] = []
    for i in ids:
        if i in by_id:
            flags.append((by_id[i].flag, by_id[i].distance_m))
        else:
            # A located case the assignment left alone: there is no active grid layer.
            flags.append(("needs_location" if status.get(i) == "needs_location"
                          else "unassigned", 0.0))
    return flags


def _out_of_area_message(case: CaseIn, distance_m: float, settings: CaseSettings) -> str:
    if case.location is not None:
        where = f"lon={case.location.lon}, lat={case.location.lat} ({case.location.crs})"
    else:
        where = f"address {case.address!r} geocoded to a point that"
    return (f"{where} is {distance_m / 1000:.1f} km from the nearest grid (more than "
            f"{settings.near_boundary_m:.0f} m): outside the district")


def _place_batch(session: Session, batch: list[_ValidRow], geocoder: Geocoder | None,
                 settings: CaseSettings, categories: CategoryIndex, report: CaseImportReport,
                 *, drop_out_of_area: bool, cipher: PersonalDataCipher | None) -> None:
    """Insert and assign one batch in a savepoint; out_of_area rows become errors and, when
    `drop_out_of_area`, the batch is redone without them."""
    cases = [r.case for r in batch]
    savepoint = session.begin_nested()
    ids, outcomes = create_cases(session, cases, geocoder, settings, categories, cipher)
    flags = _row_flags(session, ids, outcomes)
    out: set[int] = set()
    for i, (flag, dist) in enumerate(flags):
        if flag == "needs_location":
            report.needs_location += 1
        else:
            report.flags[flag] = report.flags.get(flag, 0) + 1
        if flag == "out_of_area":
            out.add(i)
            report.error(batch[i].number, "location",
                         _out_of_area_message(batch[i].case, dist, settings))
    if out and drop_out_of_area:
        savepoint.rollback()
        keep = [c for i, c in enumerate(cases) if i not in out]
        if keep:
            with session.begin_nested():
                _, again = create_cases(session, keep, geocoder, settings, categories,
                                        cipher)
            if any(o.flag == "out_of_area" for o in again):
                raise RuntimeError("grid assignment changed between two runs of one batch")
    else:
        savepoint.commit()
    report.inserted += len(cases) - len(out)


def _write_rejects(path: Path, header: list[str], rows: dict[int, list[Any]],
                   errors: list[RowError]) -> Path:
    """`<name>.rejects.csv` beside the input: the original cells + row + error, UTF-8 with BOM."""
    target = path.with_name(f"{path.stem}.rejects.csv")
    by_row: dict[int, list[str]] = {}
    for e in errors:
        if e.row is not None:
            by_row.setdefault(e.row, []).append(f"{e.field}: {e.message}")
    width = len(header)
    with target.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([h.lstrip("\ufeff") for h in header] + ["row", "error"])
        for number in sorted(by_row):
            cells = rows[number]
            values = [_cell_text(c) or "" for c in cells[:width]]
            values += [""] * (width - len(values))
            writer.writerow(values + [str(number), "; ".join(by_row[number])])
    return target


def import_cases_file(session: Session, path: Path | str, *, geocoder: Geocoder | None,
                      settings: CaseSettings, dry_run: bool = False, skip_invalid: bool = False,
                      progress: bool = False, batch_size: int = BATCH_SIZE,
                      cipher: PersonalDataCipher | None = None) -> CaseImportReport:
    """Import a CSV/XLSX file of cases: all rows or nothing (skip_invalid: the good rows and a
    reject file). The caller commits when the report is ok (or with skip_invalid), else rolls
    back; a dry run leaves nothing to commit. `cipher` encrypts ID and phone numbers; a file
    with those columns is refused without it."""
    path = Path(path)
    report = CaseImportReport(path=str(path), dry_run=dry_run, skip_invalid=skip_invalid)
    try:
        table = _read_table(path)
    except _FileError as exc:
        report.error(None, "file", exc.message)
        return report
    report.encoding = table.encoding
    columns = _map_columns(table.header, report)
    if cipher is None:
        for col in PERSONAL_COLUMNS:
            if col in columns:
                report.error(None, col, f"column {report.columns[col]!r} holds personal "
                             "numbers, which are stored only encrypted, but no data key was "
                             "given: configure GRIDMAP_DATA_KEY or GRIDMAP_DATA_KEY_FILE")
    if not report.ok:
        return report
    categories = CategoryIndex.load(session)
    if not categories.by_key:
        report.error(None, "category", "no categories in the database: load the reference "
                     "data first")
        return report
    # Two imports at once would both see an external_id as new; the second waits instead.
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('gridmap.case_import'))"))

    rows = [(n, cells) for n, cells in table.rows if any(_cell_text(c) for c in cells)]
    report.rows_read = len(rows)
    width = len(table.header)
    seen: dict[str, int] = {}
    outer = session.begin_nested()
    bar = tqdm(total=len(rows), desc="import", unit="row", file=sys.stderr, leave=False,
               disable=not (progress and sys.stderr.isatty()))
    try:
        for start in range(0, len(rows), batch_size):
            chunk = rows[start:start + batch_size]
            valid: list[_ValidRow] = []
            for number, cells in chunk:
                row, problems = _validate_row(number, cells, columns, width, categories)
                report.errors += problems
                if row is None:
                    continue
                ext = row.case.external_id or ""
                first = seen.get(ext)
                if first is not None:
                    message = (f"same content as row {first} and no external_id: a duplicate?"
                               " give each row its own external_id" if row.derived_id
                               else f"duplicate external_id {ext!r}: already on row {first}")
                    report.error(number, "external_id", message)
                    continue
                seen[ext] = number
                valid.append(row)
            existing = _existing_ids(session, [r.case.external_id or "" for r in valid])
            new = [r for r in valid if r.case.external_id not in existing]
            report.unchanged += len(valid) - len(new)
            if new:
                _place_batch(session, new, geocoder, settings, categories, report,
                             drop_out_of_area=skip_invalid and not dry_run, cipher=cipher)
            bar.update(len(chunk))
    except BaseException:
        outer.rollback()
        raise
    finally:
        bar.close()
    report.errors.sort(key=lambda e: e.row or 0)
    if report.errors and not skip_invalid:
        report.inserted = 0
    if dry_run or (report.errors and not skip_invalid):
        outer.rollback()
    else:
        outer.commit()
    if report.flags.get("unassigned"):
        report.warnings.append(f"{report.flags['unassigned']} located cases were not assigned "
                               "to a grid: is there an active grid generation?")
    if skip_invalid and not dry_run and report.rejected:
        report.reject_file = _write_rejects(path, table.header, dict(rows), report.errors)
    return report
