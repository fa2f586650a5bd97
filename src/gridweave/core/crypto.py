"""Encryption at rest of citizen ids and phones, and their keyed blind indexes (pure).

A stored value reads `gw1:<algorithm>:<key id>:<base64 nonce‖ciphertext‖tag>`: the key id says
which key of the keyring opens it, so keys can rotate while old values stay readable. The
associated data is the attribute's field name (`person.citizen_id`): a ciphertext copied into
another field fails to open. Nonces are random (96 bits). The blind index is HMAC-SHA256 under a
separate key over the cleaned value, cut to 128 bits: equal ids give equal indexes, so exact
look-ups and keyed joins work without the clear value (decision 0008).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, TypeGuard

import polars as pl
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gridweave.core.errors import GridweaveError

VERSION = "gw1"
NONCE_BYTES = 12
TAG_BYTES = 16
BLIND_HEX = 32  # 128 bits of the HMAC
_SHA256_BLOCK = 64


class CryptoError(GridweaveError):
    code = "encryption_error"


class Algorithm(StrEnum):
    aes_256_gcm = "aes-256-gcm"
    sm4_gcm = "sm4-gcm"


KEY_BYTES = {Algorithm.aes_256_gcm: 32, Algorithm.sm4_gcm: 16}
_TAGS = {Algorithm.aes_256_gcm: "a", Algorithm.sm4_gcm: "s"}  # one letter in the stored prefix
_BY_TAG = {t: a for a, t in _TAGS.items()}


def parse_algorithm(name: str) -> Algorithm:
    try:
        return Algorithm(name.strip().lower())
    except ValueError:
        raise CryptoError(
            f"unknown encryption algorithm {name!r}",
            hint="set GRIDWEAVE_ENCRYPTION_ALGORITHM to aes-256-gcm or sm4-gcm",
        ) from None


def decode_key(key_id: str, text: str) -> bytes:
    """A base64 key from the settings, with an error naming the key if it is not base64."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError(
            f"encryption key {key_id!r} is not valid base64",
            hint="generate one with `gridweave keys generate`",
        ) from None
    if len(key) not in (16, 32):
        raise CryptoError(
            f"encryption key {key_id!r} is {len(key)} bytes long",
            hint="use 32 bytes for aes-256-gcm, 16 bytes for sm4-gcm (`gridweave keys generate`)",
        )
    return key


def new_key(algorithm: Algorithm) -> str:
    """A fresh random key, base64, for the settings."""
    return base64.b64encode(os.urandom(KEY_BYTES[algorithm])).decode()


def is_sealed(text: object) -> TypeGuard[str]:
    return isinstance(text, str) and text.startswith(VERSION + ":")


def key_id_of(token: str) -> str:
    """The id of the key a stored value is encrypted under."""
    parts = token.split(":", 3)
    if len(parts) != 4 or parts[0] != VERSION:
        raise CryptoError(f"not an encrypted value: {token[:24]!r}…")
    return parts[2]


def _seal(algorithm: Algorithm, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    if algorithm == Algorithm.aes_256_gcm:
        return AESGCM(key).encrypt(nonce, data, aad)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    return encryptor.update(data) + encryptor.finalize() + encryptor.tag


def _open(algorithm: Algorithm, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    if algorithm == Algorithm.aes_256_gcm:
        return AESGCM(key).decrypt(nonce, sealed, aad)
    body, tag = sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(body) + decryptor.finalize()


@dataclass(frozen=True)
class Keyring:
    """The encryption keys (id → key), which one encrypts new values, and the blind-index key."""

    keys: Mapping[str, bytes]
    active: str
    algorithm: Algorithm
    blind_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise CryptoError(
                f"the active encryption key {self.active!r} is not in the keyring"
                f" (keys: {', '.join(sorted(self.keys)) or 'none'})",
                hint="set GRIDWEAVE_ENCRYPTION_ACTIVE_KEY to one of GRIDWEAVE_ENCRYPTION_KEYS",
            )
        need = KEY_BYTES[self.algorithm]
        if len(self.keys[self.active]) != need:
            raise CryptoError(
                f"the active key {self.active!r} has {len(self.keys[self.active])} bytes;"
                f" {self.algorithm.value} needs {need}",
                hint="add a key of the right length and make it the active one",
            )
        for key_id in self.keys:
            if not key_id or ":" in key_id or len(key_id) > 32:
                raise CryptoError(
                    f"encryption key id {key_id!r} must be 1 to 32 characters, without ':'"
                )
        if len(self.blind_key) < 16:
            raise CryptoError(
                "the blind-index key is shorter than 16 bytes",
                hint="set GRIDWEAVE_BLIND_INDEX_KEY to 32 random bytes, base64",
            )

    def __repr__(self) -> str:  # never print key material
        return f"Keyring(active={self.active!r}, keys={sorted(self.keys)}, {self.algorithm.value})"

    @cached_property
    def _aead(self) -> AESGCM | None:
        """The active key's AES-GCM object, made once (SM4-GCM has no reusable one)."""
        if self.algorithm != Algorithm.aes_256_gcm:
            return None
        return AESGCM(self.keys[self.active])

    @cached_property
    def _prefix(self) -> str:
        return f"{VERSION}:{_TAGS[self.algorithm]}:{self.active}:"

    def encrypt(self, value: str, field_name: str) -> str:
        return self.encrypt_many([value], field_name)[0]

    def encrypt_many(self, values: list[str], field_name: str) -> list[str]:
        """`encrypt` of each value (each with its own random nonce), in one call."""
        sealed = self._sealed([v.encode() for v in values], field_name)
        return [self._prefix + base64.b64encode(b).decode() for b in sealed]

    def _sealed(self, values: list[bytes], field_name: str) -> list[bytes]:
        """nonce ‖ ciphertext ‖ tag of each value, under the active key (fresh random nonces)."""
        aad = field_name.encode()
        pool = os.urandom(NONCE_BYTES * len(values))
        nonces = [pool[i : i + NONCE_BYTES] for i in range(0, len(pool), NONCE_BYTES)]
        aead = self._aead
        if aead is not None:
            seal = aead.encrypt
            return [n + seal(n, v, aad) for n, v in zip(nonces, values, strict=True)]
        key = self.keys[self.active]
        return [
            n + _seal(self.algorithm, key, n, v, aad) for n, v in zip(nonces, values, strict=True)
        ]

    def decrypt(self, token: str, field_name: str) -> str:
        parts = token.split(":", 3)
        if len(parts) != 4 or parts[0] != VERSION or parts[1] not in _BY_TAG:
            raise CryptoError(
                f"{field_name}: the stored value is not an encrypted value of this version",
                hint="encrypt clear values with `gridweave keys rotate`",
            )
        _, tag, key_id, body = parts
        key = self.keys.get(key_id)
        if key is None:
            raise CryptoError(
                f"{field_name}: a stored value is encrypted under key {key_id!r},"
                " which is not in the keyring",
                hint=f"add key {key_id!r} back to GRIDWEAVE_ENCRYPTION_KEYS"
                " (keys stay until `gridweave keys rotate` has finished)",
            )
        try:
            raw = base64.b64decode(body, validate=True)
            if len(raw) < NONCE_BYTES + TAG_BYTES:
                raise ValueError("too short")
            return _open(
                _BY_TAG[tag], key, raw[:NONCE_BYTES], raw[NONCE_BYTES:], field_name.encode()
            ).decode()
        except (InvalidTag, ValueError, binascii.Error):
            raise CryptoError(
                f"{field_name}: a stored value under key {key_id!r} does not open"
                " (corrupted, or moved from another field)",
                hint="restore the value from the source records or a backup",
            ) from None

    def blind(self, value: str, kind: str) -> str:
        """The blind index of a cleaned value of `kind` (citizen_id, phone)."""
        return self.blind_many([value], kind)[0]

    def blind_many(self, values: list[str], kind: str) -> list[str]:
        """`blind` of each value, in one call."""
        return [d.hex() for d in self._digests([v.encode() for v in values], kind)]

    @cached_property
    def _hmac_pads(self) -> tuple[Any, Any]:
        """SHA-256 states after the blind-index key's inner and outer pads (RFC 2104)."""
        key = self.blind_key
        if len(key) > _SHA256_BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_SHA256_BLOCK, b"\0")
        inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
        return inner, outer

    def _digests(self, values: list[bytes], kind: str) -> list[bytes]:
        """HMAC-SHA256 of `kind NUL value` for each value, cut to BLIND_HEX hex digits: the
        key's padded states are hashed once and copied per value (as `hmac` does, without
        building an HMAC object, or looking the digest up in OpenSSL, per value)."""
        inner, outer = self._hmac_pads
        inner = inner.copy()
        inner.update(f"{kind}\x00".encode())
        new_inner, new_outer = inner.copy, outer.copy
        out = []
        for value in values:
            i = new_inner()
            i.update(value)
            o = new_outer()
            o.update(i.digest())
            out.append(o.digest()[: BLIND_HEX // 2])
        return out

    # Column-wise: Python runs once per distinct value, never once per row; the text around
    # the bytes (base64, hex, the prefix) is made by polars.

    def encrypt_series(self, series: pl.Series, field_name: str) -> pl.Series:
        def sealed(distinct: pl.Series) -> pl.Series:
            raw = self._sealed(distinct.cast(pl.Binary).to_list(), field_name)
            return self._prefix + pl.Series(raw, dtype=pl.Binary).bin.encode("base64")

        return _map_distinct(series, sealed)

    def decrypt_series(self, series: pl.Series, field_name: str) -> pl.Series:
        def opened(distinct: pl.Series) -> pl.Series:
            return pl.Series(
                [self.decrypt(v, field_name) if is_sealed(v) else v for v in distinct.to_list()],
                dtype=pl.String,
            )

        return _map_distinct(series, opened)

    def blind_series(self, series: pl.Series, kind: str) -> pl.Series:
        def blinded(distinct: pl.Series) -> pl.Series:
            digests = self._digests(distinct.cast(pl.Binary).to_list(), kind)
            return pl.Series(digests, dtype=pl.Binary).bin.encode("hex")

        return _map_distinct(series, blinded)


def _map_distinct(series: pl.Series, fn: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """`fn` over the distinct non-null values (once each), mapped back to every row."""
    text = series.cast(pl.String)
    distinct = text.drop_nulls().unique(maintain_order=True)
    if distinct.len() == 0:
        return text
    if distinct.len() == text.len():  # every row its own value (ids): nothing to map back
        return fn(distinct).alias(series.name)
    return text.replace_strict(distinct, fn(distinct), default=None, return_dtype=pl.String).alias(
        series.name
    )
