"""GET /health reports PostGIS, and 503 with a reason when the database is unreachable."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from api.app import AppSettings, create_app


def test_health_reports_postgis_version(client: TestClient) -> None:
    resp = client.get("/health")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["postgis"].split(".")[0] == "3"


def test_health_is_503_with_reason_when_database_is_down() -> None:
    # A port nothing listens on: the app must answer, not crash.
    settings = AppSettings(database_url="postgresql+psycopg://x:y@127.0.0.1:9/none?connect_timeout=1")
    with TestClient(create_app(settings)) as c:
        resp = c.get("/health")
    assert resp.status_code == 503
    body = resp.json()
    assert body["status"] == "unavailable" and body["database"] == "down"
    assert "127.0.0.1" in body["reason"] or "refused" in body["reason"].lower()


def test_app_connections_run_without_jit(connection: Connection) -> None:
    # geo.db.make_engine: JIT compilation cost seconds per tile on a large district.
    assert connection.execute(text("SHOW jit")).scalar_one() == "off"
