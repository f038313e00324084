"""Check and normalise the personal numbers a petitioner gives: resident ID and phone numbers.

Resident ID numbers (居民身份证号码, GB 11643-1999): 18 characters — a 6-digit region code
(the first two digits a province of GB/T 2260, or 81/82/83 for the residence permits of Hong
Kong, Macao and Taiwan residents), the birth date YYYYMMDD (a real day, not in the future, not
before 1900), a 3-digit sequence and an ISO 7064 MOD 11-2 check character (0-9 or X; a
lower-case x is accepted and upper-cased). Spaces are ignored.

First-generation 15-digit numbers (region, YYMMDD, sequence; issued until 1999, no longer valid
on a card since 2013) are *converted* to the 18-character form the way the standard does it:
"19" is put before the year and the check character computed. The same person then gets the
same normalised value, and the same keyed hash, whichever number a registrar types in. A
15-digit number has no check digit, so a typo in it cannot be detected (only its date is
checked).

Phone numbers: a mainland mobile number 1[3-9]xxxxxxxxx, with or without +86 / 86 / 0086 in
front, spaces, dashes or dots anywhere → "13800005678"; a landline with its area code (010,
02x, or four digits such as 0411 for Dalian), the local number 7 or 8 digits not starting with
0 or 1, written 0411-84123456, (0411)84123456, 0411 8412 3456 or +86 411 84123456 →
"0411-84123456". A local number without its area code is refused rather than guessed.

Error messages never repeat the value: they end up in import reports and logs.
"""

from __future__ import annotations

import re
from datetime import date

# GB/T 2260 province-level codes, plus the residence permits of HK (81), Macao (82), Taiwan (83).
PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82", "83",
})
# ISO 7064 MOD 11-2: weight of position i is 2^(17-i) mod 11; remainder → check character.
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK = "10X98765432"
_ID18 = re.compile(r"\d{17}[\dX]")
_ID15 = re.compile(r"\d{15}")
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015.·()（）]+")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LOCAL = re.compile(r"[2-9]\d{6,7}")


def id_check_char(first17: str) -> str:
    """The MOD 11-2 check character of the first 17 digits of an ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def _birth_date(digits: str) -> date:
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise ValueError("the birth date in the ID number (digits 7-14) is not a real "
                         "date") from None
    if born > date.today() or born.year < 1900:
        raise ValueError("the birth date in the ID number (digits 7-14) is in the future "
                         "or before 1900")
    return born


def _region(value: str) -> None:
    if value[:2] not in PROVINCES or value[2:6] == "0000":
        raise ValueError("the region code of the ID number (first 6 digits) is not a "
                         "Chinese region")


def normalize_id_number(value: str) -> str:
    """The 18-character resident ID number (upper-case X), or ValueError saying what is wrong."""
    text = re.sub(r"\s+", "", value).upper()
    if _MOBILE.fullmatch(text):
        raise ValueError("this looks like a mobile phone number, not an ID number")
    if _ID15.fullmatch(text):
        _region(text)
        first17 = text[:6] + "19" + text[6:]
        _birth_date(first17[6:14])
        return first17 + id_check_char(first17)
    if len(text) not in (15, 18):
        raise ValueError(f"an ID number has 18 characters (or 15 for an old one), "
                         f"not {len(text)}")
    if not _ID18.fullmatch(text):
        raise ValueError("an ID number is 17 digits and a check digit or X")
    _region(text)
    _birth_date(text[6:14])
    if id_check_char(text[:17]) != text[17]:
        raise ValueError("the check digit of the ID number is wrong: a digit is mistyped or "
                         "two are swapped")
    return text


def normalize_phone(value: str) -> str:
    """A mobile number as 11 digits or a landline as AREA-LOCAL, or ValueError saying why."""
    raw = value.strip()
    if not raw:
        raise ValueError("the phone number is empty")
    text = _SEPARATORS.sub("", raw).upper()
    if len(text) in (15, 18) and _looks_like_id(text):
        raise ValueError("this looks like an ID number, not a phone number")
    international = text.startswith(("+", "00"))
    digits = text.removeprefix("+")
    if not digits.isdigit():
        raise ValueError("a phone number has digits only (and +, spaces, dashes, brackets)")
    if digits.startswith("0086"):
        digits, international = digits[4:], True
    elif digits.startswith("86") and (international or _MOBILE.fullmatch(digits[2:])):
        digits, international = digits[2:], True
    elif international:
        raise ValueError("only mainland numbers (+86) are accepted")
    if _MOBILE.fullmatch(digits):
        return digits
    if international and not digits.startswith("0"):
        digits = "0" + digits  # +86 411 … drops the trunk 0 of the area code
    split = _area_split(digits)
    if split is not None:
        return f"{split[0]}-{split[1]}"
    if digits.startswith("1") and len(digits) == 11:
        raise ValueError("a mobile number starts with 13-19")
    if _LOCAL.fullmatch(digits):
        raise ValueError("give the area code with a landline number, e.g. 0411-84123456")
    raise ValueError("not a mainland mobile number (11 digits, 1[3-9]…) or a landline with "
                     "its area code (e.g. 0411-84123456)")


def _looks_like_id(text: str) -> bool:
    try:
        normalize_id_number(text)
    except ValueError:
        return False
    return True


def _area_split(digits: str) -> tuple[str, str] | None:
    """(area code, local number) of a landline written with its leading 0, or None."""
    if not digits.startswith("0") or digits.startswith("00"):
        return None
    # 010 and 020-029 are the three-digit codes (Beijing, Guangzhou, Shanghai, …); every
    # other area code is four digits (0411 Dalian).
    cut = 3 if digits[1] in "12" else 4
    area, local = digits[:cut], digits[cut:]
    if not _LOCAL.fullmatch(local):
        return None
    return area, local


def phone_digits(normalized: str) -> str:
    """A normalised phone number as digits only (what the keyed hash sees)."""
    return normalized.replace("-", "")
