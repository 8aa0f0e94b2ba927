"""steps.secrets: the envelope, scopes, replacing and removing, and every way it can go wrong."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from steptemplates.errors import StepsError
from steptemplates.variables.scoping import Scope, ScopedVariable
from steptemplates.variables.secrets import (
    Secret,
    SecretsFile,
    project_secrets,
    secrets_password,
)

PASSWORD = "hunter2 but longer"
VALUE = "s3cr3t-Value-7f1e"
PROD = Scope(environment=("Production",))


@pytest.fixture
def path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path / "steps.secrets"


def envelope(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def write_envelope(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document), encoding="utf-8")


def independent_keys(document: dict[str, Any], password: str) -> tuple[bytes, bytes]:
    """The format's keys derived with hashlib, without the module under test."""
    kdf = document["kdf"]
    material = hashlib.scrypt(
        password.encode("utf-8"),
        salt=base64.b64decode(kdf["salt"]),
        n=kdf["n"],
        r=kdf["r"],
        p=kdf["p"],
        maxmem=64 * 1024 * 1024,
        dklen=64,
    )
    return material[:32], material[32:]


def independent_plaintext(path: Path, password: str) -> Any:
    document = envelope(path)
    key, check_key = independent_keys(document, password)
    check = hmac.new(check_key, b"steps-secrets-v1", hashlib.sha256).digest()
    assert base64.b64decode(document["check"]) == check
    plain = AESGCM(key).decrypt(
        base64.b64decode(document["nonce"]),
        base64.b64decode(document["ciphertext"]),
        b"steps-secrets-v1",
    )
    return json.loads(plain)


def reencrypt(path: Path, password: str, plaintext: bytes) -> None:
    """Replace the contents with ``plaintext``, encrypted correctly under the same keys."""
    document = envelope(path)
    key, _ = independent_keys(document, password)
    nonce = os.urandom(12)
    document["nonce"] = base64.b64encode(nonce).decode()
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, b"steps-secrets-v1")
    document["ciphertext"] = base64.b64encode(ciphertext).decode()
    write_envelope(path, document)


def saved(path: Path, *secrets: Secret) -> SecretsFile:
    file = SecretsFile(path)
    for secret in secrets:
        file.set(secret.name, secret.value, secret.scope)
    file.save(PASSWORD)
    return file


def load_error(path: Path, password: str = PASSWORD) -> str:
    before = path.read_bytes()
    with pytest.raises(StepsError) as raised:
        SecretsFile.load(path, password)
    assert path.read_bytes() == before
    message = str(raised.value)
    assert VALUE not in message and password not in message
    return message


# --- round trip and format -------------------------------------------------------------------


def test_round_trip(path: Path) -> None:
    secrets = (
        Secret("DbPassword", VALUE, PROD),
        Secret("DbPassword", "dev-value", Scope(environment=("Dev", "Test"))),
        Secret("ApiKey", "ключ ✓\nsecond line", Scope(target=("web-1",), role=("web",))),
        Secret("Token", "t", Scope(tenant=("Acme",), step=("Deploy",))),
    )

    saved(path, *secrets)
    loaded = SecretsFile.load(path, PASSWORD)

    assert loaded.entries == secrets


def test_the_file_follows_the_documented_format(path: Path) -> None:
    saved(path, Secret("DbPassword", VALUE, PROD), Secret("Plain", "x", Scope()))

    document = envelope(path)

    assert set(document) == {"format", "kdf", "check", "nonce", "ciphertext"}
    assert document["format"] == "steps-secrets-v1"
    assert {k: v for k, v in document["kdf"].items() if k != "salt"} == {
        "name": "scrypt",
        "n": 2**15,
        "r": 8,
        "p": 1,
    }
    assert len(base64.b64decode(document["kdf"]["salt"])) == 16
    assert len(base64.b64decode(document["nonce"])) == 12
    assert independent_plaintext(path, PASSWORD) == {
        "secrets": [
            {"name": "DbPassword", "value": VALUE, "scope": {"environment": ["Production"]}},
            {"name": "Plain", "value": "x", "scope": {}},
        ]
    }


def test_names_and_values_are_not_in_the_file(path: Path) -> None:
    saved(path, Secret("VerySecretName", VALUE, PROD))

    data = path.read_bytes()

    assert b"VerySecretName" not in data
    assert VALUE.encode() not in data
    assert b"Production" not in data


def test_reads_a_file_written_independently(path: Path) -> None:
    saved(path)
    plaintext = {
        "secrets": [
            {"name": "A", "value": "1", "scope": {"role": ["db"], "step": ["Migrate"]}},
            {"name": "B", "value": "2"},
        ]
    }
    reencrypt(path, PASSWORD, json.dumps(plaintext).encode())

    assert SecretsFile.load(path, PASSWORD).entries == (
        Secret("A", "1", Scope(role=("db",), step=("Migrate",))),
        Secret("B", "2", Scope()),
    )


def test_a_fresh_salt_and_nonce_on_every_save(path: Path) -> None:
    file = saved(path, Secret("A", VALUE, Scope()))
    first = envelope(path)

    file.save(PASSWORD)
    second = envelope(path)

    for key in ("check", "nonce", "ciphertext"):
        assert first[key] != second[key]
    assert first["kdf"]["salt"] != second["kdf"]["salt"]
    assert SecretsFile.load(path, PASSWORD).entries == (Secret("A", VALUE, Scope()),)


def test_the_file_is_private(path: Path) -> None:
    path.write_text("{}")
    path.chmod(0o644)

    saved(path, Secret("A", VALUE, Scope()))

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_missing_file_holds_no_secrets(path: Path) -> None:
    loaded = SecretsFile.load(path, "any password")

    assert loaded.entries == ()
    assert not path.exists()


def test_an_empty_password_cannot_save(path: Path) -> None:
    with pytest.raises(StepsError, match="empty password"):
        SecretsFile(path).save("")
    assert not path.exists()


# --- set, remove, variables ------------------------------------------------------------------


def test_set_replaces_the_same_name_and_scope_in_place() -> None:
    file = SecretsFile(Path("steps.secrets"))
    file.set("DbPassword", "old", Scope(environment=("Production", "Staging")))
    file.set("Other", "x", Scope())

    replaced = file.set("dbpassword", "new", Scope(environment=("staging", "PRODUCTION")))

    assert replaced
    assert [(s.name, s.value) for s in file.entries] == [("dbpassword", "new"), ("Other", "x")]


def test_set_keeps_a_different_scope_apart() -> None:
    file = SecretsFile(Path("steps.secrets"))
    file.set("Db", "any", Scope())

    added = file.set("Db", "prod", PROD)

    assert not added
    assert [(s.value, s.scope) for s in file.entries] == [("any", Scope()), ("prod", PROD)]


def test_set_tidies_names() -> None:
    file = SecretsFile(Path("steps.secrets"))

    file.set("  Db ", "v", Scope(environment=(" Prod", "prod", "Dev ")))

    assert file.entries == (Secret("Db", "v", Scope(environment=("Prod", "Dev"))),)


@pytest.mark.parametrize(
    ("name", "scope", "message"),
    [
        (" ", Scope(), "a secret needs a name"),
        ("Db", Scope(role=("",)), "an empty role name in a secret's scope"),
    ],
)
def test_set_refuses_empty_names(name: str, scope: Scope, message: str) -> None:
    with pytest.raises(StepsError, match=message):
        SecretsFile(Path("steps.secrets")).set(name, "v", scope)


def test_remove() -> None:
    file = SecretsFile(Path("steps.secrets"))
    file.set("Db", "any", Scope())
    file.set("Db", "prod", PROD)
    file.set("Db", "dev", Scope(environment=("Dev",)))
    file.set("Other", "x", PROD)

    assert file.remove("db", Scope(environment=("production",))) == 1
    assert file.remove("Db", Scope()) == 1
    assert file.remove("Db", Scope(role=("web",))) == 0
    assert [(s.name, s.value) for s in file.entries] == [("Db", "dev"), ("Other", "x")]
    assert file.remove("DB") == 1
    assert file.remove("Db") == 0
    assert [s.name for s in file.entries] == ["Other"]


def test_as_variables() -> None:
    file = SecretsFile(Path("steps.secrets"))
    file.set("Db", VALUE, PROD)

    assert file.as_variables() == [
        ScopedVariable("Db", VALUE, sensitive=True, scope=PROD, origin="steps.secrets")
    ]


def test_project_secrets(tmp_path: Path) -> None:
    asked: list[str] = []

    def password() -> str:
        asked.append("asked")
        return PASSWORD

    assert project_secrets(tmp_path, password) == []
    assert asked == []

    saved(tmp_path / "steps.secrets", Secret("Db", VALUE, PROD))

    assert project_secrets(tmp_path, password) == [
        ScopedVariable("Db", VALUE, sensitive=True, scope=PROD, origin="steps.secrets")
    ]
    assert asked == ["asked"]


# --- wrong password and damage ---------------------------------------------------------------


def test_wrong_password(path: Path) -> None:
    saved(path, Secret("Db", VALUE, PROD))

    message = load_error(path, "not the password")

    assert message == (
        "wrong password for steps.secrets; the file was not changed; "
        "check STEPS_SECRETS_PASSWORD or the password you typed"
    )


def test_errors_name_the_file_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    path = tmp_path / "project" / "steps.secrets"
    saved(path, Secret("Db", VALUE, PROD))

    assert load_error(path, "nope").startswith(f"wrong password for {path};")


HINT = "; restore it from version control, or delete it and set the secrets again"


def damage(path: Path, key: str, value: Any) -> None:
    document = envelope(path)
    if key.startswith("kdf."):
        document["kdf"][key.removeprefix("kdf.")] = value
    else:
        document[key] = value
    write_envelope(path, document)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_truncated_ciphertext(path: Path) -> None:
    saved(path, Secret("Db", VALUE, PROD))
    ciphertext = base64.b64decode(envelope(path)["ciphertext"])
    damage(path, "ciphertext", b64(ciphertext[:-5]))

    assert load_error(path) == (
        "steps.secrets is damaged (the encrypted contents fail their integrity check)" + HINT
    )


def test_a_flipped_byte(path: Path) -> None:
    saved(path, Secret("Db", VALUE, PROD))
    ciphertext = bytearray(base64.b64decode(envelope(path)["ciphertext"]))
    ciphertext[3] ^= 0x01
    damage(path, "ciphertext", b64(bytes(ciphertext)))

    assert "integrity check" in load_error(path)


def test_a_changed_nonce(path: Path) -> None:
    saved(path, Secret("Db", VALUE, PROD))
    damage(path, "nonce", b64(bytes(12)))

    assert "integrity check" in load_error(path)


def test_the_file_cut_short(path: Path) -> None:
    saved(path, Secret("Db", VALUE, PROD))
    path.write_bytes(path.read_bytes()[:100])

    assert load_error(path).startswith("steps.secrets is damaged (not JSON: ")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"not json", "not JSON: Expecting value: line 1 column 1 (char 0)"),
        (
            b"\xff\xfe",
            "not JSON: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte",
        ),
        (b"[]", "not a JSON object"),
        (b"{}", "unknown format missing, expected 'steps-secrets-v1'"),
        (
            b'{"format": "steps-secrets-v9"}',
            "unknown format 'steps-secrets-v9', expected 'steps-secrets-v1'",
        ),
    ],
)
def test_not_an_envelope(path: Path, content: bytes, reason: str) -> None:
    path.write_bytes(content)

    assert load_error(path) == f"steps.secrets is damaged ({reason})" + HINT


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("nonce", "***", "bad base64 in 'nonce'"),
        ("ciphertext", "abc", "bad base64 in 'ciphertext'"),
        ("check", None, "'check' is missing"),
        ("check", b64(bytes(31)), "'check' has the wrong length"),
        ("nonce", b64(bytes(16)), "'nonce' has the wrong length"),
        ("ciphertext", b64(bytes(15)), "'ciphertext' has the wrong length"),
        ("kdf.salt", "%%", "bad base64 in 'kdf.salt'"),
        ("kdf.salt", b64(bytes(4)), "'kdf.salt' has the wrong length"),
        ("kdf.name", "pbkdf2", "'kdf' is not scrypt"),
        ("kdf", "scrypt", "'kdf' is not scrypt"),
        ("kdf.n", 2**30, "unsupported scrypt parameters"),
        ("kdf.n", 1000, "unsupported scrypt parameters"),
        ("kdf.r", True, "unsupported scrypt parameters"),
        ("kdf.p", "1", "unsupported scrypt parameters"),
    ],
)
def test_a_damaged_field(path: Path, key: str, value: Any, reason: str) -> None:
    saved(path, Secret("Db", VALUE, PROD))
    damage(path, key, value)

    assert load_error(path) == f"steps.secrets is damaged ({reason})" + HINT


@pytest.mark.parametrize(
    ("plaintext", "reason"),
    [
        (b"\x00garbage " + VALUE.encode(), "the decrypted contents are not JSON"),
        (b"[]", "the decrypted contents have no 'secrets' list"),
        (b'{"secrets": [1]}', "secret 1 is not an object"),
        (b'{"secrets": [{"name": "A"}]}', "secret 1 needs a text 'name' and 'value'"),
        (
            b'{"secrets": [{"name": "A", "value": "' + VALUE.encode() + b'", "scope": {"x": []}}]}',
            "secret 1 has an unknown scope dimension",
        ),
        (
            b'{"secrets": [{"name": "A", "value": "v", "scope": {"role": "web"}}]}',
            "secret 1: the role scope is not a list of names",
        ),
    ],
)
def test_damaged_contents(path: Path, plaintext: bytes, reason: str) -> None:
    saved(path)
    reencrypt(path, PASSWORD, plaintext)

    assert load_error(path) == f"steps.secrets is damaged ({reason})" + HINT


def test_a_directory_in_the_way(path: Path) -> None:
    path.mkdir()

    with pytest.raises(StepsError, match=re.escape("cannot read steps.secrets: ")):
        SecretsFile.load(path, PASSWORD)


# --- the password ----------------------------------------------------------------------------


class Prompts:
    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    def __call__(self, text: str) -> str:
        self.asked.append(text)
        return self.answers.pop(0)


def test_password_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPS_SECRETS_PASSWORD", "from env ")
    prompts = Prompts()

    assert secrets_password(prompt=prompts, stdin_is_tty=True, confirm=True) == "from env "
    assert prompts.asked == []


def test_password_from_another_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "k" * 64)

    assert secrets_password(env="MY_KEY", stdin_is_tty=False) == "k" * 64


def test_an_empty_password_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPS_SECRETS_PASSWORD", "")

    with pytest.raises(StepsError, match="STEPS_SECRETS_PASSWORD is set but empty"):
        secrets_password(stdin_is_tty=True, prompt=Prompts("typed"))


def test_no_password_without_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STEPS_SECRETS_PASSWORD", raising=False)

    with pytest.raises(StepsError) as raised:
        secrets_password(stdin_is_tty=False, prompt=Prompts("typed"))

    assert str(raised.value) == (
        "no password for steps.secrets: stdin is not a terminal to ask for one; "
        "set STEPS_SECRETS_PASSWORD to the password"
    )


def test_password_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STEPS_SECRETS_PASSWORD", raising=False)
    prompts = Prompts("typed")

    assert secrets_password(stdin_is_tty=True, prompt=prompts) == "typed"
    assert prompts.asked == ["Password for steps.secrets: "]


def test_password_prompt_with_confirmation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STEPS_SECRETS_PASSWORD", raising=False)
    prompts = Prompts("typed", "typed")

    assert secrets_password(stdin_is_tty=True, prompt=prompts, confirm=True) == "typed"
    assert prompts.asked == [
        "Password for steps.secrets: ",
        "Repeat the password for steps.secrets: ",
    ]


def test_password_confirmation_must_match(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STEPS_SECRETS_PASSWORD", raising=False)

    with pytest.raises(StepsError, match=re.escape("the two passwords for steps.secrets differ")):
        secrets_password(stdin_is_tty=True, prompt=Prompts("one", "two"), confirm=True)


def test_an_empty_typed_password_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STEPS_SECRETS_PASSWORD", raising=False)

    with pytest.raises(
        StepsError, match=re.escape("an empty password cannot protect steps.secrets")
    ):
        secrets_password(stdin_is_tty=True, prompt=Prompts(""))
