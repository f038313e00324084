"""The project-local cluster's server memory: sized from the machine, and in effect."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from geo import localdb
from geo.settings import DatabaseSettings


@pytest.mark.parametrize(("memory_mb", "shared", "cache"), [
    (24_000, "6000MB", "18000MB"),   # a quarter, three quarters
    (256, "128MB", "192MB"),         # never below PostgreSQL's default
    (64_000, "8192MB", "48000MB"),   # capped: the kernel's cache does the rest
])
def test_memory_options_follow_the_machine(memory_mb: int, shared: str, cache: str) -> None:
    assert localdb.memory_options(memory_mb) == [f"-c shared_buffers={shared}",
                                                 f"-c effective_cache_size={cache}"]


def test_the_local_cluster_runs_with_them(connection: Connection) -> None:
    if DatabaseSettings().database_url:
        pytest.skip("GRIDMAP_DATABASE_URL: not the project's cluster")
    want = localdb.memory_options(localdb._machine_memory_mb())[0].split("=")[1]
    got_kb = connection.execute(text(
        "SELECT setting::bigint * 8 FROM pg_settings WHERE name = 'shared_buffers'")).scalar_one()
    assert f"{got_kb // 1024}MB" == want, "a cluster started before this setting: make db-down"
