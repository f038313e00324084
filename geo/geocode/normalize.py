"""Normalise and parse Chinese addresses the way people really type them, before any matching.

`normalize_address(text)` applies these rules, in this order (each is pinned by a test):

1. **Width and case** – Unicode NFKC turns full-width digits, letters and punctuation into
   half-width ("２８号" → "28号", "（" → "("); ASCII letters are upper-cased ("a座" → "A座").
2. **Variant and traditional characters** – a short table of characters common in addresses is
   mapped to the simplified form (號→号, 樓→楼, 棟→栋, 單→单, 區→区, 連→连, 遼寧→辽宁, 廣→广, 場→场,
   園→园, 灣→湾, 橋→桥, 門→门, 衖/衕→巷 …), plus frequent IME slips ("付近"→"附近",
   "单原"→"单元"). 街 and 巷 stay distinct (a lane is not the street), and so do 路 and 道:
   "人民道" is not a typo of "人民路". The matcher tolerates 街↔巷 only as a lower-confidence
   fuzzy match.
3. **Dashed numbers** – "28-3-502" (also —, –, _, ~, /) becomes "28号3单元502室"; two parts
   become "28号502室" when the second has 3+ digits, else "28号3单元"; four parts
   "28号3号楼2单元502室". Right after an existing 号/号楼/栋 the parts are the building's:
   "28号3-502" → "28号3单元502室", "28号2-3-502" → "28号2号楼3单元502室". A range before 号
   keeps its first number: "28-30号" → "28号". A trailing 室 or 号 is absorbed.
4. **Spaces and punctuation** – everything that is not a CJK character, 〇, an ASCII digit,
   letter or "#" is removed: spaces, ，,、。·-—_()（）【】"" and the like (content is kept).
5. **Chinese numerals** – only in number positions, so names survive ("五五路", "七一街",
   "三八广场", "一德街" stay as they are):
   - a numeral run right before 号/号楼/栋/幢/座/单元/室/层/楼/门/弄/户/期/#:
     "二十八号" → "28号", "一〇三室" → "103室", "一百零五号" → "105号";
   - after 第 when an ordinal noun follows (中学/小学/医院/幼儿园/网格/中心…):
     "第十一中学" → "第11中学" (but "第一百货" stays);
   - a run at the end right after 单元/号楼/层 is a room: "3单元五〇二" → "3单元502".
   Runs with 十/百/千 are read positionally (二十八 = 28); runs without are read digit by digit
   (一〇三 = 103); 〇 and 零 are 0, 两 is 2.
6. **Unit words** – one spelling per meaning: "28#"→"28号", "3#楼"→"3号楼"; 栋/幢/座 after a
   number or a single letter → 号楼 ("3栋", "A座" → "3号楼", "A号楼"); "N门" → "N单元" (in
   north-east usage a 门/门洞 is a stairwell entrance; not before 市/口/前/外/卫); "N楼" followed
   by a unit is a building ("3楼2单元" → "3号楼2单元"), otherwise a floor ("5楼", "5F" → "5层");
   "N户"/"N房"/"N号房" → "N室"; a lane "N弄" acts as the house number → "N号".
7. **Administrative prefixes** – stripped from the front, repeatedly, in any combination, with or
   without their suffix: 辽宁省 (bare 辽宁 only before 大连), 大连市 (bare 大连 unless a name goes
   on, as in 大连港/大连站/大连理工), 中山区 (bare 中山 only after 大连, and not when a name goes
   on: 中山路, 中山广场, 中山公园, 中山医院, 中山市 …). "辽宁大连中山区" → "". They are
   reported by `parse_address` as `admin`.
   A different province, city or Dalian district at the front (西岗区, 沙河口区, 甘井子区, 旅顺口区,
   金州区, 普兰店区, 瓦房店市, 庄河市, 长海县, 高新园区, 金普新区, 沈阳市, 中山市, 北京市, 广东省 …)
   is reported as `other_area` and kept in the text.

`parse_address(text)` then splits the normalised text:

8. **Hints** – trailing vague words (附近, 旁边, 旁, 对面, 斜对面, 对过, 门口, 周边, 周围, 一带,
   边上, 后面, 前面, 后身, 东/西/南/北侧, 楼下, 交叉口, 交汇处, 十字路口, and the 口 of "人民路口")
   are removed from `core` and reported as `hint`; they stay in `normalized`.
9. **Numbers and details** – the first "N号" is the house number (a second "N号" is a
   building); "X号楼" the building, "N单元" the unit, "N层" the floor, "N室" (or a bare trailing
   number after 单元/层/号楼) the room; a bare number right after the name ("人民路28") is the
   house number. `place` is `core` without these tokens: the names only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

# Rule 2: traditional / variant characters found in addresses, and common IME slips.
_VARIANTS = str.maketrans({
    "號": "号", "樓": "楼", "棟": "栋", "單": "单", "區": "区", "連": "连", "遼": "辽",
    "寧": "宁", "廣": "广", "場": "场", "園": "园", "灣": "湾", "橋": "桥", "門": "门",
    "衖": "巷", "衕": "巷", "東": "东", "華": "华", "興": "兴", "濱": "滨", "莊": "庄",
    "館": "馆", "廠": "厂", "厰": "厂", "學": "学", "醫": "医", "長": "长", "陽": "阳",
    "雲": "云", "龍": "龙", "寶": "宝", "鳳": "凤", "豐": "丰", "業": "业", "開": "开",
    "發": "发", "勝": "胜", "處": "处", "側": "侧", "邊": "边", "對": "对", "與": "与",
    "車": "车", "鐵": "铁", "條": "条", "線": "线", "紅": "红", "綠": "绿",
    "層": "层", "間": "间", "縣": "县", "蘇": "苏", "臺": "台", "秤": "秤", "賓": "宾",
    "聯": "联", "韻": "韵", "頭": "头", "灘": "滩", "順": "顺", "島": "岛", "時": "时",
    "単": "单", "丨": "",
})
# Checked first with one search: translate() is slow on CJK text and rarely changes anything.
_HAS_VARIANT = re.compile("[" + "".join(map(chr, _VARIANTS)) + "]")
_TYPOS = (("付近", "附近"), ("单原", "单元"), ("傍边", "旁边"))

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\u3007"
_NOT_KEPT = re.compile(f"[^{_CJK}0-9A-Z#]+")
# Anything rules 2-4 would change: a variant character, a typo, or a character that is not kept
# (dashes and spaces included). Most addresses have none and skip those rules at once.
_NEEDS_CLEANING = re.compile(
    "[" + "".join(map(chr, _VARIANTS)) + "]|付近|单原|傍边" + f"|[^{_CJK}0-9A-Z#]")

# Rule 3: dashed numbers. Dashes are matched before punctuation is dropped.
_DASH = r"(?:\s*[-—–_~/]\s*|\s+)"
_DASHED = re.compile(rf"(\d+)((?:{_DASH}\d+){{1,3}})\s*(号(?!楼)|室)?")
_MAY_BE_DASHED = re.compile(r"\d[-—–_~/\s]")  # what _DASHED needs: a dash or space after a digit
_HAS_NUMBER_BEFORE = re.compile(r"(?:号|号楼|栋|幢|座)\s*$")

# Rule 5: Chinese numerals in number positions.
_CN_DIGIT = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
             "七": 7, "八": 8, "九": 9}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}
_CN_RUN = "[〇零一二两三四五六七八九十百千]+"
_CN_BEFORE_UNIT = re.compile(f"({_CN_RUN})(?=号|栋|幢|座|单元|室|层|楼|门|弄|户|期|#)")
_CN_ORDINAL = re.compile(
    f"第({_CN_RUN})(?=中学|小学|中|小|医院|人民医院|幼儿园|高中|初中|网格|中心|分局|派出所|期)")
_CN_ROOM_AT_END = re.compile(f"(?:(?<=单元)|(?<=号楼)|(?<=层))({_CN_RUN})$")
_HAS_CN_NUMERAL = re.compile(f"[{_CN_RUN[1:-2]}]")

# Rule 6: unit words.
# Replacements are functions, not r"\1…" templates (a template sends every sub() back through
# re._subx in Python). Each rule comes with the characters one of which it needs: a rule whose
# characters are all absent cannot match, so it is skipped (same result, no regex run).
_UNIT_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str] | str,
                         tuple[str, ...]], ...] = (
    (re.compile(r"(\d+)#楼"), lambda m: m[1] + "号楼", ("#",)),
    (re.compile(r"(\d+)#"), lambda m: m[1] + "号", ("#",)),
    (re.compile(r"(\d+|(?<![A-Z])[A-Z])(?:栋|幢|座)"), lambda m: m[1] + "号楼", ("栋", "幢", "座")),
    (re.compile(r"(\d+)门(?![市口前外卫])"), lambda m: m[1] + "单元", ("门",)),
    (re.compile(r"(\d+)楼(?=\d+单元)"), lambda m: m[1] + "号楼", ("楼",)),
    (re.compile(r"(?<!\d)(\d+)(?:楼|F(?![A-Z]))"), lambda m: m[1] + "层", ("楼", "F")),
    (re.compile(r"(\d+)(?:号房|户|房)"), lambda m: m[1] + "室", ("户", "房")),
    (re.compile(r"(\d+)弄"), lambda m: m[1] + "号", ("弄",)),
    (re.compile("#"), "", ("#",)),
)

_HAS_UNIT_WORD = re.compile(r"[\d#]|[A-Z](?:栋|幢|座)")
# Some character one of the rules needs (a clean "人民路28号" has none: no rule runs).
_UNIT_RULE_CHARS = re.compile(
    "[" + "".join(sorted({ch for _, _, needs in _UNIT_RULES for ch in needs})) + "]")

# Rule 7: administrative prefixes, then areas that are not 中山区.
# (the text starts with, characters cut, characters that must not follow them, canonical name):
# string tests, not regexes (they run on every address, several times).
_AdminPrefix = tuple[str, int, frozenset[str], str]
_ADMIN_PREFIXES: tuple[_AdminPrefix, ...] = (
    ("辽宁省", 3, frozenset(), "辽宁省"),
    ("辽宁大连", 2, frozenset(), "辽宁省"),                              # 辽宁(?=大连)
    ("大连市", 3, frozenset(), "大连市"),
    ("大连", 2, frozenset("港站湾大理医火海银工交外"), "大连市"),          # 大连港, 大连站 …
    ("中山区", 3, frozenset(), "中山区"),
)
_ADMIN_FIRST = frozenset("辽大中")  # the first characters of every prefix
# Bare 中山 names the district only after 大连, and not when a name goes on (中山路, 中山广场).
_BARE_ZHONGSHAN: _AdminPrefix = (
    "中山", 2, frozenset("路街道巷广场公园大厦桥门里市花小医宾饭酒商"), "中山区")
_DALIAN_DISTRICTS = "西岗|沙河口|甘井子|旅顺口|金州|普兰店|瓦房店|庄河|长海"
_OTHER_AREA = re.compile(
    "^(?:"
    f"(?:{_DALIAN_DISTRICTS})(?:区|市|县)?"
    "|高新(?:技术产业)?园区|高新区|金普新区|开发区|保税区"
    "|(?:沈阳|鞍山|抚顺|本溪|丹东|锦州|营口|阜新|辽阳|盘锦|铁岭|朝阳|葫芦岛|中山)市"
    "|(?:北京|上海|天津|重庆)市"
    f"|(?!辽宁)[{_CJK}]{{2,3}}省"
    ")")

# Rule 8: trailing hints, longest first so "斜对面" wins over "对面".
_HINTS = ("十字路口", "斜对面", "交叉口", "交汇处", "附近", "旁边", "对面", "对过", "门口",
          "周边", "周围", "一带", "边上", "后面", "前面", "后身", "东侧", "西侧", "南侧", "北侧",
          "楼下", "旁")
_ROAD_MOUTH = re.compile("(?<=[路街巷道])口$")
_HINTS_BY_LAST: dict[str, tuple[str, ...]] = {}
for _hint in _HINTS:
    _HINTS_BY_LAST[_hint[-1]] = (*_HINTS_BY_LAST.get(_hint[-1], ()), _hint)

# Rule 9: number tokens.
# Digits right after 第 belong to a name ("第11中学").
_TOKEN = re.compile(r"(?<![第\d])(\d+|[A-Z]\d*)(号楼|号|单元|层|室|期)|(?<![第\d])\d+")


@dataclass(frozen=True)
class ParsedAddress:
    """An address split into names and numbers; see the module docstring for the rules."""

    normalized: str                 # normalize_address(text): hint and numbers still in place
    core: str                       # normalized without the trailing hint (what gets matched)
    place: str                      # core without number tokens: the names only
    number: int | None = None       # 门牌号: the house number on a road
    building: str | None = None     # 号楼 / 栋 / 座 ("3", "A"), or a second 号
    unit: int | None = None         # 单元
    floor: int | None = None        # 层
    room: str | None = None         # 室
    hint: str | None = None         # 附近 / 旁边 / 对面 … (a vague location)
    admin: tuple[str, ...] = ()     # stripped prefixes, e.g. ("大连市", "中山区")
    other_area: str | None = None   # a different district / city named at the front


def chinese_numeral(run: str) -> str:
    """Digits for a Chinese numeral run: 二十八 → 28 (positional), 一〇三 → 103 (digit by digit)."""
    if not any(ch in _CN_UNIT for ch in run):
        return "".join(str(_CN_DIGIT[ch]) for ch in run)
    total, digit = 0, None
    for ch in run:
        if ch in _CN_UNIT:
            total += (1 if digit is None else digit) * _CN_UNIT[ch]
            digit = None
        else:
            digit = _CN_DIGIT[ch]
    return str(total + (digit or 0))


def _dashed(match: re.Match[str]) -> str:
    parts = [match.group(1), *re.findall(r"\d+", match.group(2))]
    suffix = match.group(3)
    after_number = _HAS_NUMBER_BEFORE.search(match.string, 0, match.start()) is not None
    if suffix == "号" and len(parts) == 2 and not after_number:
        return f"{parts[0]}号"  # a range of house numbers: keep the first
    if after_number:
        # The house number is already given: these are the building's parts.
        if len(parts) == 2:
            return f"{parts[0]}单元{parts[1]}室"
        if len(parts) == 3:
            return f"{parts[0]}号楼{parts[1]}单元{parts[2]}室"
        return f"{parts[0]}号楼{parts[1]}单元{parts[2]}层{parts[3]}室"
    if len(parts) == 2:
        second = f"{parts[1]}室" if len(parts[1]) >= 3 else f"{parts[1]}单元"
        return f"{parts[0]}号{second}"
    if len(parts) == 3:
        return f"{parts[0]}号{parts[1]}单元{parts[2]}室"
    return f"{parts[0]}号{parts[1]}号楼{parts[2]}单元{parts[3]}室"


def _numerals(text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        return chinese_numeral(match.group(1))

    if _HAS_CN_NUMERAL.search(text) is None:
        return text
    text = _CN_ORDINAL.sub(lambda m: "第" + chinese_numeral(m.group(1)), text)
    text = _CN_BEFORE_UNIT.sub(repl, text)
    return _CN_ROOM_AT_END.sub(repl, text)


def _strip_admin(text: str) -> tuple[str, tuple[str, ...], str | None]:
    admin: list[str] = []
    changed = True
    while changed and text[:1] in _ADMIN_FIRST:
        changed = False
        for start, cut, not_next, canonical in _ADMIN_PREFIXES:
            match = text.startswith(start) and text[cut:cut + 1] not in not_next
            if not match and canonical == "中山区" and "大连市" in admin:
                start, cut, not_next, _ = _BARE_ZHONGSHAN
                match = text.startswith(start) and text[cut:cut + 1] not in not_next
            if match:
                text = text[cut:]
                if canonical not in admin:
                    admin.append(canonical)
                changed = True
    other = _OTHER_AREA.match(text)
    return text, tuple(admin), other.group(0) if other else None


# Not cached itself: parse_address (the geocoder's entry) is, and a second cache under it only
# cost time on every new address.
def _normalize(text: str) -> tuple[str, tuple[str, ...], str | None]:
    out = unicodedata.normalize("NFKC", text).upper()
    if _NEEDS_CLEANING.search(out):
        if _HAS_VARIANT.search(out):
            out = out.translate(_VARIANTS)
        for wrong, right in _TYPOS:
            if wrong in out:
                out = out.replace(wrong, right)
        if _MAY_BE_DASHED.search(out):
            out = _DASHED.sub(_dashed, out)
        out = _NOT_KEPT.sub("", out)
    out = _numerals(out)
    if _UNIT_RULE_CHARS.search(out) and _HAS_UNIT_WORD.search(out):
        for pattern, replacement, needs in _UNIT_RULES:
            for ch in needs:
                if ch in out:
                    out = pattern.sub(replacement, out)
                    break
    return _strip_admin(out)


def normalize_address(text: str) -> str:
    """The address in canonical form (rules 1-7 of the module docstring)."""
    return _normalize(text)[0]


def _split_hint(text: str) -> tuple[str, str | None]:
    hints: list[str] = []
    while text:
        # Only the hints ending in the text's last character can match (in _HINTS order).
        for hint in _HINTS_BY_LAST.get(text[-1], ()):
            if text.endswith(hint) and len(text) > len(hint):
                text = text[: -len(hint)]
                hints.insert(0, hint)
                break
        else:
            if not _ROAD_MOUTH.search(text):
                break
            text = text[:-1]
            hints.insert(0, "路口")
    return text, "".join(hints) or None


@lru_cache(maxsize=65536)
def parse_address(text: str) -> ParsedAddress:
    """Normalise `text` and split it into names, house number, details and hint (rules 1-9)."""
    normalized, admin, other = _normalize(text)
    core, hint = _split_hint(normalized)
    number: int | None = None
    building: str | None = None
    unit: int | None = None
    floor: int | None = None
    room: str | None = None
    previous = ""
    names: list[str] = []  # core between the tokens: _TOKEN.sub("", core) in the same pass
    last = 0
    for match in _TOKEN.finditer(core):
        names.append(core[last:match.start()])
        last = match.end()
        value, word = match.group(1), match.group(2)
        if word is None:  # a bare number
            value = match.group(0)
            if previous in ("单元", "层", "号楼") and room is None:
                room = value
            elif number is None and not previous:
                number = int(value)
            previous = "bare"
            continue
        if word == "号" and value.isdigit() and number is None:
            number = int(value)
        elif word in ("号", "号楼") and building is None:
            building = value
        elif word == "单元" and value.isdigit():
            unit = int(value)
        elif word == "层" and value.isdigit():
            floor = int(value)
        elif word == "室":
            room = value
        previous = word
    place = "".join(names) + core[last:] if names else core
    # ParsedAddress(...) without the frozen dataclass's __init__ (one object.__setattr__ per
    # field, as slow as the rest of the parse); every field is set, as a test checks.
    parsed = object.__new__(ParsedAddress)
    parsed.__dict__.update(normalized=normalized, core=core, place=place, number=number,
                           building=building, unit=unit, floor=floor, room=room, hint=hint,
                           admin=admin, other_area=other)
    return parsed
