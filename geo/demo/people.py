"""Generated (示意) grid people for the demo district: a 网格员 per grid, a 网格长 per 社区, the
社区居委会 as the responsible unit, and a few staff rotations so that history matters.

Names are drawn from common surnames and given names with a seeded generator; every
person is stored with ``approximate = true``. Names that appear in the Legal Daily report are
never drawn, so no generated grid worker is mistaken for a real official.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from geo.cases.reference import ensure_area_units
from geo.models import BoundaryGeneration, GridAssignment, GridCell, Staff, Unit

DEFAULT_PEOPLE_SEED = 20190101
# The day a share of grids gets a new grid worker (mid-year staffing round), and the share.
ROTATION_DATE = date(2020, 7, 1)
ROTATION_SHARE = 0.05
# A few communities also get a new 网格长 after the National Day holiday.
LEADER_ROTATION_DATE = date(2020, 10, 9)
LEADER_ROTATIONS = 3

# Common surnames, roughly by frequency in Liaoning (于, 孙, 姜, 曲, 丛 are frequent in Dalian).
SURNAMES = (
    "王李张刘于孙赵杨陈周徐马高吴林姜郭宋曲韩郑董丛隋邹梁谭朱胡唐许曹冯苏程邵袁姚田卢"
    "杜蒋毕丁贾沈石吕谷范崔孟宫任金魏薛邢鞠初潘侯邓汪秦尹彭黄戴阎"
)
# Common given names of people born 1950-2000 in the north-east, whole (combining single
# characters at random gives names nobody is called).
_GIVEN_NAMES = """
伟 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 霞 平 刚 华 红 鹏 辉 宇 浩 凯 斌 颖 婷 雪 琳 晶
欣 波 峰 燕 丹 萍 亮 宁 博 飞 岩 冬 玲 莉 慧 佳 鑫 蕾 倩 楠 健 彬 爽 旭 东 利 忠 林 成 坤
秀英 桂英 秀兰 玉兰 桂兰 秀珍 淑珍 淑华 淑英 玉珍 凤兰 玉梅 秀芳 丽华 丽娟 丽娜 海燕 红梅
春梅 晓燕 晓红 晓丽 亚丽 艳红 艳梅 雪梅 丽丽 娜娜 婷婷 晓琳 佳琪 思雨 雨涵 欣怡 梦瑶 子涵
建国 建华 建军 建平 国庆 国华 国栋 志强 志刚 志勇 志明 永刚 永生 永胜 宝林 长山 长海 德福
德胜 振江 振国 海涛 海波 海龙 洪涛 春雷 晓东 晓峰 晓光 立新 立军 卫东 卫国 文革 红军 庆丰
庆林 玉成 明哲 浩然 子豪 宇航 俊杰 家乐 天宇 博文 一鸣 文博 嘉怡 晓宇 鹏飞 金龙 世杰 福生
"""
GIVEN = tuple(_GIVEN_NAMES.split())
# Names in the seed article (officials, reporters): never drawn for a generated person.
RESERVED_NAMES = frozenset({"王守宇", "赵云峰", "曲波远", "王昕巍", "刘磊", "张国强", "韩宇"})


def demo_name(rng: random.Random, taken: set[str] | None = None) -> str:
    """A plausible Chinese name not in `taken` (which it then joins, when given)."""
    while True:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        if name in RESERVED_NAMES or (taken is not None and name in taken):
            continue
        if taken is not None:
            taken.add(name)
        return name


def active_grids(session: Session) -> dict[str, list[str]]:
    """The active grid codes by 社区 code, each list in code order."""
    rows = session.execute(
        select(GridCell.community_code, GridCell.code)
        .join(BoundaryGeneration, (BoundaryGeneration.id == GridCell.generation_id)
              & BoundaryGeneration.is_active & (BoundaryGeneration.level == "grid"))
        .order_by(GridCell.code))
    grids: dict[str, list[str]] = defaultdict(list)
    for community, code in rows:
        grids[community].append(code)
    return dict(grids)


def assign_demo_people(session: Session, start: date = date(2019, 1, 1),
                       seed: int = DEFAULT_PEOPLE_SEED) -> dict[str, int]:
    """Give every active grid generated people and its 居委会 from `start`; idempotent."""
    ensure_area_units(session)
    grids = active_grids(session)
    units = dict(session.execute(select(Unit.code, Unit.id).where(
        Unit.code.in_(list(grids)))).all())
    # A grid and role that already has anyone (a district's real roster or an earlier run) is
    # left alone: demo people never overwrite anything.
    staffed = set(session.execute(select(GridAssignment.grid_code, GridAssignment.role)
                                  .distinct()).all())
    taken = set(session.scalars(select(Staff.name)).all())
    rng = random.Random(seed)
    codes = [g for community in sorted(grids) for g in grids[community]]
    rotated = set(rng.sample(codes, round(len(codes) * ROTATION_SHARE))
                  if start < ROTATION_DATE else [])
    new_leader = set(rng.sample(sorted(grids), min(LEADER_ROTATIONS, len(grids)))
                     if start < LEADER_ROTATION_DATE else [])
    # The same timeline assign_grid_person would build (a successor's start ends the
    # predecessor the day before), written in two INSERTs: ~1,200 rows one by one take seconds.
    people: list[tuple[str, str, str, date, date | None]] = []
    unit_rows: list[dict[str, Any]] = []
    staff_unit: dict[str, int | None] = {}
    for community in sorted(grids):
        unit_id = units.get(community)
        leader = demo_name(rng, taken)
        successor = demo_name(rng, taken) if community in new_leader else None
        for code in grids[community]:
            worker = demo_name(rng, taken)
            replacement = demo_name(rng, taken) if code in rotated else None
            for role, first, second, switch in (
                    ("grid_worker", worker, replacement, ROTATION_DATE),
                    ("grid_leader", leader, successor, LEADER_ROTATION_DATE)):
                if (code, role) in staffed:
                    continue
                end = switch - timedelta(days=1) if second else None
                people.append((code, role, first, start, end))
                staff_unit[first] = unit_id
                if second:
                    people.append((code, role, second, switch, None))
                    staff_unit[second] = unit_id
            if (code, "responsible_unit") not in staffed and unit_id is not None:
                unit_rows.append({"grid_code": code, "role": "responsible_unit",
                                  "unit_id": unit_id, "start_date": start, "end_date": None})
    staff_ids: dict[str, int] = {}
    if staff_unit:
        staff_ids = {name: sid for sid, name in session.execute(
            insert(Staff).returning(Staff.id, Staff.name),
            [{"name": n, "unit_id": u, "approximate": True} for n, u in staff_unit.items()])}
    rows: list[dict[str, Any]] = [
        {"grid_code": code, "role": role, "staff_id": staff_ids[name], "unit_id": None,
         "start_date": first, "end_date": end} for code, role, name, first, end in people]
    if rows or unit_rows:
        session.execute(insert(GridAssignment), rows + unit_rows)
    session.flush()
    worker_rows = [p for p in people if p[1] == "grid_worker"]
    leader_rows = [p for p in people if p[1] == "grid_leader"]
    return {
        "grids": len(codes),
        "grid_worker": sum(1 for p in worker_rows if p[3] == start),
        "grid_leader": sum(1 for p in leader_rows if p[3] == start),
        "responsible_unit": len(unit_rows),
        "worker_rotations": sum(1 for p in worker_rows if p[3] != start),
        "leader_rotations": len({p[2] for p in leader_rows if p[3] != start}),
        "staff": len(staff_ids),
        "already_staffed": len(codes) - len({p[0] for p in people} |
                                            {str(u["grid_code"]) for u in unit_rows}),
    }
