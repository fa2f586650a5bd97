"""core.crypto: both algorithms; tampered, moved and foreign ciphertexts; blind indexes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

import polars as pl
import pytest

from gridweave.core.crypto import Algorithm, CryptoError, Keyring, decode_key, key_id_of

CID = "11010519491231002X"


def ring(algorithm: Algorithm = Algorithm.aes_256_gcm, **keys: bytes) -> Keyring:
    size = 32 if algorithm == Algorithm.aes_256_gcm else 16
    keys = keys or {"a1": os.urandom(size)}
    return Keyring(
        keys=keys, active=next(iter(keys)), algorithm=algorithm, blind_key=os.urandom(32)
    )


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_round_trip_with_random_nonces(algorithm: Algorithm) -> None:
    keyring = ring(algorithm)
    one, two = (keyring.encrypt(CID, "person.citizen_id") for _ in range(2))
    assert one != two and CID not in one  # a fresh nonce each time
    assert one.startswith(f"gw1:{'a' if algorithm == Algorithm.aes_256_gcm else 's'}:a1:")
    assert keyring.decrypt(one, "person.citizen_id") == CID
    assert key_id_of(two) == "a1"


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_tampered_or_moved_ciphertexts_do_not_open(algorithm: Algorithm) -> None:
    keyring = ring(algorithm)
    token = keyring.encrypt("13800001111", "person.phone")
    with pytest.raises(CryptoError, match=r"person\.citizen_id: .* does not open"):
        keyring.decrypt(token, "person.citizen_id")  # moved into another field
    body = bytearray(base64.b64decode(token.split(":", 3)[3]))
    body[14] ^= 1
    bent = token.rsplit(":", 1)[0] + ":" + base64.b64encode(bytes(body)).decode()
    with pytest.raises(CryptoError, match="corrupted"):
        keyring.decrypt(bent, "person.phone")
    with pytest.raises(CryptoError, match="not an encrypted value"):
        keyring.decrypt("gw1:a:a1", "person.phone")


def test_an_unknown_key_id_is_named() -> None:
    token = ring(k1=os.urandom(32)).encrypt(CID, "person.citizen_id")
    with pytest.raises(CryptoError, match="under key 'k1', which is not in the keyring"):
        ring(k2=os.urandom(32)).decrypt(token, "person.citizen_id")


def test_old_keys_still_open_after_a_new_one_becomes_active() -> None:
    old, new = os.urandom(32), os.urandom(16)
    before = Keyring(
        keys={"old": old}, active="old", algorithm=Algorithm.aes_256_gcm, blind_key=b"b" * 32
    )
    token = before.encrypt(CID, "person.citizen_id")
    after = Keyring(
        keys={"old": old, "new": new},
        active="new",
        algorithm=Algorithm.sm4_gcm,
        blind_key=b"b" * 32,
    )
    assert after.decrypt(token, "person.citizen_id") == CID
    assert key_id_of(after.encrypt(CID, "person.citizen_id")) == "new"


def test_bad_keyrings_are_refused_with_what_to_do() -> None:
    with pytest.raises(CryptoError, match="active encryption key 'x' is not in the keyring"):
        Keyring(
            keys={"a": os.urandom(32)},
            active="x",
            algorithm=Algorithm.aes_256_gcm,
            blind_key=b"b" * 32,
        )
    with pytest.raises(CryptoError, match="sm4-gcm needs 16"):
        Keyring(
            keys={"a": os.urandom(32)}, active="a", algorithm=Algorithm.sm4_gcm, blind_key=b"b" * 32
        )
    with pytest.raises(CryptoError, match="not valid base64"):
        decode_key("k1", "not base64!")
    with pytest.raises(CryptoError, match="is 5 bytes long"):
        decode_key("k1", base64.b64encode(b"short").decode())
    secret = os.urandom(32)
    assert str(secret) not in repr(ring(a=secret))


def test_blind_indexes_are_keyed_equal_for_equal_values_and_columnwise() -> None:
    keyring = ring()
    assert keyring.blind(CID, "citizen_id") == keyring.blind(CID, "citizen_id")
    assert len(keyring.blind(CID, "citizen_id")) == 32
    assert keyring.blind(CID, "citizen_id") != keyring.blind(CID, "phone")
    assert keyring.blind(CID, "citizen_id") != ring().blind(CID, "citizen_id")  # another key
    series = pl.Series("v", [CID, None, CID, "13800001111"])
    blinded = keyring.blind_series(series, "citizen_id")
    assert blinded[0] == blinded[2] == keyring.blind(CID, "citizen_id") and blinded[1] is None
    sealed = keyring.encrypt_series(series, "person.citizen_id")
    assert keyring.decrypt_series(sealed, "person.citizen_id").to_list() == series.to_list()


@pytest.mark.parametrize("key_bytes", [16, 32, 64, 100])
def test_blind_indexes_are_hmac_sha256_whatever_the_key_length(key_bytes: int) -> None:
    # the column-wise path copies precomputed HMAC states: it must stay plain HMAC-SHA256
    keyring = Keyring(
        keys={"a1": os.urandom(32)},
        active="a1",
        algorithm=Algorithm.aes_256_gcm,
        blind_key=os.urandom(key_bytes),
    )
    values = [CID, "13800001111", "", "张三"]
    expected = [
        hmac.new(keyring.blind_key, f"phone\x00{v}".encode(), hashlib.sha256).hexdigest()[:32]
        for v in values
    ]
    assert keyring.blind_series(pl.Series("v", values), "phone").to_list() == expected
    assert [keyring.blind(v, "phone") for v in values] == expected


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_columnwise_encryption_opens_value_by_value(algorithm: Algorithm) -> None:
    keyring = ring(algorithm)
    series = pl.Series("v", [CID, None, "", "张三", CID])
    sealed = keyring.encrypt_series(series, "person.phone")
    assert sealed[0] == sealed[4] and sealed[1] is None  # once per distinct value
    assert len(set(sealed.drop_nulls().to_list())) == 3
    assert [None if t is None else keyring.decrypt(t, "person.phone") for t in sealed] == [
        CID,
        None,
        "",
        "张三",
        CID,
    ]
