"""Demo users for `make run`: one per role, scoped to real places of the demo data around its
busiest grid, with random passwords shown once (there are no default credentials)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from geo.access.users import create_user
from geo.demo.people import active_grids
from geo.models import AppUser, Area, BoundaryGeneration, GridAssignment, PetitionCase, Staff, Unit

# Roles that see the whole district: (username, display name).
_DISTRICT_WIDE = (
    ("registrar", "dengji", "信访登记员（演示）"),
    ("commander", "zhihui", "指挥中心（演示）"),
    ("discipline", "jijian", "纪检监察（演示）"),
    ("admin", "admin", "系统管理员（演示）"),
)


@dataclass(frozen=True)
class _DemoUser:
    username: str
    role: str
    display_name: str
    grid_codes: tuple[str, ...] = ()
    community_code: str | None = None
    street_code: str | None = None
    unit_id: int | None = None
    staff_id: int | None = None


def _busiest_grid(session: Session, grids: list[str]) -> str:
    """The active grid with the most cases (the demo's 华联宾馆 story), else the first one."""
    code = session.scalar(
        select(PetitionCase.grid_code).where(PetitionCase.grid_code.in_(grids))
        .group_by(PetitionCase.grid_code)
        .order_by(func.count().desc(), PetitionCase.grid_code).limit(1))
    return code or grids[0]


def _on_duty(session: Session, grid_code: str, role: str, today: date
             ) -> tuple[int, str, list[str]] | None:
    """(staff id, name, every grid they hold today in this role) for the grid's person."""
    current = (GridAssignment.start_date <= today) & or_(GridAssignment.end_date.is_(None),
                                                         GridAssignment.end_date >= today)
    row = session.execute(
        select(Staff.id, Staff.name).join(GridAssignment, GridAssignment.staff_id == Staff.id)
        .where(GridAssignment.grid_code == grid_code, GridAssignment.role == role, current)
        .order_by(GridAssignment.start_date.desc()).limit(1)).first()
    if row is None:
        return None
    grids = sorted(session.scalars(
        select(GridAssignment.grid_code).distinct()
        .where(GridAssignment.staff_id == row.id, GridAssignment.role == role, current)))
    return row.id, row.name, grids


def _area_name(session: Session, level: str, code: str) -> str | None:
    name: str | None = session.scalar(
        select(Area.name).join(BoundaryGeneration, (BoundaryGeneration.id == Area.generation_id)
                               & BoundaryGeneration.is_active)
        .where(Area.level == level, Area.code == code))
    return name


def _busiest_unit(session: Session) -> Unit | None:
    """The unit most cases are routed to, else the first unit."""
    unit_id = session.scalar(
        select(PetitionCase.responsible_unit_id)
        .where(PetitionCase.responsible_unit_id.isnot(None))
        .group_by(PetitionCase.responsible_unit_id)
        .order_by(func.count().desc(), PetitionCase.responsible_unit_id).limit(1))
    if unit_id is None:
        unit_id = session.scalar(select(Unit.id).order_by(Unit.id).limit(1))
    return session.get(Unit, unit_id) if unit_id is not None else None


def _plan(session: Session, today: date) -> list[_DemoUser]:
    """Each demo user the data allows."""
    plan: list[_DemoUser] = []
    by_community = active_grids(session)
    grids = [g for c in sorted(by_community) for g in by_community[c]]
    if grids:
        grid = _busiest_grid(session, grids)
        community, street = grid[:12], grid[:9] + "000"
        for role, prefix, label in (("grid_worker", "wangge_", "网格员"),
                                    ("grid_leader", "wanggezhang_", "网格长")):
            person = _on_duty(session, grid, role, today)
            staff_id, name, held = person if person else (None, "", [grid])
            suffix = grid[6:] if role == "grid_worker" else community[6:]
            plan.append(_DemoUser(
                prefix + suffix, role, f"{name}（{label}，演示）" if name else f"{label}（演示）",
                grid_codes=tuple(held), staff_id=staff_id))
        community_name = _area_name(session, "community", community)
        if community_name:
            plan.append(_DemoUser(f"shequ_{community[6:]}", "community",
                                  f"{community_name}（演示）", community_code=community))
        street_name = _area_name(session, "street", street)
        if street_name:
            plan.append(_DemoUser(f"jiedao_{street[6:9]}", "street", f"{street_name}（演示）",
                                  street_code=street))
    unit = _busiest_unit(session)
    if unit is not None:
        suffix = unit.code[6:] if unit.code.isdigit() else unit.code
        plan.append(_DemoUser(f"danwei_{suffix}", "unit_handler", f"{unit.name}（演示）",
                              unit_id=unit.id))
    for role, username, label in _DISTRICT_WIDE:
        plan.append(_DemoUser(username, role, label))
    return plan


def create_demo_users(session: Session, today: date | None = None) -> list[tuple[str, str, str]]:
    """Create the demo users that do not exist yet; returns (username, role, password) of
    those created now — the only time their passwords are known."""
    existing = set(session.scalars(select(AppUser.username)))
    created: list[tuple[str, str, str]] = []
    for d in _plan(session, today or date.today()):
        if d.username in existing:
            continue
        user, password = create_user(
            session, d.username, d.role, grid_codes=d.grid_codes,
            community_code=d.community_code, street_code=d.street_code, unit_id=d.unit_id,
            display_name=d.display_name, staff_id=d.staff_id)
        created.append((user.username, d.role, password))
    return created
