"""Address normalisation and parsing: one assertion per rule of geo.geocode.normalize (no DB)."""

from __future__ import annotations

import pytest

from geo.geocode.normalize import chinese_numeral, normalize_address, parse_address


@pytest.mark.parametrize(("raw", "expected"), [
    # 1. width and case
    ("人民路２８号", "人民路28号"),
    ("明泽大厦ａ座", "明泽大厦A号楼"),
    # 2. variant / traditional characters and IME slips
    ("人民路28號", "人民路28号"),
    ("春海小區3號樓", "春海小区3号楼"),
    ("天津街付近", "天津街附近"),
    ("春海小区3号楼2单原", "春海小区3号楼2单元"),
    ("人民道28号", "人民道28号"),          # 路/道 is not a typo
    ("天津巷8号", "天津巷8号"),            # 街/巷 stay distinct
    # 3. dashed numbers
    ("人民路28-3-502", "人民路28号3单元502室"),
    ("人民路28－3－502", "人民路28号3单元502室"),
    ("人民路28-502", "人民路28号502室"),
    ("人民路28-3", "人民路28号3单元"),
    ("人民路28-2-3-502", "人民路28号2号楼3单元502室"),
    ("人民路28号3-502", "人民路28号3单元502室"),
    ("人民路28号2-3-502", "人民路28号2号楼3单元502室"),
    ("人民路28-30号", "人民路28号"),
    ("人民路28 3 502", "人民路28号3单元502室"),
    ("春海小区3-2-502室", "春海小区3号2单元502室"),
    # 4. spaces and punctuation
    ("人民路 28号 ，（春海小区）【东门】", "人民路28号春海小区东门"),
    ("“华联宾馆”·地块、", "华联宾馆地块"),
    # 5. Chinese numerals, only in number positions
    ("五五路二十八号", "五五路28号"),
    ("五五路一〇三号", "五五路103号"),
    ("五五路一百零五号", "五五路105号"),
    ("七一街十二号", "七一街12号"),
    ("三八广场", "三八广场"),
    ("一德街一号", "一德街1号"),
    ("第十一中学", "第11中学"),
    ("第一百货", "第一百货"),
    ("春海小区三号楼二单元五〇二", "春海小区3号楼2单元502"),
    ("春海小区五楼", "春海小区5层"),
    # 6. unit words
    ("人民路28#", "人民路28号"),
    ("春海小区3#楼", "春海小区3号楼"),
    ("春海小区3栋", "春海小区3号楼"),
    ("春海小区3幢", "春海小区3号楼"),
    ("明泽大厦B座", "明泽大厦B号楼"),
    ("春海小区3号楼2门", "春海小区3号楼2单元"),
    ("春海小区1楼门市", "春海小区1层门市"),
    ("春海小区3楼2单元", "春海小区3号楼2单元"),
    ("人民路28号5楼", "人民路28号5层"),
    ("人民路28号5F", "人民路28号5层"),
    ("春海小区3号楼502户", "春海小区3号楼502室"),
    ("人民路100弄5号", "人民路100号5号"),
    # 7. administrative prefixes
    ("辽宁省大连市中山区人民路28号", "人民路28号"),
    ("辽宁大连中山区人民路28号", "人民路28号"),
    ("大连中山人民路28号", "人民路28号"),
    ("大连市 中山区 人民路28号", "人民路28号"),
    ("中山区大连市人民路28号", "人民路28号"),
    ("大连市中山区中山路28号", "中山路28号"),
    ("中山广场", "中山广场"),
    ("大连港医院", "大连港医院"),
    ("大连站", "大连站"),
    ("大连市西岗区人民路1号", "西岗区人民路1号"),
])
def test_normalize_address(raw: str, expected: str) -> None:
    assert normalize_address(raw) == expected


@pytest.mark.parametrize(("run", "digits"), [
    ("二十八", "28"), ("十五", "15"), ("一百零三", "103"), ("二百", "200"), ("一〇三", "103"),
    ("五零二", "502"), ("两", "2"), ("一千零五十", "1050"),
])
def test_chinese_numeral(run: str, digits: str) -> None:
    assert chinese_numeral(run) == digits


def test_parse_house_number_and_building_details() -> None:
    p = parse_address("大连市中山区人民路28号春海小区3号楼2单元5层502室")
    assert (p.place, p.number, p.building, p.unit, p.floor, p.room) == (
        "人民路春海小区", 28, "3", 2, 5, "502")


def test_parse_admin_prefixes_are_reported() -> None:
    assert parse_address("辽宁省大连市中山区人民路28号").admin == ("辽宁省", "大连市", "中山区")


def test_parse_only_admin_leaves_no_place() -> None:
    p = parse_address("大连市中山区")
    assert (p.normalized, p.place, p.admin) == ("", "", ("大连市", "中山区"))


@pytest.mark.parametrize(("raw", "area"), [
    ("大连市西岗区人民路1号", "西岗区"),
    ("沙河口区春海小区", "沙河口区"),
    ("大连甘井子人民路1号", "甘井子"),
    ("北京市朝阳区人民路1号", "北京市"),
    ("广东省中山市人民路1号", "广东省"),
    ("中山市人民路1号", "中山市"),
])
def test_parse_other_area(raw: str, area: str) -> None:
    assert parse_address(raw).other_area == area


def test_parse_zhongshan_address_has_no_other_area() -> None:
    assert parse_address("大连市中山区天津街8号").other_area is None


@pytest.mark.parametrize(("raw", "core", "hint"), [
    ("春海小区附近", "春海小区", "附近"),
    ("人民路28号对面", "人民路28号", "对面"),
    ("春海小区斜对面", "春海小区", "斜对面"),
    ("春海小区3号楼门口", "春海小区3号楼", "门口"),
    ("华联宾馆旁边", "华联宾馆", "旁边"),
    ("人民路口", "人民路", "路口"),
    ("人民路与上海路交叉口", "人民路与上海路", "交叉口"),
    ("葵英市场东侧附近", "葵英市场", "东侧附近"),
])
def test_parse_trailing_hint(raw: str, core: str, hint: str) -> None:
    p = parse_address(raw)
    assert (p.core, p.hint, p.normalized) == (core, hint, normalize_address(raw))


def test_parse_a_hint_alone_is_kept_as_text() -> None:
    assert parse_address("附近").core == "附近"


def test_parse_bare_number_after_name_is_house_number() -> None:
    assert parse_address("人民路28").number == 28


def test_parse_bare_trailing_number_after_unit_is_room() -> None:
    assert parse_address("春海小区3号楼2单元502").room == "502"


def test_parse_second_number_is_building() -> None:
    p = parse_address("人民路100弄5号")
    assert (p.number, p.building) == (100, "5")


def test_parse_letter_building() -> None:
    assert parse_address("明泽大厦A座").building == "A"


def test_parse_ordinal_digits_stay_in_the_name() -> None:
    p = parse_address("大连市第十一中学")
    assert (p.place, p.number) == ("第11中学", None)
