"""The labelled address set for the geocoding benchmark: ≥1,000 addresses written the many ways
people write them, each labelled with the 社区 and 网格 it truly lies in.

Deliberately separate from geo/geocode and geo/demo: nothing here calls the gazetteer builder,
the normaliser or the matcher. The places come from the built gazetteer *table* (names, the
road lines with their house numbers at each vertex, the 号楼 points, the stored reference
point of each 小区/landmark/project), read with plain SQL; the truth point of "road N号" is
interpolated here along the road line from the stored vertex numbers; the labels come from the
committed grid file `data/boundaries/zhongshan_grids.geojson` (closed cells, the lowest code on
a shared edge — the project's rule), with shapely. So the benchmark checks the matcher's
reading of messy text against the data's own definition of where each address is.

Writings (each address draws several, recorded in `variants`): an admin prefix or none
(辽宁省大连市中山区, 大连市, 中山区 …), the 街道 in full, short or left out, the 社区 or not,
full-width digits, 號 for 号, stray spaces, a one-character typo in the place name, Chinese
numerals (二十八号), dashed numbers (3-2-502), 栋/座/# unit words, 小区 + N号楼 + 单元 + 室, and
vague trailers (附近, 门口). Names that exist twice (新华街) always carry their 街道 or 社区.

`python -m bench.addresses --out FILE.csv [--n 5000] [--seed S]` writes the set for inspection.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import shapely

from bench.db import libpq_url
from geo.settings import PROJECT_ROOT

SEED = 7_0202
GRIDS_FILE = PROJECT_ROOT / "data" / "boundaries" / "zhongshan_grids.geojson"

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_CN_DIGITS = "〇一二三四五六七八九"
# Plausible slips: a character replaced by a look-alike or same-sound one.
_TYPO_CHARS = "人民中山路街园花海港春华新东西南北青桃源景和平安兴利泉林"
_PREFIXES = (("", 0.35), ("中山区", 0.2), ("大连市中山区", 0.2), ("辽宁省大连市中山区", 0.1),
             ("大连市", 0.1), ("辽宁大连中山区", 0.05))
_HINTS = ("附近", "门口", "旁边", "对面")
_SEP = "\x1f"   # a boundary between the parts of an address: where people put spaces
# Shares of what an address names (a petition office sees mostly homes and streets).
KIND_SHARES = (("road_number", 0.40), ("building_no", 0.25), ("complex", 0.12),
               ("landmark", 0.15), ("project", 0.08))


@dataclass(frozen=True)
class LabelledAddress:
    """One test address with the 社区 and 网格 it lies in, and how it was written."""

    address: str
    community_code: str
    grid_code: str
    kind: str
    lon: float
    lat: float
    variants: tuple[str, ...] = ()


@dataclass
class _Places:
    roads: list[dict[str, Any]] = field(default_factory=list)
    numbered: list[dict[str, Any]] = field(default_factory=list)     # 小区 N号楼 points
    complexes: list[dict[str, Any]] = field(default_factory=list)    # 小区/大厦 (point)
    landmarks: list[dict[str, Any]] = field(default_factory=list)
    projects: list[dict[str, Any]] = field(default_factory=list)
    communities: dict[str, dict[str, Any]] = field(default_factory=dict)
    streets: dict[str, dict[str, Any]] = field(default_factory=dict)
    name_count: Counter[str] = field(default_factory=Counter)


def _read_places(url: str) -> _Places:
    places = _Places()
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT kind, name, aliases, community_code, street_code, properties, "
            "ST_AsBinary(geom) FROM gazetteer_entry ORDER BY kind, name, id").fetchall()
    for kind, name, aliases, community, street, props, wkb in rows:
        props = props or {}
        rec = {"name": name, "aliases": list(aliases or ()), "community": community,
               "street": street, "props": props, "geom": shapely.from_wkb(bytes(wkb))}
        places.name_count[name] += 1
        if kind == "road":
            places.roads.append(rec)
        elif kind == "building" and props.get("complex"):
            places.numbered.append(rec)
        elif kind == "building":
            places.complexes.append(rec)
        elif kind == "landmark":
            if "信访局" not in name:
                places.landmarks.append(rec)
        elif kind == "project":
            places.projects.append(rec)
        elif kind == "community":
            places.communities[community] = rec
        elif kind == "street":
            places.streets[street] = rec
    return places


class _GridIndex:
    """Which committed grid (and so which 社区) a point lies in: closed cells, lowest code."""

    def __init__(self, path: Path = GRIDS_FILE) -> None:
        feats = json.loads(path.read_text(encoding="utf-8"))["features"]
        feats.sort(key=lambda f: f["properties"]["code"])
        self.codes = [f["properties"]["code"] for f in feats]
        self.parents = [f["properties"]["parent_code"] for f in feats]
        self.geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in feats])
        shapely.prepare(self.geoms)
        self.tree = shapely.STRtree(self.geoms)

    def locate(self, lon: float, lat: float) -> tuple[str, str] | None:
        """(社区 code, grid code) of the point, or None outside every grid."""
        hits = self.tree.query(shapely.points(lon, lat), predicate="intersects")
        if not len(hits):
            return None
        i = int(min(hits))   # geoms are sorted by code: the lowest index is the lowest code
        return self.parents[i], self.codes[i]


def _interpolate(coords: list[tuple[float, float]], numbers: list[int], n: int
                 ) -> tuple[float, float]:
    """House number n on a road whose vertices carry `numbers`: linear between vertices."""
    if n <= numbers[0]:
        return coords[0]
    if n >= numbers[-1]:
        return coords[-1]
    i = bisect.bisect_right(numbers, n) - 1
    t = (n - numbers[i]) / (numbers[i + 1] - numbers[i])
    (x0, y0), (x1, y1) = coords[i], coords[i + 1]
    return x0 + (x1 - x0) * t, y0 + (y1 - y0) * t


def _cn_number(n: int) -> str:
    """28 → 二十八, 105 → 一百零五 (how numbers are spoken and sometimes written)."""
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _CN_DIGITS[n // 10] + "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    rest = n % 100
    head = _CN_DIGITS[n // 100] + "百"
    if rest == 0:
        return head
    if rest < 10:
        return head + "零" + _CN_DIGITS[rest]
    return head + _CN_DIGITS[rest // 10] + "十" + (_CN_DIGITS[rest % 10] if rest % 10 else "")


def _typo(name: str, rng: random.Random) -> str:
    """One character of the name's stem replaced (not the 路/街 or 小区/中学 type word)."""
    i = rng.randrange(0, len(name) - (2 if len(name) >= 5 else 1))
    choices = [c for c in _TYPO_CHARS if c != name[i]]
    return name[:i] + rng.choice(choices) + name[i + 1:]


class _Writer:
    """Composes one address of a place with randomly drawn writings."""

    def __init__(self, places: _Places, rng: random.Random) -> None:
        self.p = places
        self.rng = rng

    def _pick(self, options: tuple[tuple[str, float], ...]) -> str:
        return self.rng.choices([o for o, _ in options], [w for _, w in options])[0]

    def _areas(self, community: str | None, must: bool, variants: list[str]) -> str:
        """The 街道 and/or 社区 written before the place (or nothing)."""
        rng = self.rng
        com = self.p.communities.get(community or "")
        street = self.p.streets.get(com["street"]) if com else None
        out = ""
        r = rng.random()
        if street and (r < 0.45 or must):
            if rng.random() < 0.7:
                out += street["name"] + _SEP
                variants.append("street_full")
            else:
                out += (street["aliases"][0] if street["aliases"] else street["name"]) + _SEP
                variants.append("street_short")
        else:
            variants.append("no_street")
        if com and (rng.random() < 0.3 or (must and not out)):
            stem = com["name"].removesuffix("社区居委会").removesuffix("居委会")
            out += rng.choice((f"{stem}社区", f"{stem}社区居委会")) + _SEP
            variants.append("community")
        return out

    def _name(self, rec: dict[str, Any], variants: list[str], typo_ok: bool = True) -> str:
        rng = self.rng
        name = rec["name"]
        if rec["aliases"] and rng.random() < 0.3:
            name = rng.choice(rec["aliases"])
            variants.append("alias")
        if typo_ok and len(name) >= 4 and rng.random() < 0.06:
            variants.append("typo")
            return _typo(name, rng)
        return name

    def road_number(self) -> tuple[str, float, float, str, list[str]]:
        rng, variants = self.rng, ["road_number"]
        road = rng.choice(self.p.roads)
        props = road["props"]
        runs = [r for r in props.get("number_communities", []) if r[2]]
        lo, hi, community = rng.choice(runs)
        n = rng.randint(int(lo), int(hi))
        coords = [(float(x), float(y)) for x, y in road["geom"].coords]
        lon, lat = _interpolate(coords, [int(v) for v in props["vertex_numbers"]], n)
        must = self.p.name_count[road["name"]] > 1
        text = self._areas(community, must, variants) + self._name(road, variants)
        text += _SEP + self._number(n, "号", variants)
        if rng.random() < 0.15:   # a flat in a house-number building
            text += _SEP + self._flat(variants)
        return text, lon, lat, road["community"] or community, variants

    def _number(self, n: int, unit: str, variants: list[str]) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.10:
            variants.append("chinese_numeral")
            return _cn_number(n) + unit
        if r < 0.18:
            variants.append("fullwidth")
            return str(n).translate(_FULLWIDTH) + unit
        if r < 0.25 and unit == "号":
            variants.append("traditional_hao")
            return f"{n}號"
        if r < 0.30 and unit == "号":
            variants.append("hash")
            return f"{n}#"
        return f"{n}{unit}"

    def _flat(self, variants: list[str]) -> str:
        rng = self.rng
        unit, room = rng.randint(1, 6), rng.randint(1, 18) * 100 + rng.randint(1, 4)
        if rng.random() < 0.3:
            variants.append("dashed")
            return f"{unit}-{room}"
        return f"{unit}单元{room}室"

    def building_no(self) -> tuple[str, float, float, str, list[str]]:
        rng, variants = self.rng, ["building_no"]
        b = rng.choice(self.p.numbered)
        complex_name = b["props"]["complex"]
        no = int(b["props"]["building_no"])
        text = self._areas(b["community"], False, variants)
        text += self._name({"name": complex_name, "aliases": []}, variants) + _SEP
        r = rng.random()
        if r < 0.2:
            variants.append("dashed")
            text += f"{no}-{rng.randint(1, 6)}-{rng.randint(1, 18)}0{rng.randint(1, 4)}"
        elif r < 0.35:
            variants.append("dong")
            text += f"{no}{rng.choice(('栋', '座', '幢'))}"
        else:
            text += self._number(no, "号楼", variants)
            if rng.random() < 0.6:
                text += _SEP + self._flat(variants)
        return text, b["geom"].x, b["geom"].y, b["community"], variants

    def _point_place(self, rec: dict[str, Any], kind: str) -> tuple[str, float, float, str,
                                                                     list[str]]:
        rng, variants = self.rng, [kind]
        lon, lat = (float(v) for v in rec["props"]["point"]) if "point" in rec["props"] else (
            rec["geom"].x, rec["geom"].y)
        text = self._areas(rec["community"], False, variants) + self._name(rec, variants)
        if rng.random() < 0.12:
            variants.append("hint")
            text += rng.choice(_HINTS)
        return text, lon, lat, rec["community"], variants

    def complex(self) -> tuple[str, float, float, str, list[str]]:
        return self._point_place(self.rng.choice(self.p.complexes), "complex")

    def landmark(self) -> tuple[str, float, float, str, list[str]]:
        return self._point_place(self.rng.choice(self.p.landmarks), "landmark")

    def project(self) -> tuple[str, float, float, str, list[str]]:
        return self._point_place(self.rng.choice(self.p.projects), "project")

    def finish(self, text: str, variants: list[str]) -> str:
        """Prefix and spacing, drawn last."""
        rng = self.rng
        prefix = self._pick(_PREFIXES)
        if prefix:
            variants.append("prefix")
            text = prefix + _SEP + text
        if _SEP in text and rng.random() < 0.12:
            variants.append("spaces")
            parts = text.split(_SEP)
            return "".join(p + (rng.choice((" ", "  ", " ", "")) if i < len(parts) - 1 else "")
                           for i, p in enumerate(parts)).strip()
        return text.replace(_SEP, "")


def labelled_addresses(url: str, n: int = 5000, seed: int = SEED) -> list[LabelledAddress]:
    """`n` distinct labelled addresses (seeded) from the gazetteer table at `url`."""
    places = _read_places(url)
    grids = _GridIndex()
    rng = random.Random(seed)
    writer = _Writer(places, rng)
    makers = {"road_number": writer.road_number, "building_no": writer.building_no,
              "complex": writer.complex, "landmark": writer.landmark, "project": writer.project}
    kinds, weights = zip(*KIND_SHARES, strict=True)
    out: list[LabelledAddress] = []
    seen: set[str] = set()
    attempts = 0
    while len(out) < n and attempts < n * 20:
        attempts += 1
        kind = rng.choices(kinds, weights)[0]
        text, lon, lat, _, variants = makers[kind]()
        text = writer.finish(text, variants)
        label = grids.locate(lon, lat)
        if label is None or text in seen:
            continue
        seen.add(text)
        out.append(LabelledAddress(text, label[0], label[1], kind, lon, lat, tuple(variants)))
    return out


def write_csv(rows: list[LabelledAddress], path: Path) -> None:
    """The set as CSV (address, community_code, grid_code, kind, lon, lat, variants)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["address", "community_code", "grid_code", "kind", "lon", "lat", "variants"])
        for r in rows:
            w.writerow([r.address, r.community_code, r.grid_code, r.kind, f"{r.lon:.7f}",
                        f"{r.lat:.7f}", " ".join(r.variants)])


def main() -> None:
    """Write the labelled set from a database that has the gazetteer (default: the bench)."""
    from bench.db import BASE_DB, server_url

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--database", default=BASE_DB)
    args = ap.parse_args()
    rows = labelled_addresses(server_url(args.database), args.n, args.seed)
    write_csv(rows, args.out)
    print(f"{len(rows)} addresses → {args.out}")


if __name__ == "__main__":
    main()
