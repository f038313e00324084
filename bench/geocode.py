"""Measurement 2: geocoding throughput (addresses/s) and accuracy (share placed in the right 社区
and the right 网格) on the labelled address set (bench/addresses.py), against a naive baseline.

- `gridmap`: GazetteerGeocoder (geo/geocode/matcher.py) loaded from the bench database, then
  every address geocoded once with `geocode()`, the normaliser's caches cleared first (each
  address is new to it, as at intake); then again warm, and once more through the batch API
  (`geocode_many`, caches cleared, answers checked equal). A result places a case only when it
  is precise enough (CaseSettings.geocode_min_level), exactly as intake decides; its point is
  then put in a grid by the committed grid layer (closed cells, lowest code). Right 社区 = the
  geocoder's 社区 code is the label's; right grid = that grid is the label's.
- `baseline`: what one writes without a gazetteer matcher — rapidfuzz `process.extractOne`
  with `partial_ratio` of the address against every gazetteer name and alias, the winner's
  stored point (a road's middle: no house numbers). Run on the first `limit` addresses.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from typing import Any

import psycopg

from bench.addresses import LabelledAddress, _GridIndex
from bench.db import libpq_url, session_on
from geo.settings import CaseSettings


def read_addresses(path: str) -> list[LabelledAddress]:
    """The labelled set as written by bench.addresses.write_csv."""
    with open(path, newline="", encoding="utf-8") as fh:
        return [LabelledAddress(r["address"], r["community_code"], r["grid_code"], r["kind"],
                                float(r["lon"]), float(r["lat"]), tuple(r["variants"].split()))
                for r in csv.DictReader(fh)]


def _clear_caches() -> None:
    from geo.geocode import normalize

    for name in ("normalize_address", "parse_address"):
        fn = getattr(normalize, name, None)
        if fn is not None and hasattr(fn, "cache_clear"):
            fn.cache_clear()


def _score(rows: list[LabelledAddress], placed: list[tuple[float, float] | None],
           communities: list[str | None]) -> dict[str, Any]:
    grids = _GridIndex()
    right_grid = right_com = right_both = n_placed = 0
    by_variant: Counter[str] = Counter()
    bad_variant: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    bad_kind: Counter[str] = Counter()
    examples: list[dict[str, Any]] = []
    for r, pt, com in zip(rows, placed, communities, strict=True):
        label = grids.locate(*pt) if pt is not None else None
        g_ok = label is not None and label[1] == r.grid_code
        c_ok = com == r.community_code
        n_placed += pt is not None
        right_grid += g_ok
        right_com += c_ok
        right_both += g_ok and c_ok
        by_kind[r.kind] += 1
        for v in r.variants:
            by_variant[v] += 1
        if not (g_ok and c_ok):
            bad_kind[r.kind] += 1
            for v in r.variants:
                bad_variant[v] += 1
            if len(examples) < 12:
                examples.append({"address": r.address, "want_grid": r.grid_code,
                                 "got_grid": label[1] if label else None})
    n = len(rows)
    return {
        "addresses": n, "placed_share": n_placed / n, "right_community_share": right_com / n,
        "right_grid_share": right_grid / n, "right_community_and_grid_share": right_both / n,
        "by_kind": {k: round(1 - bad_kind[k] / by_kind[k], 4) for k in sorted(by_kind)},
        "by_writing": {k: {"n": by_variant[k], "right": round(1 - bad_variant[k] / by_variant[k],
                                                             4)} for k in sorted(by_variant)},
        "wrong_examples": examples,
    }


def job_geocode(url: str, addresses_path: str) -> dict[str, Any]:
    """Load the gazetteer, geocode every address once (timed), score the answers."""
    from geo.geocode.matcher import GazetteerGeocoder

    rows = read_addresses(addresses_path)
    t0 = time.perf_counter()
    with session_on(url) as session:
        geocoder = GazetteerGeocoder.from_session(session)
    load_s = time.perf_counter() - t0
    _clear_caches()
    texts = [r.address for r in rows]
    t1 = time.perf_counter()
    results = [geocoder.geocode(t) for t in texts]
    sec = time.perf_counter() - t1
    min_level = CaseSettings().geocode_min_level
    placed = [(float(x.lon), float(x.lat)) if x.precise_enough(min_level)
              and x.lon is not None and x.lat is not None else None for x in results]
    out = _score(rows, placed, [x.community_code for x in results])
    # A second pass over the same addresses: the normaliser's caches warm (repeat addresses).
    t2 = time.perf_counter()
    for t in texts:
        geocoder.geocode(t)
    warm = time.perf_counter() - t2
    # The batch API an import uses (geocode_many: each distinct address once), caches cleared.
    _clear_caches()
    t3 = time.perf_counter()
    batch = geocoder.geocode_many(texts)
    batch_s = time.perf_counter() - t3
    if batch != results:
        raise AssertionError("geocode_many differs from geocode one by one")
    out.update({"seconds": sec, "addresses_per_s": len(rows) / sec, "gazetteer_load_s": load_s,
                "warm_addresses_per_s": len(rows) / warm,
                "batch_addresses_per_s": len(rows) / batch_s})
    return out


def job_baseline(url: str, addresses_path: str, limit: int) -> dict[str, Any]:
    """The naive fuzzy look-up on the first `limit` addresses."""
    from rapidfuzz import fuzz, process

    rows = read_addresses(addresses_path)[:limit]
    with psycopg.connect(libpq_url(url)) as conn:
        entries = conn.execute(
            "SELECT name, aliases, community_code, properties->'point', "
            "CASE WHEN GeometryType(geom) = 'POINT' THEN ST_X(geom) END, "
            "CASE WHEN GeometryType(geom) = 'POINT' THEN ST_Y(geom) END "
            "FROM gazetteer_entry WHERE kind <> 'district'").fetchall()
    names: list[str] = []
    where: list[tuple[tuple[float, float] | None, str | None]] = []
    for name, aliases, com, point, x, y in entries:
        pt = (float(x), float(y)) if x is not None else (
            (float(point[0]), float(point[1])) if point else None)
        for n in (name, *(aliases or ())):
            names.append(n)
            where.append((pt, com))
    t0 = time.perf_counter()
    picks = [process.extractOne(r.address, names, scorer=fuzz.partial_ratio) for r in rows]
    sec = time.perf_counter() - t0
    placed = [where[p[2]][0] if p else None for p in picks]
    coms = [where[p[2]][1] if p else None for p in picks]
    out = _score(rows, placed, coms)
    out.update({"seconds": sec, "addresses_per_s": len(rows) / sec, "names": len(names)})
    del out["by_writing"], out["wrong_examples"]
    return out

