"""Signers as steps.toml lists them, and signatures checked with ssh-keygen and gpg."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from steptemplates import manifest, signatures
from steptemplates.errors import StepsError
from steptemplates.signatures import INVALID, UNKNOWN_KEY, UNSIGNED, UNUSABLE, Policy
from tests.support.signing import Signer, gpg_signer, needs_gpg, needs_ssh_keygen, ssh_signer
from tests.support.signing import stop_gpg_agent as stop

NOW = datetime.now(UTC)
PAYLOAD = b"object 0123456789abcdef0123456789abcdef01234567\ntype commit\ntag v1.0.0\n\nrelease\n"


@pytest.fixture(scope="module")
def alice(tmp_path_factory: pytest.TempPathFactory) -> Signer:
    return ssh_signer(tmp_path_factory.mktemp("alice"), "alice@example.com")


@pytest.fixture(scope="module")
def bob(tmp_path_factory: pytest.TempPathFactory) -> Signer:
    return ssh_signer(tmp_path_factory.mktemp("bob"), "bob@example.com")


@pytest.fixture(scope="module")
def carol() -> Iterator[Signer]:
    signer = gpg_signer("Carol <carol@example.com>")
    yield signer
    stop(signer)


@pytest.fixture(scope="module")
def dave() -> Iterator[Signer]:
    signer = gpg_signer("Dave <dave@example.com>")
    yield signer
    stop(signer)


def policy(kind: str, *signers: str, base: Path = Path("/nonexistent")) -> Policy:
    return signatures.read_policy(kind, signers, base)


def verify(policy: Policy, signature: bytes | None, payload: bytes = PAYLOAD) -> signatures.Verdict:
    return signatures.verify(policy, payload, signature, signed_at=NOW)


def manifest_error(tmp_path: Path, verify: str, *signers: str) -> str:
    listed = "".join(f"    {toml_string(s)},\n" for s in signers)
    text = f'[templates.greet]\ngit = "https://example.com/t.git"\nverify = "{verify}"\nsigners = [\n{listed}]\n'
    (tmp_path / "steps.toml").write_text(text)
    with pytest.raises(StepsError) as raised:
        manifest.load(tmp_path / "steps.toml")
    return str(raised.value).replace(str(tmp_path / "steps.toml"), "steps.toml")


def toml_string(text: str) -> str:
    return f'"""{text}"""' if "\n" in text else f'"{text}"'


# --- what signers hold -----------------------------------------------------------------------


@needs_ssh_keygen
def test_ssh_signers_are_key_lines_allowed_signers_lines_and_files(
    tmp_path: Path, alice: Signer, bob: Signer
) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    alice.write_public(keys / "alice.pub")
    (keys / "allowed_signers").write_text(
        f"# the release team\n\nbob@example.com,bob@corp.example {bob.entry}\n"
        f'alice@example.com valid-after="20200101" {alice.entry.split(" alice")[0]}\n'
    )

    inline = policy("ssh", alice.entry, f"release-bot {bob.entry}")
    from_files = policy("ssh", "keys/alice.pub", "keys/allowed_signers", base=tmp_path)

    assert [(k.fingerprint, k.principal, k.options) for k in inline.ssh_keys] == [
        (alice.fingerprint, "alice@example.com", ""),
        (bob.fingerprint, "release-bot", ""),
    ]
    assert [(k.fingerprint, k.principal, k.options) for k in from_files.ssh_keys] == [
        (alice.fingerprint, "alice@example.com", ""),
        (bob.fingerprint, "bob@example.com,bob@corp.example", ""),
        (alice.fingerprint, "alice@example.com", 'valid-after="20200101"'),
    ]


@needs_gpg
def test_gpg_signers_are_armored_keys_files_and_fingerprints(
    tmp_path: Path, carol: Signer, dave: Signer
) -> None:
    dave.write_public(tmp_path / "dave.asc")
    spaced = " ".join(carol.fingerprint[i : i + 4] for i in range(0, 40, 4)).lower()

    read = policy("gpg", carol.entry, "dave.asc", spaced, base=tmp_path)

    assert [(k.fingerprint, k.user_id) for k in read.gpg_keys] == [
        (carol.fingerprint, "Carol <carol@example.com>"),
        (dave.fingerprint, "Dave <dave@example.com>"),
    ]
    assert read.gpg_only == {carol.fingerprint}


@needs_ssh_keygen
def test_a_damaged_ssh_key_is_a_manifest_error_at_its_line(tmp_path: Path, alice: Signer) -> None:
    kind, data, comment = alice.entry.split(" ", 2)
    damaged = f"{kind} {data[:-8]}!!{data[-6:]} {comment}"

    message = manifest_error(tmp_path, "ssh", alice.entry, damaged)

    assert message == (
        "steps.toml:6: template 'greet': signers[1]: the ssh-ed25519 key's data is not valid "
        "base64 key data; see docs/provenance.md"
    )


@needs_ssh_keygen
def test_a_key_of_another_type_than_written_is_refused(tmp_path: Path, alice: Signer) -> None:
    _kind, data, comment = alice.entry.split(" ", 2)

    message = manifest_error(tmp_path, "ssh", f"ssh-rsa {data} {comment}")

    assert message.endswith(
        "signers[0]: the key data is a ssh-ed25519 key, not ssh-rsa; see docs/provenance.md"
    )


def test_a_missing_key_file_is_a_manifest_error(tmp_path: Path) -> None:
    message = manifest_error(tmp_path, "ssh", "keys/release.pub")

    assert message == (
        "steps.toml:5: template 'greet': signers[0]: 'keys/release.pub' is neither an ssh "
        "public key nor a file (paths are relative to steps.toml); see docs/provenance.md"
    )


@needs_ssh_keygen
def test_a_bad_line_in_an_allowed_signers_file_names_the_file_and_line(
    tmp_path: Path, alice: Signer
) -> None:
    (tmp_path / "allowed_signers").write_text(f"alice@example.com {alice.entry}\nbob@example.com\n")

    message = manifest_error(tmp_path, "ssh", "allowed_signers")

    assert message.startswith(
        "steps.toml:5: template 'greet': signers[0]: allowed_signers:2: not an ssh public key:"
    )


@needs_ssh_keygen
def test_cert_authority_lines_are_refused(tmp_path: Path, alice: Signer) -> None:
    message = manifest_error(tmp_path, "ssh", f"*@example.com cert-authority {alice.entry}")

    assert "cert-authority lines are not supported" in message


@needs_ssh_keygen
@needs_gpg
def test_a_key_of_the_other_kind_is_a_manifest_error(
    tmp_path: Path, alice: Signer, carol: Signer
) -> None:
    assert 'signers[0]: this is an OpenPGP key, but verify = "ssh"' in manifest_error(
        tmp_path, "ssh", carol.entry
    )
    assert 'signers[0]: this is an ssh key, but verify = "gpg"' in manifest_error(
        tmp_path, "gpg", alice.entry
    )


@needs_gpg
def test_gpg_signers_that_cannot_be_used(tmp_path: Path, carol: Signer, dave: Signer) -> None:
    short_id = carol.fingerprint[-16:]
    damaged = carol.entry.replace(carol.entry.splitlines()[3], carol.entry.splitlines()[3][::-1])

    assert f"signers[1]: {short_id} is a key id, which others can forge" in manifest_error(
        tmp_path, "gpg", carol.entry, short_id
    )
    assert (
        f"signers[1]: no key listed in signers has the fingerprint {dave.fingerprint}"
        in manifest_error(tmp_path, "gpg", carol.entry, dave.fingerprint)
    )
    assert "signers: only fingerprints are listed: add the public keys too" in manifest_error(
        tmp_path, "gpg", carol.fingerprint
    )
    assert "signers[0]: the key is damaged (its armor checksum differs)" in (
        manifest_error(tmp_path, "gpg", damaged)
    )
    (tmp_path / "notes.asc").write_text("not a key\n")
    assert "signers[0]: notes.asc holds no armored OpenPGP public key" in manifest_error(
        tmp_path, "gpg", "notes.asc"
    )


def test_a_manifest_with_good_signers_loads(tmp_path: Path) -> None:
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHS2ZrZ0mhZDQ7HhcdFkbDwSGP9P4y7gV36LJ/WqOPYs"
    (tmp_path / "steps.toml").write_text(
        textwrap.dedent(f"""\
        [templates.greet]
        git = "https://example.com/t.git"
        verify = "ssh"
        signers = ["releases@example.com {key}"]
        """)
    )

    loaded = manifest.load(tmp_path / "steps.toml").templates["greet"].source

    assert isinstance(loaded, manifest.GitRequirement)
    assert (loaded.verify, loaded.signers) == ("ssh", (f"releases@example.com {key}",))


# --- verifying -------------------------------------------------------------------------------


@needs_ssh_keygen
def test_an_ssh_signature_verifies_and_names_its_signer(alice: Signer, bob: Signer) -> None:
    allowed = policy("ssh", bob.entry, f"alice@example.com {alice.entry}")

    verdict = verify(allowed, alice.sign(PAYLOAD))

    assert verdict.signer == f"ssh {alice.fingerprint} alice@example.com"


@needs_ssh_keygen
def test_ssh_signatures_that_do_not_count(alice: Signer, bob: Signer) -> None:
    allowed = policy("ssh", alice.entry)
    signed = alice.sign(PAYLOAD)

    by_bob = verify(allowed, bob.sign(PAYLOAD))
    altered = verify(allowed, signed, PAYLOAD.replace(b"release", b"hotfix!"))
    for_files = verify(allowed, alice.sign(PAYLOAD, namespace="file"))
    unsigned = verify(allowed, None)

    assert (by_bob.problem, by_bob.cause) == (
        f"is signed by ssh key {bob.fingerprint}, which is not in 'signers'",
        UNKNOWN_KEY,
    )
    assert altered.cause == INVALID and altered.problem is not None
    assert altered.problem.startswith("has an ssh signature that does not verify (")
    assert (for_files.problem, for_files.cause) == (
        "has an ssh signature made for 'file', not for git",
        UNUSABLE,
    )
    assert (unsigned.problem, unsigned.cause, unsigned.signer) == ("is not signed", UNSIGNED, None)


@needs_ssh_keygen
def test_an_allowed_signers_validity_period_is_checked_at_the_signing_time(
    tmp_path: Path, alice: Signer
) -> None:
    retired = policy("ssh", f'alice@example.com valid-before="20200101" {alice.entry}')

    verdict = verify(retired, alice.sign(PAYLOAD))

    assert verdict.cause == INVALID
    past = signatures.verify(
        retired, PAYLOAD, alice.sign(PAYLOAD), signed_at=datetime(2019, 6, 1, tzinfo=UTC)
    )
    assert past.signer == f"ssh {alice.fingerprint} alice@example.com"


@needs_gpg
def test_a_gpg_signature_verifies_and_names_its_signer(carol: Signer, dave: Signer) -> None:
    allowed = policy("gpg", dave.entry, carol.entry)

    verdict = verify(allowed, carol.sign(PAYLOAD))

    assert verdict.signer == f"gpg {carol.fingerprint} Carol <carol@example.com>"


@needs_gpg
def test_gpg_signatures_that_do_not_count(carol: Signer, dave: Signer) -> None:
    allowed = policy("gpg", carol.entry)

    by_dave = verify(allowed, dave.sign(PAYLOAD))
    altered = verify(allowed, carol.sign(PAYLOAD), PAYLOAD + b"more\n")
    not_listed = verify(
        policy("gpg", carol.entry, dave.entry, dave.fingerprint), carol.sign(PAYLOAD)
    )

    assert (by_dave.problem, by_dave.cause) == (
        f"is signed by gpg key {dave.fingerprint}, which is not in 'signers'",
        UNKNOWN_KEY,
    )
    assert (altered.problem, altered.cause) == (
        "has a gpg signature that does not verify (BADSIG)",
        INVALID,
    )
    assert (not_listed.problem, not_listed.cause) == (
        f"is signed by gpg key {carol.fingerprint}, which is not among the fingerprints in "
        "'signers'",
        UNKNOWN_KEY,
    )


@needs_ssh_keygen
@needs_gpg
def test_a_signature_of_the_other_kind_is_refused(alice: Signer, carol: Signer) -> None:
    verdict = verify(policy("ssh", alice.entry), carol.sign(PAYLOAD))

    assert (verdict.problem, verdict.cause) == (
        'is signed with gpg, but steps.toml accepts only ssh signatures (verify = "ssh")',
        UNUSABLE,
    )


@needs_ssh_keygen
@needs_gpg
def test_a_missing_program_is_named_with_its_package(
    alice: Signer, carol: Signer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ssh_signature, gpg_signature = alice.sign(PAYLOAD), carol.sign(PAYLOAD)
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: neither program is found

    with pytest.raises(StepsError) as ssh_missing:
        verify(policy("ssh", alice.entry), ssh_signature)
    with pytest.raises(StepsError) as gpg_missing:
        verify(policy("gpg", carol.entry), gpg_signature)

    assert str(ssh_missing.value) == (
        "verifying ssh signatures needs ssh-keygen, which is not installed; install "
        "openssh-client (on Debian and Ubuntu: apt-get install openssh-client)"
    )
    assert str(gpg_missing.value) == (
        "verifying gpg signatures needs gpg, which is not installed; install gnupg (on "
        "Debian and Ubuntu: apt-get install gnupg)"
    )


def test_signers_name_the_same_key_whatever_follows_the_fingerprint() -> None:
    assert signatures.same_key("ssh SHA256:abc alice", "ssh SHA256:abc alice (laptop)")
    assert not signatures.same_key("ssh SHA256:abc alice", "ssh SHA256:abd alice")
    assert not signatures.same_key("gpg ABC alice", "ssh ABC alice")
