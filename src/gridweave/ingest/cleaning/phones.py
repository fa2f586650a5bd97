"""Mainland China phone numbers: mobiles as 11 digits, landlines as area code, dash, number."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import phonenumbers
from phonenumbers import PhoneNumberType

from gridweave.ingest.cleaning._chars import FULLWIDTH_TABLE, WS_RE

PhoneKind = Literal["mobile", "landline"]

# Shared with the vectorised cleaner, so kept to the regex syntax Python and polars share.
SEPARATOR_CLASS = r"[-–—()\[\].]"
_SEPARATORS = re.compile(SEPARATOR_CLASS)
_DIALLABLE = re.compile(r"\+?[0-9]+")


@dataclass(frozen=True)
class Phone:
    """A canonical phone number and its kind, or why there is none."""

    value: str | None
    kind: PhoneKind | None = None
    problem: str | None = None


def _international(s: str) -> str:
    """The digits with any +86 / 0086 / 86 prefix made an explicit '+86'."""
    if s.startswith("00"):
        return "+" + s[2:]
    # A bare "86" only prefixes a full national number: nothing in China's plan (mobiles start
    # with 1, area codes with 0) begins with 86 and is 10 digits or longer.
    if s.startswith("86") and len(s) >= 12:
        return "+" + s
    return s


def clean_phone(raw: str | None) -> Phone:
    """The canonical form and kind of a phone number, or why it is not one."""
    if raw is None:
        return Phone(None)
    s = _SEPARATORS.sub("", WS_RE.sub("", raw.translate(FULLWIDTH_TABLE)))
    if not s:
        return Phone(None)
    if not _DIALLABLE.fullmatch(s):
        return Phone(None, problem=f"'{raw.strip()}' is not a phone number")
    s = _international(s)
    try:
        number = phonenumbers.parse(s, "CN")
    except phonenumbers.NumberParseException:
        return Phone(None, problem=f"'{raw.strip()}' is not a phone number")
    if number.country_code != 86:
        return Phone(None, problem=f"'{raw.strip()}' is not a mainland China number")
    national = str(number.national_number)
    if not phonenumbers.is_valid_number(number):
        if len(national) in (7, 8) and national[0] not in "01":
            return Phone(None, problem=f"'{raw.strip()}' has no area code")
        return Phone(None, problem=f"'{raw.strip()}' is not a valid phone number")
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.MOBILE or (
        kind == PhoneNumberType.FIXED_LINE_OR_MOBILE and national.startswith("1")
    ):
        return Phone(national, "mobile")
    if kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        area = phonenumbers.length_of_geographical_area_code(number)
        return Phone(f"0{national[:area]}-{national[area:]}", "landline")
    # Valid but neither: service numbers such as 400 and 800, kept as dialled.
    return Phone(national)
