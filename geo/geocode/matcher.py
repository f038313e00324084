"""The offline gazetteer geocoder: Chinese address text → the most precise place it names.

The whole gazetteer is loaded once into memory (`GazetteerGeocoder.from_session`); an address is
then matched with dictionary look-ups only, no SQL:

1. `parse_address` normalises it (full-width, numerals, unit words, admin prefixes, hints).
2. A left-to-right, longest-first scan over an index of every normalised name and alias finds the
   places it mentions; the number right after a name is attached to it (a road's house number,
   a 小区's 号楼).
3. The most precise mention wins: building > road + number > landmark > project > road (at its
   middle waypoint, or its middle within a 社区 the address names) > 社区 > 街道 > 区. Names
   shared by several places (a road and a 街道 both called 人民路, two roads called 新华街) are
   settled by the other places mentioned: a 街道/社区 that contains the candidate counts for it,
   one that does not counts against it and lowers the confidence. A short name that is also
   a longer name's start loses to the longer one (春海 < 春海小区 < 春海小区3号楼).
4. Only when no road or point place was found exactly, a bounded typo search (one wrong, missing
   or extra character, verified with rapidfuzz's Levenshtein distance) runs over the text's
   windows through a deletion-neighbourhood index of the names.

A server keeps one geocoder per process in a `GazetteerCache`, which reloads it when the
gazetteer table changes. Batches go through `geocode_many` (each distinct address once); the
point's grid is then found set-based in SQL by the caller (geo.cases.intake.assign_cases).

A road + number is interpolated between the house numbers of the road's vertices
(`point_at_number`); a number outside the road's range is clamped to its end, with a lower
confidence. Points are WGS84; 社区/街道 codes are those of the point (for a road + number the
社区 that number lies in).
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
from rapidfuzz.distance import Levenshtein
from sqlalchemy.orm import Session

from geo.geocode.base import GEOCODE_LEVELS, GeocodeResult
from geo.geocode.gazetteer import point_at_number
from geo.geocode.normalize import ParsedAddress, parse_address
from geo.sql_files import sql

_RANK = {level: i for i, level in enumerate(GEOCODE_LEVELS)}
_AREA_KINDS = frozenset(("community", "street", "district"))

# Confidence model: a base per kind of name match, multiplied by penalties.
CONF_NAME = 0.95          # the place's own name
CONF_ALIAS = 0.9          # an alias of 3+ characters (春海社区, 华联宾馆, 青泥洼桥)
CONF_SHORT = 0.7          # a 2-character short name (春海): often part of another word
FUZZY_FACTOR = 0.7        # one character wrong, missing or extra
FUZZY_FACTOR_SHORT = 0.6  # … in a 3-character name (人民略 → 人民路)
OUT_OF_RANGE = 0.7        # house number outside the road's numbers: clamped to the end
CONTRADICTED = 0.6        # a named 街道/社区 that does not contain the place
CONTRADICTED_SHORT = 0.85  # … named only by a 2-character short name
AMBIGUOUS = 0.7           # several places fit equally well; the lowest id was taken
HINT = 0.8                # 附近 / 对面 / 路口 …: somewhere around the place
LEFTOVER = 0.9            # 4+ characters of the address matched nothing
CONF_DISTRICT = 0.9       # only 中山区 named
CONF_CITY = 0.5           # only 大连市 named
UNKNOWN_PLACE = 0.6       # … followed by a place the gazetteer does not know

# After a name: an optional 期, then a number with its unit word.
_AFTER_NAME = re.compile(r"(?:\d+期)?(\d+|[A-Z]\d*)(号楼|号|单元|层|室)?")
_DIGITS = re.compile(r"\d+")
_NON_DIGITS = re.compile(r"\D{3,}")  # the text runs a typo search looks into
_NUMBER_TOKEN = re.compile(r"(?:\d+|[A-Z]\d*)(?:号楼|号|单元|层|室|期)?")
_ROAD_TYPES = frozenset("路街道巷里胡同弄")
_ROAD_END_SWAP = frozenset(("街", "巷"))
_LEFTOVER_MIN = 4
_FUZZY_MAX_TEXT = 64      # typo search is for addresses, not for whole letters


def _cuts(start: int, end: int, b_start: int, b_end: int) -> bool:
    """True when window start..end overlaps span b without strictly containing it."""
    overlaps = start < b_end and b_start < end
    contains = start <= b_start and b_end <= end and end - start > b_end - b_start
    return overlaps and not contains


def _new_result(level: str, confidence: float, lon: float, lat: float, community: str | None,
                street: str | None, matched: str, normalized: str) -> GeocodeResult:
    """GeocodeResult(level, confidence, lon, lat, community, street, matched, normalized) without
    the frozen dataclass's __init__ (one object.__setattr__ per field: a tenth of the time of a
    whole geocode). Every field is set; a test compares it with the regular constructor."""
    result = object.__new__(GeocodeResult)
    result.__dict__.update(level=level, confidence=confidence, lon=lon, lat=lat,
                           community_code=community, street_code=street, matched=matched,
                           normalized=normalized, source="gazetteer")
    return result


@dataclass(frozen=True)
class GazetteerRecord:
    """One gazetteer row as the matcher needs it (geometry: a point or road line as WKB)."""

    id: int
    kind: str
    name: str
    normalized: str
    aliases: tuple[str, ...]
    community_code: str | None
    street_code: str | None
    number_from: int | None
    number_to: int | None
    properties: dict[str, Any]
    wkb: bytes | None


@dataclass(eq=False)
class _Place:
    idx: int
    id: int
    kind: str
    name: str
    key: str
    lon: float
    lat: float
    community_code: str | None
    street_code: str | None
    communities: frozenset[str] = frozenset()
    streets: frozenset[str] = frozenset()
    coords: tuple[tuple[float, float], ...] = ()
    vertex_numbers: tuple[int, ...] = ()
    run_starts: tuple[int, ...] = ()
    run_codes: tuple[str | None, ...] = ()
    middle_by_community: dict[str, int] = field(default_factory=dict)

    def community_at(self, number: int) -> str | None:
        """The 社区 a (clamped) house number of this road lies in."""
        i = bisect.bisect_right(self.run_starts, number) - 1
        return self.run_codes[max(i, 0)]


@dataclass
class _Mention:
    start: int
    end: int
    key: str
    cands: tuple[tuple[int, float], ...]   # (place index, base confidence)
    factor: float = 1.0                   # < 1 for a fuzzy match
    number: int | None = None             # house number after a road name
    building: str | None = None           # 号楼 after a 小区 name


@dataclass
class _Choice:
    mention: _Mention
    place: _Place
    level: str
    conf: float
    score: float


class GazetteerGeocoder:
    """Geocoder over an in-memory copy of the gazetteer (implements `geo.geocode.base.Geocoder`)."""

    def __init__(self, records: Sequence[GazetteerRecord]) -> None:
        self._places: list[_Place] = []
        self._index: dict[str, list[tuple[int, float]]] = {}
        self._street_of: dict[str, str | None] = {}
        self._district: _Place | None = None
        children: dict[str, set[str]] = {}
        for rec in records:
            place = self._place(len(self._places), rec)
            self._places.append(place)
            if rec.kind == "community" and rec.community_code:
                self._street_of[rec.community_code] = rec.street_code
                children.setdefault(rec.street_code or "", set()).add(rec.community_code)
            if rec.kind == "district":
                self._district = place
                continue  # named through the admin prefixes, never scanned for
            for key, conf in ((rec.normalized, CONF_NAME),
                              *((a, CONF_ALIAS if len(a) >= 3 else CONF_SHORT)
                                for a in rec.aliases)):
                if len(key) >= 2:
                    entries = self._index.setdefault(key, [])
                    if all(p != place.idx for p, _ in entries):
                        entries.append((place.idx, conf))
        for place in self._places:
            if place.kind == "street" and place.street_code:
                place.communities = frozenset(children.get(place.street_code, ()))
            elif place.kind == "road":
                place.streets = frozenset(
                    s for c in place.communities if (s := self._street_of.get(c)))
        # Frozen entries: a mention shares its key's tuple instead of copying it.
        self._entries: dict[str, tuple[tuple[int, float], ...]] = {
            key: tuple(entries) for key, entries in self._index.items()}
        # The most precise level any place of a key has (decides whether typo search runs).
        self._key_rank = {key: min(_RANK[self._places[p].kind] for p, _ in entries)
                          for key, entries in self._entries.items()}
        self._first2: dict[str, tuple[int, ...]] = {}
        lengths: dict[str, set[int]] = {}
        for key in self._index:
            lengths.setdefault(key[:2], set()).add(len(key))
        self._first2 = {k: tuple(sorted(v, reverse=True)) for k, v in lengths.items()}
        self._build_fuzzy_index()

    @classmethod
    def from_session(cls, session: Session) -> GazetteerGeocoder:
        """Load every gazetteer entry once; later geocoding needs no database."""
        records = [GazetteerRecord(
            id=r.id, kind=r.kind, name=r.name, normalized=r.normalized,
            aliases=tuple(r.aliases or ()), community_code=r.community_code,
            street_code=r.street_code, number_from=r.number_from, number_to=r.number_to,
            properties=dict(r.properties or {}), wkb=bytes(r.wkb) if r.wkb is not None else None,
        ) for r in session.execute(sql("load_gazetteer"))]
        return cls(records)

    # --- loading -----------------------------------------------------------------------------

    def _place(self, idx: int, rec: GazetteerRecord) -> _Place:
        props = rec.properties
        geom = shapely.from_wkb(rec.wkb) if rec.wkb is not None else None
        if geom is not None and geom.geom_type == "Point":
            lon, lat = geom.x, geom.y
        else:
            lon, lat = (float(v) for v in props["point"])
        place = _Place(idx, rec.id, rec.kind, rec.name, rec.normalized, lon, lat,
                       rec.community_code, rec.street_code)
        if rec.community_code:
            place.communities = frozenset((rec.community_code,))
        if rec.street_code:
            place.streets = frozenset((rec.street_code,))
        if rec.kind == "road" and geom is not None:
            place.coords = tuple((float(x), float(y)) for x, y in geom.coords)
            place.vertex_numbers = tuple(int(n) for n in props["vertex_numbers"])
            runs = props["number_communities"]
            place.run_starts = tuple(int(r[0]) for r in runs)
            place.run_codes = tuple(r[2] for r in runs)
            place.communities = frozenset(r[2] for r in runs if r[2])
            middles: dict[str, int] = {}
            for code in place.communities:
                numbers = [n for r in runs if r[2] == code for n in range(r[0], r[1] + 1)]
                middles[code] = numbers[len(numbers) // 2]
            place.middle_by_community = middles
        return place

    def _build_fuzzy_index(self) -> None:
        """Deletion neighbourhood (distance 1) of every name of a road or point place."""
        self._fuzzy: dict[str, set[str]] = {}
        self._fuzzy_lengths: tuple[int, ...] = ()
        lengths: set[int] = set()
        for key, entries in self._index.items():
            if len(key) < 3 or _DIGITS.search(key):
                continue
            if all(self._places[p].kind in _AREA_KINDS for p, _ in entries):
                continue
            lengths.add(len(key))
            for variant in (key, *(key[:k] + key[k + 1:] for k in range(len(key)))):
                self._fuzzy.setdefault(variant, set()).add(key)
        # Every character of an indexed variant: a window variant with any other cannot match.
        self._fuzzy_chars = frozenset("".join(self._fuzzy))
        # A window may be one longer or shorter than a name.
        self._fuzzy_lengths = tuple(sorted({n + d for n in lengths for d in (-1, 0, 1)
                                            if n + d >= 3}, reverse=True))

    # --- matching ----------------------------------------------------------------------------

    def _scan(self, text: str) -> list[_Mention]:
        """Leftmost-longest mentions of indexed names."""
        mentions: list[_Mention] = []
        lengths_at, entries_of = self._first2.get, self._entries.get
        i, n = 0, len(text)
        while i < n - 1:
            lengths = lengths_at(text[i:i + 2])
            if lengths is not None:
                for length in lengths:
                    end = i + length
                    if end <= n:
                        key = text[i:end]
                        cands = entries_of(key)
                        if cands is not None:
                            mentions.append(_Mention(i, end, key, cands))
                            i = end
                            break
                else:
                    i += 1
            else:
                i += 1
        return mentions

    def _fuzzy_mention(self, text: str, exact: Sequence[_Mention]) -> _Mention | None:
        """The closest road/point name within one edit of some window of the text. A window
        may contain a name that matched exactly (石葵社区|卫生服以站) but never lie inside or
        across one of 3+ characters (春海社区 is not a typo of 春海小区); a 2-character short
        name may be cut (春海|小曲)."""
        blocked = [(m.start, m.end) for m in exact if m.end - m.start >= 3]
        # key → (distance, window length ≠ name length, -length, start, end): a wrong character
        # before a missing or extra one, then the longer name.
        found: dict[str, tuple[int, int, int, int, int]] = {}
        fuzzy, lengths, chars = self._fuzzy.get, self._fuzzy_lengths, self._fuzzy_chars
        # foreign[k]: how many of text[:k] are in no indexed name. A window with two of them
        # cannot match; with one, only the variant without it can.
        foreign = [0]
        for ch in text:
            foreign.append(foreign[-1] + (ch not in chars))
        for seg in _NON_DIGITS.finditer(text):
            s, e = seg.span()
            for j in range(e, s + 2, -1):
                for length in lengths:
                    i = j - length
                    if i < s or (blocked and any(_cuts(i, j, b_start, b_end)
                                                 for b_start, b_end in blocked)):
                        continue
                    n_foreign = foreign[j] - foreign[i]
                    if n_foreign > 1:
                        continue
                    window = text[i:j]
                    if n_foreign:
                        k = next(k for k in range(length) if window[k] not in chars)
                        variants: Sequence[str] = (window[:k] + window[k + 1:],)
                    else:
                        variants = (window, *[window[:k] + window[k + 1:] for k in range(length)])
                    hits = [hit for hit in map(fuzzy, variants) if hit]
                    if not hits:
                        continue
                    keys = set().union(*hits)
                    for key in keys:
                        dist = Levenshtein.distance(window, key, score_cutoff=1)
                        if dist > 1 or not self._road_end_ok(window, key):
                            continue
                        rank = (dist, int(length != len(key)), -len(key), i, j)
                        if key not in found or rank < found[key]:
                            found[key] = rank
        if not found:
            return None
        best = min(r[:3] for r in found.values())
        top = sorted((r[3], r[4], key) for key, r in found.items() if r[:3] == best)
        start, end, _ = top[0]
        # Every name as close as the best in the same window is a candidate; context picks.
        cands: list[tuple[int, float]] = []
        for s_, e_, key in top:
            if (s_, e_) != (start, end):
                continue
            for p, conf in self._index[key]:
                if all(p != q for q, _ in cands):
                    cands.append((p, conf))
        factor = FUZZY_FACTOR_SHORT if -best[1] <= 3 else FUZZY_FACTOR
        if best[0] == 0:
            factor = 1.0  # an exact name the greedy scan stepped over
        return _Mention(start, end, text[start:end], tuple(cands), factor)

    @staticmethod
    def _road_end_ok(window: str, key: str) -> bool:
        """人民道 is another road, not a typo of 人民路: two different road-type endings never
        match fuzzily (街↔巷 excepted); a wrong character that is no road type may."""
        a, b = window[-1], key[-1]
        if a == b or a not in _ROAD_TYPES or b not in _ROAD_TYPES:
            return True
        return {a, b} == _ROAD_END_SWAP

    @staticmethod
    def _attach_numbers(text: str, mentions: Sequence[_Mention]) -> None:
        """The number right after a name: a house number for a road, a 号楼 for a 小区."""
        for m in mentions:
            after = _AFTER_NAME.match(text, m.end)
            if after is not None and after.group(2) in (None, "号", "号楼"):
                m.building = after.group(1)
                if m.building.isdigit():
                    m.number = int(m.building)

    def _relation(self, place: _Place, other: _Mention) -> int:
        """+1 if another mention is consistent with the place, -1 if it is an area that does
        not contain it, 0 if it says nothing."""
        if place.kind == "district":
            return 0
        area_only = True
        for p, _ in other.cands:
            q = self._places[p]
            if q.kind == "district":
                return 0
            if q.kind == "street":
                if q.street_code in place.streets:
                    return 1
            elif q.kind == "community":
                if q.community_code in place.communities or (
                        place.kind == "street" and q.street_code == place.street_code):
                    return 1
            else:
                area_only = False
                if place.communities & q.communities:
                    return 1
        return -1 if area_only else 0

    def _choose(self, mentions: list[_Mention]) -> tuple[_Choice, list[_Mention], bool] | None:
        """The most precise reading of the mentions, the rest as context, and whether several
        readings fit equally well."""
        places, index = self._places, self._index
        # Every reading's level first; only those at the most precise level are scored (the
        # others could never win), in mention order, then candidate order.
        top: list[tuple[_Mention, _Place, str, float, float]] = []
        best_rank = len(GEOCODE_LEVELS)
        for m in mentions:
            for p, conf in m.cands:
                place = places[p]
                level = place.kind
                bonus = 0.0
                numbered = index.get(f"{place.key}{m.building}号楼") if m.building else None
                if numbered and place.kind in ("building", "project"):
                    place, level = places[numbered[0][0]], "building"
                elif place.kind == "road" and m.number is not None:
                    level = "road_number"
                    if place.vertex_numbers and (
                            place.vertex_numbers[0] <= m.number <= place.vertex_numbers[-1]):
                        bonus = 0.5
                rank = _RANK[level]
                if rank < best_rank:
                    best_rank = rank
                    top.clear()
                if rank == best_rank:
                    top.append((m, place, level, conf * m.factor, bonus))
        if not top:
            return None
        choices: list[_Choice] = []
        for m, place, level, conf, score in top:
            for other in mentions:
                if other is not m:
                    score += self._relation(place, other)
            choices.append(_Choice(m, place, level, conf, score))
        if len(choices) > 1:
            choices.sort(key=lambda c: (-c.score, -c.conf, c.mention.start, c.place.id))
        first = choices[0]
        ambiguous = any(c.mention is first.mention and c.score == first.score
                        and c.conf == first.conf for c in choices[1:])
        return first, [m for m in mentions if m is not first.mention], ambiguous

    def geocode(self, address: str) -> GeocodeResult:
        """Geocode one address (see the module docstring for the rules)."""
        parsed = parse_address(address or "")
        if parsed.other_area:
            return GeocodeResult("none", 0.0, matched=parsed.other_area,
                                 normalized=parsed.normalized)
        text = parsed.core
        mentions = self._scan(text)
        key_rank = self._key_rank
        best_level = min((key_rank[m.key] for m in mentions), default=len(GEOCODE_LEVELS))
        if best_level > _RANK["road"] and 3 <= len(text) <= _FUZZY_MAX_TEXT:
            fuzzy = self._fuzzy_mention(text, mentions)
            if fuzzy is not None:
                mentions = [m for m in mentions
                            if m.end <= fuzzy.start or m.start >= fuzzy.end] + [fuzzy]
                mentions.sort(key=lambda m: m.start)
        self._attach_numbers(text, mentions)
        chosen = self._choose(mentions)
        if chosen is None:
            return self._admin_only(parsed)
        return self._result(parsed, text, mentions, *chosen)

    def geocode_many(self, addresses: Sequence[str]) -> list[GeocodeResult]:
        """Geocode many addresses; repeated addresses are matched once."""
        done: dict[str, GeocodeResult] = {}
        out: list[GeocodeResult] = []
        for address in addresses:
            result = done.get(address)
            if result is None:
                result = done[address] = self.geocode(address)
            out.append(result)
        return out

    # --- results -----------------------------------------------------------------------------

    def _admin_only(self, parsed: ParsedAddress) -> GeocodeResult:
        district = self._district
        if district is None or not parsed.admin:
            return GeocodeResult("none", 0.0, normalized=parsed.normalized)
        conf = CONF_DISTRICT if "中山区" in parsed.admin else CONF_CITY
        if parsed.place:
            conf *= UNKNOWN_PLACE
        if parsed.hint:
            conf *= HINT
        return GeocodeResult("district", round(conf, 2), district.lon, district.lat,
                             matched=district.name, normalized=parsed.normalized)

    def _named_community_on(self, road: _Place, others: Sequence[_Mention]) -> str | None:
        """The first 社区 named in the address that the road passes through."""
        for other in others:
            for p, _ in other.cands:
                code = self._places[p].community_code
                if self._places[p].kind == "community" and code in road.middle_by_community:
                    return code
        return None

    def _result(self, parsed: ParsedAddress, text: str, mentions: list[_Mention],
                choice: _Choice, others: list[_Mention], ambiguous: bool) -> GeocodeResult:
        place, m = choice.place, choice.mention
        conf = choice.conf
        lon, lat = place.lon, place.lat
        community, street = place.community_code, place.street_code
        matched = place.name
        level = choice.level
        if level == "road_number" and m.number is not None:
            lo, hi = place.vertex_numbers[0], place.vertex_numbers[-1]
            number = min(max(m.number, lo), hi)
            if number != m.number:
                conf *= OUT_OF_RANGE
            lon, lat = point_at_number(place.coords, place.vertex_numbers, number)
            community = place.community_at(number)
            street = self._street_of.get(community or "")
            matched = f"{place.name} {m.number}号"
        elif level == "road" and (code := self._named_community_on(place, others)):
            # The address names a 社区 the road passes: the road's middle inside it.
            middle = place.middle_by_community[code]
            lon, lat = point_at_number(place.coords, place.vertex_numbers, middle)
            community, street = code, self._street_of.get(code)
        for other in others:
            if self._relation(place, other) < 0:
                conf *= CONTRADICTED if len(other.key) >= 3 else CONTRADICTED_SHORT
                break
        if ambiguous:
            conf *= AMBIGUOUS
        if parsed.hint:
            conf *= HINT
        unmatched, last = [], 0
        for mm in mentions:
            unmatched.append(text[last:mm.start])
            last = max(last, mm.end)
        unmatched.append(text[last:])
        leftover = "".join(unmatched)
        if len(leftover) >= _LEFTOVER_MIN and (
                len(_NUMBER_TOKEN.sub("", leftover)) >= _LEFTOVER_MIN):
            conf *= LEFTOVER
        return _new_result(level, round(conf, 2), lon, lat, community, street, matched,
                           parsed.normalized)


class GazetteerCache:
    """The process's gazetteer geocoder: loaded on first use, reloaded when the gazetteer in the
    database has changed since (a rebuild, rows deleted or edited; see gazetteer_version.sql).
    Each `current()` costs one small query; the geocoder itself is shared between requests
    (it is read-only after loading)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: tuple[Any, ...] | None = None
        self._geocoder: GazetteerGeocoder | None = None
        self.loads = 0  # how many times the gazetteer was read (for tests and logs)

    def current(self, session: Session) -> GazetteerGeocoder:
        """The geocoder for the gazetteer as `session` sees it now."""
        version = tuple(session.execute(sql("gazetteer_version")).one())
        with self._lock:
            if self._geocoder is None or version != self._version:
                self._geocoder = GazetteerGeocoder.from_session(session)
                self._version = version
                self.loads += 1
            return self._geocoder
