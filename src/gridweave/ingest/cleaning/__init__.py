"""The cleaning layer: pure parsers for each attribute kind, and their vectorised column form."""

from gridweave.ingest.cleaning.addresses import Address, building_key, parse_address, room_key
from gridweave.ingest.cleaning.citizen_id import CitizenId, check_char, parse_citizen_id, upgrade_15
from gridweave.ingest.cleaning.credit_code import CreditCode, parse_credit_code
from gridweave.ingest.cleaning.dates import ParsedDate, parse_date, parse_datetime
from gridweave.ingest.cleaning.names import clean_name
from gridweave.ingest.cleaning.numeric import parse_decimal, parse_integer
from gridweave.ingest.cleaning.phones import Phone, clean_phone
from gridweave.ingest.cleaning.text import clean_code, clean_text, map_text
from gridweave.ingest.cleaning.vectorised import Cleaned, clean_series, contradictions

__all__ = [
    "Address",
    "CitizenId",
    "Cleaned",
    "CreditCode",
    "ParsedDate",
    "Phone",
    "building_key",
    "check_char",
    "clean_code",
    "clean_name",
    "clean_phone",
    "clean_series",
    "clean_text",
    "contradictions",
    "map_text",
    "parse_address",
    "parse_citizen_id",
    "parse_credit_code",
    "parse_date",
    "parse_datetime",
    "parse_decimal",
    "parse_integer",
    "room_key",
    "upgrade_15",
]
