"""Time limits of a petition case (交办, 受理告知, 办理, 复查, 复核…) and a due date's warning band.

Limits are DESIGN.md's; where it is silent (what each limit counts from, the review and re-review
limits, judicial confirmation of a mediation agreement) this follows the 信访工作条例 (2022) and
the 人民调解法, and each rule carries its basis. The article numbers are cited as best known:
check them against the official text before quoting them to a petitioner. Counting follows
HolidayCalendar (民法典 Art. 201, 203). Local targets (statutory=False) and statutory limits are
separate deadlines, so a case can be locally overdue while still within the statutory limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from geo.cases.schema import CHINA_TZ
from geo.workflow.calendar import HolidayCalendar

Band = Literal["green", "yellow", "orange", "red"]
YELLOW_FROM = 3  # days before the due date
ORANGE_FROM = 1


@dataclass(frozen=True)
class DeadlineRule:
    """One time limit: how many (working) days, counted from which event, and on what basis."""

    code: str
    label: str
    days: int             # the limit, and the most that a `days` override may ask for
    working_days: bool    # True: weekends and holidays skipped; False: calendar days
    basis: str
    statutory: bool       # False: a local target, tracked apart from the statutory limit
    counts_from: str


@dataclass(frozen=True)
class Deadline:
    """A computed due date and the rule that made it (stored with the case as is)."""

    rule: str
    start: date
    due: date
    days: int
    working_days: bool
    basis: str
    statutory: bool


_REGULATION = "《信访工作条例》（2022年）"

RULES: dict[str, DeadlineRule] = {rule.code: rule for rule in (
    DeadlineRule(
        "routing", "交办", 15, False,
        f"{_REGULATION}第二十一条：信访部门收到信访事项，应当予以登记，并区分情况，"
        "在15日内分别按照转送、交办等方式处理", True, "收到信访事项之日"),
    DeadlineRule(
        "acceptance_notice", "受理告知", 15, False,
        f"{_REGULATION}第二十二条：不能当场告知的，应当自收到信访事项之日起15日内书面告知信访人",
        True, "收到信访事项之日"),
    DeadlineRule(
        "objection", "异议", 5, True,
        "本地规程（DESIGN.md）：承办单位认为转送、交办的信访事项不属于本单位职权范围的，"
        "自收到之日起5个工作日内提出异议并说明理由", False, "收到转送、交办之日"),
    DeadlineRule(
        "handling", "办理", 60, False,
        f"{_REGULATION}第三十四条：信访事项应当自受理之日起60日内办结", True, "受理之日"),
    DeadlineRule(
        "extension", "延期", 30, False,
        f"{_REGULATION}第三十四条：情况复杂的，经本机关、单位负责人批准，可以适当延长办理期限，"
        "但延长期限不得超过30日，并告知信访人延期理由", True, "原办理期限届满之日"),
    DeadlineRule(
        "review_request", "复查申请", 30, False,
        f"{_REGULATION}第三十五条：信访人对信访处理意见不服的，可以自收到书面答复之日起30日内"
        "请求原办理机关、单位的上一级机关、单位复查", True, "信访人收到书面答复之日"),
    DeadlineRule(
        "review_decision", "复查决定", 30, False,
        f"{_REGULATION}第三十五条：收到复查请求的机关、单位应当自收到复查请求之日起30日内"
        "提出复查意见，并予以书面答复", True, "收到复查请求之日"),
    DeadlineRule(
        "rereview_request", "复核申请", 30, False,
        f"{_REGULATION}第三十六条：信访人对复查意见不服的，可以自收到书面答复之日起30日内"
        "向复查机关、单位的上一级机关、单位请求复核", True, "信访人收到复查意见之日"),
    DeadlineRule(
        "rereview_decision", "复核决定", 30, False,
        f"{_REGULATION}第三十六条：收到复核请求的机关、单位应当自收到复核请求之日起30日内"
        "提出复核意见", True, "收到复核请求之日"),
    DeadlineRule(
        "local_close", "本地目标", 15, False,
        "本地目标（DESIGN.md）：一般信访事项自收到之日起15日内办结；非法定期限，"
        "逾期单独统计", False, "收到信访事项之日"),
    DeadlineRule(
        "mediation_confirmation", "司法确认", 30, False,
        "《中华人民共和国人民调解法》第三十三条：双方当事人认为有必要的，可以自调解协议生效之日起"
        "三十日内共同向人民法院申请司法确认", True, "调解协议生效之日"),
)}


def china_date(value: date | datetime) -> date:
    """The calendar day in China of a date or datetime (a naive datetime is China time)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(CHINA_TZ)
        return value.date()
    return value


def compute_deadline(start: date | datetime, rule_code: str, calendar: HolidayCalendar,
                     days: int | None = None) -> Deadline:
    """Due date of `rule_code` counted from `start`; `days` may shorten it (an extension)."""
    rule = RULES.get(rule_code)
    if rule is None:
        raise ValueError(f"unknown deadline rule {rule_code!r}; known: {', '.join(RULES)}")
    count = rule.days if days is None else days
    if count > rule.days:
        raise ValueError(f"{rule.code} ({rule.label}) allows at most {rule.days} "
                         f"{'working days' if rule.working_days else 'days'}, got {count}")
    if count < 1:
        raise ValueError(f"{rule.code} ({rule.label}) needs at least 1 day, got {count}")
    day = china_date(start)
    due = (calendar.add_working_days(day, count) if rule.working_days
           else calendar.add_days(day, count))
    basis = rule.basis
    for year in sorted(set(range(day.year, due.year + 1)) & calendar.provisional):
        basis += (f"；暂定：{year}年放假安排通知尚未收录，按法定节日本日计算（不含调休），"
                  "通知发布后须重算")
    return Deadline(rule=rule.code, start=day, due=due, days=count,
                    working_days=rule.working_days, basis=basis, statutory=rule.statutory)


def warning_band(due: date, today: date) -> Band:
    """green, yellow (T−3…T−2), orange (T−1 and T itself) or red (after T), in calendar days.

    With T the due date: T−4 and earlier green; T−3 and T−2 yellow; T−1 and T orange (the due
    day is still in time); T+1 and later red. Calendar days, not working days, so a limit that
    ends on a Monday turns yellow on the Friday before.
    """
    left = (due - today).days
    if left < 0:
        return "red"
    if left <= ORANGE_FROM:
        return "orange"
    if left <= YELLOW_FROM:
        return "yellow"
    return "green"
