"""Apply the Alembic migrations (the only way the schema is created or changed)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

MIGRATIONS = "geo:migrations"


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations; no alembic.ini needed."""
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` up to `revision`."""
    command.upgrade(alembic_config(url), revision)
