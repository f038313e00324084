"""Load the package's `.sql` files (one per function that runs it) as SQLAlchemy text().

A `{{name}}` in a file is replaced by geo/sql/_name.sql (comment lines dropped): shared
predicates such as the case scope are written once."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from sqlalchemy import TextClause, text

INCLUDE = re.compile(r"\{\{(\w+)\}\}")


def _read(name: str) -> str:
    return resources.files("geo").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def _fragment(match: re.Match[str]) -> str:
    lines = _read(f"_{match.group(1)}").splitlines()
    # A fragment may include another (the reception scope uses the case scope).
    return INCLUDE.sub(_fragment, "\n".join(line for line in lines
                                            if not line.lstrip().startswith("--")))


@cache
def sql(name: str) -> TextClause:
    """The statement in geo/sql/<name>.sql (fragments included), ready for bound parameters."""
    return text(INCLUDE.sub(_fragment, _read(name)))
