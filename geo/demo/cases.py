"""A generated (示意) year of petition cases for the demo district, at the reference district's
scale, loaded through the same intake path as real cases.

The numbers are the ones the Legal Daily report gives for 中山区 in 2020: 2,841 cases (案次)
from 3,281 person-visits (人次), 1,756 of them handled through community agents. Everything
else — who, what, where, when — is drawn with a seeded generator, so the same seed and the same
gazetteer give the same year. The report's three stories are planted as real clusters:

- 华联宾馆地块 (旧城区改造, 120余户 动迁户 not yet 回迁; the plot was sold in February 2020 and
  the households were resettled about half a year later): many repeat petitions by the same
  households and collective visits, tapering off after the summer;
- 大连市台秤厂 (停产, wages, 公积金 and 保险 owed since 2008): repeat and collective labour cases;
- a new residential complex (人车不分流, 绿化率未到60%): housing and property complaints by
  many owners.

Content is composed from templates per category; it names generated places and people only,
never a real person, and the one real enterprise it names is described as the report describes
it. Every loaded case carries ``properties.demo = true`` and ``properties.approximate = true``.

Petitioners get FAKE ID numbers (region 210202, a birth date that makes them 18-80, a valid
check digit) and FAKE 138… mobile numbers, drawn from a second generator so the year itself
does not depend on them; a person who petitions again (a household of 华联宾馆地块, a worker of
台秤厂, a background repeater) is the same person with the same numbers, so their keyed hashes
match. They are loaded only with a cipher: encrypted like real ones.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from geo import crs as gcrs
from geo.cases.intake import create_cases
from geo.cases.reference import CategoryIndex, load_reference_data
from geo.cases.schema import CHINA_TZ, CaseIn, Channel, LocationIn, PetitionerIn
from geo.demo.people import demo_name
from geo.errors import GridmapError, InvalidInput
from geo.geocode.base import Geocoder
from geo.models import Area, BoundaryGeneration, GazetteerEntry, PetitionCase
from geo.privacy.crypto import PersonalDataCipher
from geo.privacy.validate import id_check_char
from geo.settings import CaseSettings

DEFAULT_CASE_SEED = 20200101
# The reference district's 2020 (法治日报, 2021-03-23): 2841 案次, 3281 人次, 1756 社区代理.
REFERENCE_CASES = 2841
REFERENCE_PERSONS = 3281
REFERENCE_AGENT_CASES = 1756
COLLECTIVE_MIN = 5          # DESIGN.md: collective = at least 5 persons
BATCH_SIZE = 500
EXTERNAL_PREFIX = "DEMO"
DEMO_REGION = "210202"      # 中山区's code: where the demo's petitioners are registered

# Category shares (%): relocation, housing, property and labour dominate an old inner-city
# district; 检举控告 is rare (and restricted).
CATEGORY_SHARES = {
    "property": 18.0, "housing": 17.0, "relocation": 13.0, "labour": 12.0, "urban": 8.0,
    "civil": 7.0, "market": 5.0, "environment": 5.0, "legal": 4.0, "education": 3.0,
    "health": 3.0, "transport": 3.0, "other": 1.5, "accusation": 0.5,
}
CHANNELS = ("letter", "visit", "phone", "online", "patrol", "platform")
# How each category tends to arrive (weights over CHANNELS): 违建, 噪声 and 物业 are what a grid
# worker sees on patrol; 涉法涉诉 and 检举控告 come by letter or in person; markets by 12345.
CHANNEL_AFFINITY: dict[str, tuple[float, ...]] = {
    "housing":     (8, 28, 14, 20, 8, 22),
    "property":    (4, 20, 16, 16, 20, 24),
    "relocation":  (12, 45, 12, 14, 4, 13),
    "labour":      (8, 40, 16, 16, 4, 16),
    "urban":       (3, 10, 14, 12, 35, 26),
    "market":      (4, 12, 22, 24, 6, 32),
    "environment": (4, 10, 16, 16, 30, 24),
    "civil":       (10, 34, 14, 10, 20, 12),
    "legal":       (30, 44, 6, 14, 0, 6),
    "accusation":  (55, 15, 5, 25, 0, 0),
    "education":   (8, 20, 18, 24, 2, 28),
    "health":      (6, 20, 20, 24, 4, 26),
    "transport":   (4, 12, 18, 24, 12, 30),
    "other":       (10, 30, 16, 16, 12, 16),
}
# Propensity to be handled through a community agent (社区代理): what the grid worker brings
# in or the resident brings to the 居委会, rather than letters to the district.
AGENT_CHANNEL = {"patrol": 8.0, "visit": 3.0, "phone": 2.5, "platform": 2.5, "online": 1.2,
                 "letter": 0.6}
AGENT_CATEGORY = {"accusation": 0.0, "legal": 0.3}

# Where background cases are written down (shares of non-patrol cases): matters of a home are
# given by 小区 or house number; matters of the street also by a landmark.
HOME_CATEGORIES = {"housing", "property", "relocation", "civil", "legal", "accusation"}
ADDRESS_KIND_SHARES = {
    "home": {"building": 0.68, "road": 0.32},
    "street": {"building": 0.36, "road": 0.34, "landmark": 0.30},
}
# Background relocation cases about the gazetteer's other relocation projects (征收 phase).
OTHER_RELOCATION_SHARE = 0.25
COMMUNITY_ONLY_SHARE = 0.008   # "某某社区" and nothing else: waits in needs_location
PREFIX_SHARE = 0.10            # 辽宁省大连市… written in front
FULLWIDTH_SHARE = 0.05         # ０-９ from a Chinese input method
TYPO_SHARE = 0.02              # a slip of the pen
DASHED_SHARE = 0.06            # "3-2-502" for 3号楼2单元502室
SPACE_SHARE = 0.04             # stray spaces

# Holidays of 2020 (国办发明电〔2019〕16号, and the Spring Festival extension of 2020-01-26 to
# 2 February because of COVID-19). Other years get weekends only.
HOLIDAYS = {
    2020: [(date(2020, 1, 1), date(2020, 1, 1)), (date(2020, 1, 24), date(2020, 2, 2)),
           (date(2020, 4, 4), date(2020, 4, 6)), (date(2020, 5, 1), date(2020, 5, 5)),
           (date(2020, 6, 25), date(2020, 6, 27)), (date(2020, 10, 1), date(2020, 10, 8))],
}
# 调休 working weekends (1 February was cancelled by the extension).
WORKING_WEEKENDS = {
    2020: {date(2020, 1, 19), date(2020, 4, 26), date(2020, 5, 9), date(2020, 6, 28),
           date(2020, 9, 27), date(2020, 10, 10)},
}
# Early COVID: reception halls closed from late January and reopened step by step; petitions
# moved online. Dalian's own outbreak (late July 2020) briefly did the same.
COVID_FACTORS: dict[int, list[tuple[date, date, float, float]]] = {
    # (from, to, factor for in-person/office channels, factor for online/platform)
    2020: [(date(2020, 1, 24), date(2020, 2, 29), 0.25, 0.6),
           (date(2020, 3, 1), date(2020, 3, 31), 0.55, 0.85),
           (date(2020, 4, 1), date(2020, 4, 30), 0.85, 1.0),
           (date(2020, 7, 23), date(2020, 8, 15), 0.7, 1.0)],
}
ALWAYS_OPEN = {"online", "platform"}  # 网上信访 and 12345 take petitions at any hour


@dataclass(frozen=True)
class Place:
    """A gazetteer entry that can be written into an address (point = WGS84 point on it)."""

    kind: str
    name: str
    community_code: str | None
    lon: float
    lat: float
    number_from: int | None = None
    number_to: int | None = None
    buildings: int = 0      # numbered 号楼 of a 小区 (0: a tower or a single building)
    # A road's house-number ranges that lie in some 社区: a generated road line may cross the
    # sea between its waypoints, and nobody lives at a number out there.
    numbers: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class DemoPlaces:
    """What the generator writes addresses from: the gazetteer, grouped, and the story sites."""

    by_kind: dict[str, list[Place]]
    communities: dict[str, str]        # 社区 code → name
    community_street: dict[str, str]   # 社区 code → 街道 name
    relocation_site: Place
    enterprise: Place
    complex_site: Place
    other_relocation: tuple[Place, ...] = ()   # further relocation projects in the gazetteer


@dataclass
class DemoYearReport:
    """What a demo year holds after loading (counts over the whole year, not just this run)."""

    year: int
    inserted: int = 0
    already_loaded: int = 0
    cases: int = 0
    persons: int = 0
    community_agent: int = 0
    collective: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    by_location_status: dict[str, int] = field(default_factory=dict)
    by_assignment_flag: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def format(self) -> str:
        """A few lines for the command line."""
        def counts(d: dict[str, int]) -> str:
            return ", ".join(f"{k} {v}" for k, v in sorted(d.items(), key=lambda kv: -kv[1]))

        head = (f"demo year {self.year}: {self.inserted} cases inserted" +
                (f", {self.already_loaded} already there" if self.already_loaded else "") +
                f" ({self.seconds:.1f} s)")
        return "\n".join([
            head,
            f"  案次 {self.cases}, 人次 {self.persons}, 社区代理 {self.community_agent}, "
            f"collective (≥{COLLECTIVE_MIN} persons) {self.collective}",
            f"  category: {counts(self.by_category)}",
            f"  channel:  {counts(self.by_channel)}",
            f"  location: {counts(self.by_location_status)}",
            f"  assigned: {counts(self.by_assignment_flag)}",
        ])


# --- reading the gazetteer ---------------------------------------------------------------

RELOCATION_SITE = "华联宾馆地块"
ENTERPRISE = "大连市台秤厂"
NEW_COMPLEX_LABEL = "新建楼盘"   # how the gazetteer labels the report's new residential complex
# Places nobody gives as the place of their matter.
NOT_AN_ADDRESS = ("信访局",)


def load_places(session: Session) -> DemoPlaces:
    """The gazetteer entries the generator writes addresses from; fails when it is not built."""
    point = func.ST_PointOnSurface(GazetteerEntry.geom)
    rows = session.execute(select(
        GazetteerEntry.kind, GazetteerEntry.name, GazetteerEntry.community_code,
        func.ST_X(point), func.ST_Y(point), GazetteerEntry.number_from,
        GazetteerEntry.number_to, GazetteerEntry.properties,
    ).where(GazetteerEntry.kind.in_(["building", "landmark", "project", "road"]))
        .order_by(GazetteerEntry.kind, GazetteerEntry.name, GazetteerEntry.id)).all()
    names = Counter((kind, name) for kind, name, *_ in rows)
    by_kind: dict[str, list[Place]] = {}
    props: dict[str, dict[str, Any]] = {}
    for kind, name, community, lon, lat, n_from, n_to, properties in rows:
        properties = properties or {}
        if names[(kind, name)] > 1 or any(w in name for w in NOT_AN_ADDRESS):
            continue  # an ambiguous name (新华街 twice) needs its 街道: not for the background
        if kind == "building" and properties.get("complex"):
            continue  # a numbered 号楼: written as its 小区 + N号楼
        runs = tuple((int(r[0]), int(r[1])) for r in properties.get("number_communities", [])
                     if r[2])
        place = Place(kind, name, community, float(lon), float(lat), n_from, n_to,
                      int(properties.get("buildings") or 0), runs)
        by_kind.setdefault(kind, []).append(place)
        props[name] = properties
    if not by_kind.get("building"):
        raise GridmapError("the gazetteer is empty: build it first (build_gazetteer)")
    projects = {p.name: p for p in by_kind.get("project", [])}
    complexes = [p for p in projects.values()
                 if props[p.name].get("label") == NEW_COMPLEX_LABEL]
    missing = [n for n, ok in ((RELOCATION_SITE, RELOCATION_SITE in projects),
                               (ENTERPRISE, ENTERPRISE in projects),
                               (f"a {NEW_COMPLEX_LABEL} project", bool(complexes))) if not ok]
    if missing:
        raise GridmapError(f"the gazetteer lacks {', '.join(missing)}: rebuild it")
    others = tuple(p for p in projects.values() if p.name != RELOCATION_SITE
                   and props[p.name].get("project_type") == "relocation")
    gen = (select(BoundaryGeneration.id).where(BoundaryGeneration.is_active)
           .scalar_subquery())
    areas = session.execute(select(Area.level, Area.code, Area.name, Area.parent_code)
                            .where(Area.generation_id.in_(gen),
                                   Area.level.in_(["street", "community"]))).all()
    streets = {code: name for level, code, name, _ in areas if level == "street"}
    communities = {code: name for level, code, name, _ in areas if level == "community"}
    community_street = {code: streets.get(parent or "", "") for level, code, _, parent in areas
                        if level == "community"}
    return DemoPlaces(by_kind, communities, community_street, projects[RELOCATION_SITE],
                      projects[ENTERPRISE], complexes[0], others)


# --- the calendar --------------------------------------------------------------------------

def _days(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days)]


def _day_weight(day: date, channel: str) -> float:
    """How busy a day is for a channel: weekdays full, weekends and holidays on duty only."""
    open_always = channel in ALWAYS_OPEN
    holiday = any(a <= day <= b for a, b in HOLIDAYS.get(day.year, []))
    weekend = day.weekday() >= 5 and day not in WORKING_WEEKENDS.get(day.year, set())
    if holiday:
        weight = 0.35 if open_always else 0.06
    elif weekend:
        weight = (0.55 if day.weekday() == 5 else 0.45) if open_always else (
            0.18 if day.weekday() == 5 else 0.1)
    else:
        weight = 1.0
    for start, end, office, online in COVID_FACTORS.get(day.year, []):
        if start <= day <= end:
            weight *= online if open_always else office
    return weight


class _Calendar:
    """Seeded draws of a received day and time per channel, with optional month profiles."""

    def __init__(self, year: int) -> None:
        self.year = year
        self.days = _days(year)
        self._cum: dict[tuple[str, tuple[float, ...] | None], list[float]] = {}

    def _weights(self, channel: str, months: tuple[float, ...] | None) -> list[float]:
        key = (channel, months)
        if key not in self._cum:
            ws = [_day_weight(d, channel) * (months[d.month - 1] if months else 1.0)
                  for d in self.days]
            self._cum[key] = list(itertools.accumulate(ws))
        return self._cum[key]

    def draw(self, rng: random.Random, channel: str,
             months: tuple[float, ...] | None = None) -> datetime:
        """A received time for a case arriving through `channel`."""
        cum = self._weights(channel, months)
        day = self.days[bisect.bisect_right(cum, rng.random() * cum[-1])]
        if channel in ALWAYS_OPEN:
            # Online forms and 12345 calls peak in the morning and evening.
            minute = int(min(23.9, max(0.1, rng.choice((10.0, 15.0, 20.5)) +
                                           rng.gauss(0, 2.2))) * 60)
        elif channel == "phone":
            minute = rng.randint(8 * 60, 17 * 60 + 30)
        else:
            # Reception and patrol hours: 8:30–11:30 and 13:00–16:30.
            minute = (rng.randint(8 * 60 + 30, 11 * 60 + 30) if rng.random() < 0.6
                      else rng.randint(13 * 60, 16 * 60 + 30))
        return datetime(day.year, day.month, day.day, minute // 60, minute % 60,
                        rng.randint(0, 59), tzinfo=CHINA_TZ)


# --- content -------------------------------------------------------------------------------

TEMPLATES: dict[str, tuple[str, ...]] = {
    "housing": (
        "{place}楼顶防水层老化，雨季顶层住户家中漏水，要求维修。",
        "{place}老旧小区改造施工进度缓慢，施工围挡影响居民出行，要求加快进度。",
        "反映{place}房屋至今未办理不动产权证，要求协调开发商尽快办证。",
        "{place}外墙保温层脱落，存在安全隐患，要求尽快处理。",
        "{place}电梯频繁故障，申请使用住宅专项维修资金迟迟未批，要求协调。",
        "{place}供暖改造后室温不达标，要求供热单位整改。",
        "咨询{place}老旧住宅维修资金的申请程序和使用范围。",
    ),
    "property": (
        "{place}物业服务不到位，楼道卫生长期无人打扫，要求整改。",
        "{place}物业费上涨未经业主大会同意，要求说明收费依据。",
        "{place}小区车位被物业出租给外来车辆，业主无处停车。",
        "{place}原物业撤离后小区无人管理，垃圾堆积，要求社区协调接管。",
        "{place}单元门禁损坏{n}个月未修，物业相互推诿。",
        "{place}业主委员会换届选举程序有争议，要求街道指导。",
        "{place}楼道堆放杂物，消防通道被占，物业不予清理。",
    ),
    "relocation": (
        "反映{place}一带房屋征收补偿标准偏低，要求重新评估。",
        "{place}动迁户，过渡安置费已{n}个月未发放，要求尽快发放。",
        "咨询{place}房屋征收政策及补偿安置方案。",
        "{place}动迁户，回迁房面积与安置协议不符，要求核实。",
        "反映{place}附近旧房征收补偿不公开，要求公开补偿标准。",
    ),
    "labour": (
        "在{company}工作，单位拖欠{n}个月工资共计{amount}元，要求协调支付。",
        "{company}未依法为职工缴纳社会保险，要求补缴。",
        "{place}附近建筑工地拖欠{m}名农民工工资，要求处理。",
        "咨询灵活就业人员养老保险缴费及退休待遇核定问题。",
        "与{company}解除劳动合同后未获经济补偿，要求协调。",
        "要求核查本人工龄认定，涉及退休待遇计算。",
    ),
    "urban": (
        "{place}楼下有人私搭乱建，占用公共绿地，要求拆除。",
        "{place}附近占道经营，早市散场后垃圾遍地。",
        "{place}顶楼加盖违章建筑，影响楼体安全。",
        "{place}附近夜间露天烧烤，油烟和噪声扰民。",
        "{place}周边共享单车乱停乱放，影响通行。",
    ),
    "market": (
        "在{place}附近商户购买的商品存在质量问题，商家拒绝退换。",
        "{place}附近一家健身会所停业，预付卡余额无法退还。",
        "{place}附近商户商品未明码标价，要求查处。",
        "{place}附近餐馆卫生条件差，担心食品安全。",
        "{place}电梯维保单位维保记录造假，要求核查。",
    ),
    "environment": (
        "{place}附近工地夜间施工噪声扰民，要求限制施工时间。",
        "{place}楼下餐饮店油烟直排，影响居民生活。",
        "{place}附近有刺鼻异味，疑似污水直排。",
        "{place}楼下商铺空调外机噪声扰民。",
    ),
    "civil": (
        "家住{place}，家庭生活困难，申请最低生活保障。",
        "{place}独居老人，咨询居家养老服务和高龄津贴申领。",
        "家住{place}，家中有重病患者，医疗费用负担重，申请临时救助。",
        "退役士兵，咨询优抚待遇及就业帮扶政策。",
        "家住{place}，残疾人两项补贴未按时到账。",
    ),
    "legal": (
        "对法院民事判决不服，要求再审。",
        "判决生效后长期未执行到位，要求法院加快执行。",
        "与邻居因{place}房屋漏水纠纷调解未果，要求依法处理。",
        "对派出所处理邻里纠纷的结果有异议。",
    ),
    "accusation": (
        "检举某单位工作人员在审批中违规收受好处，线索已按规定转纪检监察机关。",
        "反映某社区工作人员在低保审核中优亲厚友，要求调查。",
    ),
    "education": (
        "{place}居民，孩子入学划片有争议，要求就近入学。",
        "{place}附近校外培训机构停课后拒不退费。",
        "咨询疫情期间线上教学安排和学生返校时间。",
        "{place}附近学校门前上下学时段交通拥堵，存在安全隐患。",
    ),
    "health": (
        "{place}附近诊所执业资质存疑，要求核查。",
        "对医院诊疗过程有异议，申请医疗纠纷调解。",
        "咨询核酸检测和居家隔离政策。",
        "{place}居民，反映医保报销比例和异地就医备案问题。",
    ),
    "transport": (
        "{place}公交站点撤并后出行不便，要求恢复。",
        "{place}附近道路停车泊位不足，车辆乱停。",
        "出租车拒载、绕路，要求处理。",
        "{place}路口信号灯配时不合理，行人过街困难。",
    ),
    "other": (
        "咨询户籍迁移相关政策。",
        "反映{place}通信基站建设，要求说明辐射检测结果。",
        "对{place}一带宽带和有线电视服务质量不满。",
    ),
}
COMPANY_TRADES = ("物流", "装饰工程", "餐饮管理", "商贸", "保洁服务", "建筑劳务", "酒店管理",
                  "电子科技", "水产", "汽车服务")
# Month profiles (Jan..Dec) of the three stories.
RELOCATION_MONTHS = (12, 5, 8, 16, 20, 22, 20, 15, 9, 3, 2, 2)    # sold in Feb, resettled by autumn
ENTERPRISE_MONTHS = (10, 5, 7, 10, 11, 12, 11, 10, 9, 8, 6, 4)    # a year of work to settle it
COMPLEX_MONTHS = (4, 2, 5, 10, 14, 16, 15, 13, 10, 7, 4, 3)       # owners moved in, then upgrades
RELOCATION_TEXTS = (
    "本人系华联宾馆地块旧城区改造项目动迁户，至今未能回迁，要求明确回迁安置时间。",
    "华联宾馆地块动迁户，过渡期过长，要求按时发放过渡安置补助。",
    "华联宾馆地块动迁户，询问回迁安置房源和安置方案。",
)
RELOCATION_TEXTS_SOLD = (  # after the plot was sold in February 2020
    "听说华联宾馆地块已出让，询问动迁户回迁安置方案和时间表。",
    "华联宾馆地块动迁户，要求尽快落实回迁安置，公开安置进度。",
)
RELOCATION_TEXTS_LATE = (  # the households were resettled about half a year after the sale
    "华联宾馆地块动迁户，对安置房面积核定和交房手续有疑问。",
)
ENTERPRISE_TEXTS = (
    "大连市台秤厂职工，工厂长期停产，自2008年起拖欠工资，要求解决。",
    "大连市台秤厂职工，要求补缴自2008年起拖欠的住房公积金。",
    "大连市台秤厂职工，自2008年起社会保险断缴，影响退休待遇，要求补缴。",
    "大连市台秤厂职工，询问拖欠工资、公积金和保险的解决进度。",
)
COMPLEX_TEXTS = {
    "housing": (
        "{site}业主，小区人车不分流，车辆进出与行人混行，存在安全隐患，要求整改。",
        "{site}业主，小区实际绿化率未到60%，与销售宣传不符，要求开发商整改。",
        "{site}业主，要求住建部门督促开发商按规划落实人车分流和绿化。",
    ),
    "property": (
        "{site}业主，地面车辆乱停，物业未设置人车分流通道。",
        "{site}业主，绿地被改作停车位，物业拒不恢复，要求处理。",
    ),
}


def _fullwidth(text: str) -> str:
    return text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


# Slips people make in addresses: IME slips, traditional characters, a homophone or two (the
# last ones may well defeat the geocoder: such a case waits in needs_location, as in real life).
TYPOS = (("附近", "付近"), ("单元", "单原"), ("号楼", "號樓"), ("园", "園"), ("广场", "廣場"),
         ("园", "圆"), ("小区", "小曲"))


def _messy(rng: random.Random, address: str, street: str) -> str:
    """Write the address the way people do: prefixes, full-width digits, typos, spaces."""
    r = rng.random()
    if r < PREFIX_SHARE:
        prefix = rng.choice(("辽宁省大连市中山区", "大连市中山区", "大连中山区", "辽宁省大连市",
                             "中山区" + street))
        address = prefix + address
    elif r < PREFIX_SHARE + 0.25:
        address = "中山区" + address
    if rng.random() < FULLWIDTH_SHARE:
        address = _fullwidth(address)
    if rng.random() < TYPO_SHARE:
        options = [(a, b) for a, b in TYPOS if a in address]
        if options:
            a, b = rng.choice(options)
            address = address.replace(a, b, 1)
    if rng.random() < SPACE_SHARE and len(address) > 4:
        cut = rng.randint(2, len(address) - 2)
        # Never inside a number: "11 1号" is a different address, not a messy one.
        if not (address[cut - 1].isdigit() and address[cut].isdigit()):
            address = address[:cut] + " " + address[cut:]
    return address


# --- the plan ------------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoPerson:
    """A generated petitioner with FAKE ID and phone numbers (the same object every time the
    person petitions)."""

    name: str
    id_number: str
    phone: str


def fake_id_number(rng: random.Random, year: int, region: str = DEMO_REGION) -> str:
    """A FAKE but well-formed ID number: `region`, born in year-80 … year-18, a sequence
    number and a valid check digit."""
    first = date(year - 80, 1, 1)
    born = first + timedelta(days=rng.randrange((date(year - 18, 12, 31) - first).days))
    first17 = f"{region}{born:%Y%m%d}{rng.randint(1, 999):03d}"
    return first17 + id_check_char(first17)


def fake_phone(rng: random.Random) -> str:
    """A FAKE 138… mobile number."""
    return f"138{rng.randrange(10 ** 8):08d}"


@dataclass
class _Draft:
    category: str
    channel: str
    received_at: datetime
    content: str
    people: list[DemoPerson]
    persons: int
    address: str | None
    point: tuple[float, float] | None = None  # GCJ-02, as a WeChat/Amap app gives it
    cluster: str | None = None
    adjustable: bool = False                  # background case whose 人次 may be nudged
    via_agent: bool = False


def _allocate(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Split `total` by `shares` exactly (largest remainder, ties by key order)."""
    s = sum(shares.values())
    raw = {k: total * v / s for k, v in shares.items()}
    out = {k: math.floor(v) for k, v in raw.items()}
    rest = total - sum(out.values())
    for k in sorted(raw, key=lambda k: (out[k] - raw[k], list(shares).index(k)))[:rest]:
        out[k] += 1
    return out


def _only(month: int) -> tuple[float, ...]:
    """A month profile that is that month only."""
    return tuple(1.0 if m == month else 0.0 for m in range(1, 13))


def _pick(rng: random.Random, places: Sequence[Place], cum: list[float]) -> Place:
    return places[bisect.bisect_right(cum, rng.random() * cum[-1])]


class _Planner:
    """Draws one demo year; all randomness comes from one seeded generator, in a fixed order."""

    def __init__(self, places: DemoPlaces, year: int, seed: int) -> None:
        self.p = places
        self.year = year
        self.rng = random.Random(f"{seed}:{year}")
        self.cal = _Calendar(year)
        # ID and phone numbers come from their own generator: the year's draws stay as they
        # were before petitioners had numbers.
        self.numbers_rng = random.Random(f"{seed}:{year}:numbers")
        self.numbers_taken: set[str] = set()
        # Some communities are busier than others (older housing, more 动迁): a lognormal
        # activity factor per 社区 gives the background its hot and cold spots.
        self.activity = {c: self.rng.lognormvariate(0, 0.6) for c in sorted(places.communities)}
        self.kinds: dict[str, tuple[list[Place], list[float]]] = {}
        # The story sites get their cases from the stories only, so their clusters stay theirs.
        sites = {places.relocation_site, places.enterprise, places.complex_site,
                 *places.other_relocation}
        for kind in ("building", "road", "landmark"):
            lst = [pl for pl in places.by_kind.get(kind, []) if pl not in sites]
            weights = [self.activity.get(pl.community_code or "", 1.0) for pl in lst]
            if lst:
                self.kinds[kind] = (lst, list(itertools.accumulate(weights)))

    # -- where --
    def _street(self, place: Place) -> str:
        return self.p.community_street.get(place.community_code or "", "")

    def _building_address(self, b: Place) -> str:
        rng = self.rng
        floor, room = rng.randint(1, 7), rng.randint(1, 4)
        if b.buildings == 0:  # a tower: floor and room only
            return rng.choice((b.name, f"{b.name}{floor}层", f"{b.name}{floor * 100 + room}室",
                               f"{b.name}{rng.choice('ABC')}座{floor}0{room}"))
        no, unit = rng.randint(1, b.buildings), rng.randint(1, 6)
        r = rng.random()
        if r < DASHED_SHARE:
            return f"{b.name}{no}-{unit}-{floor}0{room}"
        if r < 0.45:
            return f"{b.name}{no}号楼{unit}单元"
        if r < 0.7:
            return f"{b.name}{no}号楼{unit}单元{floor}0{room}室"
        if r < 0.85:
            return f"{b.name}{no}号楼"
        return b.name

    def _road_address(self, road: Place) -> tuple[str, str]:
        runs = road.numbers or ((road.number_from or 1, road.number_to or 99),)
        lo, hi = self.rng.choices(runs, [b - a + 1 for a, b in runs])[0]
        number = self.rng.randint(lo, hi)
        return f"{road.name}{number}号", f"{road.name}{number}号"

    def where(self, channel: str, category: str
              ) -> tuple[str | None, tuple[float, float] | None, str]:
        """(address, GCJ-02 point, short place name for the content) of a background case."""
        rng = self.rng
        if channel == "patrol":
            b = _pick(rng, *self.kinds["building"])
            # A grid worker's phone (WeChat / Amap) reports GCJ-02, a few dozen metres off.
            dx, dy = rng.gauss(0, 25) / 86_700, rng.gauss(0, 25) / 111_000
            glon, glat = gcrs.wgs84_to_gcj02(b.lon + dx, b.lat + dy)
            return f"{b.name}附近", (float(glon), float(glat)), b.name
        if rng.random() < COMMUNITY_ONLY_SHARE:
            code = rng.choice(sorted(self.p.communities))
            name = self.p.communities[code].removesuffix("居委会")
            return name, None, name
        if (category == "relocation" and self.p.other_relocation
                and rng.random() < OTHER_RELOCATION_SHARE):
            site = rng.choice(self.p.other_relocation)
            return _messy(rng, site.name, self._street(site)), None, site.name
        shares = ADDRESS_KIND_SHARES["home" if category in HOME_CATEGORIES else "street"]
        kind = rng.choices(list(shares), list(shares.values()))[0]
        if kind not in self.kinds:
            kind = "building"
        place = _pick(rng, *self.kinds[kind])
        if kind == "building":
            addr, short = self._building_address(place), place.name
        elif kind == "road":
            addr, short = self._road_address(place)
        else:
            addr = rng.choice((place.name, f"{place.name}附近", f"{place.name}对面",
                               f"{place.name}门口"))
            short = place.name
        return _messy(rng, addr, self._street(place)), None, short

    # -- what --
    def content(self, category: str, place: str) -> str:
        rng = self.rng
        company = f"大连某{rng.choice(COMPANY_TRADES)}有限公司"
        return rng.choice(TEMPLATES[category]).format(
            place=place, n=rng.randint(2, 14), m=rng.randint(6, 40), company=company,
            amount=rng.randrange(6000, 90000, 100))

    def person(self) -> DemoPerson:
        """A new petitioner: a name from the year's generator, unique FAKE numbers."""
        name = demo_name(self.rng)
        rng, taken = self.numbers_rng, self.numbers_taken
        while (id_number := fake_id_number(rng, self.year)) in taken:
            pass
        while (phone := fake_phone(rng)) in taken:
            pass
        taken.update((id_number, phone))
        return DemoPerson(name, id_number, phone)

    def names(self, persons: int, anonymous: bool = False) -> list[DemoPerson]:
        if anonymous:
            return []
        named = 1 if persons < COLLECTIVE_MIN else min(persons, self.rng.randint(1, 5))
        return [self.person() for _ in range(min(named, persons))]

    def channel(self, category: str) -> str:
        return self.rng.choices(CHANNELS, CHANNEL_AFFINITY[category])[0]

    # -- the three stories --
    def relocation_story(self) -> list[_Draft]:
        """华联宾馆地块: ~60 of the 120 households petition, some of them again and again."""
        rng, site = self.rng, self.p.relocation_site
        households = [self.person() for _ in range(60)]
        # Repeat petitioners: a few households come back many times (Zipf-like).
        weights = [1 / (i + 1) ** 0.9 for i in range(len(households))]
        out: list[_Draft] = []
        forms = (site.name, f"中山区{site.name}", f"{site.name}动迁户", f"原{site.name}",
                 f"大连市中山区{site.name}")
        for i in range(170):
            channel = rng.choices(("visit", "letter", "phone", "online", "platform"),
                                  (50, 10, 15, 15, 10))[0]
            when = self.cal.draw(rng, channel, RELOCATION_MONTHS)
            texts = (RELOCATION_TEXTS_LATE if when.month >= 9 else
                     RELOCATION_TEXTS_SOLD if when.month >= 3 else RELOCATION_TEXTS)
            who = households[i] if i < 40 else rng.choices(households, weights)[0]
            persons = 1 if rng.random() < 0.9 else rng.randint(2, 3)
            out.append(_Draft("relocation", channel, when, rng.choice(texts), [who], persons,
                              rng.choice(forms), cluster=RELOCATION_SITE))
        # Collective visits (集体访) by households' representatives, spread over the months
        # before resettlement, more of them while the sale's terms were being settled.
        for month in (1, 3, 4, 5, 5, 6, 6, 7, 8, 9):
            persons = rng.randint(6, 12)
            when = self.cal.draw(rng, "visit", _only(month))
            reps = rng.sample(households, rng.randint(2, 5))
            out.append(_Draft("relocation", "visit", when,
                              f"华联宾馆地块{persons}户动迁户集体来访，要求尽快落实回迁安置。",
                              reps, persons, rng.choice(forms), cluster=RELOCATION_SITE))
        return out

    def enterprise_story(self) -> list[_Draft]:
        """大连市台秤厂: workers owed wages, 公积金 and 保险 since 2008."""
        rng, site = self.rng, self.p.enterprise
        workers = [self.person() for _ in range(45)]
        weights = [1 / (i + 1) ** 0.8 for i in range(len(workers))]
        forms = (site.name, f"中山区{site.name}", f"{site.name}职工")
        out: list[_Draft] = []
        for i in range(84):
            channel = rng.choices(("visit", "letter", "phone", "online", "platform"),
                                  (45, 20, 15, 10, 10))[0]
            persons = 1 if rng.random() < 0.9 else rng.randint(2, 3)
            who = workers[i] if i < 30 else rng.choices(workers, weights)[0]
            out.append(_Draft("labour", channel, self.cal.draw(rng, channel, ENTERPRISE_MONTHS),
                              rng.choice(ENTERPRISE_TEXTS), [who], persons, rng.choice(forms),
                              cluster=ENTERPRISE))
        for month in (1, 4, 6, 7, 9, 11):
            persons = rng.randint(5, 10)
            out.append(_Draft(
                "labour", "visit", self.cal.draw(rng, "visit", _only(month)),
                f"大连市台秤厂{persons}名职工集体来访，要求解决拖欠的工资、公积金和保险。",
                rng.sample(workers, rng.randint(2, 5)), persons, rng.choice(forms),
                cluster=ENTERPRISE))
        return out

    def complex_story(self) -> list[_Draft]:
        """The new complex: many owners, 人车不分流 and 绿化率未到60%."""
        rng, site = self.rng, self.p.complex_site
        owners = [self.person() for _ in range(70)]
        out: list[_Draft] = []
        for i in range(85):
            category = "housing" if rng.random() < 0.62 else "property"
            channel = rng.choices(("visit", "letter", "phone", "online", "platform"),
                                  (28, 5, 15, 26, 26))[0]
            persons = 1 if rng.random() < 0.88 else rng.randint(2, 3)
            who = owners[i] if i < len(owners) else rng.choice(owners)
            addr = (f"{site.name}{rng.randint(1, site.buildings or 12)}号楼"
                    f"{rng.randint(1, 4)}单元" if rng.random() < 0.7 else site.name)
            out.append(_Draft(category, channel, self.cal.draw(rng, channel, COMPLEX_MONTHS),
                              rng.choice(COMPLEX_TEXTS[category]).format(site=site.name),
                              [who], persons, _messy(rng, addr, self._street(site)),
                              cluster=site.name))
        for month in (4, 5, 6, 8, 10):
            persons = rng.randint(6, 12)
            out.append(_Draft(
                "housing", "visit", self.cal.draw(rng, "visit", _only(month)),
                f"{site.name}{persons}名业主集体来访，反映小区人车不分流、绿化率未到60%，"
                "要求督促开发商整改。", rng.sample(owners, rng.randint(2, 5)), persons,
                site.name, cluster=site.name))
        return out

    # -- the year --
    def plan(self, total: int, persons_total: int, agent_total: int) -> list[_Draft]:
        rng = self.rng
        stories = (self.relocation_story() + self.enterprise_story() + self.complex_story()
                   if self.year == 2020 else [])
        counts = _allocate(total, CATEGORY_SHARES)
        for d in stories:
            counts[d.category] -= 1
        if any(v < 0 for v in counts.values()):
            raise InvalidInput("total", f"{total} cases are too few for the demo's stories")
        drafts = list(stories)
        # Background repeaters: the same person about the same matter, 2–4 times a year.
        for category in sorted(counts, key=list(CATEGORY_SHARES).index):
            n = counts[category]
            while n > 0:
                channel = self.channel(category)
                address, point, short = self.where(channel, category)
                anonymous = category == "accusation" and rng.random() < 0.6
                r = rng.random()
                persons = (1 if r < 0.936 else rng.randint(2, 3) if r < 0.996
                           else rng.randint(COLLECTIVE_MIN, 8))
                names = self.names(persons, anonymous)
                text = self.content(category, short)
                repeats = 1
                if not anonymous and category != "accusation" and rng.random() < 0.05:
                    repeats = min(n, rng.randint(2, 4))
                for _ in range(repeats):  # same person, matter, place and channel
                    drafts.append(_Draft(category, channel, self.cal.draw(rng, channel), text,
                                         list(names), persons, address, point,
                                         adjustable=persons < COLLECTIVE_MIN))
                n -= repeats
        self._hit_persons(drafts, persons_total)
        self._choose_agents(drafts, agent_total)
        drafts.sort(key=lambda d: d.received_at)
        return drafts

    def _hit_persons(self, drafts: list[_Draft], target: int) -> None:
        """Nudge small background groups (never collective ones) until 人次 is exact."""
        rng = self.rng
        diff = target - sum(d.persons for d in drafts)
        pool = [d for d in drafts if d.adjustable]
        while diff != 0:
            if diff > 0:
                cands = [d for d in pool if d.persons < COLLECTIVE_MIN - 1]
                step = 1
            else:
                cands = [d for d in pool if d.persons > max(1, len(d.people))]
                step = -1
            if not cands:
                raise InvalidInput("persons", f"cannot reach {target} 人次 with these cases")
            rng.choice(cands).persons += step
            diff -= step

    def _choose_agents(self, drafts: list[_Draft], target: int) -> None:
        """Exactly `target` cases via community agents, weighted (Efraimidis–Spirakis keys)."""
        rng = self.rng
        keyed = []
        for i, d in enumerate(drafts):
            w = AGENT_CHANNEL[d.channel] * AGENT_CATEGORY.get(d.category, 1.0)
            if d.persons >= COLLECTIVE_MIN:
                w *= 0.2  # collective visits go to the district's reception hall
            key = rng.random() ** (1.0 / w) if w > 0 else -1.0
            keyed.append((key, i))
        for _, i in sorted(keyed, reverse=True)[:target]:
            drafts[i].via_agent = True


@dataclass(frozen=True)
class PlannedCase:
    """A generated case and the story cluster it belongs to (None for the background)."""

    case: CaseIn
    cluster: str | None


def plan_demo_year(places: DemoPlaces, year: int = 2020, seed: int = DEFAULT_CASE_SEED,
                   total: int = REFERENCE_CASES, persons: int = REFERENCE_PERSONS,
                   community_agent: int = REFERENCE_AGENT_CASES, personal_data: bool = True
                   ) -> list[PlannedCase]:
    """The demo year in received order, without touching the database; petitioners carry
    their FAKE ID and phone numbers unless `personal_data` is False (names only)."""
    drafts = _Planner(places, year, seed).plan(total, persons, community_agent)
    prefix = f"{EXTERNAL_PREFIX}-{year}-"
    return [PlannedCase(CaseIn(
        external_id=f"{prefix}{i:06d}", channel=cast(Channel, d.channel),
        received_at=d.received_at, category=d.category, content=d.content,
        petitioners=[PetitionerIn(name=p.name, id_number=p.id_number, phone=p.phone)
                     if personal_data else PetitionerIn(name=p.name) for p in d.people],
        persons_count=d.persons,
        address=d.address,
        location=(LocationIn(lon=d.point[0], lat=d.point[1], crs="gcj02")
                  if d.point else None),
        via_community_agent=d.via_agent,
    ), d.cluster) for i, d in enumerate(drafts, start=1)]


# --- loading -------------------------------------------------------------------------------

def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def year_report(session: Session, year: int) -> DemoYearReport:
    """Counts of the demo year as it is in the database."""
    c = PetitionCase
    where = c.external_id.like(f"{EXTERNAL_PREFIX}-{year}-%")
    report = DemoYearReport(year=year)
    row = session.execute(select(
        func.count(), func.coalesce(func.sum(c.persons_count), 0),
        func.count().filter(c.via_community_agent),
        func.count().filter(c.persons_count >= COLLECTIVE_MIN)).where(where)).one()
    report.cases, report.persons, report.community_agent, report.collective = map(int, row)
    for col, target in ((c.category_code, report.by_category), (c.channel, report.by_channel),
                        (c.location_status, report.by_location_status),
                        (c.assignment_flag, report.by_assignment_flag)):
        for key, n in session.execute(select(col, func.count()).where(where).group_by(col)):
            target[str(key)] = int(n)
    return report


def check_demo_year(year: int) -> None:
    """InvalidInput naming `year` unless it is a past year from 2000 on (intake refuses the
    future, and the current year is not over)."""
    if not 2000 <= year < datetime.now(UTC).year:
        raise InvalidInput("year", f"year {year}: a demo year must be a past year from 2000 on")


def generate_demo_year(session: Session, year: int = 2020, seed: int = DEFAULT_CASE_SEED,
                       geocoder: Geocoder | None = None, settings: CaseSettings | None = None,
                       batch_size: int = BATCH_SIZE, cipher: PersonalDataCipher | None = None
                       ) -> DemoYearReport:
    """Generate and load a demo year through create_cases; cases already loaded are skipped.

    Staff the grids first (assign_demo_people): a case takes the people on duty when it is
    assigned. `geocoder` None means the gazetteer geocoder on this session. With a `cipher`
    petitioners get their FAKE ID and phone numbers (encrypted); without one, names only.
    """
    started = time.perf_counter()
    check_demo_year(year)
    settings = settings or CaseSettings()
    load_reference_data(session)
    places = load_places(session)
    planned = plan_demo_year(places, year, seed, personal_data=cipher is not None)
    existing = set(session.scalars(select(PetitionCase.external_id).where(
        PetitionCase.external_id.like(f"{EXTERNAL_PREFIX}-{year}-%"))))
    todo = [p for p in planned if p.case.external_id not in existing]
    if todo and geocoder is None:
        from geo.geocode.matcher import GazetteerGeocoder

        geocoder = GazetteerGeocoder.from_session(session)
    categories = CategoryIndex.load(session)
    # Core UPDATE, one row per parameter set: the generated data is marked as such, next to
    # whatever intake put in properties (the needs_location hints).
    table = cast(Table, PetitionCase.__table__)
    mark = (update(table).where(table.c.id == bindparam("case_id"))
            .values(properties=table.c.properties.op("||")(bindparam("extra", type_=JSONB))))
    for batch in _batches(todo, batch_size):
        ids, _ = create_cases(session, [p.case for p in batch], geocoder, settings, categories,
                              cipher)
        session.connection().execute(mark, [
            {"case_id": i, "extra": {"demo": True, "approximate": True, "seed": seed,
                                     **({"demo_cluster": p.cluster} if p.cluster else {})}}
            for i, p in zip(ids, batch, strict=True)])
    session.flush()
    report = year_report(session, year)
    report.inserted = len(todo)
    report.already_loaded = len(existing)
    report.seconds = time.perf_counter() - started
    return report
