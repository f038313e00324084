"""China's rest days (public holidays, weekends, 调休 working weekends) and day counting on them.

The data is geo/data/holidays_cn.json, one State Council General Office notice per year
(国务院办公厅关于20XX年部分节假日安排的通知). Counting follows the Civil Code: a limit in days
starts the day after the start date (民法典 第二百零一条), and a limit whose last day is a rest day
ends on the next working day (第二百零三条). A date in a year the file lacks raises
CalendarYearMissing: weekends alone would silently get Spring Festival and National Day wrong.

A year marked `provisional` (2027, whose notice was not yet available) lists only the statutory
festival days of the 全国年节及纪念日放假办法 — no 调休 — so limits through it are a lower bound
of what the notice will give; every deadline counted through such a year says so in its basis
(geo.workflow.deadlines) until the notice replaces the year.

Caveat: a notice can change the last days of December of the year before (the 2023 notice made
2022-12-31 a holiday), so those dates in the file's last year are provisional until the next
notice is added.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from geo.errors import GridmapError

DATA_FILE = "holidays_cn.json"
ONE_DAY = timedelta(days=1)


class CalendarYearMissing(GridmapError):
    """A date falls in a year whose State Council holiday notice is not in the calendar file."""

    def __init__(self, year: int) -> None:
        super().__init__(
            f"the holiday calendar has no {year}: add the State Council notice "
            f"国务院办公厅关于{year}年部分节假日安排的通知 to geo/data/holidays_cn.json")
        self.year = year


class CalendarDataInvalid(GridmapError):
    """The holiday file is malformed or contradicts itself; the message names the entry."""


def _parse_day(raw: Any, where: str) -> date:
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise CalendarDataInvalid(f"{where}: {raw!r} is not a YYYY-MM-DD date") from None


def _named_days(entries: Any, year: int, kind: str) -> dict[date, str]:
    if not isinstance(entries, list):
        raise CalendarDataInvalid(f"{year}: {kind} must be a list")
    days: dict[date, str] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            raise CalendarDataInvalid(f"{year} {kind}: {entry!r} is not a {{date, name}} entry")
        day = _parse_day(entry.get("date"), f"{year} {kind}")
        # A notice may reach into the December before (元旦 2023 began 2022-12-31), never further.
        if day.year not in (year - 1, year):
            raise CalendarDataInvalid(f"{year} {kind}: {day} is outside the notice's year")
        if day in days:
            raise CalendarDataInvalid(f"{year} {kind}: {day} is listed twice")
        days[day] = str(entry.get("name", ""))
    return days


def _check_day(d: date) -> date:
    # A datetime is a date subclass but never equals one: it would miss every holiday silently.
    if isinstance(d, datetime):
        raise TypeError("pass a date in China time, not a datetime")
    return d


@dataclass(frozen=True, eq=False)
class HolidayCalendar:
    """Declared holidays and 调休 working weekends for the years whose notice is on file."""

    holidays: dict[date, str]
    workdays: dict[date, str]
    sources: dict[int, tuple[dict[str, Any], ...]]
    provisional: frozenset[int] = frozenset()

    @classmethod
    def load(cls, path: str | Path | None = None) -> HolidayCalendar:
        """Read and check the calendar file (default: the packaged geo/data/holidays_cn.json)."""
        if path is None:
            text = resources.files("geo").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        return cls.from_json(json.loads(text))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HolidayCalendar:
        """Build a calendar from the parsed file, refusing contradictory or unsourced years."""
        years = data.get("years")
        if not isinstance(years, dict) or not years:
            raise CalendarDataInvalid("the calendar file has no years")
        holidays: dict[date, str] = {}
        workdays: dict[date, str] = {}
        sources: dict[int, tuple[dict[str, Any], ...]] = {}
        provisional: set[int] = set()
        for key, entry in years.items():
            try:
                year = int(key)
            except ValueError:
                raise CalendarDataInvalid(f"{key!r} is not a year") from None
            if not isinstance(entry, dict):
                raise CalendarDataInvalid(f"{year}: expected {{source, holidays, workdays}}")
            source = entry.get("source")
            if not source or not all(isinstance(s, dict) and s.get("title") for s in source):
                raise CalendarDataInvalid(f"{year}: every year needs its notice in source")
            rest = _named_days(entry.get("holidays"), year, "holidays")
            work = _named_days(entry.get("workdays"), year, "workdays")
            for day in work:
                if day.weekday() < 5:
                    raise CalendarDataInvalid(f"{year} workdays: {day} is not a Saturday or Sunday")
            both = sorted(rest.keys() & work.keys())
            if both:
                raise CalendarDataInvalid(f"{year}: {both[0]} is both a holiday and a workday")
            again = sorted((rest.keys() | work.keys()) & (holidays.keys() | workdays.keys()))
            if again:
                raise CalendarDataInvalid(f"{year}: {again[0]} is already listed by another year")
            holidays.update(rest)
            workdays.update(work)
            sources[year] = tuple(source)
            if entry.get("provisional") is True:
                if not entry.get("provisional_note"):
                    raise CalendarDataInvalid(f"{year}: a provisional year must say why")
                provisional.add(year)
        return cls(holidays=holidays, workdays=workdays, sources=sources,
                   provisional=frozenset(provisional))

    @property
    def years(self) -> tuple[int, ...]:
        """The years whose notice is on file, in order."""
        return tuple(sorted(self.sources))

    def _require(self, d: date) -> date:
        _check_day(d)
        if d.year not in self.sources:
            raise CalendarYearMissing(d.year)
        return d

    def holiday_name(self, d: date) -> str | None:
        """The festival a declared holiday belongs to (春节, 国庆节…), None on any other day."""
        return self.holidays.get(self._require(d))

    def is_rest_day(self, d: date) -> bool:
        """A declared holiday, or a Saturday/Sunday that is not a 调休 working day."""
        self._require(d)
        if d in self.holidays:
            return True
        if d in self.workdays:
            return False
        return d.weekday() >= 5

    def is_working_day(self, d: date) -> bool:
        """Monday to Friday outside holidays, or a 调休 working Saturday/Sunday."""
        return not self.is_rest_day(d)

    def next_working_day(self, d: date) -> date:
        """d itself if it is a working day, else the first working day after it."""
        while self.is_rest_day(d):
            d += ONE_DAY
        return d

    def add_days(self, start: date, days: int) -> date:
        """Last day of a limit of `days` calendar days from `start` (民法典 Art. 201, 203)."""
        _check_day(start)
        if days < 1:
            raise ValueError(f"a time limit needs at least 1 day, got {days}")
        # Art. 201: the start day is not counted, so day 1 is start + 1 and day N is start + N.
        # Art. 203: a last day that is a rest day gives way to the day after the rest ends.
        return self.next_working_day(start + timedelta(days=days))

    def add_working_days(self, start: date, days: int) -> date:
        """Last day of a limit of `days` working days from `start`; 调休 weekends count."""
        _check_day(start)
        if days < 1:
            raise ValueError(f"a time limit needs at least 1 working day, got {days}")
        # Day 1 is the first working day strictly after start, whatever start is: a case that
        # arrives on a Sunday gets Monday as day 1, not as day 0.
        d, counted = start, 0
        while counted < days:
            d += ONE_DAY
            if self.is_working_day(d):
                counted += 1
        return d
