"""Identifier arithmetic, vectorised: GB 11643 citizen ids, GB 11714 and GB 32100 codes."""

from __future__ import annotations

import numpy as np

from gridweave.synth.common import IntArray

CID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)

# GB 32100 draws its characters from 0-9 and the capitals without I, O, S, V, Z.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array(
    [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64
)
ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)

_USCC_VALUE = np.full(256, -1, dtype=np.int64)
for _i, _ch in enumerate(USCC_CHARSET):
    _USCC_VALUE[ord(_ch)] = _i
_USCC_BYTES = np.frombuffer(USCC_CHARSET.encode(), dtype=np.uint8)
# GB 11714 values: digits are themselves, letters A..Z are 10..35.
_ORG_VALUE = np.full(256, -1, dtype=np.int64)
for _i in range(10):
    _ORG_VALUE[ord("0") + _i] = _i
for _i in range(26):
    _ORG_VALUE[ord("A") + _i] = 10 + _i


def digits_matrix(number: IntArray, width: int) -> np.ndarray:
    """The decimal digits of non-negative integers as an (n, width) ASCII matrix."""
    number = np.asarray(number, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (number[:, None] // powers % 10 + ord("0")).astype(np.uint8)


def citizen_id_check(first17: np.ndarray) -> np.ndarray:
    """GB 11643 check characters (ASCII) of an (n, 17) ASCII digit matrix."""
    total = (first17.astype(np.int64) - ord("0")) @ CID_WEIGHTS
    return CID_CHECK[total % 11]


def citizen_ids(area: IntArray, birth_ymd: IntArray, seq: IntArray) -> np.ndarray:
    """18-character citizen ids as an (n, 18) ASCII matrix: area, birth date, sequence, check."""
    body = np.asarray(area, dtype=np.int64) * 10**11 + np.asarray(birth_ymd) * 1000 + seq
    first17 = digits_matrix(body, 17)
    return np.concatenate([first17, citizen_id_check(first17)[:, None]], axis=1)


def check_char(first17: str) -> str:
    """The GB 11643 check character of a 17-digit string."""
    total = sum(int(d) * int(w) for d, w in zip(first17, CID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def org_codes(rng: np.random.Generator, n: int, modern: np.ndarray) -> np.ndarray:
    """GB 11714 organisation codes (8 characters + check) as an (n, 9) ASCII matrix."""
    # Codes issued with a credit code since 2015 start MA5 and use the credit-code alphabet;
    # older ones are 8 digits.
    body = _USCC_BYTES[rng.integers(0, len(USCC_CHARSET), (n, 8))]
    old = digits_matrix(rng.integers(10_000_000, 99_999_999, n), 8)
    body = np.where(modern[:, None], body, old)
    body[modern, :3] = np.frombuffer(b"MA5", dtype=np.uint8)
    c = 11 - (_ORG_VALUE[body] @ ORG_WEIGHTS) % 11
    check = np.where(c == 10, ord("X"), np.where(c == 11, ord("0"), c + ord("0"))).astype(np.uint8)
    return np.concatenate([body, check[:, None]], axis=1)


def credit_codes(prefix: np.ndarray, area: IntArray, org: np.ndarray) -> np.ndarray:
    """GB 32100 credit codes as an (n, 18) ASCII matrix; `prefix` is (n, 2): 91, 92, 12…"""
    first17 = np.concatenate([prefix, digits_matrix(area, 6), org], axis=1).astype(np.uint8)
    c = (31 - (_USCC_VALUE[first17] @ USCC_WEIGHTS) % 31) % 31
    return np.concatenate([first17, _USCC_BYTES[c][:, None]], axis=1)
