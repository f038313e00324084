"""Who is responsible for a grid: grid worker (网格员), grid leader (网格长), responsible unit.

Assignments have dates; handing a grid to someone else ends the current assignment the day
before, so a case keeps the people who were on duty when it came in.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from geo.errors import InvalidInput, NotFound
from geo.models import GridAssignment, GridCell, Staff, Unit

PERSON_ROLES = ("grid_worker", "grid_leader")


def _check_grid(session: Session, grid_code: str) -> None:
    if not session.scalar(select(GridCell.id).where(GridCell.code == grid_code).limit(1)):
        raise NotFound(f"no grid {grid_code} in any generation")


def _end_current(session: Session, grid_code: str, role: str, start: date) -> None:
    current = session.scalars(select(GridAssignment).where(
        GridAssignment.grid_code == grid_code, GridAssignment.role == role,
        GridAssignment.end_date.is_(None))).first()
    if current is None:
        return
    if current.start_date >= start:
        raise InvalidInput("start", f"{grid_code} has a {role} since {current.start_date}; "
                           f"a new one must start later")
    session.execute(update(GridAssignment).where(GridAssignment.id == current.id)
                    .values(end_date=start - timedelta(days=1)))


def staff_by_name(session: Session, name: str, unit_id: int | None = None,
                  approximate: bool = False) -> Staff:
    """The staff member with this name (created when new)."""
    person = session.scalars(select(Staff).where(Staff.name == name)).first()
    if person is None:
        person = Staff(name=name, unit_id=unit_id, approximate=approximate)
        session.add(person)
        session.flush()
    return person


def assign_grid_person(session: Session, grid_code: str, name: str, role: str,
                       start: date | None = None, approximate: bool = False) -> GridAssignment:
    """Make `name` the grid's worker or leader from `start` (today by default)."""
    if role not in PERSON_ROLES:
        raise InvalidInput("role", f"role must be one of {', '.join(PERSON_ROLES)}")
    if not name.strip():
        raise InvalidInput("person", "person name is empty")
    _check_grid(session, grid_code)
    start = start or date.today()
    _end_current(session, grid_code, role, start)
    person = staff_by_name(session, name.strip(), approximate=approximate)
    row = GridAssignment(grid_code=grid_code, role=role, staff_id=person.id, start_date=start)
    session.add(row)
    session.flush()
    return row


def assign_grid_unit(session: Session, grid_code: str, unit_code: str,
                     start: date | None = None) -> GridAssignment:
    """Make the unit responsible for the grid from `start`."""
    _check_grid(session, grid_code)
    unit = session.scalars(select(Unit).where(Unit.code == unit_code)).first()
    if unit is None:
        raise InvalidInput("unit", f"unknown unit {unit_code!r}")
    start = start or date.today()
    _end_current(session, grid_code, "responsible_unit", start)
    row = GridAssignment(grid_code=grid_code, role="responsible_unit", unit_id=unit.id,
                         start_date=start)
    session.add(row)
    session.flush()
    return row
