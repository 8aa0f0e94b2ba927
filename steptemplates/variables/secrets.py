"""The project's encrypted secrets file, ``steps.secrets`` beside steps.toml.

The file is meant to be committed: everything but the format name and the key-derivation
parameters is encrypted, including the secrets' names and scopes. It is a UTF-8 JSON
envelope::

    {"format": "steps-secrets-v1",
     "kdf": {"name": "scrypt", "salt": B64, "n": 32768, "r": 8, "p": 1},
     "check": B64, "nonce": B64, "ciphertext": B64}

scrypt turns the password into 64 bytes: the first 32 are the AES-256-GCM key, the last 32
key an HMAC-SHA256 of the format name stored as ``check``. The check tells a wrong password
apart from a damaged file, which GCM alone cannot: both would just fail the tag. Every save
draws a fresh salt and nonce, so a GCM nonce is never reused under one key.

The plaintext is ``{"secrets": [{"name": N, "value": V, "scope": {DIMENSION: [NAMES]}}]}``
with only the non-empty dimensions in ``scope``.
"""

from __future__ import annotations

import base64
import binascii
import getpass
import hashlib
import hmac
import json
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from steptemplates.errors import StepsError
from steptemplates.fsutil import write_bytes_atomic
from steptemplates.variables.scoping import DIMENSIONS, Scope, ScopedVariable

FILE_NAME = "steps.secrets"
FORMAT = "steps-secrets-v1"
PASSWORD_ENV = "STEPS_SECRETS_PASSWORD"
FILE_MODE = 0o600

SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
NONCE_BYTES = 12
_KEY_BYTES = 32
_TAG_BYTES = 16
# Limits on parameters read from a file: a damaged or hostile file must not make steps
# allocate gigabytes or spin for minutes before saying the password is wrong.
_MAX_N = 2**20
_MAX_R = 32
_MAX_P = 16

Prompt = Callable[[str], str]
PasswordGetter = Callable[[], str]


@dataclass(frozen=True)
class Secret:
    name: str
    value: str
    scope: Scope


@dataclass(frozen=True)
class _Kdf:
    salt: bytes
    n: int
    r: int
    p: int


@dataclass(frozen=True)
class _Envelope:
    kdf: _Kdf
    check: bytes
    nonce: bytes
    ciphertext: bytes


@dataclass(frozen=True)
class _Keys:
    encryption: bytes
    check: bytes


class SecretsFile:
    """The secrets of one file, in the order they were first set."""

    def __init__(self, path: Path, entries: Iterable[Secret] = ()) -> None:
        self.path = path
        self._entries: list[Secret] = list(entries)

    @classmethod
    def load(cls, path: Path, password: str) -> SecretsFile:
        """The decrypted file; a file that does not exist yet holds no secrets."""
        display = display_path(path)
        data = _read(path, display)
        if data is None:
            return cls(path)
        envelope = _parse_envelope(data, display)
        plaintext = _decrypt(envelope, password, display)
        return cls(path, _parse_plaintext(plaintext, display))

    @property
    def entries(self) -> tuple[Secret, ...]:
        return tuple(self._entries)

    def set(self, name: str, value: str, scope: Scope) -> bool:
        """Add a secret, or replace the one of that name with an equal scope (True then)."""
        secret = Secret(_clean_name(name), value, clean_scope(scope))
        key = _scope_key(secret.scope)
        for index, existing in enumerate(self._entries):
            if _same_name(existing.name, secret.name) and _scope_key(existing.scope) == key:
                # Replace in place: the position decides ties between equally specific values.
                self._entries[index] = secret
                return True
        self._entries.append(secret)
        return False

    def remove(self, name: str, scope: Scope | None = None) -> int:
        """Remove the secrets of that name with an equal scope (any scope if None)."""
        key = None if scope is None else _scope_key(clean_scope(scope))
        kept = [
            secret
            for secret in self._entries
            if not (
                _same_name(secret.name, name.strip())
                and (key is None or _scope_key(secret.scope) == key)
            )
        ]
        removed = len(self._entries) - len(kept)
        self._entries = kept
        return removed

    def save(self, password: str) -> None:
        """Encrypt with a fresh salt and nonce and replace the file atomically (mode 0600)."""
        if not password:
            raise StepsError(f"an empty password cannot protect {display_path(self.path)}")
        kdf = _Kdf(os.urandom(SALT_BYTES), SCRYPT_N, SCRYPT_R, SCRYPT_P)
        keys = _derive(password, kdf)
        nonce = os.urandom(NONCE_BYTES)
        plaintext = json.dumps(
            {"secrets": [_secret_record(s) for s in self._entries]}, ensure_ascii=False
        ).encode("utf-8")
        ciphertext = AESGCM(keys.encryption).encrypt(nonce, plaintext, FORMAT.encode("ascii"))
        envelope = {
            "format": FORMAT,
            "kdf": {"name": "scrypt", "salt": _b64(kdf.salt), "n": kdf.n, "r": kdf.r, "p": kdf.p},
            "check": _b64(_check_value(keys)),
            "nonce": _b64(nonce),
            "ciphertext": _b64(ciphertext),
        }
        text = json.dumps(envelope, indent=2) + "\n"
        write_bytes_atomic(self.path, text.encode("utf-8"), mode=FILE_MODE)

    def as_variables(self) -> list[ScopedVariable]:
        return [
            ScopedVariable(s.name, s.value, sensitive=True, scope=s.scope, origin=FILE_NAME)
            for s in self._entries
        ]


def secrets_password(
    *,
    env: str = PASSWORD_ENV,
    confirm: bool = False,
    prompt: Prompt = getpass.getpass,
    stdin_is_tty: bool | None = None,
    file: str = FILE_NAME,
) -> str:
    """The password for a secrets file: ``$env`` if set, else asked at the terminal.

    The environment variable may hold a typed password or a long random key (for CI); it
    is used exactly as it is, so a trailing newline would be part of it. ``confirm`` asks
    twice, for a file about to be created.
    """
    from_env = os.environ.get(env)
    if from_env is not None:
        if not from_env:
            raise StepsError(
                f"{env} is set but empty, so it cannot unlock {file}",
                hint="set it to the password, or unset it to be asked for one",
            )
        return from_env
    if not _is_tty(stdin_is_tty):
        raise StepsError(
            f"no password for {file}: stdin is not a terminal to ask for one",
            hint=f"set {env} to the password",
        )
    password = prompt(f"Password for {file}: ")
    if not password:
        raise StepsError(f"an empty password cannot protect {file}", hint="type a password")
    if confirm and prompt(f"Repeat the password for {file}: ") != password:
        raise StepsError(
            f"the two passwords for {file} differ; nothing was saved", hint="try again"
        )
    return password


def project_secrets(manifest_dir: Path, password_getter: PasswordGetter) -> list[ScopedVariable]:
    """The project's secrets as variables; the password is asked for only if there is a file."""
    path = manifest_dir / FILE_NAME
    if not path.exists():
        return []
    return SecretsFile.load(path, password_getter()).as_variables()


def clean_scope(scope: Scope) -> Scope:
    """The scope with names trimmed and duplicates (ignoring case) dropped."""
    cleaned: dict[str, tuple[str, ...]] = {}
    for dimension in DIMENSIONS:
        names: list[str] = []
        for raw in scope.names(dimension):
            name = raw.strip()
            if not name:
                raise StepsError(
                    f"an empty {dimension} name in a secret's scope",
                    hint=f"give --{dimension} a name",
                )
            if all(name.casefold() != kept.casefold() for kept in names):
                names.append(name)
        cleaned[dimension] = tuple(names)
    return Scope(**cleaned)


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it is below it, for messages."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --- names and scopes ------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise StepsError("a secret needs a name", hint="give a non-empty NAME")
    return cleaned


def _same_name(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def _scope_key(scope: Scope) -> tuple[frozenset[str], ...]:
    """What makes two scopes equal: the same names per dimension, in any order or case."""
    return tuple(frozenset(n.casefold() for n in scope.names(d)) for d in DIMENSIONS)


def _secret_record(secret: Secret) -> dict[str, Any]:
    scope = {d: list(secret.scope.names(d)) for d in DIMENSIONS if secret.scope.names(d)}
    return {"name": secret.name, "value": secret.value, "scope": scope}


# --- reading -------------------------------------------------------------------------------


def _read(path: Path, display: str) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StepsError(
            f"cannot read {display}: {error.strerror or error}",
            hint="check that it is a readable file",
        ) from None


def _damaged(display: str, reason: str) -> StepsError:
    return StepsError(
        f"{display} is damaged ({reason})",
        hint="restore it from version control, or delete it and set the secrets again",
    )


def _parse_envelope(data: bytes, display: str) -> _Envelope:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _damaged(display, f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise _damaged(display, "not a JSON object")
    found = document.get("format")
    if found != FORMAT:
        shown = f"'{found}'" if isinstance(found, str) else "missing"
        raise _damaged(display, f"unknown format {shown}, expected '{FORMAT}'")
    return _Envelope(
        kdf=_parse_kdf(document.get("kdf"), display),
        check=_field_bytes(document, "check", display, length=_KEY_BYTES),
        nonce=_field_bytes(document, "nonce", display, length=NONCE_BYTES),
        ciphertext=_field_bytes(document, "ciphertext", display, minimum=_TAG_BYTES),
    )


def _parse_kdf(kdf: object, display: str) -> _Kdf:
    if not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
        raise _damaged(display, "'kdf' is not scrypt")
    n = _whole(kdf.get("n"), 2, _MAX_N)
    r = _whole(kdf.get("r"), 1, _MAX_R)
    p = _whole(kdf.get("p"), 1, _MAX_P)
    if n is None or r is None or p is None or n & (n - 1):  # scrypt's n is a power of two
        raise _damaged(display, "unsupported scrypt parameters")
    salt = _field_bytes(kdf, "salt", display, minimum=SALT_BYTES, where="kdf.salt")
    return _Kdf(salt, n, r, p)


def _whole(value: object, low: int, high: int) -> int | None:
    # bool is an int subclass; true/false in the file is damage, not 1/0.
    if type(value) is int and low <= value <= high:
        return value
    return None


def _field_bytes(
    table: dict[str, Any],
    key: str,
    display: str,
    *,
    length: int | None = None,
    minimum: int = 1,
    where: str | None = None,
) -> bytes:
    label = where or key
    text = table.get(key)
    if not isinstance(text, str):
        raise _damaged(display, f"'{label}' is missing")
    try:
        value = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _damaged(display, f"bad base64 in '{label}'") from None
    if (length is not None and len(value) != length) or len(value) < minimum:
        raise _damaged(display, f"'{label}' has the wrong length")
    return value


def _decrypt(envelope: _Envelope, password: str, display: str) -> bytes:
    keys = _derive(password, envelope.kdf)
    if not hmac.compare_digest(_check_value(keys), envelope.check):
        raise StepsError(
            f"wrong password for {display}; the file was not changed",
            hint=f"check {PASSWORD_ENV} or the password you typed",
        )
    try:
        return AESGCM(keys.encryption).decrypt(
            envelope.nonce, envelope.ciphertext, FORMAT.encode("ascii")
        )
    except InvalidTag:
        # The password is right (the check matched), so the bytes themselves changed.
        raise _damaged(display, "the encrypted contents fail their integrity check") from None


def _parse_plaintext(plaintext: bytes, display: str) -> list[Secret]:
    # The messages below never quote the decrypted text: it holds the secret values.
    try:
        document = json.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _damaged(display, "the decrypted contents are not JSON") from None
    records = document.get("secrets") if isinstance(document, dict) else None
    if not isinstance(records, list):
        raise _damaged(display, "the decrypted contents have no 'secrets' list")
    return [_parse_secret(record, index, display) for index, record in enumerate(records)]


def _parse_secret(record: object, index: int, display: str) -> Secret:
    where = f"secret {index + 1}"
    if not isinstance(record, dict):
        raise _damaged(display, f"{where} is not an object")
    name, value = record.get("name"), record.get("value")
    if not isinstance(name, str) or not name.strip() or not isinstance(value, str):
        raise _damaged(display, f"{where} needs a text 'name' and 'value'")
    scope = record.get("scope", {})
    if not isinstance(scope, dict) or not set(scope) <= set(DIMENSIONS):
        raise _damaged(display, f"{where} has an unknown scope dimension")
    dimensions: dict[str, tuple[str, ...]] = {}
    for dimension, names in scope.items():
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise _damaged(display, f"{where}: the {dimension} scope is not a list of names")
        dimensions[dimension] = tuple(names)
    return Secret(name, value, Scope(**dimensions))


# --- keys ----------------------------------------------------------------------------------


def _derive(password: str, kdf: _Kdf) -> _Keys:
    material = Scrypt(salt=kdf.salt, length=2 * _KEY_BYTES, n=kdf.n, r=kdf.r, p=kdf.p).derive(
        password.encode("utf-8")
    )
    return _Keys(material[:_KEY_BYTES], material[_KEY_BYTES:])


def _check_value(keys: _Keys) -> bytes:
    return hmac.new(keys.check, FORMAT.encode("ascii"), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _is_tty(override: bool | None) -> bool:
    if override is not None:
        return override
    # sys.stdin is None when Python runs without one (a service, pythonw).
    return sys.stdin is not None and sys.stdin.isatty()
