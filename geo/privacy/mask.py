"""Masked forms of personal data, what every output shows unless unmasking is allowed.

Names keep the surname (张三 → 张*, 张小明 → 张**, 欧阳小明 → 欧阳**; a one-character name → *;
a name in Latin letters keeps its first letter: Smith → S****). ID numbers keep the region and
the last four (210202********1234), mobiles the network prefix and last four (138****5678),
landlines the area code and last four (0411-****5678). Addresses are cut to the building:
house number, 号楼 and 期 stay, 单元, 层, 室 (户, 门 …) and anything after go. The cut address
is given in the normalised form of `geo.geocode.normalize` (full-width digits made half-width,
the 大连市中山区 prefix dropped, 3栋 → 3号楼), because that form is what the cut understands;
"28-3-502" becomes "28号".
"""

from __future__ import annotations

import re

from geo.geocode.normalize import parse_address

# Two-character (复姓) surnames: kept whole so 欧阳小明 is 欧阳**, not 欧***.
COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
    "司徒", "夏侯", "轩辕", "令狐", "钟离", "澹台", "申屠", "太史", "端木", "万俟", "闻人",
    "南宫", "西门", "赫连", "独孤", "呼延", "百里", "东郭", "濮阳", "单于", "公羊", "淳于",
    "太叔", "仲孙", "宗政", "公冶", "拓跋", "第五", "巫马", "乐正", "壤驷", "谷梁", "宰父",
    "夹谷", "段干", "漆雕", "司空", "司寇", "子车", "颛孙", "左丘", "梁丘", "东门", "鲜于",
    "羊舌", "微生", "公西", "亓官", "公良", "南门", "呼衍", "钟吕", "归海",
})
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ffff]")
STARS = "****"
# Address tokens as geo.geocode.normalize leaves them: a number (or letter) with its unit word,
# or a bare number. 号/号楼/期 name the building; 单元/层/室 and later bare numbers are inside it.
_TOKEN = re.compile(r"(?<![第\d])(\d+|[A-Z]\d*)(号楼|号|单元|层|室|期)|(?<![第\d])\d+")
_BUILDING_WORDS = ("号楼", "号", "期")


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳小明 → 欧阳**, 张 → *, Smith → S****."""
    name = name.strip()
    if len(name) <= 1:
        return "*" if name else ""
    if _CJK.match(name):
        keep = 2 if len(name) > 2 and name[:2] in COMPOUND_SURNAMES else 1
        return name[:keep] + "*" * (len(name) - keep)
    return name[0] + "*" * (len(name) - 1)


def mask_id_number(id_number: str) -> str:
    """210202199001011234 → 210202********1234 (region and last four)."""
    if len(id_number) <= 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_phone(phone: str) -> str:
    """13800005678 → 138****5678; 0411-84123456 → 0411-****3456."""
    if "-" in phone:
        area, local = phone.split("-", 1)
        return f"{area}-{STARS}{local[-4:]}"
    if len(phone) == 11:
        return phone[:3] + STARS + phone[-4:]
    return STARS + phone[-4:] if len(phone) > 4 else STARS


def mask_address(address: str) -> str:
    """The address cut to the building: 人民路28号3单元502室 → 人民路28号."""
    parsed = parse_address(address)
    core = parsed.core
    end = 0
    for i, match in enumerate(_TOKEN.finditer(core)):
        word = match.group(2)
        if word in _BUILDING_WORDS or (word is None and i == 0):
            end = match.end()   # a house number, a building, a phase (期), or 人民路28
            continue
        # The first unit, floor, room or stray number: everything from here on is inside.
        return core[:end] if end else core[:match.start()]
    return parsed.normalized  # nothing inside a building: keep a trailing 附近/对面 too
