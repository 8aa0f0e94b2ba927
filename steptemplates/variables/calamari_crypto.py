"""Calamari's encrypted variables files, byte for byte.

Octopus Server encrypts the variables files it hands to Calamari with a password given on
the command line. The format is fixed by Calamari, so it is reproduced exactly rather than
improved: the key is PBKDF2-HMAC-SHA1 of the password with the constant salt ``Octopuss``
and 1000 iterations; the cipher is AES-256-CBC with PKCS7 padding; the file is the ASCII
marker ``IV__``, the 16-byte IV, then the ciphertext of the UTF-8 JSON text.

There is no MAC, so a wrong password is only noticed through bad padding or text that is
not UTF-8; both are reported the way Calamari reports them.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from steptemplates.errors import StepsError

HEADER = b"IV__"
SALT = b"Octopuss"
ITERATIONS = 1000
KEY_BYTES = 32
IV_BYTES = 16
_BLOCK_BITS = 128
_BLOCK_BYTES = _BLOCK_BITS // 8


def derive_key(password: str) -> bytes:
    """The AES key Calamari derives from ``password`` (.NET's Rfc2898DeriveBytes defaults)."""
    kdf = PBKDF2HMAC(algorithm=hashes.SHA1(), length=KEY_BYTES, salt=SALT, iterations=ITERATIONS)
    return kdf.derive(password.encode("utf-8"))


def encrypt_variables(text: str, password: str, *, iv: bytes | None = None) -> bytes:
    """The bytes of an encrypted variables file holding ``text``.

    ``iv`` is for known-answer tests only; a real file must get a fresh random IV.
    """
    if iv is None:
        iv = os.urandom(IV_BYTES)
    if len(iv) != IV_BYTES:
        raise ValueError(f"the IV must be {IV_BYTES} bytes, not {len(iv)}")
    padder = padding.PKCS7(_BLOCK_BITS).padder()
    padded = padder.update(text.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(derive_key(password)), modes.CBC(iv)).encryptor()
    return HEADER + iv + encryptor.update(padded) + encryptor.finalize()


def decrypt_variables(data: bytes, password: str, *, source: str) -> str:
    """The JSON text of an encrypted variables file; ``source`` names the file in errors."""
    iv, ciphertext = _split(data, source)
    decryptor = Cipher(algorithms.AES(derive_key(password)), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(_BLOCK_BITS).unpadder()
    try:
        plain = unpadder.update(padded) + unpadder.finalize()
        text = plain.decode("utf-8")
    except ValueError:
        # Bad padding, or padding that happened to look right over garbage that is not
        # UTF-8: either way the key was wrong (or the file was altered).
        raise _wrong_password(source) from None
    # Some writers put a byte-order mark first; JSON readers do not expect one.
    return text.removeprefix("\ufeff")


def _split(data: bytes, source: str) -> tuple[bytes, bytes]:
    if not data.startswith(HEADER):
        raise StepsError(
            f"Cannot decrypt variables in {source}: it does not start with 'IV__', "
            "so it is not an encrypted variables file",
            hint="give a password only with files Octopus encrypted, or check the file name",
        )
    body = data[len(HEADER) :]
    iv, ciphertext = body[:IV_BYTES], body[IV_BYTES:]
    if len(iv) < IV_BYTES or not ciphertext or len(ciphertext) % _BLOCK_BYTES:
        raise StepsError(
            f"Cannot decrypt variables in {source}: the file is truncated or damaged",
            hint="copy it again from where it was produced",
        )
    return iv, ciphertext


def _wrong_password(source: str) -> StepsError:
    return StepsError(f"Cannot decrypt variables in {source}. Check your password is correct.")
