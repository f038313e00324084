"""Load the package's `.sql` files (one per function that runs it) as SQLAlchemy text()."""

from __future__ import annotations

from functools import cache
from importlib import resources

from sqlalchemy import TextClause, text


@cache
def sql(name: str) -> TextClause:
    """The statement in geo/sql/<name>.sql, ready for bound parameters."""
    return text(resources.files("geo").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8"))
