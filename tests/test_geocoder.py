"""The offline gazetteer geocoder on the generated Zhongshan district, end to end on PostGIS.

The expected 社区 come from the anchors the gazetteer generator guarantees for every seed:
waypoint house numbers of `ROADS` (1, 28, 58, 88, … lie in the listed 社区), the middle waypoint
of a road, "<社区>小区" and its 1-6号楼, the named buildings, landmarks and project sites.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from geo.geocode.base import GeocodeResult
from geo.geocode.gazetteer import ROADS, WAYPOINT_NUMBERS, build_gazetteer
from geo.geocode.matcher import GazetteerGeocoder

# 社区 codes by short name (国家统计局 统计用区划代码, data/boundaries/sources).
C = {
    "春海": "210202001002", "春景": "210202001003", "春德": "210202001004",
    "春山": "210202001005", "华乐": "210202001006", "春和": "210202001007",
    "港湾": "210202001008", "海军广场": "210202001010", "育才": "210202001011",
    "海景": "210202001012",
    "福寿": "210202005001", "兴和": "210202005002", "七一": "210202005003",
    "修竹": "210202005005", "海港": "210202005006", "民主": "210202005007",
    "港兴": "210202005008", "港盛": "210202005009", "珠翠": "210202005010",
    "东日": "210202005011", "珠锦": "210202005012", "港韵": "210202005013",
    "上海": "210202008001", "天津": "210202008002", "青泥": "210202008004",
    "双合": "210202008007", "湖畔": "210202008008", "林景": "210202008009",
    "解放": "210202008010", "安民": "210202008011", "枫林": "210202008012",
    "望海": "210202008013", "嘉和": "210202008014",
    "向阳": "210202010001", "石葵": "210202010002", "清泉": "210202010003",
    "青云": "210202010005", "光华": "210202010006", "文化": "210202010007",
    "葵英": "210202010008",
    "智仁": "210202010010", "林海": "210202010011", "独立": "210202010013",
    "华昌": "210202010014", "绿山": "210202010015", "武昌": "210202010016",
    "吉利": "210202010017",
    "长利": "210202011002", "自由": "210202011003", "洪顺": "210202011004",
    "桃源": "210202011006", "震海": "210202011007", "医校": "210202011009",
    "高尚": "210202011011", "滨海": "210202011013", "舰院": "210202011014",
    "秀月": "210202011015", "环山": "210202011016",
    "虎山": "210202012001", "杏花": "210202012003", "中兴": "210202012004",
    "迎宾": "210202012006", "平安": "210202012008", "中南": "210202012009",
    "兴隆": "210202012010",
}
# 街道 codes by short name.
S = {
    "海军广场": "210202001000", "人民路": "210202005000", "青泥洼桥": "210202008000",
    "葵英": "210202010000", "桃源": "210202011000", "老虎滩": "210202012000",
}

# (address as typed, expected level, expected 社区 code — the 街道 code at street level, None
# for district and none).
CASES: list[tuple[str, str, str | None]] = [
    # road + house number, at waypoint numbers
    ("人民路1号", "road_number", C["民主"]),
    ("人民路28号", "road_number", C["港兴"]),
    ("大连市中山区人民路58号", "road_number", C["港盛"]),
    ("辽宁省大连市中山区人民路８８号", "road_number", C["珠翠"]),
    ("人民路118号", "road_number", C["春海"]),
    ("人民路300号", "road_number", C["春海"]),          # beyond the range: clamped to the end
    ("人民路0号", "road_number", C["民主"]),
    ("中山路二十八号", "road_number", C["青泥"]),
    ("中山区中山路58号", "road_number", C["林景"]),
    ("大连中山路88号", "road_number", C["双合"]),
    ("中山路148号3单元502室", "road_number", C["石葵"]),
    ("中山路178-2-301", "road_number", C["春和"]),
    ("中山路28号院", "road_number", C["青泥"]),
    ("中山路28号楼", "road_number", C["青泥"]),
    ("解放路一号", "road_number", C["解放"]),
    ("解放路 28 号", "road_number", C["青云"]),
    ("解放路88號", "road_number", C["葵英"]),
    ("五五路28号", "road_number", C["光华"]),
    ("五五路五十八号", "road_number", C["智仁"]),
    ("鲁迅路58号", "road_number", C["港盛"]),
    ("长江路28号", "road_number", C["民主"]),
    ("友好路58号", "road_number", C["东日"]),
    ("天津街1号", "road_number", C["天津"]),
    ("天津街二十八号附近", "road_number", C["湖畔"]),
    ("延安路58号", "road_number", C["清泉"]),
    ("港湾街28号", "road_number", C["港湾"]),
    ("明泽街1号", "road_number", C["东日"]),
    ("葵英街28号", "road_number", C["葵英"]),
    ("桃源街58号", "road_number", C["滨海"]),
    ("滨海路148号", "road_number", C["中南"]),
    ("滨海路88号", "road_number", C["环山"]),
    ("迎春路58号", "road_number", C["春山"]),
    ("白云街28号", "road_number", C["震海"]),
    ("南山路88号", "road_number", C["独立"]),
    ("七一街一号", "road_number", C["福寿"]),
    ("昆明街58号", "road_number", C["长利"]),
    ("上海路28号", "road_number", C["上海"]),
    ("同兴街28号", "road_number", C["海港"]),
    ("望海街58号", "road_number", C["望海"]),
    ("桂林街28号", "road_number", C["枫林"]),
    ("民生街58号", "road_number", C["珠翠"]),
    ("一德街28号", "road_number", C["湖畔"]),
    ("秀月街28号", "road_number", C["秀月"]),
    ("长春路58号", "road_number", C["绿山"]),
    ("中南路28号", "road_number", C["中南"]),
    ("迎宾路1号", "road_number", C["虎山"]),
    ("华昌街28号", "road_number", C["华昌"]),
    ("春德街58号", "road_number", C["石葵"]),
    ("育才街58号", "road_number", C["育才"]),
    ("杏花街28号", "road_number", C["杏花"]),
    ("中兴街58号", "road_number", C["平安"]),
    ("虎山路28号", "road_number", C["虎山"]),
    ("人民路28-30号", "road_number", C["港兴"]),
    ("人民路28号3-502", "road_number", C["港兴"]),
    ("人民略58号", "road_number", C["港盛"]),          # typo in the name
    ("港湾接28号", "road_number", C["港湾"]),
    ("天津巷28号", "road_number", C["湖畔"]),           # 街/巷 tolerated
    # one name, two roads: the 街道/社区 in the address decides
    ("葵英街道新华街1号", "road_number", C["武昌"]),
    ("老虎滩街道新华街28号", "road_number", C["迎宾"]),
    ("吉利社区新华街28号", "road_number", C["吉利"]),
    ("兴隆新华街1号", "road_number", C["兴隆"]),
    # buildings
    ("春海小区", "building", C["春海"]),
    ("春海小区3号楼", "building", C["春海"]),
    ("春海小区3栋2单元502室", "building", C["春海"]),
    ("春海小区三号楼二单元五〇二", "building", C["春海"]),
    ("春海小区3-2-502", "building", C["春海"]),
    ("春海小區３號樓", "building", C["春海"]),
    ("春海小区99号楼", "building", C["春海"]),
    ("人民路28号春海小区", "building", C["春海"]),
    ("大连市中山区港湾花园8号楼", "building", C["港湾"]),
    ("港湾花园 1号楼 1单元 101", "building", C["港湾"]),
    ("明泽大厦A座", "building", C["东日"]),
    ("明泽大厦12层", "building", C["东日"]),
    ("友好大厦", "building", C["上海"]),
    ("桃源新村10号楼", "building", C["桃源"]),
    ("滨海家园2号楼3单元", "building", C["滨海"]),
    ("中南华庭5号楼", "building", C["中南"]),
    ("青泥小区6号楼", "building", C["青泥"]),
    ("海军广场小区2号楼", "building", C["海军广场"]),
    ("葵英小区1#楼", "building", C["葵英"]),
    ("长利小区4幢", "building", C["长利"]),
    ("兴隆小区1号楼门口", "building", C["兴隆"]),
    ("海韵新城3号楼", "building", C["平安"]),
    ("海韵新城12号", "building", C["平安"]),
    ("春海小曲3号楼", "building", C["春海"]),          # typos
    ("港湾花圆", "building", C["港湾"]),
    ("桃源新材5号楼", "building", C["桃源"]),
    # landmarks
    ("葵英市场", "landmark", C["葵英"]),
    ("葵英市场附近", "landmark", C["葵英"]),
    ("葵英市厂", "landmark", C["葵英"]),
    ("三八广场", "landmark", C["双合"]),
    ("大连站", "landmark", C["天津"]),
    ("大连火车站对面", "landmark", C["天津"]),
    ("青泥洼桥地铁站", "landmark", C["青泥"]),
    ("地铁友好广场站", "landmark", C["上海"]),
    ("中山广场", "landmark", C["港兴"]),
    ("大连市第十一中学", "landmark", C["青云"]),
    ("大连11中", "landmark", C["青云"]),
    ("中山区第一小学", "landmark", C["春海"]),
    ("中山区第1小学", "landmark", C["春海"]),
    ("劳动公园", "landmark", C["解放"]),
    ("老虎滩海洋公园", "landmark", C["中南"]),
    ("森林动物园", "landmark", C["平安"]),
    ("春海社区卫生服务站", "landmark", C["春海"]),
    ("中山区信访局", "landmark", C["石葵"]),
    # project sites
    ("华联宾馆地块", "project", C["青泥"]),
    ("华联宾馆回迁楼", "project", C["青泥"]),
    ("大连市中山区华联宾馆", "project", C["青泥"]),
    ("华联宾官地块", "project", C["青泥"]),
    ("大连市台秤厂", "project", C["长利"]),
    ("台秤厂", "project", C["长利"]),
    ("大连台秤厂附近", "project", C["长利"]),
    ("海韵新城", "project", C["平安"]),
    ("海韵新城小区", "project", C["平安"]),
    ("桃源街棚户区改造地块", "project", C["震海"]),
    # roads without a number: the middle waypoint, or the middle within the named 社区
    ("人民路", "road", C["港盛"]),
    ("五五路", "road", C["光华"]),
    ("中山路", "road", C["双合"]),
    ("滨海路", "road", C["环山"]),
    ("春海社区人民路", "road", C["春海"]),
    ("人民路（港兴社区）", "road", C["港兴"]),
    ("新华街", "road", C["吉利"]),                     # ambiguous: the first one, low confidence
    ("鲁讯路", "road", C["港盛"]),
    ("天津巷", "road", C["湖畔"]),
    ("人民路口", "road", C["港盛"]),
    # 社区
    ("春海社区", "community", C["春海"]),
    ("春海社区居委会", "community", C["春海"]),
    ("大连市中山区春海社区", "community", C["春海"]),
    ("春海", "community", C["春海"]),
    ("春海居委会", "community", C["春海"]),
    ("海军广场", "community", C["海军广场"]),
    ("葵英", "community", C["葵英"]),
    ("海军广场街道春海社区", "community", C["春海"]),
    # 街道
    ("青泥洼桥街道", "street", S["青泥洼桥"]),
    ("青泥洼桥", "street", S["青泥洼桥"]),
    ("人民路街道", "street", S["人民路"]),
    ("老虎滩街道办事处", "street", S["老虎滩"]),
    ("中山区葵英街道", "street", S["葵英"]),
    ("桃源街道", "street", S["桃源"]),
    # the district only
    ("大连市中山区", "district", None),
    ("辽宁省大连市中山区", "district", None),
    ("中山区", "district", None),
    ("大连市", "district", None),
    ("大连市中山区某某单位", "district", None),
    # nothing, or somewhere else
    ("", "none", None),
    ("随便写写", "none", None),
    ("asdf", "none", None),
    ("123456", "none", None),
    ("大连市西岗区人民路1号", "none", None),
    ("沙河口区春海小区", "none", None),
    ("甘井子区华联宾馆", "none", None),
    ("北京市朝阳区人民路28号", "none", None),
    ("人民道28号", "none", None),                      # 路/道 is not a typo
    ("某某路口", "none", None),
    ("我家楼下", "none", None),
]
POINT_LEVELS = ("building", "road_number", "landmark", "project", "road")

COVERED = text("""
    SELECT t.i
    FROM unnest(CAST(:codes AS text[]), CAST(:lons AS float8[]), CAST(:lats AS float8[]))
         WITH ORDINALITY AS t(code, lon, lat, i)
    WHERE NOT EXISTS (
        SELECT 1 FROM area a
        JOIN boundary_generation g ON g.id = a.generation_id AND g.is_active
        WHERE a.level = 'community' AND a.code = t.code
          AND ST_Covers(a.geom, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326)))
    ORDER BY t.i
""")

ROWS = text("""
    SELECT kind, name, normalized, aliases, community_code, street_code, number_from, number_to,
           approximate, source, properties::text AS properties, ST_AsEWKB(geom) AS geom
    FROM gazetteer_entry ORDER BY id
""")


def _built(session: Session, seed: int | None = None) -> GazetteerGeocoder:
    counts = build_gazetteer(session) if seed is None else build_gazetteer(session, seed)
    assert counts["district"] == 1
    session.flush()
    return GazetteerGeocoder.from_session(session)


@pytest.fixture(scope="module")
def geocoder(engine: Engine, zhongshan: None) -> Iterator[GazetteerGeocoder]:
    """The demo gazetteer built once for the module, in a transaction that is rolled back."""
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            with Session(bind=conn) as sess:
                yield _built(sess)
        finally:
            trans.rollback()


def _code(result: GeocodeResult) -> str | None:
    return result.street_code if result.level == "street" else result.community_code


def _uncovered(session: Session, results: list[GeocodeResult]) -> list[GeocodeResult]:
    rows = session.execute(COVERED, {
        "codes": [r.community_code for r in results],
        "lons": [r.lon for r in results], "lats": [r.lat for r in results],
    }).scalars().all()
    return [results[i - 1] for i in rows]


def test_the_table_has_at_least_100_addresses() -> None:
    assert len(C) == 65
    assert len(CASES) >= 100
    assert len({a for a, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("address", "level", "code"), CASES)
def test_geocode_address(geocoder: GazetteerGeocoder, address: str, level: str,
                         code: str | None) -> None:
    result = geocoder.geocode(address)
    assert (result.level, _code(result)) == (level, code), result
    if level in POINT_LEVELS:
        assert result.precise_enough("road")
        assert result.street_code == code[:9] + "000"  # type: ignore[index]
    if level == "none":
        assert (result.lon, result.confidence) == (None, 0.0)


def test_results_carry_name_and_normalised_text(geocoder: GazetteerGeocoder) -> None:
    result = geocoder.geocode("大连市中山区五五路二十八号")
    assert (result.matched, result.normalized, result.source) == (
        "五五路 28号", "五五路28号", "gazetteer")
    assert geocoder.geocode("春海小区3栋2单元").matched == "春海小区3号楼"


def test_other_district_is_never_a_zhongshan_place(geocoder: GazetteerGeocoder) -> None:
    for address in ("大连市西岗区春海小区3号楼", "西岗区人民路28号", "沙河口区葵英市场"):
        result = geocoder.geocode(address)
        assert (result.level, result.lon, result.community_code) == ("none", None, None)


def test_confidence_orders_exact_typo_and_vague(geocoder: GazetteerGeocoder) -> None:
    def conf(address: str) -> float:
        return geocoder.geocode(address).confidence

    assert conf("人民路58号") >= 0.9
    assert conf("人民略58号") < conf("人民路58号")
    assert conf("人民路58号附近") < conf("人民路58号")
    assert conf("人民路300号") < conf("人民路118号")
    assert conf("新华街") < conf("葵英街道新华街")
    assert conf("春海") < conf("春海社区")
    assert conf("大连市中山区某某单位") < conf("大连市中山区")


def test_a_contradicting_street_lowers_confidence(geocoder: GazetteerGeocoder) -> None:
    plain = geocoder.geocode("天津街28号")
    contradicted = geocoder.geocode("海军广场街道天津街28号")
    assert (contradicted.level, contradicted.community_code) == ("road_number", C["湖畔"])
    assert contradicted.confidence < plain.confidence
    agreeing = geocoder.geocode("青泥洼桥街道天津街28号")
    assert agreeing.confidence == plain.confidence


def test_points_lie_in_the_returned_community(session: Session,
                                              geocoder: GazetteerGeocoder) -> None:
    results = [geocoder.geocode(a) for a, level, _ in CASES if level in POINT_LEVELS]
    assert _uncovered(session, results) == []


def test_every_house_number_and_building_lies_in_its_community(
        session: Session, geocoder: GazetteerGeocoder) -> None:
    top = WAYPOINT_NUMBERS[max(len(r.communities) for r in ROADS) - 1]
    addresses = [f"{name}{n}号" for name in sorted({r.name for r in ROADS})
                 for n in range(1, top + 1)]
    addresses += [f"{c}小区{k}号楼" for c in C for k in range(1, 7)]
    results = geocoder.geocode_many(addresses)
    assert {r.level for r in results} == {"road_number", "building"}
    assert _uncovered(session, results) == []


def test_waypoint_numbers_are_in_the_waypoint_community(geocoder: GazetteerGeocoder) -> None:
    for road in ROADS:
        if road.name == "新华街":
            continue  # two roads of that name; covered by the disambiguation cases
        for community, number in zip(road.communities, WAYPOINT_NUMBERS, strict=False):
            result = geocoder.geocode(f"{road.name}{number}号")
            assert result.community_code == C[community], (road.name, number, result)


def test_geocode_many_equals_one_by_one(geocoder: GazetteerGeocoder) -> None:
    addresses = [a for a, _, _ in CASES] * 2 + ["人民路28号", "春海小曲3号楼"]
    assert geocoder.geocode_many(addresses) == [geocoder.geocode(a) for a in addresses]


def _rows(session: Session) -> list[tuple[Any, ...]]:
    return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
            for row in session.execute(ROWS)]


def test_build_gazetteer_twice_gives_identical_rows(session: Session, zhongshan: None) -> None:
    first_counts = build_gazetteer(session)
    first = _rows(session)
    second_counts = build_gazetteer(session)
    assert second_counts == first_counts
    assert _rows(session) == first
    assert len(first) == sum(first_counts.values())


def test_gazetteer_counts_and_provenance(session: Session, zhongshan: None) -> None:
    counts = build_gazetteer(session)
    assert counts["district"] == 1 and counts["street"] == 6 and counts["community"] == 65
    assert counts["road"] == len(ROADS) and counts["project"] >= 3
    assert counts["building"] >= 65 * 7 and counts["landmark"] >= 65
    provenance = session.execute(text(
        "SELECT kind IN ('district','street','community') AS area, source, approximate, count(*)"
        " FROM gazetteer_entry GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")).all()
    assert [tuple(r) for r in provenance] == [
        (False, "demo", True, sum(counts.values()) - 72),
        (True, "boundaries", False, 1),        # the real district outline
        (True, "boundaries", True, 71),        # generated 街道/社区 polygons
    ]
    missing_codes = session.execute(text(
        "SELECT count(*) FROM gazetteer_entry WHERE kind NOT IN ('district', 'street')"
        " AND (community_code IS NULL OR street_code IS NULL)")).scalar_one()
    assert missing_codes == 0


def test_anchors_do_not_depend_on_the_seed(session: Session, zhongshan: None) -> None:
    geocoder = _built(session, seed=7)
    wrong = [(a, level, code, geocoder.geocode(a)) for a, level, code in CASES
             if (lambda r: (r.level, _code(r)))(geocoder.geocode(a)) != (level, code)]
    assert wrong == []
