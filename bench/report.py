"""The benchmark's results: the JSON document, the growth exponent of each figure across the
scales, the targets met or missed (and by how much), and the Markdown table the README links."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

# (key, label, getter over one scale's results, unit) — the figures whose growth is fitted.
Getter = Callable[[dict[str, Any]], float | None]


def dig(d: Any, *path: str) -> Any:
    """d[p0][p1]… or None when any step is missing (or a skip)."""
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def _g(*path: str) -> Getter:
    return lambda s: dig(s, *path)


FIGURES: list[tuple[str, str, Getter, str]] = [
    ("data_load_s", "replicas inserted", _g("data", "seconds"), "s"),
    ("maintain_s", "nightly upkeep (gridmap db maintain)", _g("data", "maintain", "seconds"),
     "s"),
    ("assign_postgis_s", "assign, PostGIS core (396 grids)", _g("assign", "postgis", "seconds"),
     "s"),
    ("assign_shapely_s", "assign, shapely (396 grids)", _g("assign", "shapely", "seconds"), "s"),
    ("assign_project_s", "assign, whole project statement", _g("assign", "project", "seconds"),
     "s"),
    ("assign2000_postgis_s", "assign, PostGIS core (2,000 grids)",
     _g("assign_2000", "postgis", "seconds"), "s"),
    ("assign2000_shapely_s", "assign, shapely (2,000 grids)",
     _g("assign_2000", "shapely", "seconds"), "s"),
    ("items_c1_p95_gridmap", "items p95, c=1, gridmap",
     _g("serve", "items_c1", "gridmap", "p95_ms"), "ms"),
    ("items_c1_p95_tipg", "items p95, c=1, tipg", _g("serve", "items_c1", "tipg", "p95_ms"), "ms"),
    ("items_c8_p95_gridmap", "items p95, c=8, gridmap",
     _g("serve", "items_c8", "gridmap", "p95_ms"), "ms"),
    ("items_c8_p95_tipg", "items p95, c=8, tipg", _g("serve", "items_c8", "tipg", "p95_ms"), "ms"),
    ("tiles_c1_p95_gridmap", "tiles p95, c=1, gridmap",
     _g("serve", "tiles_c1", "gridmap", "p95_ms"), "ms"),
    ("tiles_c1_p95_tipg", "tiles p95, c=1, tipg", _g("serve", "tiles_c1", "tipg", "p95_ms"), "ms"),
    ("tiles_c8_p95_gridmap", "tiles p95, c=8, gridmap",
     _g("serve", "tiles_c8", "gridmap", "p95_ms"), "ms"),
    ("tiles_c8_p95_tipg", "tiles p95, c=8, tipg", _g("serve", "tiles_c8", "tipg", "p95_ms"), "ms"),
    ("hotspots_refresh_s", "hotspot refresh", _g("hotspots", "refresh", "seconds"), "s"),
    ("hotspots_baseline_s", "hotspot numpy/esda/sklearn", _g("hotspots", "baseline", "seconds"),
     "s"),
    ("intake_p95", "POST /cases p95, c=8", _g("intake", "post_cases", "p95_ms"), "ms"),
    ("intake_rps", "POST /cases requests/s, c=8", _g("intake", "post_cases", "requests_per_s"),
     "/s"),
    ("app_peak_mb", "app peak RSS", _g("memory", "app_peak_rss_mb"), "MiB"),
    ("assign_job_peak_mb", "assign job peak RSS (client)",
     _g("memory", "jobs", "assign_project"), "MiB"),
    ("hotspots_job_peak_mb", "hotspot refresh job peak RSS",
     _g("memory", "jobs", "hotspots_refresh"), "MiB"),
]


def growth_exponent(points: list[tuple[float, float]]) -> float | None:
    """b of value ∝ cases^b, least squares on logs (needs two scales with positive values)."""
    pts = [(math.log(n), math.log(v)) for n, v in points if n and v and n > 0 and v > 0]
    if len(pts) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in pts) / sxx


def growth(scales: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Every figure at every scale, and its growth exponent against the case count."""
    out: dict[str, Any] = {}
    for key, label, get, unit in FIGURES:
        pts = []
        for s in scales.values():
            n, v = s.get("cases"), get(s)
            if isinstance(n, int | float) and isinstance(v, int | float):
                pts.append((float(n), float(v)))
        b = growth_exponent(pts)
        out[key] = {"label": label, "unit": unit, "points": pts,
                    "exponent": None if b is None else round(b, 3)}
    return out


def _target(name: str, measured: float | None, target: str, met: bool | None, by: str,
            note: str = "") -> dict[str, Any]:
    return {"target": target, "measured": measured, "met": met, "by": by, "note": note}


def targets(results: dict[str, Any]) -> dict[str, Any]:
    """Each target of the issue against the largest scale measured (geocoding: its own run)."""
    out: dict[str, Any] = {}
    scales = results.get("scales", {})
    keys = sorted(scales, key=lambda k: int(k))
    last = scales[keys[-1]] if keys else {}
    for k in reversed(keys):   # the largest scale with an assignment measured
        ratio = dig(scales[k], "assign", "ratio_postgis_to_shapely")
        if ratio is not None:
            out["assignment"] = _target(
                "assignment", ratio, "PostGIS ≤ 1.2 × shapely", ratio <= 1.2,
                f"{ratio:.2f}× ({(ratio / 1.2 - 1) * 100:+.0f} % vs the target)",
                f"at {k}×")
            break
    for phase in ("items_c1", "items_c8", "tiles_c1", "tiles_c8"):
        for k in reversed(keys):
            r = dig(scales[k], "serve", phase, "p95_ratio")
            if r is not None:
                out[phase] = _target(phase, r, f"{phase.replace('_c', ' c=')}: gridmap p95 "
                                     "≤ tipg p95", r <= 1.0,
                                     f"{r:.2f}× tipg's p95", f"at {k}×")
                break
    geo = results.get("geocode") or {}
    rate, acc = geo.get("addresses_per_s"), geo.get("right_grid_share")
    if rate is not None:
        out["geocode_rate"] = _target("geocode_rate", rate, "≥ 20,000 addresses/s",
                                      rate >= 20_000, f"{rate / 20_000:.2f}× the target")
    if acc is not None:
        out["geocode_accuracy"] = _target("geocode_accuracy", acc, "≥ 95 % right grid",
                                          acc >= 0.95, f"{acc * 100:.1f} %")
    hot = dig(scales.get("100", {}), "hotspots", "refresh", "seconds")
    if hot is not None:
        out["hotspots_300k"] = _target("hotspots_300k", hot, "refresh < 2 s at 100×", hot < 2.0,
                                       f"{hot / 2.0:.2f}× the limit")
    del last
    return out


def _fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if unit == "%":
            return f"{v * 100:.1f} %"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        return f"{v:.3g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _row(label: str, values: list[Any], unit: str = "") -> str:
    return f"| {label} | " + " | ".join(_fmt(v, unit) for v in values) + " |"


def markdown(results: dict[str, Any]) -> str:
    """The results as Markdown tables: one column per scale, a growth exponent per figure."""
    scales = results.get("scales", {})
    keys = sorted(scales, key=lambda k: int(k))
    head = "| figure | " + " | ".join(f"{k}× ({_fmt(scales[k].get('cases'))} cases)"
                                     for k in keys) + " | growth exponent |"
    sep = "|---|" + "---|" * (len(keys) + 1)
    m = results.get("machine", {})
    lines = [
        f"# gridmap benchmarks — {results.get('date')}",
        "",
        f"Machine: {m.get('cpus')} CPUs, {_fmt(m.get('memory_gb'))} GB RAM, "
        f"{m.get('postgres')}, PostGIS {m.get('postgis')}, Python {m.get('python')}; "
        f"load average {m.get('load_before')} before, {m.get('load_after')} after. "
        "The machine is shared: absolute numbers are noisy, **the side-by-side ratios are what "
        "count** (each pair ran in the same minutes on the same data).",
        "",
        f"Command: `{results.get('command')}`. Raw numbers: `{results.get('json_name')}`.",
        "",
        "## Targets",
        "",
        "| target | measured | met | by |",
        "|---|---|---|---|",
    ]
    for t in results.get("targets", {}).values():
        lines.append(f"| {t['target']} {t.get('note', '')} | {_fmt(t['measured'])} | "
                     f"{_fmt(t['met'])} | {t['by']} |")
    lines += ["", "## Every figure by scale", "", head, sep]
    for key, fig in results.get("growth", {}).items():
        vals = []
        for k in keys:
            get = next(g for kk, _, g, _ in FIGURES if kk == key)
            vals.append(get(scales[k]))
        lines.append(_row(f"{fig['label']} ({fig['unit']})", [*vals, fig["exponent"]]))
    lines += ["", "## Side by side", "", head.replace(" growth exponent |", ""),
              sep[:-4]]
    pairs = [
        ("assign: PostGIS ÷ shapely (396 grids)", ("assign", "ratio_postgis_to_shapely")),
        ("assign: labels identical", ("assign", "labels", "identical")),
        ("assign: PostGIS cases/s", ("assign", "postgis", "cases_per_s")),
        ("assign: shapely cases/s", ("assign", "shapely", "cases_per_s")),
        ("assign: whole statement cases/s", ("assign", "project", "cases_per_s")),
        ("assign 2,000 grids: PostGIS ÷ shapely", ("assign_2000", "ratio_postgis_to_shapely")),
        ("assign 2,000 grids: labels identical", ("assign_2000", "labels", "identical")),
        ("items c=1: gridmap p50 / p95 ms", None),
        ("items c=1: tipg p50 / p95 ms", None),
        ("items c=8: p95 gridmap ÷ tipg", ("serve", "items_c8", "p95_ratio")),
        ("items: mean bytes gridmap", ("serve", "items_c1", "gridmap", "mean_bytes")),
        ("items: mean bytes tipg", ("serve", "items_c1", "tipg", "mean_bytes")),
        ("tiles c=1: p95 gridmap ÷ tipg", ("serve", "tiles_c1", "p95_ratio")),
        ("tiles c=8: p95 gridmap ÷ tipg", ("serve", "tiles_c8", "p95_ratio")),
        ("tiles: mean bytes gridmap", ("serve", "tiles_c1", "gridmap", "mean_bytes")),
        ("tiles: mean bytes tipg", ("serve", "tiles_c1", "tipg", "mean_bytes")),
        ("hotspots: refresh ÷ baseline", ("hotspots", "ratio_refresh_to_baseline")),
        ("hotspots: counts equal", ("hotspots", "baseline", "check", "counts_equal_refresh")),
        ("intake: POST /cases req/s", ("intake", "post_cases", "requests_per_s")),
        ("intake: GET /health req/s (floor)", ("intake", "health", "requests_per_s")),
        ("intake: POST /cases p95 ms", ("intake", "post_cases", "p95_ms")),
        ("app peak RSS MiB", ("memory", "app_peak_rss_mb")),
        ("tipg peak RSS MiB", ("memory", "tipg_peak_rss_mb")),
    ]
    for label, path in pairs:
        if path is None:
            who = "gridmap" if "gridmap" in label else "tipg"
            vals = [f"{_fmt(dig(scales[k], 'serve', 'items_c1', who, 'p50_ms'))} / "
                    f"{_fmt(dig(scales[k], 'serve', 'items_c1', who, 'p95_ms'))}" for k in keys]
            lines.append(f"| {label} | " + " | ".join(vals) + " |")
        else:
            lines.append(_row(label, [dig(scales[k], *path) for k in keys]))
    geo = results.get("geocode") or {}
    base = results.get("geocode_baseline") or {}
    lines += ["", "## Geocoding (labelled set)", "",
              "| | gridmap | naive fuzzy baseline |", "|---|---|---|",
              _row("addresses", [geo.get("addresses"), base.get("addresses")]),
              _row("addresses/s", [geo.get("addresses_per_s"), base.get("addresses_per_s")]),
              _row("right 社区", [geo.get("right_community_share"),
                                base.get("right_community_share")], "%"),
              _row("right grid", [geo.get("right_grid_share"), base.get("right_grid_share")],
                   "%"),
              _row("right 社区 and grid", [geo.get("right_community_and_grid_share"),
                                          base.get("right_community_and_grid_share")], "%")]
    if geo.get("by_writing"):
        lines += ["", "| writing | addresses | right |", "|---|---|---|"]
        for k, v in geo["by_writing"].items():
            lines.append(f"| {k} | {v['n']} | {v['right'] * 100:.1f} % |")
    skips = results.get("skipped") or []
    if skips:
        lines += ["", "## Skipped", ""] + [f"- {s}" for s in skips]
    return "\n".join(lines) + "\n"
