"""The benchmark harness runs end to end (`python -m bench.run --quick`) and reports every section
with numbers or an explicit skip reason. No timing is asserted: speed lives in the benchmark's
own results, not in tests.

The smoke run takes a few minutes (it builds a small district database, starts the app, runs
every measurement briefly), so it runs only when asked for: `pytest -m bench`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from geo.settings import PROJECT_ROOT

pytestmark = pytest.mark.bench

SCALE_SECTIONS = ("data", "assign", "assign_2000", "serve", "intake", "hotspots", "memory")


@pytest.fixture(scope="module")
def smoke(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> dict[str, Any]:
    """The JSON of one quick run on its own bench databases (tipg only if already installed)."""
    if "bench" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("the benchmark smoke run takes minutes: run it with `pytest -m bench`")
    out = tmp_path_factory.mktemp("bench")
    cmd = [sys.executable, "-m", "bench.run", "--quick", "--no-tipg-install", "--out-dir",
           str(out), "--name", "smoke", "--db", f"gridmap_bench_smoke_{os.getpid()}"]
    done = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-4000:]
    assert (out / "smoke.md").exists()
    return dict(json.loads((out / "smoke.json").read_text(encoding="utf-8")))


def _numbers_or_skip(section: Any) -> bool:
    """A section holds at least one number, or says why it was skipped."""
    if isinstance(section, dict):
        if isinstance(section.get("skipped"), str) and section["skipped"]:
            return True
        return any(_numbers_or_skip(v) for v in section.values())
    return isinstance(section, int | float) and not isinstance(section, bool)


def test_every_section_has_numbers_or_a_skip_reason(smoke: dict[str, Any]) -> None:
    """Each measurement of the 1× scale, and geocoding, is measured or explicitly skipped."""
    assert smoke["quick"] is True
    scale = smoke["scales"]["1"]
    for name in SCALE_SECTIONS:
        assert name in scale, name
        assert _numbers_or_skip(scale[name]), (name, scale[name])
    assert _numbers_or_skip(smoke["geocode"])
    assert _numbers_or_skip(smoke["geocode_baseline"])


def test_side_by_side_pairs_are_both_there(smoke: dict[str, Any]) -> None:
    """Assignment compares PostGIS with shapely on the same cases and the labels agree; the
    hotspot baseline saw the counts the refresh stored; the skipped scales are listed."""
    scale = smoke["scales"]["1"]
    assign = scale["assign"]
    assert assign["postgis"]["cases"] == assign["shapely"]["cases"] == scale["cases"]
    assert assign["labels"]["identical"] is True
    assert scale["assign_2000"]["shapely"]["grids"] == 2000
    assert scale["assign_2000"]["labels"]["identical"] is True
    assert scale["hotspots"]["baseline"]["check"]["counts_equal_refresh"] is True
    assert scale["intake"]["post_cases"]["statuses"].keys() <= {"201"}
    assert any("1000×" in s for s in smoke["skipped"])
    assert set(smoke["growth"]) and set(smoke["targets"])


def test_geocoding_is_scored_on_a_labelled_set_of_at_least_1000(smoke: dict[str, Any]) -> None:
    """The labelled address set has ≥1,000 varied writings; every share is a fraction."""
    geo = smoke["geocode"]
    assert geo["addresses"] >= 1000
    assert {"fullwidth", "typo", "spaces", "traditional_hao", "dashed"} <= set(geo["by_writing"])
    for key in ("right_community_share", "right_grid_share", "placed_share"):
        assert 0.0 <= geo[key] <= 1.0
