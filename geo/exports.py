"""Case exports as CSV or GeoJSON, produced page by page so a large export is streamed, never
built whole in memory. Scoped and masked exactly like the case list; the caller audits."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from geo import crs as gcrs
from geo.access.scope import Scope
from geo.cases.read import CaseFilter, list_cases
from geo.privacy.crypto import PersonalDataCipher

PAGE = 1000
CSV_COLUMNS = ("id", "external_id", "received_at", "channel", "category", "status",
               "persons_count", "petitioners", "petitioner_id_numbers", "petitioner_phones",
               "address", "lon", "lat", "crs", "grid_code",
               "community_code", "community_name", "street_code", "street_name",
               "location_status", "geocode_level", "content")


def _pages(session: Session, scope: Scope, f: CaseFilter, unmask: bool,
           cipher: PersonalDataCipher | None) -> Iterator[list[dict[str, Any]]]:
    offset = 0
    while True:
        items, _ = list_cases(session, scope, replace(f, limit=PAGE, offset=offset),
                              unmask=unmask, cipher=cipher)
        if not items:
            return
        yield items
        offset += len(items)


def _point(case: dict[str, Any], out_crs: str) -> tuple[float, float] | None:
    loc = case["location"]
    if loc is None:
        return None
    x, y = gcrs.from_wgs84(loc["lon"], loc["lat"], out_crs)
    return round(float(x), 7), round(float(y), 7)


def _flat(case: dict[str, Any], out_crs: str) -> dict[str, Any]:
    point = _point(case, out_crs)
    return {
        "id": case["id"], "external_id": case["external_id"], "received_at": case["received_at"],
        "channel": case["channel"], "category": case["category"]["name"],
        "status": case["status"], "persons_count": case["persons_count"],
        "petitioners": "、".join(p["name"] for p in case.get("petitioners", [])),
        "petitioner_id_numbers": "、".join(p["id_number"] or "" for p in case["petitioners"]),
        "petitioner_phones": "、".join(p["phone"] or "" for p in case["petitioners"]),
        "address": case["address"], "lon": point[0] if point else None,
        "lat": point[1] if point else None, "crs": out_crs,
        "grid_code": (case["grid"] or {}).get("code"),
        "community_code": (case["community"] or {}).get("code"),
        "community_name": (case["community"] or {}).get("name"),
        "street_code": (case["street"] or {}).get("code"),
        "street_name": (case["street"] or {}).get("name"),
        "location_status": case["location_status"], "geocode_level": case["geocode"]["level"],
        "content": case["content"],
    }


def cases_csv(session: Session, scope: Scope, f: CaseFilter, *, out_crs: str = "wgs84",
              unmask: bool = False, cipher: PersonalDataCipher | None = None) -> Iterator[str]:
    """CSV text chunks (UTF-8 BOM first, so Excel reads the Chinese)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS)
    buf.write("\ufeff")
    writer.writeheader()
    yield buf.getvalue()
    for page in _pages(session, scope, f, unmask, cipher):
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS)
        for case in page:
            writer.writerow(_flat(case, out_crs))
        yield buf.getvalue()


def cases_geojson(session: Session, scope: Scope, f: CaseFilter, *, out_crs: str = "wgs84",
                  unmask: bool = False, cipher: PersonalDataCipher | None = None
                  ) -> Iterator[str]:
    """An RFC 7946 FeatureCollection in chunks (cases without a point have null geometry).

    RFC 7946 is WGS84; a gcj02/bd09 export says so in a top-level `crs_note`, since there is no
    standard way to declare those shifted systems."""
    head: dict[str, Any] = {"type": "FeatureCollection"}
    if out_crs != "wgs84":
        head["crs_note"] = f"coordinates shifted to {out_crs} for Chinese base maps; not WGS84"
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "features": ['
    first = True
    for page in _pages(session, scope, f, unmask, cipher):
        parts = []
        for case in page:
            props = _flat(case, out_crs)
            point = _point(case, out_crs)
            geometry = {"type": "Point", "coordinates": list(point)} if point else None
            parts.append(json.dumps({"type": "Feature", "id": case["id"], "geometry": geometry,
                                     "properties": props}, ensure_ascii=False))
        yield ("" if first else ",") + ",".join(parts)
        first = False
    yield "]}"
