"""Reference data every district has: responsible units and petition categories (with the unit
that owns each). Shipped as CSV in geo/data; a district edits those files and reloads."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import CursorResult, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geo.errors import InvalidInput
from geo.models import Category, Unit
from geo.sql_files import sql


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("geo").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def load_reference_data(session: Session) -> tuple[int, int]:
    """Upsert units and categories from geo/data/*.csv; returns (units, categories)."""
    units = _rows("units.csv")
    session.execute(insert(Unit).values(units).on_conflict_do_update(
        index_elements=["code"], set_={"name": insert(Unit).excluded.name,
                                       "kind": insert(Unit).excluded.kind}))
    unit_ids: dict[str, int] = {r[0]: r[1] for r in session.execute(select(Unit.code, Unit.id))}
    cats = [{"code": r["code"], "name": r["name"], "unit_id": unit_ids[r["unit_code"]],
             "restricted": r["restricted"] == "true", "sort_order": i}
            for i, r in enumerate(_rows("categories.csv"))]
    stmt = insert(Category).values(cats)
    session.execute(stmt.on_conflict_do_update(index_elements=["code"], set_={
        "name": stmt.excluded.name, "unit_id": stmt.excluded.unit_id,
        "restricted": stmt.excluded.restricted, "sort_order": stmt.excluded.sort_order}))
    return len(units), len(cats)


@dataclass(frozen=True)
class CategoryIndex:
    """Resolves what people write (code, 中文 name or a common alias) to a category code."""

    by_key: dict[str, str]
    names: tuple[str, ...] = ()

    @classmethod
    def load(cls, session: Session) -> CategoryIndex:
        """Index the categories in the database, with the aliases from categories.csv."""
        keys: dict[str, str] = {}
        for code, name in session.execute(select(Category.code, Category.name)):
            keys[code.lower()] = code
            keys[name] = code
            for part in name.split("/"):
                keys.setdefault(part, code)
        for row in _rows("categories.csv"):
            if row["code"] in keys.values():
                for alias in filter(None, row["aliases"].split("|")):
                    keys.setdefault(alias, row["code"])
        names = tuple(session.scalars(select(Category.name).order_by(Category.sort_order)))
        return cls(keys, names)

    def resolve(self, value: str, field: str = "category", where: str = "body") -> str:
        """The category code for `value`; InvalidInput naming the field when unknown."""
        code = self.by_key.get(value.strip()) or self.by_key.get(value.strip().lower())
        if code is None:
            known = sorted({name for name in self.names})
            raise InvalidInput(field, f"unknown category {value!r}; known: {', '.join(known)}",
                               where=where)
        return code


def ensure_area_units(session: Session) -> int:
    """Every active 街道 and 社区 is also a unit (its office / 居委会) that can own grids."""
    result: CursorResult[Any] = session.execute(sql("ensure_area_units"))  # type: ignore[assignment]
    return result.rowcount or 0
