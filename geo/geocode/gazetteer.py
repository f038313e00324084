"""Build the offline gazetteer in PostGIS: 区/街道/社区 from the active boundaries, plus generated
(示意) roads, buildings, landmarks and project sites for the demo district.

No open address data exists for 中山区 (see data/boundaries/sources/SOURCES.md), so everything
below 社区 is generated reproducibly from a seed and marked approximate=true, source "demo". The
names are plausible (well-known street names of the district, generic 小区/landmark names), the
geometry is not real. What the seed does *not* change are the anchors listed in `ROADS`,
`ANCHOR_BUILDINGS`, `LANDMARKS`, `PROJECTS` and the per-社区 "<社区>小区" / "<社区>社区卫生服务站":
each lies in its named 社区 for every seed; on a road the house numbers at the waypoints
(`WAYPOINT_NUMBERS`) lie in the waypoint's 社区, and the road's own point (used when no number
is given) is its middle waypoint — tests and demo cases rely on them.
"""

from __future__ import annotations

import bisect
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel
from sqlalchemy.orm import Session

from geo.crs import DEFAULT_METRIC_CRS, geometry_to_wgs84, to_metric
from geo.geocode.normalize import normalize_address
from geo.sql_files import sql

DEFAULT_SEED = 20200101
# House numbers at a road's successive waypoints; numbers in between are interpolated.
WAYPOINT_NUMBERS = (1, 28, 58, 88, 118, 148, 178, 208)
ANCHOR_BUILDING_COUNT = 6   # every "<社区>小区" has 1..6号楼
_PRECISION = 7              # decimals of stored coordinates (about 1 cm)


@dataclass(frozen=True)
class RoadSpec:
    """A demo road: its name and the 社区 (short names) its waypoints lie in, in number order."""

    name: str
    communities: tuple[str, ...]


@dataclass(frozen=True)
class PlaceSpec:
    """A named demo place anchored in one 社区 (short name)."""

    name: str
    community: str
    category: str
    aliases: tuple[str, ...] = ()
    buildings: int = 0              # numbered 号楼 of a 小区
    size_m: tuple[float, float] = (0.0, 0.0)   # a project site's footprint (width, height)
    properties: dict[str, Any] = field(default_factory=dict)


# Real street names of 中山区 on generated lines. Consecutive 社区 touch each other. 新华街 exists
# twice on purpose (葵英 and 老虎滩): a 街道/社区 in the address must pick the right one.
ROADS: tuple[RoadSpec, ...] = (
    RoadSpec("人民路", ("民主", "港兴", "港盛", "珠翠", "春海")),
    RoadSpec("中山路", ("天津", "青泥", "林景", "双合", "向阳", "石葵", "春和")),
    RoadSpec("解放路", ("解放", "青云", "清泉", "葵英", "长利")),
    RoadSpec("五五路", ("向阳", "光华", "智仁")),
    RoadSpec("鲁迅路", ("福寿", "修竹", "港盛", "海港")),
    RoadSpec("长江路", ("七一", "民主", "双合")),
    RoadSpec("友好路", ("上海", "双合", "东日")),
    RoadSpec("天津街", ("天津", "湖畔", "林景")),
    RoadSpec("延安路", ("林景", "枫林", "清泉", "智仁")),
    RoadSpec("港湾街", ("春景", "港湾", "海军广场")),
    RoadSpec("明泽街", ("东日", "珠锦", "港韵")),
    RoadSpec("葵英街", ("嘉和", "葵英", "华昌")),
    RoadSpec("桃源街", ("震海", "桃源", "滨海")),
    RoadSpec("滨海路", ("高尚", "滨海", "舰院", "环山", "平安", "中南")),
    RoadSpec("迎春路", ("春德", "春景", "春山")),
    RoadSpec("白云街", ("洪顺", "震海", "自由")),
    RoadSpec("南山路", ("清泉", "智仁", "林海", "独立")),
    RoadSpec("七一街", ("福寿", "七一", "港兴")),
    RoadSpec("昆明街", ("安民", "望海", "长利")),
    RoadSpec("上海路", ("青泥", "上海", "民主")),
    RoadSpec("同兴街", ("兴和", "海港", "珠翠")),
    RoadSpec("望海街", ("湖畔", "安民", "望海")),
    RoadSpec("桂林街", ("解放", "枫林", "嘉和")),
    RoadSpec("民生街", ("港兴", "港韵", "珠翠")),
    RoadSpec("一德街", ("青泥", "湖畔")),
    RoadSpec("秀月街", ("医校", "秀月", "舰院")),
    RoadSpec("长春路", ("文化", "林海", "绿山")),
    RoadSpec("中南路", ("中兴", "中南", "兴隆")),
    RoadSpec("迎宾路", ("虎山", "迎宾", "杏花")),
    RoadSpec("华昌街", ("自由", "华昌", "绿山")),
    RoadSpec("春德街", ("春海", "春德", "石葵")),
    RoadSpec("育才街", ("海军广场", "华乐", "育才")),
    RoadSpec("杏花街", ("育才", "杏花")),
    RoadSpec("中兴街", ("武昌", "中兴", "平安")),
    RoadSpec("虎山路", ("独立", "虎山", "中兴")),
    RoadSpec("新华街", ("武昌", "吉利")),
    RoadSpec("新华街", ("兴隆", "迎宾")),
)

# Named 小区/大厦 beyond the "<社区>小区" every 社区 gets.
ANCHOR_BUILDINGS: tuple[PlaceSpec, ...] = (
    PlaceSpec("港湾花园", "港湾", "小区", buildings=8),
    PlaceSpec("明泽大厦", "东日", "大厦"),
    PlaceSpec("友好大厦", "上海", "大厦"),
    PlaceSpec("桃源新村", "桃源", "小区", buildings=10),
    PlaceSpec("滨海家园", "滨海", "小区", buildings=6),
    PlaceSpec("中南华庭", "中南", "小区", buildings=5),
)

LANDMARKS: tuple[PlaceSpec, ...] = (
    PlaceSpec("中山区第一小学", "春海", "学校"),
    PlaceSpec("中山区第二小学", "七一", "学校"),
    PlaceSpec("中山区第三小学", "上海", "学校"),
    PlaceSpec("中山区第五小学", "葵英", "学校"),
    PlaceSpec("中山区第七小学", "桃源", "学校"),
    PlaceSpec("中山区第九小学", "中南", "学校"),
    PlaceSpec("大连市第十一中学", "青云", "学校", ("十一中", "大连十一中", "11中")),
    PlaceSpec("大连市第三十四中学", "修竹", "学校", ("三十四中", "34中")),
    PlaceSpec("育才中学", "育才", "学校"),
    PlaceSpec("中山区中心医院", "石葵", "医院", ("区中心医院",)),
    PlaceSpec("中山区妇幼保健院", "枫林", "医院"),
    PlaceSpec("大连港医院", "海港", "医院"),
    PlaceSpec("葵英市场", "葵英", "市场", ("葵英农贸市场",)),
    PlaceSpec("青泥洼桥农贸市场", "青泥", "市场"),
    PlaceSpec("桃源市场", "桃源", "市场"),
    PlaceSpec("中南菜市场", "中南", "市场"),
    PlaceSpec("石葵菜市场", "石葵", "市场"),
    PlaceSpec("三八广场", "双合", "广场"),
    PlaceSpec("民主广场", "民主", "广场"),
    PlaceSpec("友好广场", "上海", "广场"),
    PlaceSpec("中山广场", "港兴", "广场"),
    PlaceSpec("港湾广场", "珠翠", "广场"),
    PlaceSpec("劳动公园", "解放", "公园"),
    PlaceSpec("老虎滩海洋公园", "中南", "公园", ("老虎滩公园", "海洋公园")),
    PlaceSpec("森林动物园", "平安", "公园", ("大连森林动物园",)),
    PlaceSpec("海之韵公园", "兴隆", "公园"),
    PlaceSpec("大连站", "天津", "车站", ("大连火车站", "火车站")),
    PlaceSpec("青泥洼桥地铁站", "青泥", "地铁站", ("青泥洼桥站", "地铁青泥洼桥站")),
    PlaceSpec("友好广场地铁站", "上海", "地铁站", ("友好广场站", "地铁友好广场站")),
    PlaceSpec("中山广场地铁站", "港兴", "地铁站", ("中山广场站", "地铁中山广场站")),
    PlaceSpec("港湾广场地铁站", "珠翠", "地铁站", ("港湾广场站", "地铁港湾广场站")),
    PlaceSpec("东港地铁站", "海港", "地铁站", ("东港站", "地铁东港站")),
    PlaceSpec("大连港客运站", "海港", "车站", ("大连港码头",)),
    PlaceSpec("中山区信访局", "石葵", "机关", ("区信访局",)),
)

# Hotspot sites the demo cases refer to (DESIGN.md: 华联宾馆地块, 120 households).
PROJECTS: tuple[PlaceSpec, ...] = (
    PlaceSpec("华联宾馆地块", "青泥", "relocation",
              ("华联宾馆", "华联宾馆回迁", "华联宾馆回迁楼", "华联宾馆动迁", "华联宾馆旧城改造"),
              size_m=(160.0, 110.0),
              properties={"project_type": "relocation", "label": "旧城区改造 回迁",
                          "households": 120, "phase": "回迁安置"}),
    PlaceSpec("大连市台秤厂", "长利", "enterprise", ("台秤厂", "大连台秤厂"),
              size_m=(130.0, 90.0),
              properties={"project_type": "enterprise", "label": "企业欠薪",
                          "arrears_since": 2008}),
    PlaceSpec("海韵新城", "平安", "building",
              ("海韵新城小区", "海韵新城楼盘"), buildings=12, size_m=(300.0, 200.0),
              properties={"project_type": "building", "label": "新建楼盘",
                          "issues": ["人车分流", "绿化率"]}),
    PlaceSpec("桃源街棚户区改造地块", "震海", "relocation", ("桃源街棚改",),
              size_m=(180.0, 120.0),
              properties={"project_type": "relocation", "label": "棚户区改造",
                          "households": 260, "phase": "征收"}),
)

# Stems and suffixes of the seeded extra 小区/大厦 (no 社区/街道 short name, no anchor stem).
_STEMS = (
    "锦绣", "金海", "碧海", "长城", "东方", "天河", "胜利", "和平", "幸福", "阳光", "绿洲",
    "新天地", "嘉华", "嘉汇", "富丽", "远洋", "金座", "海悦", "海尚", "海德", "海天", "明珠",
    "翠竹", "紫云", "瑞祥", "瑞和", "福佳", "福泰", "康乐", "安泰", "华府", "华林", "金地",
    "银河", "丽景", "丽都", "雅居", "怡景", "怡和", "宏泰", "宏达", "鑫苑", "鼎盛", "东山",
    "北岸", "滨江", "云海", "云山", "青山", "翠湖", "碧云", "景山", "泰山", "昆仑", "天马",
    "骏景", "龙腾", "凤凰", "枫叶", "桂花", "梧桐", "银杏", "丁香", "紫荆", "海棠", "玉兰",
    "柳岸", "秋实", "东海", "南海", "北海", "万家", "千禧", "世纪", "时代", "新世界", "中央",
    "蓝湾", "金湾", "银湾", "观海", "听涛", "望山", "祥和", "美景", "新华", "福源", "泰和",
)
_HOME_SUFFIXES = ("小区", "花园", "家园", "新村", "苑", "华庭", "名苑", "嘉园")
_TOWER_SUFFIXES = ("大厦", "公寓", "国际")


@dataclass
class _Row:
    kind: str
    name: str
    geom: BaseGeometry
    community_code: str | None
    street_code: str | None
    source: str = "demo"
    approximate: bool = True
    aliases: tuple[str, ...] = ()
    number_from: int | None = None
    number_to: int | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    normalized: str = ""


@dataclass(frozen=True)
class _Area:
    level: str
    code: str
    name: str
    short_name: str
    parent_code: str | None
    approximate: bool
    geom: BaseGeometry


def point_at_number(coords: Sequence[tuple[float, float]], vertex_numbers: Sequence[int],
                    number: int) -> tuple[float, float]:
    """The point of a house number: linear between the road's vertex numbers, clamped."""
    # The builder (number → 社区 runs) and the matcher both call this: they always agree.
    if number <= vertex_numbers[0]:
        return coords[0]
    if number >= vertex_numbers[-1]:
        return coords[-1]
    i = bisect.bisect_right(vertex_numbers, number) - 1
    n0, n1 = vertex_numbers[i], vertex_numbers[i + 1]
    t = (number - n0) / (n1 - n0)
    (x0, y0), (x1, y1) = coords[i], coords[i + 1]
    return x0 + (x1 - x0) * t, y0 + (y1 - y0) * t


def name_keys(name: str, aliases: Iterable[str] = ()) -> tuple[str, tuple[str, ...]]:
    """The normalised key of a name and the distinct normalised keys of its aliases."""
    key = normalize_address(name)
    seen = {key}
    out: list[str] = []
    for alias in aliases:
        norm = normalize_address(alias)
        if len(norm) >= 2 and norm not in seen:
            seen.add(norm)
            out.append(norm)
    return key, tuple(out)


def _round(x: float, y: float) -> tuple[float, float]:
    return round(x, _PRECISION), round(y, _PRECISION)


def _point_of(geom: BaseGeometry) -> list[float]:
    p = geom.point_on_surface()
    return [p.x, p.y]


class _District:
    """The loaded areas plus the metric helpers used to place generated features in them."""

    def __init__(self, areas: Sequence[_Area]) -> None:
        self.areas = areas
        self.communities = [a for a in areas if a.level == "community"]
        self.by_short = {a.short_name: a for a in self.communities}
        self.parent = {a.code: a.parent_code for a in self.communities}
        self._tree = shapely.STRtree([a.geom for a in self.communities])
        self._metric: dict[str, BaseGeometry] = {}
        for a in self.communities:
            metric = to_metric(a.geom, DEFAULT_METRIC_CRS)
            assert isinstance(metric, BaseGeometry)
            self._metric[a.code] = metric
        self._inner: dict[tuple[str, float], BaseGeometry] = {}
        self._land = shapely.union_all([a.geom for a in self.communities])
        shapely.prepare(self._land)
        # Generated places go on the mainland: a 社区 may own an island (杏花: 三山岛), and a
        # 小区 or a road out there would be absurd.
        mainland = _largest(shapely.union_all(list(self._metric.values())))
        self._mainland: dict[str, BaseGeometry] = {}
        for code, metric in self._metric.items():
            part = metric.intersection(mainland)
            self._mainland[code] = _largest(part if not part.is_empty else metric)

    def locate(self, lon: float, lat: float) -> str | None:
        """The 社区 covering a point; on a shared edge the lowest code, like the grid lookup."""
        hits = self._tree.query(Point(lon, lat), predicate="covered_by")
        codes = sorted(self.communities[int(i)].code for i in hits)
        return codes[0] if codes else None

    def sample(self, code: str, margin_m: float, rng: random.Random) -> Point:
        """A seeded metric point at least `margin_m` inside the 社区 (its pole if too narrow)."""
        key = (code, margin_m)
        if key not in self._inner:
            self._inner[key] = self._mainland[code].buffer(-margin_m)
        inner = self._inner[key]
        if inner.is_empty:
            return polylabel(self._mainland[code], 1.0)
        minx, miny, maxx, maxy = inner.bounds
        for _ in range(2000):
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if shapely.contains_xy(inner, x, y):
                return Point(x, y)
        return polylabel(_largest(inner), 1.0)

    def on_land(self, a: tuple[float, float], b: tuple[float, float]) -> bool:
        """True when the straight segment a-b stays inside the district's 社区 (no bay crossed)."""
        return bool(self._land.covers(LineString([a, b])))

    def clip(self, code: str, metric_geom: BaseGeometry) -> BaseGeometry:
        """A metric footprint cut to its 社区."""
        return metric_geom.intersection(self._metric[code])


def _largest(geom: BaseGeometry) -> Any:
    parts = list(getattr(geom, "geoms", [geom]))
    return max(parts, key=lambda g: g.area)


def _to_wgs(metric_geom: BaseGeometry) -> BaseGeometry:
    geom = geometry_to_wgs84(metric_geom, DEFAULT_METRIC_CRS)
    assert isinstance(geom, BaseGeometry)
    return shapely.set_precision(geom, 10.0 ** -_PRECISION)


def _wgs_point(metric_point: Point) -> tuple[float, float]:
    geom = geometry_to_wgs84(metric_point, DEFAULT_METRIC_CRS)
    assert isinstance(geom, Point)
    return _round(geom.x, geom.y)


def _load_areas(session: Session) -> list[_Area]:
    rows = session.execute(sql("gazetteer_areas")).all()
    geoms = shapely.from_wkb([bytes(r.wkb) for r in rows])
    return [_Area(r.level, r.code, r.name, r.short_name or r.name, r.parent_code,
                  bool(r.approximate), g) for r, g in zip(rows, geoms, strict=True)]


def _area_rows(areas: Sequence[_Area]) -> list[_Row]:
    rows: list[_Row] = []
    for a in areas:
        props: dict[str, Any] = {"code": a.code, "point": _point_of(a.geom)}
        if a.level == "district":
            aliases = tuple(f"{p}{a.name}" for p in ("大连市", "辽宁省大连市", "大连"))
            rows.append(_Row("district", a.name, a.geom, None, None, "boundaries", a.approximate,
                             aliases, properties=props))
        elif a.level == "street":
            stem = a.name.removesuffix("街道")
            aliases = (a.short_name, f"{stem}街道办事处", f"{stem}街道办")
            rows.append(_Row("street", a.name, a.geom, None, a.code, "boundaries", a.approximate,
                             aliases, properties=props))
        else:
            stem = a.name.removesuffix("社区居委会").removesuffix("居委会")
            aliases = (f"{stem}社区", f"{stem}居委会", f"{stem}社区居民委员会", a.short_name)
            rows.append(_Row("community", a.name, a.geom, a.code, a.parent_code, "boundaries",
                             a.approximate, aliases, properties=props))
    return rows


def _waypoints(district: _District, codes: Sequence[str],
               rng: random.Random) -> list[tuple[float, float]]:
    """One seeded point per 社区, each segment on land: house numbers never fall in the sea."""
    coords: list[tuple[float, float]] = []
    for _restart in range(20):
        coords = [_wgs_point(district.sample(codes[0], 60.0, rng))]
        for code in codes[1:]:
            for _attempt in range(200):
                point = _wgs_point(district.sample(code, 60.0, rng))
                if district.on_land(coords[-1], point):
                    coords.append(point)
                    break
            else:
                break
        if len(coords) == len(codes):
            return coords
    raise ValueError(f"no road on land through 社区 {', '.join(codes)}")


def _road_rows(district: _District, seed: int) -> list[_Row]:
    rows: list[_Row] = []
    for i, spec in enumerate(ROADS):
        if not all(c in district.by_short for c in spec.communities):
            continue  # another district's boundaries: the Zhongshan demo roads do not apply
        rng = random.Random(f"{seed}:road:{i}:{spec.name}")
        codes = [district.by_short[c].code for c in spec.communities]
        coords = _waypoints(district, codes, rng)
        numbers = WAYPOINT_NUMBERS[: len(coords)]
        runs: list[list[Any]] = []
        for n in range(numbers[0], numbers[-1] + 1):
            code = district.locate(*point_at_number(coords, numbers, n))
            if runs and runs[-1][2] == code:
                runs[-1][1] = n
            else:
                runs.append([n, n, code])
        # The road's "middle" is its middle waypoint: a point it surely passes, in a known 社区.
        middle = numbers[len(numbers) // 2]
        mid_x, mid_y = point_at_number(coords, numbers, middle)
        mid_code = district.locate(mid_x, mid_y)
        props = {"vertex_numbers": list(numbers), "number_communities": runs,
                 "point": [mid_x, mid_y], "middle_number": middle,
                 "waypoint_communities": codes}
        rows.append(_Row("road", spec.name, LineString(coords), mid_code,
                         district.parent.get(mid_code or ""), number_from=numbers[0],
                         number_to=numbers[-1], properties=props))
    return rows


def _footprint(center: Point, width: float, height: float) -> BaseGeometry:
    return shapely.box(center.x - width / 2, center.y - height / 2,
                       center.x + width / 2, center.y + height / 2)


def _complex_rows(district: _District, spec: PlaceSpec, kind: str, seed: int,
                  properties: dict[str, Any]) -> list[_Row]:
    """A 小区/大厦/project: a small footprint in its 社区, plus its numbered 号楼 as points."""
    code = district.by_short[spec.community].code
    rng = random.Random(f"{seed}:{kind}:{spec.name}")
    width, height = spec.size_m if spec.size_m != (0.0, 0.0) else (
        rng.uniform(90.0, 140.0), rng.uniform(80.0, 120.0))
    margin = max(width, height) / 2 + 30.0
    center = district.sample(code, margin, rng)
    cx, cy = _wgs_point(center)
    located = district.locate(cx, cy) or code
    footprint = _to_wgs(district.clip(code, _footprint(center, width, height)))
    props = {**properties, "category": spec.category, "point": [cx, cy]}
    if spec.buildings:
        props["buildings"] = spec.buildings
    rows = [_Row(kind, spec.name, footprint, located, district.parent.get(located),
                 aliases=spec.aliases, properties=props)]
    # 号楼 in rows of three, inside the footprint (20 m from its edge).
    cols = 3
    nrows = -(-spec.buildings // cols)
    for k in range(spec.buildings):
        col, row = k % cols, k // cols
        dx = (col - (cols - 1) / 2) * (width - 40.0) / max(cols - 1, 1)
        dy = ((nrows - 1) / 2 - row) * (height - 40.0) / max(nrows - 1, 1)
        bx, by = _wgs_point(Point(center.x + dx, center.y + dy))
        bcode = district.locate(bx, by) or code
        rows.append(_Row("building", f"{spec.name}{k + 1}号楼", Point(bx, by), bcode,
                         district.parent.get(bcode),
                         properties={"complex": spec.name, "building_no": str(k + 1)}))
    return rows


def _building_specs(district: _District, seed: int) -> list[PlaceSpec]:
    taken = {s.name for s in ANCHOR_BUILDINGS} | {s.name for s in LANDMARKS} | {
        s.name for s in PROJECTS}
    specs: list[PlaceSpec] = []
    for c in district.communities:
        name = f"{c.short_name}小区"
        if name not in taken:
            taken.add(name)
            specs.append(PlaceSpec(name, c.short_name, "小区",
                                   buildings=ANCHOR_BUILDING_COUNT))
    specs.extend(s for s in ANCHOR_BUILDINGS if s.community in district.by_short)
    shorts = {a.short_name for a in district.areas}
    stems = [s for s in _STEMS if s not in shorts]
    for c in district.communities:
        rng = random.Random(f"{seed}:complexes:{c.code}")
        for _ in range(rng.randint(2, 4)):
            for _attempt in range(50):
                tower = rng.random() < 0.25
                suffix = rng.choice(_TOWER_SUFFIXES if tower else _HOME_SUFFIXES)
                name = rng.choice(stems) + suffix
                if name not in taken:
                    break
            else:
                continue
            taken.add(name)
            specs.append(PlaceSpec(name, c.short_name, "大厦" if tower else "小区",
                                   buildings=0 if tower else rng.randint(3, 10)))
    return specs


def _landmark_rows(district: _District, seed: int) -> list[_Row]:
    specs = [s for s in LANDMARKS if s.community in district.by_short]
    specs += [PlaceSpec(f"{c.short_name}社区卫生服务站", c.short_name, "卫生服务站")
              for c in district.communities]
    rows: list[_Row] = []
    for spec in specs:
        code = district.by_short[spec.community].code
        rng = random.Random(f"{seed}:landmark:{spec.name}")
        x, y = _wgs_point(district.sample(code, 50.0, rng))
        located = district.locate(x, y) or code
        rows.append(_Row("landmark", spec.name, Point(x, y), located,
                         district.parent.get(located), aliases=spec.aliases,
                         properties={"category": spec.category}))
    return rows


def _generate(areas: Sequence[_Area], seed: int) -> list[_Row]:
    """All gazetteer rows for the given areas, in a fixed order (pure: no database)."""
    district = _District(areas)
    rows = _area_rows(areas)
    rows += _road_rows(district, seed)
    for spec in _building_specs(district, seed):
        rows += _complex_rows(district, spec, "building", seed, {})
    rows += _landmark_rows(district, seed)
    for spec in PROJECTS:
        if spec.community in district.by_short:
            rows += _complex_rows(district, spec, "project", seed, spec.properties)
    for row in rows:
        if row.kind == "district":
            # Its names normalise to "" (they are the admin prefixes the matcher strips and
            # reports), so they are stored as written.
            row.normalized = row.name
        else:
            row.normalized, row.aliases = name_keys(row.name, row.aliases)
    return rows


def build_gazetteer(session: Session, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Rebuild every gazetteer entry from the active boundaries and the seed; counts per kind."""
    # Delete and insert in the caller's transaction: readers see the old or the new gazetteer.
    rows = _generate(_load_areas(session), seed)
    session.execute(sql("clear_gazetteer"))
    if rows:
        wkbs = shapely.to_wkb(np.array([r.geom for r in rows], dtype=object),
                              output_dimension=2)
        session.execute(sql("insert_gazetteer_entry"), [{
            "kind": r.kind, "name": r.name, "normalized": r.normalized,
            "aliases": list(r.aliases), "community_code": r.community_code,
            "street_code": r.street_code, "number_from": r.number_from,
            "number_to": r.number_to, "approximate": r.approximate, "source": r.source,
            "properties": json.dumps(r.properties, ensure_ascii=False),
            "wkb": wkb,
        } for r, wkb in zip(rows, wkbs, strict=True)])
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.kind] = counts.get(r.kind, 0) + 1
    return counts
