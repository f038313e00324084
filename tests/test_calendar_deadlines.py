"""Tests of geo.workflow.calendar and .deadlines: every expected date is counted by hand.

Counting: day 1 is the day after the start (民法典 Art. 201); a last day that is a rest day
moves to the next working day (Art. 203); working-day limits skip rest days and count 调休
weekends.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from geo.errors import GridmapError
from geo.workflow.calendar import CalendarDataInvalid, CalendarYearMissing, HolidayCalendar
from geo.workflow.deadlines import RULES, compute_deadline, warning_band

YEARS = tuple(range(2020, 2028))


@pytest.fixture(scope="module")
def cal() -> HolidayCalendar:
    return HolidayCalendar.load()


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    text = resources.files("geo").joinpath("data", "holidays_cn.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


# --- National Day 2020: 10/1–10/8 off, Sun 9/27 and Sat 10/10 worked -----------------------------

def test_national_day_2020_fifteen_days_from_sep_25_end_on_the_working_saturday(
        cal: HolidayCalendar) -> None:
    # 9/25 + 15 = Sat 10/10, a 调休 working day: the deadline stays there.
    assert compute_deadline(date(2020, 9, 25), "routing", cal).due == date(2020, 10, 10)


def test_national_day_2020_start_inside_the_holiday_counts_calendar_days_through_it(
        cal: HolidayCalendar) -> None:
    # 10/5 + 15 = Tue 10/20; the holiday days after the start count like any other day.
    assert cal.add_days(date(2020, 10, 5), 15) == date(2020, 10, 20)


# --- Spring Festival 2021: 2/11–2/17 off, Sun 2/7 and Sat 2/20 worked ----------------------------

def test_spring_festival_2021_deadline_on_the_working_sunday_feb_7_stays(
        cal: HolidayCalendar) -> None:
    assert cal.is_working_day(date(2021, 2, 7))
    assert cal.add_days(date(2021, 1, 23), 15) == date(2021, 2, 7)


def test_spring_festival_2021_deadline_on_the_first_holiday_moves_past_the_week(
        cal: HolidayCalendar) -> None:
    # 1/27 + 15 = Thu 2/11, first day off; the holiday ends 2/17, so Thu 2/18.
    assert cal.add_days(date(2021, 1, 27), 15) == date(2021, 2, 18)


def test_spring_festival_2021_working_days_count_feb_7_and_feb_20(cal: HolidayCalendar) -> None:
    # From Fri 2/5: Sun 2/7 (1), 2/8 (2), 2/9 (3), 2/10 (4), [2/11–2/17 off], 2/18 (5), 2/19 (6),
    # Sat 2/20 (7).
    assert cal.add_working_days(date(2021, 2, 5), 7) == date(2021, 2, 20)


# --- 2020 Spring Festival extended to 2/2 (国办发明电〔2020〕1号) ---------------------------------

def test_covid_extension_makes_feb_1_2020_a_rest_day(cal: HolidayCalendar) -> None:
    assert cal.is_rest_day(date(2020, 2, 1))  # was to be a 调休 working Saturday
    assert cal.holiday_name(date(2020, 2, 1)) == "春节"
    assert cal.is_working_day(date(2020, 1, 19))  # the earlier 调休 Sunday stays worked
    # 1/17 + 15 = Sat 2/1, now off; 2/2 is off too, so Mon 2/3.
    assert cal.add_days(date(2020, 1, 17), 15) == date(2020, 2, 3)


# --- the 5-working-day objection window ----------------------------------------------------------

def test_objection_window_across_national_day_2023(cal: HolidayCalendar) -> None:
    # From Wed 9/27: Thu 9/28 (1), [9/29–10/6 off], Sat 10/7 (2), Sun 10/8 (3), 10/9 (4), 10/10 (5).
    deadline = compute_deadline(date(2023, 9, 27), "objection", cal)
    assert (deadline.due, deadline.days, deadline.working_days) == (date(2023, 10, 10), 5, True)


def test_objection_window_counts_a_working_saturday(cal: HolidayCalendar) -> None:
    # From Wed 2024-05-08: 5/9 (1), 5/10 (2), Sat 5/11 调休 (3), [Sun 5/12 off], 5/13 (4), 5/14 (5).
    assert compute_deadline(date(2024, 5, 8), "objection", cal).due == date(2024, 5, 14)


def test_working_day_one_is_the_first_working_day_after_a_rest_day_start(
        cal: HolidayCalendar) -> None:
    # Received Sun 2023-03-05: Mon 3/6 is day 1 (not day 0), Fri 3/10 is day 5.
    assert cal.add_working_days(date(2023, 3, 5), 1) == date(2023, 3, 6)
    assert cal.add_working_days(date(2023, 3, 5), 5) == date(2023, 3, 10)


def test_working_days_from_a_holiday_start(cal: HolidayCalendar) -> None:
    # Received Sat 2024-10-05 (国庆): 10/8 (1), 10/9 (2), 10/10 (3), 10/11 (4), Sat 10/12 调休 (5).
    assert cal.add_working_days(date(2024, 10, 5), 5) == date(2024, 10, 12)


# --- Art. 203: a last day on a rest day moves ----------------------------------------------------

def test_deadline_on_a_sunday_moves_to_monday(cal: HolidayCalendar) -> None:
    # Sat 2024-03-02 + 15 = Sun 3/17 -> Mon 3/18.
    assert cal.add_days(date(2024, 3, 2), 15) == date(2024, 3, 18)


def test_deadline_on_the_last_day_of_a_holiday_moves_to_the_next_working_day(
        cal: HolidayCalendar) -> None:
    # 2020-09-23 + 15 = Thu 10/8, the last day of 国庆+中秋 -> Fri 10/9.
    assert cal.add_days(date(2020, 9, 23), 15) == date(2020, 10, 9)


def test_deadline_inside_a_holiday_moves_to_a_working_saturday(cal: HolidayCalendar) -> None:
    # 2023-09-15 + 15 = Sat 9/30, in 中秋+国庆 (9/29–10/6) -> Sat 10/7, a 调休 working day.
    assert cal.add_days(date(2023, 9, 15), 15) == date(2023, 10, 7)


def test_handling_60_days_ending_on_national_day(cal: HolidayCalendar) -> None:
    # Accepted 2024-08-02: 8/2 + 60 = 10/1 -> 10/8, the first working day after 10/1–10/7.
    deadline = compute_deadline(date(2024, 8, 2), "handling", cal)
    assert (deadline.due, deadline.days, deadline.statutory) == (date(2024, 10, 8), 60, True)


# --- 元旦 2023 began on 2022-12-31 ----------------------------------------------------------------

def test_new_year_2023_holiday_crosses_into_2022(cal: HolidayCalendar) -> None:
    assert cal.holiday_name(date(2022, 12, 31)) == "元旦"
    assert cal.is_rest_day(date(2023, 1, 2))  # a Monday
    # 2022-12-17 + 15 = Sun 2023-01-01 -> Tue 1/3; from Fri 12/30, working day 1 is Tue 1/3.
    assert cal.add_days(date(2022, 12, 17), 15) == date(2023, 1, 3)
    assert cal.add_working_days(date(2022, 12, 30), 1) == date(2023, 1, 3)


# --- missing years are errors, never a guess from weekends ----------------------------------------

def test_missing_year_2028_raises_naming_the_year(cal: HolidayCalendar) -> None:
    with pytest.raises(CalendarYearMissing) as caught:
        cal.is_rest_day(date(2028, 1, 4))
    assert caught.value.year == 2028
    assert "2028" in str(caught.value)
    assert "geo/data/holidays_cn.json" in str(caught.value)
    assert isinstance(caught.value, GridmapError)


def test_missing_year_2019_raises_naming_the_year(cal: HolidayCalendar) -> None:
    with pytest.raises(CalendarYearMissing, match="2019"):
        cal.is_working_day(date(2019, 12, 31))


def test_deadline_running_into_2028_raises(cal: HolidayCalendar) -> None:
    # 2027-12-25 + 15 = 2028-01-09: its status is unknown until the 2028 notice is added.
    with pytest.raises(CalendarYearMissing, match="2028"):
        compute_deadline(date(2027, 12, 25), "routing", cal)


def test_calendar_years_are_2020_to_2027_with_2027_provisional(cal: HolidayCalendar) -> None:
    assert cal.years == YEARS
    assert cal.provisional == frozenset({2027})


def test_provisional_2027_counts_statutory_days_and_says_so(cal: HolidayCalendar) -> None:
    # 2027-01-22 + 15 = Sat 02-06 (春节) → rest through Mon 02-08 (初三) → Tue 02-09: the
    # statutory days only; the 2027 notice may add 调休 days and move it again.
    d = compute_deadline(date(2027, 1, 22), "routing", cal)
    assert d.due == date(2027, 2, 9)
    assert "暂定：2027年放假安排通知尚未收录" in d.basis
    assert cal.holiday_name(date(2027, 2, 5)) == "春节"          # 除夕 (statutory since 2025)
    assert cal.is_working_day(date(2027, 10, 4))                # 10-04 Mon: no 调休 known yet
    # A limit that stays inside a noticed year carries no such remark.
    assert "暂定" not in compute_deadline(date(2026, 5, 6), "routing", cal).basis
    # A limit from late 2026 into 2027 is counted (no longer a 503) and says it is provisional.
    assert "暂定" in compute_deadline(date(2026, 11, 25), "handling", cal).basis


# --- warning bands around due date T -------------------------------------------------------------

@pytest.mark.parametrize(("today", "band"), [
    (date(2024, 5, 16), "green"),   # T-4
    (date(2024, 5, 17), "yellow"),  # T-3
    (date(2024, 5, 18), "yellow"),  # T-2
    (date(2024, 5, 19), "orange"),  # T-1
    (date(2024, 5, 20), "orange"),  # T: still in time
    (date(2024, 5, 21), "red"),     # T+1: overdue
])
def test_warning_band(today: date, band: str) -> None:
    assert warning_band(date(2024, 5, 20), today) == band


# --- compute_deadline ----------------------------------------------------------------------------

def test_extension_over_30_days_is_refused_naming_the_maximum(cal: HolidayCalendar) -> None:
    with pytest.raises(ValueError, match="at most 30"):
        compute_deadline(date(2024, 7, 1), "extension", cal, days=31)


def test_approved_extension_of_20_days(cal: HolidayCalendar) -> None:
    # Mon 2024-07-01 + 20 = Sun 7/21 -> Mon 7/22.
    deadline = compute_deadline(date(2024, 7, 1), "extension", cal, days=20)
    assert (deadline.rule, deadline.due, deadline.days) == ("extension", date(2024, 7, 22), 20)


def test_datetime_start_is_taken_in_china_time(cal: HolidayCalendar) -> None:
    # 2024-09-30 17:00 UTC is 10/1 01:00 in China: 10/1 + 15 = Wed 10/16 (not 9/30 + 15).
    received = datetime(2024, 9, 30, 17, 0, tzinfo=UTC)
    deadline = compute_deadline(received, "acceptance_notice", cal)
    assert (deadline.start, deadline.due) == (date(2024, 10, 1), date(2024, 10, 16))


def test_local_target_is_not_statutory_and_cites_its_basis(cal: HolidayCalendar) -> None:
    deadline = compute_deadline(date(2024, 3, 4), "local_close", cal)
    # Mon 3/4 + 15 = Tue 3/19.
    assert (deadline.due, deadline.statutory) == (date(2024, 3, 19), False)
    assert "DESIGN.md" in deadline.basis


def test_unknown_rule_is_refused(cal: HolidayCalendar) -> None:
    with pytest.raises(ValueError, match="unknown deadline rule"):
        compute_deadline(date(2024, 3, 4), "appeal", cal)


def test_every_rule_has_a_chinese_label_and_a_basis() -> None:
    assert set(RULES) == {
        "routing", "acceptance_notice", "objection", "handling", "extension", "review_request",
        "review_decision", "rereview_request", "rereview_decision", "local_close",
        "mediation_confirmation"}
    for code, rule in RULES.items():
        assert rule.code == code and rule.label and rule.basis and rule.days > 0
    assert [c for c, r in RULES.items() if r.working_days] == ["objection"]


def test_a_datetime_is_refused_by_the_calendar(cal: HolidayCalendar) -> None:
    with pytest.raises(TypeError):
        cal.is_rest_day(datetime(2024, 10, 1, 9, 0))


# --- the data file --------------------------------------------------------------------------------

def test_every_year_2020_to_2026_has_its_notice(raw: dict[str, Any]) -> None:
    assert tuple(int(y) for y in raw["years"]) == YEARS
    for year, entry in raw["years"].items():
        if entry.get("provisional"):
            assert year == "2027" and "暂定" in entry["provisional_note"]
            assert entry["source"][0]["title"] == "全国年节及纪念日放假办法"
            continue
        notice = entry["source"][0]
        assert notice["title"] == f"国务院办公厅关于{year}年部分节假日安排的通知"
        assert notice["document_number"].startswith("国办发明电〔")
        assert date.fromisoformat(notice["published"]).year == int(year) - 1
    assert raw["rules"] and raw["note"] and raw["years_missing_reason"]


def test_no_date_is_both_holiday_and_workday_and_workdays_are_weekends(
        raw: dict[str, Any]) -> None:
    for entry in raw["years"].values():
        holidays = {date.fromisoformat(h["date"]) for h in entry["holidays"]}
        workdays = {date.fromisoformat(w["date"]) for w in entry["workdays"]}
        assert not holidays & workdays
        assert all(d.weekday() >= 5 for d in workdays)


def test_holiday_counts_per_year(raw: dict[str, Any]) -> None:
    # Days off / 调休 working days per notice, counted from the notices' periods.
    expected = {"2020": (30, 6), "2021": (31, 7), "2022": (31, 7), "2023": (27, 7),
                "2024": (28, 8), "2025": (28, 5), "2026": (33, 6), "2027": (13, 0)}
    counts = {y: (len(e["holidays"]), len(e["workdays"])) for y, e in raw["years"].items()}
    assert counts == expected


def test_statutory_days_follow_the_holiday_measures(raw: dict[str, Any]) -> None:
    # 11 days under the 2013 measures (2020: 中秋 fell on 10/1, so 10 dates); 13 from 2025, when
    # 除夕 and 5月2日 were added (国务院令第795号).
    counts = {y: sum(1 for h in e["holidays"] if h.get("statutory"))
              for y, e in raw["years"].items()}
    assert counts == {"2020": 10, "2021": 11, "2022": 11, "2023": 11, "2024": 11, "2025": 13,
                      "2026": 13, "2027": 13}
    stat_2025 = {h["date"] for h in raw["years"]["2025"]["holidays"] if h.get("statutory")}
    assert {"2025-01-28", "2025-05-02"} <= stat_2025  # 除夕, 5月2日


def test_loader_refuses_a_day_that_is_both_holiday_and_workday(tmp_path: Path) -> None:
    bad = {"years": {"2024": {
        "source": [{"title": "t"}],
        "holidays": [{"date": "2024-02-18", "name": "春节"}],
        "workdays": [{"date": "2024-02-18", "name": "春节"}]}}}
    path = tmp_path / "holidays.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(CalendarDataInvalid, match="2024-02-18"):
        HolidayCalendar.load(path)


def test_loader_refuses_a_weekday_workday(tmp_path: Path) -> None:
    bad = {"years": {"2024": {"source": [{"title": "t"}], "holidays": [],
                              "workdays": [{"date": "2024-02-19", "name": "春节"}]}}}
    path = tmp_path / "holidays.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(CalendarDataInvalid, match="not a Saturday or Sunday"):
        HolidayCalendar.load(path)
