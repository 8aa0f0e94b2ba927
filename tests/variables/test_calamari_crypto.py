"""Calamari's encrypted variables files: the exact format, checked against an independent reader."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from steptemplates.errors import StepsError
from steptemplates.variables.calamari_crypto import decrypt_variables, encrypt_variables

PASSWORD = "Correct Horse Battery Staple"
IV = bytes(range(16))
TEXT = '[{"k": "Octopus.Environment.Name", "v": "Production", "s": false}]'


def independent_decrypt(data: bytes, password: str) -> str:
    """Calamari's format read straight from its description, without the module under test."""
    assert data[:4] == b"IV__"
    iv, ciphertext = data[4:20], data[20:]
    key = hashlib.pbkdf2_hmac("sha1", password.encode("utf-8"), b"Octopuss", 1000, 32)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    pad = padded[-1]
    assert 1 <= pad <= 16 and padded[-pad:] == bytes([pad]) * pad
    return padded[:-pad].decode("utf-8")


def independent_encrypt(text: str, password: str, iv: bytes) -> bytes:
    key = hashlib.pbkdf2_hmac("sha1", password.encode("utf-8"), b"Octopuss", 1000, 32)
    plain = text.encode("utf-8")
    pad = 16 - len(plain) % 16
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return b"IV__" + iv + encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize()


def test_known_answer_with_a_fixed_iv() -> None:
    data = encrypt_variables(TEXT, PASSWORD, iv=IV)

    assert data == independent_encrypt(TEXT, PASSWORD, IV)
    assert data[:20] == b"IV__" + IV
    # PKCS7 always pads, so a text of a whole number of blocks gains a block.
    assert len(data) == 20 + (len(TEXT.encode()) // 16 + 1) * 16
    assert independent_decrypt(data, PASSWORD) == TEXT


def test_reads_a_file_written_independently() -> None:
    text = '{"Password": "pä$$wörd ✓"}'

    data = independent_encrypt(text, "pässword", IV)

    assert decrypt_variables(data, "pässword", source="sensitive.json") == text


def test_round_trip_with_a_random_iv() -> None:
    first = encrypt_variables(TEXT, PASSWORD)
    second = encrypt_variables(TEXT, PASSWORD)

    assert first[4:20] != second[4:20]
    assert decrypt_variables(first, PASSWORD, source="a") == TEXT
    assert decrypt_variables(second, PASSWORD, source="b") == TEXT


def test_round_trip_of_a_whole_block_and_of_nothing() -> None:
    for text in ("", "x" * 16, "y" * 33):
        assert decrypt_variables(encrypt_variables(text, PASSWORD), PASSWORD, source="f") == text


def test_a_byte_order_mark_is_dropped() -> None:
    data = independent_encrypt('\ufeff{"A": "1"}', PASSWORD, IV)

    assert decrypt_variables(data, PASSWORD, source="f") == '{"A": "1"}'


def test_wrong_password() -> None:
    data = encrypt_variables(TEXT, PASSWORD, iv=IV)

    with pytest.raises(StepsError) as raised:
        decrypt_variables(data, "not the password", source="vars.enc")

    assert str(raised.value) == (
        "Cannot decrypt variables in vars.enc. Check your password is correct."
    )
    assert "not the password" not in str(raised.value)
    assert "Production" not in str(raised.value)


def test_an_altered_last_block_reads_as_a_wrong_password() -> None:
    data = bytearray(encrypt_variables(TEXT, PASSWORD, iv=IV))
    data[-1] ^= 0x55

    with pytest.raises(StepsError, match="Check your password is correct"):
        decrypt_variables(bytes(data), PASSWORD, source="vars.enc")


def test_a_file_without_the_header() -> None:
    with pytest.raises(StepsError) as raised:
        decrypt_variables(b'{"Name": "Value"}', PASSWORD, source="plain.json")

    assert str(raised.value).startswith(
        "Cannot decrypt variables in plain.json: it does not start with 'IV__'"
    )


@pytest.mark.parametrize(
    "data",
    [
        b"IV__",
        b"IV__" + bytes(10),
        b"IV__" + IV,
        b"IV__" + IV + bytes(15),
        b"IV__" + IV + bytes(17),
    ],
    ids=["header-only", "short-iv", "no-ciphertext", "short-block", "partial-block"],
)
def test_a_truncated_file(data: bytes) -> None:
    with pytest.raises(StepsError) as raised:
        decrypt_variables(data, PASSWORD, source="vars.enc")

    assert str(raised.value).startswith(
        "Cannot decrypt variables in vars.enc: the file is truncated or damaged"
    )


def test_the_iv_must_be_sixteen_bytes() -> None:
    with pytest.raises(ValueError):
        encrypt_variables(TEXT, PASSWORD, iv=bytes(8))
