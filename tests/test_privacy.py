"""Personal data: exact masking formats, ID and phone validation, encryption bound to its column,
keyed hashes, and on the real database: no plain number in any stored row, masked and unmasked
reads, repeat petitioners found by hash, bulk import and the demo's fake numbers."""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from geo.access.scope import scope_for
from geo.cases.import_file import import_cases_file
from geo.cases.intake import create_cases
from geo.cases.read import CaseFilter, get_case, list_cases
from geo.cases.reference import load_reference_data
from geo.cases.schema import CaseIn, PetitionerIn
from geo.demo.cases import fake_id_number, fake_phone
from geo.privacy.crypto import PersonalDataCipher, PersonalDataError
from geo.privacy.mask import mask_address, mask_id_number, mask_name, mask_phone
from geo.privacy.repeat import find_repeat_petitioners
from geo.privacy.validate import id_check_char, normalize_id_number, normalize_phone
from geo.settings import CaseSettings
from tests.squares import STEP, X0, Y0, load_squares

# The example number of GB 11643-1999 itself (a 1949 birth date, check character X).
STANDARD_ID = "11010519491231002X"
ID_NUMBER = "210202199001011232"   # 中山区, 1990-01-01, sequence 123, check digit 2
PHONE = "13812345678"
LANDLINE = "0411-84125678"
KEY = bytes(range(32))
ADMIN = scope_for("tester", "admin")


# --- masking ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "masked"), [
    ("张三", "张*"), ("张小明", "张**"), ("欧阳小明", "欧阳**"), ("司马相如", "司马**"),
    ("上官婉儿", "上官**"), ("诸葛亮", "诸葛*"), ("欧阳", "欧*"), ("张", "*"),
    (" 李四 ", "李*"), ("Smith", "S****"), ("", ""),
])
def test_names_keep_only_the_surname(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_id_numbers_keep_region_and_last_four() -> None:
    assert mask_id_number("210202199001011234") == "210202********1234"
    assert mask_id_number(STANDARD_ID) == "110105********002X"


@pytest.mark.parametrize(("phone", "masked"), [
    ("13800005678", "138****5678"), ("0411-84125678", "0411-****5678"),
    ("010-62345678", "010-****5678"), ("0411-8412567", "0411-****2567"),
])
def test_phones_keep_prefix_and_last_four(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(("address", "masked"), [
    ("人民路28号3单元502室", "人民路28号"),
    ("春海小区5号楼2单元301", "春海小区5号楼"),
    ("春海小区3栋2门301户", "春海小区3号楼"),
    ("大连市中山区人民路28-3-502", "人民路28号"),
    ("天津街希望大厦12层1203室", "天津街希望大厦"),
    ("某小区2期3号楼4单元", "某小区2期3号楼"),
    ("人民路28号502", "人民路28号"),
    ("春海小区５号楼", "春海小区5号楼"),
    ("解放路5号附近", "解放路5号附近"),
    ("华联宾馆地块", "华联宾馆地块"),
])
def test_addresses_are_cut_to_the_building(address: str, masked: str) -> None:
    assert mask_address(address) == masked


# --- validation ------------------------------------------------------------------------------

def test_check_digit_is_iso_7064_mod_11_2() -> None:
    assert id_check_char(STANDARD_ID[:17]) == "X"
    assert id_check_char(ID_NUMBER[:17]) == "2"


@pytest.mark.parametrize(("value", "normalized"), [
    (STANDARD_ID, STANDARD_ID),
    ("11010519491231002x", STANDARD_ID),            # lower-case x
    ("110105 19491231 002X", STANDARD_ID),          # spaces
    ("110105491231002", STANDARD_ID),               # 15-digit: 19 inserted, check computed
    (ID_NUMBER, ID_NUMBER),
])
def test_valid_id_numbers_are_normalised(value: str, normalized: str) -> None:
    assert normalize_id_number(value) == normalized


@pytest.mark.parametrize(("value", "message"), [
    ("110105194912310021", "check digit"),          # wrong check digit
    ("110105194912130020", "check digit"),          # two digits swapped (…31… → …13…)
    ("110105194913310028", "not a real date"),      # month 13
    ("110105190002290022", "not a real date"),      # 1900 was not a leap year
    ("110105209912310028", "future"),
    ("11010519491231002", "18 characters"),         # too short
    ("11010519491231002X1", "18 characters"),       # too long
    ("000000194912310021", "region"),
    ("1101051949123100Y2", "17 digits"),
    ("13812345678", "mobile phone number"),         # a phone in the ID field
])
def test_bad_id_numbers_say_what_is_wrong_without_the_number(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        normalize_id_number(value)
    assert value not in str(info.value)


@pytest.mark.parametrize(("value", "normalized"), [
    ("13812345678", PHONE), ("138 1234 5678", PHONE), ("138-1234-5678", PHONE),
    ("+86 138-1234-5678", PHONE), ("+8613812345678", PHONE), ("86 13812345678", PHONE),
    ("0086 138 1234 5678", PHONE),
    ("0411-84125678", LANDLINE), ("(0411)84125678", LANDLINE), ("0411 8412 5678", LANDLINE),
    ("041184125678", LANDLINE), ("+86 411 84125678", LANDLINE), ("+86-411-84125678", LANDLINE),
    ("010-62345678", "010-62345678"), ("024 2345 6789", "024-23456789"),
    ("0411-8412567", "0411-8412567"),               # 7-digit local numbers still exist
])
def test_valid_phones_are_normalised(value: str, normalized: str) -> None:
    assert normalize_phone(value) == normalized


@pytest.mark.parametrize(("value", "message"), [
    ("12812345678", "13-19"),
    ("1381234567", "not a mainland mobile"),        # 10 digits
    ("84125678", "area code"),                      # local number without 0411
    ("+1 555 123 4567", "mainland"),
    ("138-1234-567a", "digits only"),
    (STANDARD_ID, "ID number"),                     # an ID in the phone field
    ("", "empty"),
])
def test_bad_phones_say_what_is_wrong(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalize_phone(value)


def test_petitioner_input_normalises_and_names_the_field_at_fault() -> None:
    p = PetitionerIn(name="张三", id_number="11010519491231002x", phone="+86 138 1234 5678")
    assert (p.id_number, p.phone) == (STANDARD_ID, PHONE)
    assert STANDARD_ID not in repr(p) and PHONE not in repr(p)
    assert PetitionerIn(name="张三", id_number=" ", phone="").id_number is None
    with pytest.raises(ValidationError) as info:
        CaseIn.model_validate({"category": "物业", "content": "x", "address": "测试路5号",
                               "petitioners": [{"name": "张三", "id_number": "110105194912310021",
                                                "phone": "12345"}]})
    errors = {e["loc"]: e["msg"] for e in info.value.errors()}
    assert set(errors) == {("petitioners", 0, "id_number"), ("petitioners", 0, "phone")}
    assert "check digit" in errors[("petitioners", 0, "id_number")]


# --- encryption and keyed hashes -------------------------------------------------------------

def test_encryption_round_trips_with_a_fresh_nonce(cipher: PersonalDataCipher) -> None:
    a, b = cipher.encrypt(ID_NUMBER, "id_number"), cipher.encrypt(ID_NUMBER, "id_number")
    assert a != b                                   # random nonce: equal values don't show
    assert a[0] == 1 and len(a) == 1 + 12 + len(ID_NUMBER) + 16
    assert ID_NUMBER.encode() not in a
    assert cipher.decrypt(a, "id_number") == cipher.decrypt(memoryview(b), "id_number") == ID_NUMBER
    assert "key" in repr(cipher) and repr(KEY) not in repr(cipher)


def test_a_ciphertext_is_bound_to_its_column(cipher: PersonalDataCipher) -> None:
    blob = cipher.encrypt(ID_NUMBER, "id_number")
    with pytest.raises(PersonalDataError, match="moved from another column"):
        cipher.decrypt(blob, "phone")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(PersonalDataError):
        cipher.decrypt(tampered, "id_number")
    with pytest.raises(PersonalDataError, match="known format"):
        cipher.decrypt(b"\x02" + blob[1:], "id_number")
    with pytest.raises(PersonalDataError):
        PersonalDataCipher(bytes(32)).decrypt(blob, "id_number")   # another key


def test_keyed_hash_is_stable_canonical_and_keyed(cipher: PersonalDataCipher) -> None:
    h = cipher.keyed_hash("13800005678", "phone")
    assert len(h) == 32
    assert PersonalDataCipher(KEY).keyed_hash("13800005678", "phone") == h
    assert cipher.keyed_hash("+86 138-0000-5678", "phone") == h
    assert cipher.keyed_hash("0086 13800005678", "phone") == h
    assert cipher.keyed_hash("11010519491231002x", "id_number") == cipher.keyed_hash(
        "110105491231002", "id_number") == cipher.keyed_hash(STANDARD_ID, "id_number")
    assert cipher.keyed_hash("0411 8412 5678", "phone") == cipher.keyed_hash(LANDLINE, "phone")
    assert PersonalDataCipher(bytes(32)).keyed_hash("13800005678", "phone") != h
    assert cipher.keyed_hash("13800005679", "phone") != h
    with pytest.raises(ValueError):
        cipher.keyed_hash("not a phone", "phone")


def test_a_short_key_is_refused() -> None:
    with pytest.raises(PersonalDataError, match="32 bytes"):
        PersonalDataCipher(b"short")


# --- on the database -------------------------------------------------------------------------

CENTRE_5 = {"lon": X0 + 1.5 * STEP, "lat": Y0 + 1.5 * STEP}


def _case(petitioners: list[dict[str, Any]], **kw: Any) -> CaseIn:
    body = {"category": "物业", "content": "楼道灯坏了三个月无人修", "location": CENTRE_5,
            "address": "测试路5号3单元502室", "received_at": "2020-05-06T09:30:00+08:00",
            "petitioners": petitioners}
    body.update(kw)
    return CaseIn.model_validate(body)


@pytest.fixture
def world(session: Session, tmp_path: Path) -> None:
    """The squares, active, and the units and categories."""
    load_squares(session, tmp_path)
    load_reference_data(session)


@pytest.fixture
def stored(session: Session, world: None, cipher: PersonalDataCipher) -> int:
    """One case whose petitioner gave an ID and a phone number (typed loosely)."""
    ids, _ = create_cases(session, [_case([
        {"name": "欧阳小明", "id_number": "21020219900101123 2", "phone": "+86 138-1234-5678"},
        {"name": "张三", "phone": LANDLINE}])], None, CaseSettings(), cipher=cipher)
    return ids[0]


def test_stored_rows_hold_no_plain_id_or_phone(session: Session, stored: int) -> None:
    plain = [ID_NUMBER, PHONE, "84125678", "12345678", ID_NUMBER[6:14]]
    rows = session.execute(text(
        "SELECT p.* FROM petitioner p JOIN case_petitioner cp ON cp.petitioner_id = p.id "
        "WHERE cp.case_id = :id ORDER BY p.id"), {"id": stored}).mappings().all()
    assert [r["name"] for r in rows] == ["欧阳小明", "张三"]
    first = rows[0]
    assert all(isinstance(first[c], bytes | memoryview) for c in
               ("id_number_enc", "id_number_hash", "phone_enc", "phone_hash"))
    assert rows[1]["id_number_enc"] is None and rows[1]["id_number_hash"] is None
    for row in rows:
        for column, value in row.items():
            raw = bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
            for digits in plain:
                assert digits.encode() not in raw, column
    # Nor anywhere in the case: text columns, the JSON properties, the address.
    case = session.execute(text(
        "SELECT row_to_json(c)::text FROM petition_case c WHERE id = :id"), {"id": stored}
    ).scalar_one()
    submissions = session.execute(text(
        "SELECT coalesce(json_agg(s)::text, '') FROM submission s WHERE case_id = :id"),
        {"id": stored}).scalar_one()
    for digits in plain:
        assert digits not in case and digits not in submissions


def test_case_output_is_masked_by_default(session: Session, stored: int,
                                          cipher: PersonalDataCipher) -> None:
    body = get_case(session, ADMIN, stored, cipher=cipher)
    assert body["petitioners"] == [
        {"name": "欧阳**", "id_number": "210202********1232", "phone": "138****5678"},
        {"name": "张*", "id_number": None, "phone": "0411-****5678"},
    ]
    assert body["address"] == "测试路5号"


def test_unmask_returns_the_normalised_originals(session: Session, stored: int,
                                                 cipher: PersonalDataCipher) -> None:
    body = get_case(session, ADMIN, stored, unmask=True, cipher=cipher)
    assert body["petitioners"] == [
        {"name": "欧阳小明", "id_number": ID_NUMBER, "phone": PHONE},
        {"name": "张三", "id_number": None, "phone": LANDLINE},
    ]
    assert body["address"] == "测试路5号3单元502室"


def test_reading_encrypted_numbers_without_the_cipher_fails_loudly(session: Session,
                                                                   stored: int) -> None:
    with pytest.raises(PersonalDataError, match="cipher"):
        get_case(session, ADMIN, stored)
    with pytest.raises(PersonalDataError, match="cipher"):
        get_case(session, ADMIN, stored, unmask=True)


def test_a_case_without_numbers_needs_no_cipher(session: Session, world: None) -> None:
    ids, _ = create_cases(session, [_case([{"name": "李四"}])], None, CaseSettings())
    assert get_case(session, ADMIN, ids[0])["petitioners"] == [
        {"name": "李*", "id_number": None, "phone": None}]


def test_numbers_without_a_cipher_are_refused_before_anything_is_written(
        session: Session, world: None) -> None:
    before = session.execute(text("SELECT count(*) FROM petition_case")).scalar_one()
    with pytest.raises(PersonalDataError, match="no cipher"):
        create_cases(session, [_case([{"name": "张三", "phone": PHONE}])], None, CaseSettings())
    assert session.execute(text("SELECT count(*) FROM petition_case")).scalar_one() == before


def test_a_page_loads_its_petitioners_in_one_query(session: Session, world: None,
                                                   cipher: PersonalDataCipher) -> None:
    create_cases(session, [_case([{"name": f"王{i}", "phone": f"1390000000{i}"}],
                                 external_id=f"P-{i}") for i in range(5)],
                 None, CaseSettings(), cipher=cipher)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        items, matched = list_cases(session, ADMIN, CaseFilter(limit=10), cipher=cipher)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # The page, then all its petitioners, deadlines and 督办: one query each, whatever the size.
    assert matched == 5 and len(statements) == 4
    assert sum("petitioner" in st for st in statements[1:]) == 1
    assert sorted(i["petitioners"][0]["phone"] for i in items) == [
        f"139****000{i}" for i in range(5)]
    assert {i["address"] for i in items} == {"测试路5号"}


def test_repeat_petitioners_are_found_by_hash(session: Session, stored: int,
                                              cipher: PersonalDataCipher) -> None:
    ids, _ = create_cases(session, [
        _case([{"name": "欧阳小明", "phone": "138 1234 5678"}], external_id="again-1"),
        _case([{"name": "欧阳小明", "id_number": ID_NUMBER}], external_id="again-2"),
        _case([{"name": "另一人", "id_number": STANDARD_ID, "phone": "13900000000"}],
              external_id="other")], None, CaseSettings(), cipher=cipher)
    pid = {r.case_id: r.id for r in session.execute(text(
        "SELECT cp.case_id, p.id FROM case_petitioner cp JOIN petitioner p "
        "ON p.id = cp.petitioner_id WHERE p.name = '欧阳小明'"))}
    first, by_phone, by_id = pid[stored], pid[ids[0]], pid[ids[1]]
    assert find_repeat_petitioners(session, cipher, id_number=ID_NUMBER) == [first, by_id]
    assert find_repeat_petitioners(session, cipher, phone="+8613812345678") == [
        first, by_phone]
    assert find_repeat_petitioners(session, cipher, id_number=ID_NUMBER.lower(),
                                   phone=PHONE) == sorted([first, by_phone, by_id])
    assert find_repeat_petitioners(session, cipher, phone="13700000000") == []
    assert find_repeat_petitioners(session, PersonalDataCipher(bytes(32)),
                                   id_number=ID_NUMBER) == []   # another key matches nothing
    with pytest.raises(ValueError, match="give"):
        find_repeat_petitioners(session, cipher)


# --- bulk import -----------------------------------------------------------------------------

HEADER = ["编号", "类别", "内容", "信访人", "身份证号", "手机", "经度", "纬度"]


def _csv(path: Path, rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _row(ext: str, names: str, ids: str, phones: str) -> list[Any]:
    return [ext, "物业", "电梯停运", names, ids, phones, CENTRE_5["lon"], CENTRE_5["lat"]]


def test_import_encrypts_one_number_per_petitioner(session: Session, world: None,
                                                   cipher: PersonalDataCipher,
                                                   tmp_path: Path) -> None:
    path = _csv(tmp_path / "p.csv", [
        _row("I-1", "张三、李四", f"{ID_NUMBER}、", "138 1234 5678、0411-84125678"),
        _row("I-2", "王五", STANDARD_ID.lower(), "")])
    report = import_cases_file(session, path, geocoder=None, settings=CaseSettings(),
                               cipher=cipher)
    assert report.ok, report.format()
    assert report.inserted == 2
    [i1] = session.execute(text("SELECT id FROM petition_case WHERE external_id = 'I-1'")
                           ).scalars().all()
    assert get_case(session, ADMIN, i1, unmask=True, cipher=cipher)["petitioners"] == [
        {"name": "张三", "id_number": ID_NUMBER, "phone": PHONE},
        {"name": "李四", "id_number": None, "phone": LANDLINE}]
    assert find_repeat_petitioners(session, cipher, id_number=STANDARD_ID) != []


def test_import_errors_name_column_and_petitioner_never_the_number(
        session: Session, world: None, cipher: PersonalDataCipher, tmp_path: Path) -> None:
    bad_id = "110105194912310021"
    path = _csv(tmp_path / "bad.csv", [
        _row("E-1", "张三、李四", f"{ID_NUMBER}、{bad_id}", ""),
        _row("E-2", "张三", "", "99999"),
        _row("E-3", "张三", f"{ID_NUMBER}、{STANDARD_ID}", ""),
        _row("E-4", "张三", "2.10202199001011E+17", "")])       # Excel's number format
    report = import_cases_file(session, path, geocoder=None, settings=CaseSettings(),
                               cipher=cipher)
    assert {(e.row, e.field) for e in report.errors} == {
        (2, "id_number"), (3, "phone"), (4, "id_number"), (5, "id_number")}
    messages = {e.row: e.message for e in report.errors}
    assert messages[2].startswith("petitioner 2: the check digit")
    assert "2 id_number entries for 1 petitioners" in messages[4]
    assert "format the column as text" in messages[5]
    text_ = report.format()
    assert bad_id not in text_ and ID_NUMBER not in text_ and "99999" not in text_
    assert "id_number (身份证号)" in text_


def test_import_without_a_cipher_refuses_a_file_with_numbers(session: Session, world: None,
                                                             tmp_path: Path) -> None:
    path = _csv(tmp_path / "p.csv", [_row("N-1", "张三", ID_NUMBER, PHONE)])
    report = import_cases_file(session, path, geocoder=None, settings=CaseSettings())
    assert report.file_error and {e.field for e in report.errors} == {"id_number", "phone"}
    assert "GRIDMAP_DATA_KEY" in report.format()


def test_derived_external_id_ignores_the_numbers() -> None:
    from geo.cases.import_file import derive_external_id

    plain = _case([{"name": "张三"}])
    with_numbers = _case([{"name": "张三", "id_number": ID_NUMBER, "phone": PHONE}])
    # An unkeyed hash over ID numbers could be reversed by trying them all; and files imported
    # before the numbers existed keep their derived ids.
    assert derive_external_id(plain, "property") == derive_external_id(with_numbers, "property")


# --- demo ------------------------------------------------------------------------------------

def test_demo_numbers_are_fake_but_well_formed() -> None:
    rng = random.Random(1)
    for _ in range(200):
        id_number = fake_id_number(rng, 2020)
        assert id_number.startswith("210202") and normalize_id_number(id_number) == id_number
        assert 1940 <= int(id_number[6:10]) <= 2002
        phone = fake_phone(rng)
        assert phone.startswith("138") and normalize_phone(phone) == phone
