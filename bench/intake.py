"""Measurement 5: intake — `POST /cases` at concurrency 8, requests/s and p95 — against the same
server's floor, `GET /health` (routing, one database round trip, no auth) at the same concurrency
and for the same time.

Half the new cases come with an address only (geocoded offline by the gazetteer, as the
registrar types it), half with a point in GCJ-02 or WGS84 (a grid worker's phone); each is
inserted, assigned to its grid in SQL with the people on duty, and flagged repeat/collective —
the whole path of a registration, one case per request.
"""

from __future__ import annotations

import random
from typing import Any

from bench.addresses import LabelledAddress
from bench.loadgen import Request, run_load
from bench.servers import Server

CATEGORIES = ("property", "housing", "urban", "labour", "environment", "market", "civil")
CHANNELS = ("visit", "phone", "online", "patrol", "platform")
REQUESTS = 4000
SEED = 5


def case_bodies(addresses: list[LabelledAddress], n: int = REQUESTS, seed: int = SEED
                ) -> list[dict[str, Any]]:
    """`n` seeded case registrations (address-only or point-only, alternately)."""
    from geo.crs import wgs84_to_gcj02

    rng = random.Random(seed)
    out = []
    for i in range(n):
        a = addresses[i % len(addresses)]
        body: dict[str, Any] = {"channel": rng.choice(CHANNELS),
                                "category": rng.choice(CATEGORIES),
                                "content": f"基准测试案件{i}：小区楼道堆放杂物，反映多次未解决。",
                                "persons_count": rng.randint(1, 3)}
        if i % 2 == 0:
            body["address"] = a.address
        elif rng.random() < 0.5:
            lon, lat = wgs84_to_gcj02(a.lon, a.lat)
            body["location"] = {"lon": round(float(lon), 7), "lat": round(float(lat), 7),
                                "crs": "gcj02"}
        else:
            body["location"] = {"lon": round(a.lon, 7), "lat": round(a.lat, 7), "crs": "wgs84"}
        out.append(body)
    return out


def measure_intake(gridmap: Server, token: str, addresses: list[LabelledAddress],
                   concurrency: int, max_seconds: float) -> dict[str, Any]:
    """POST /cases vs GET /health, same concurrency and time bound."""
    auth = {"Authorization": f"Bearer {token}"}
    bodies = case_bodies(addresses)
    # The geocoder loads on the first request that needs it: not part of the run.
    run_load([Request("POST", f"{gridmap.base}/cases", bodies[0])], 1, auth, 120.0)
    posts = [Request("POST", f"{gridmap.base}/cases", b) for b in bodies[1:]]
    intake = run_load(posts, concurrency, auth, max_seconds)
    health = run_load([Request("GET", f"{gridmap.base}/health")] * REQUESTS, concurrency, {},
                      max_seconds)
    return {"post_cases": intake, "health": health,
            "rps_ratio": (intake["requests_per_s"] / health["requests_per_s"]
                          if intake.get("requests_per_s") and health.get("requests_per_s")
                          else None)}
