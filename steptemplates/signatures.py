"""Signed tags and commits: which keys a source trusts, and whether a signature is theirs.

``signers`` in steps.toml are read here without running anything, so that a manifest is
checked at once and a typo in a key is a file:line error. Signatures are verified with the
programs git itself uses: ``ssh-keygen -Y verify`` for ssh, and for gpg ``gpg --verify``
in a throwaway home holding only the allowed keys, never the user's own keyring.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from steptemplates.errors import StepsError

# Key types ssh-keygen signs with (DSA is gone from OpenSSH); certificates are not keys.
SSH_KEY_TYPES = (
    "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
)  # fmt: skip
# The namespace git signs and verifies tags and commits in.
GIT_NAMESPACE = "git"
# What the generated allowed-signers file calls the one key it holds.
_PRINCIPAL = "steps-signer"
_TIMEOUT = 30.0
_PROGRAMS = {"ssh": ("ssh-keygen", "openssh-client"), "gpg": ("gpg", "gnupg")}
_PGP_KEY_BLOCK = re.compile(
    r"-----BEGIN PGP PUBLIC KEY BLOCK-----(.*?)-----END PGP PUBLIC KEY BLOCK-----", re.DOTALL
)
_ARMOR_HEADER = re.compile(r"[A-Za-z][A-Za-z-]*: ")
_FINGERPRINT = re.compile(r"[0-9A-F]{40}")
_KEY_ID = re.compile(r"[0-9A-F]{8}|[0-9A-F]{16}")
_SIGNATURE_KINDS = {
    b"-----BEGIN SSH SIGNATURE-----": "ssh",
    b"-----BEGIN PGP SIGNATURE-----": "gpg",
    b"-----BEGIN PGP MESSAGE-----": "gpg",
    b"-----BEGIN SIGNED MESSAGE-----": "x509",
}
# OpenPGP packet tags.
_PUBLIC_KEY, _PUBLIC_SUBKEY, _USER_ID, _SECRET_KEY, _SECRET_SUBKEY = 6, 14, 13, 5, 7


class SignerError(StepsError):
    """A ``signers`` entry that cannot be used; ``index`` says which (None: the list)."""

    def __init__(self, detail: str, index: int | None = None) -> None:
        where = f"signers[{index}]: " if index is not None else "signers: "
        super().__init__(where + detail, hint="see docs/provenance.md")
        self.detail = detail
        self.index = index


# --- the allowed keys ------------------------------------------------------------------------


@dataclass(frozen=True)
class SshKey:
    key_type: str
    blob: bytes  # the public key as ssh encodes it (what its fingerprint is taken of)
    principal: str  # the allowed-signers principals, else the key's comment ("" if none)
    options: str  # allowed-signers options (valid-after=..., namespaces=...), "" if none

    @property
    def fingerprint(self) -> str:
        return ssh_fingerprint(self.blob)


@dataclass(frozen=True)
class GpgKey:
    fingerprint: str  # the primary key's, 40 uppercase hex digits
    subkeys: tuple[str, ...]
    user_id: str  # the first user id, "" if none


@dataclass(frozen=True)
class Policy:
    """The signatures a git source requires: their kind and who may make them."""

    kind: str  # "ssh" or "gpg"
    ssh_keys: tuple[SshKey, ...] = ()
    gpg_keys: tuple[GpgKey, ...] = ()
    gpg_keyring: bytes = b""  # the allowed OpenPGP keys, binary, as gpg reads a keyring
    # Fingerprints listed in signers: only these keys (or subkeys) count; empty: all listed.
    gpg_only: frozenset[str] = frozenset()

    @property
    def digest(self) -> str:
        """Tells policies apart (to remember a verification for the rest of a run)."""
        digest = hashlib.sha256(self.kind.encode() + b"\0" + self.gpg_keyring)
        for fingerprint in sorted(self.gpg_only):
            digest.update(b"\0" + fingerprint.encode())
        for key in self.ssh_keys:
            digest.update(b"\0".join((b"", key.blob, key.options.encode(), key.principal.encode())))
        return digest.hexdigest()


def read_policy(kind: str, signers: Sequence[str], base: Path) -> Policy:
    """The policy ``verify = kind`` with ``signers`` describes; paths are relative to
    ``base`` (the directory of steps.toml). SignerError names the entry that is wrong."""
    if kind == "ssh":
        keys = tuple(key for i, text in enumerate(signers) for key in _ssh_entry(text, base, i))
        return Policy("ssh", ssh_keys=keys)
    keyring = b""
    gpg_keys: list[GpgKey] = []
    listed: dict[str, int] = {}
    for index, text in enumerate(signers):
        fingerprint = _fingerprint_entry(text, index)
        if fingerprint is not None:
            listed[fingerprint] = index
            continue
        armored, origin = _gpg_key_text(text, base, index)
        for data in _armored_keys(armored, origin, index):
            keyring += data
            gpg_keys.extend(_gpg_keys(data, index))
    if not gpg_keys:
        raise SignerError(
            "only fingerprints are listed: add the public keys too (armored, or a path to "
            "an .asc file; `gpg --armor --export KEY` writes one)"
        )
    known = {fp for key in gpg_keys for fp in (key.fingerprint, *key.subkeys)}
    for fingerprint, index in listed.items():
        if fingerprint not in known:
            raise SignerError(f"no key listed in signers has the fingerprint {fingerprint}", index)
    return Policy("gpg", gpg_keys=tuple(gpg_keys), gpg_keyring=keyring, gpg_only=frozenset(listed))


def _shown(text: str) -> str:
    """An entry as messages quote it: keys are long, so only their start."""
    first = text.strip().splitlines()[0] if text.strip() else text
    return first if len(first) <= 48 else first[:45] + "..."


def _signer_file(text: str, base: Path, index: int, kind: str) -> str:
    path = Path(text).expanduser()
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        raise SignerError(
            f"'{_shown(text)}' is neither {kind} nor a file (paths are relative to steps.toml)",
            index,
        )
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a text file"
        raise SignerError(f"cannot read {text}: {reason}", index) from None


# --- ssh keys --------------------------------------------------------------------------------


def _ssh_entry(text: str, base: Path, index: int) -> list[SshKey]:
    if _key_type_at(_tokens(text)) is not None:
        return [_ssh_line(text, index)]
    if "PGP PUBLIC KEY" in text:
        raise SignerError('this is an OpenPGP key, but verify = "ssh"', index)
    content = _signer_file(text, base, index, "an ssh public key")
    keys = []
    for number, line in enumerate(content.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            try:
                keys.append(_ssh_line(stripped, index))
            except SignerError as exc:
                raise SignerError(f"{text}:{number}: {exc.detail}", index) from None
    if not keys:
        raise SignerError(f"{text} holds no keys", index)
    return keys


def _tokens(line: str) -> list[str]:
    """Whitespace-separated fields; a double-quoted part (an option's value) stays whole."""
    return re.findall(r'(?:[^\s"]|"[^"]*")+', line)


def _key_type_at(tokens: list[str]) -> int | None:
    return next((i for i, token in enumerate(tokens) if token in SSH_KEY_TYPES), None)


def _ssh_line(line: str, index: int) -> SshKey:
    """An authorized-keys line (``TYPE BASE64 [COMMENT]``) or an allowed-signers line
    (``PRINCIPALS [OPTIONS] TYPE BASE64 [COMMENT]``)."""
    tokens = _tokens(line)
    at = _key_type_at(tokens)
    if at is None or at > 2:
        raise SignerError(
            "not an ssh public key: expected 'ssh-ed25519 AAAA... [comment]', optionally "
            "after a principal as in git's allowed-signers files",
            index,
        )
    key_type = tokens[at]
    if at + 1 >= len(tokens):
        raise SignerError(f"the {key_type} key has no key data after its type", index)
    blob = _ssh_blob(tokens[at + 1], key_type, index)
    options = tokens[1] if at == 2 else ""
    if "cert-authority" in options.split(","):
        raise SignerError(
            "cert-authority lines are not supported: list the signers' own keys", index
        )
    principal = tokens[0] if at > 0 else " ".join(tokens[at + 2 :])
    return SshKey(key_type, blob, principal, options)


def _ssh_blob(data: str, key_type: str, index: int) -> bytes:
    try:
        blob = base64.b64decode(data, validate=True)
        inner, _end = _ssh_string(blob, 0)
    except (binascii.Error, ValueError):
        raise SignerError(
            f"the {key_type} key's data is not valid base64 key data", index
        ) from None
    if inner.decode("ascii", "replace") != key_type:
        raise SignerError(
            f"the key data is a {inner.decode('ascii', 'replace')} key, not {key_type}", index
        )
    return blob


def _ssh_string(data: bytes, pos: int) -> tuple[bytes, int]:
    """An ssh wire-format string (a 4-byte length, then the bytes) at ``pos``."""
    if pos + 4 > len(data):
        raise ValueError("truncated")
    length = int.from_bytes(data[pos : pos + 4], "big")
    end = pos + 4 + length
    if end > len(data):
        raise ValueError("truncated")
    return data[pos + 4 : end], end


def ssh_fingerprint(blob: bytes) -> str:
    """``SHA256:...`` as ssh-keygen prints it."""
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


# --- OpenPGP keys ----------------------------------------------------------------------------


def _fingerprint_entry(text: str, index: int) -> str | None:
    compact = re.sub(r"\s", "", text).upper().removeprefix("0X")
    if _FINGERPRINT.fullmatch(compact):
        return compact
    if _KEY_ID.fullmatch(compact):
        raise SignerError(
            f"{text} is a key id, which others can forge: give the full 40-digit fingerprint "
            "(`gpg --fingerprint KEY`)",
            index,
        )
    return None


def _gpg_key_text(text: str, base: Path, index: int) -> tuple[str, str]:
    """The armored text an entry holds or names, and how messages call it."""
    if "-----BEGIN" in text:
        return text, "the key"
    if _key_type_at(_tokens(text)) is not None:
        raise SignerError('this is an ssh key, but verify = "gpg"', index)
    return _signer_file(text, base, index, "an armored OpenPGP key, a fingerprint"), text


def _armored_keys(text: str, origin: str, index: int) -> list[bytes]:
    blocks = _PGP_KEY_BLOCK.findall(text)
    if not blocks:
        raise SignerError(
            f"{origin} holds no armored OpenPGP public key (-----BEGIN PGP PUBLIC KEY "
            "BLOCK-----); `gpg --armor --export KEY` writes one",
            index,
        )
    return [_dearmor(block, origin, index) for block in blocks]


def _dearmor(block: str, origin: str, index: int) -> bytes:
    lines = [line.strip() for line in block.splitlines()]
    lines = [line for line in lines if line and not _ARMOR_HEADER.match(line)]
    checksum = lines.pop() if lines and lines[-1].startswith("=") else None
    try:
        data = base64.b64decode("".join(lines), validate=True)
        expected = base64.b64decode(checksum[1:], validate=True) if checksum else None
    except binascii.Error:
        raise SignerError(f"{origin} is damaged (not valid base64)", index) from None
    if expected is not None and _crc24(data).to_bytes(3, "big") != expected:
        raise SignerError(f"{origin} is damaged (its armor checksum differs)", index)
    return data


def _crc24(data: bytes) -> int:
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def _gpg_keys(data: bytes, index: int) -> list[GpgKey]:
    keys: list[GpgKey] = []
    for tag, body in _packets(data, index):
        if tag in (_SECRET_KEY, _SECRET_SUBKEY):
            raise SignerError(
                "this is a secret key: give the public key (`gpg --armor --export KEY`)", index
            )
        if tag == _PUBLIC_KEY:
            keys.append(GpgKey(_v4_fingerprint(body, index), (), ""))
        elif keys and tag == _PUBLIC_SUBKEY:
            last = keys[-1]
            subkeys = (*last.subkeys, _v4_fingerprint(body, index))
            keys[-1] = GpgKey(last.fingerprint, subkeys, last.user_id)
        elif keys and tag == _USER_ID and not keys[-1].user_id:
            last = keys[-1]
            keys[-1] = GpgKey(last.fingerprint, last.subkeys, body.decode("utf-8", "replace"))
    if not keys:
        raise SignerError("the armored block holds no public key", index)
    return keys


def _packets(data: bytes, index: int) -> Iterator[tuple[int, bytes]]:
    """The OpenPGP packets in ``data`` (RFC 4880 section 4.2), as (tag, body)."""
    pos = 0
    try:
        while pos < len(data):
            first = data[pos]
            if not first & 0x80:
                raise ValueError("not OpenPGP data")
            if first & 0x40:
                tag, (length, pos) = first & 0x3F, _new_length(data, pos + 1)
            else:
                tag, (length, pos) = (first >> 2) & 0x0F, _old_length(data, pos + 1, first & 3)
            if pos + length > len(data):
                raise ValueError("truncated")
            yield tag, data[pos : pos + length]
            pos += length
    except (ValueError, IndexError) as exc:
        raise SignerError(f"the armored key does not parse as OpenPGP ({exc})", index) from None


def _new_length(data: bytes, pos: int) -> tuple[int, int]:
    first = data[pos]
    if first < 192:
        return first, pos + 1
    if first < 224:
        return ((first - 192) << 8) + data[pos + 1] + 192, pos + 2
    if first == 255:
        return int.from_bytes(data[pos + 1 : pos + 5], "big"), pos + 5
    raise ValueError("partial packet lengths do not belong in a key")


def _old_length(data: bytes, pos: int, kind: int) -> tuple[int, int]:
    if kind == 3:
        return len(data) - pos, pos
    size = (1, 2, 4)[kind]
    return int.from_bytes(data[pos : pos + size], "big"), pos + size


def _v4_fingerprint(body: bytes, index: int) -> str:
    if not body or body[0] != 4:
        version = body[0] if body else "?"
        raise SignerError(f"OpenPGP version {version} keys are not supported (only 4)", index)
    return hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest().upper()


# --- verifying -------------------------------------------------------------------------------


# Why a signature is refused, for the advice that goes with it.
UNSIGNED = "unsigned"
UNKNOWN_KEY = "unknown key"  # sound, but made by a key signers does not allow
INVALID = "invalid"  # the object or its signature changed after signing
UNUSABLE = "unusable"  # another kind, unreadable, expired or revoked


@dataclass(frozen=True)
class Verdict:
    """Who signed (``signer``), or why the signature is refused: ``problem`` is a phrase that
    follows "tag v1.2.0 in URL ...", ``cause`` one of the causes above."""

    signer: str | None = None
    problem: str | None = None
    cause: str = ""


def refused(problem: str, cause: str) -> Verdict:
    return Verdict(problem=problem, cause=cause)


def verify(
    policy: Policy, payload: bytes, signature: bytes | None, *, signed_at: datetime
) -> Verdict:
    """Whether ``signature`` over ``payload`` (a git object without its signature) was made
    by a key ``policy`` allows; ``signed_at`` is when (for ssh keys valid for a period)."""
    if not signature:
        return refused("is not signed", UNSIGNED)
    found = signature_kind(signature)
    if found != policy.kind:
        return refused(
            f"is signed with {found}, but steps.toml accepts only {policy.kind} signatures "
            f'(verify = "{policy.kind}")',
            UNUSABLE,
        )
    if policy.kind == "ssh":
        return _verify_ssh(policy, payload, signature, signed_at)
    return _verify_gpg(policy, payload, signature)


def signature_kind(signature: bytes) -> str:
    start = signature.lstrip()
    return next(
        (kind for armor, kind in _SIGNATURE_KINDS.items() if start.startswith(armor)),
        "an unknown kind of signature",
    )


def same_key(signer: str, other: str) -> bool:
    """Whether two signers (``ssh SHA256:... name``) name the same key: the name after it
    is for people, and may be edited without the key changing."""
    return signer.split()[:2] == other.split()[:2]


def _verify_ssh(policy: Policy, payload: bytes, signature: bytes, signed_at: datetime) -> Verdict:
    try:
        blob, namespace = _ssh_signature_key(signature)
    except (ValueError, UnicodeDecodeError):
        return refused("has an ssh signature that cannot be read", INVALID)
    fingerprint = ssh_fingerprint(blob)
    allowed = [key for key in policy.ssh_keys if key.blob == blob]
    if not allowed:
        return refused(
            f"is signed by ssh key {fingerprint}, which is not in 'signers'", UNKNOWN_KEY
        )
    if namespace != GIT_NAMESPACE:
        return refused(f"has an ssh signature made for '{namespace}', not for git", UNUSABLE)
    program = _program("ssh")
    with tempfile.TemporaryDirectory(prefix="steps-ssh-") as scratch:
        allowed_file, signature_file = Path(scratch, "allowed_signers"), Path(scratch, "sig")
        lines = [_allowed_line(key) for key in allowed]
        allowed_file.write_text("".join(lines), encoding="utf-8")
        signature_file.write_bytes(signature)
        done = _run(
            [program, "-Y", "verify", "-f", str(allowed_file), "-I", _PRINCIPAL,
             "-n", GIT_NAMESPACE, "-s", str(signature_file),
             f"-Overify-time={signed_at:%Y%m%d%H%M%S}Z"],
            payload,
        )  # fmt: skip
    if done.returncode != 0:
        return refused(f"has an ssh signature that does not verify ({_said(done)})", INVALID)
    return Verdict(signer=f"ssh {fingerprint} {allowed[0].principal}".rstrip())


def _allowed_line(key: SshKey) -> str:
    encoded = base64.b64encode(key.blob).decode()
    options = f" {key.options}" if key.options else ""
    return f"{_PRINCIPAL}{options} {key.key_type} {encoded}\n"


def _ssh_signature_key(signature: bytes) -> tuple[bytes, str]:
    """The public key and namespace inside an armored SSHSIG (OpenSSH's PROTOCOL.sshsig)."""
    text = signature.decode("ascii").strip()
    body = text.removeprefix("-----BEGIN SSH SIGNATURE-----")
    body = body.removesuffix("-----END SSH SIGNATURE-----")
    data = base64.b64decode("".join(body.split()), validate=True)
    if not data.startswith(b"SSHSIG"):
        raise ValueError("not an SSHSIG blob")
    key, pos = _ssh_string(data, 6 + 4)  # after the magic and the version
    namespace, _pos = _ssh_string(data, pos)
    return key, namespace.decode("utf-8")


def _verify_gpg(policy: Policy, payload: bytes, signature: bytes) -> Verdict:
    program = _program("gpg")
    with tempfile.TemporaryDirectory(prefix="steps-gpg-") as home:
        Path(home).chmod(0o700)
        keyring, signature_file = Path(home, "allowed.gpg"), Path(home, "sig")
        keyring.write_bytes(policy.gpg_keyring)
        signature_file.write_bytes(signature)
        done = _run(
            [program, "--homedir", home, "--batch", "--no-autostart", "--no-default-keyring",
             "--keyring", str(keyring), "--trust-model", "always", "--status-fd", "1",
             "--verify", str(signature_file), "-"],
            payload,
        )  # fmt: skip
    return _gpg_verdict(policy, _status(done.stdout), done)


def _status(output: bytes) -> dict[str, list[str]]:
    """gpg's ``[GNUPG:] KEYWORD ARGS`` lines, by keyword (the first of each)."""
    found: dict[str, list[str]] = {}
    for line in output.decode("utf-8", "replace").splitlines():
        if line.startswith("[GNUPG:] "):
            keyword, *args = line.removeprefix("[GNUPG:] ").split()
            found.setdefault(keyword, args)
    return found


def _gpg_verdict(
    policy: Policy, status: dict[str, list[str]], done: subprocess.CompletedProcess[bytes]
) -> Verdict:
    if "BADSIG" in status:
        return refused("has a gpg signature that does not verify (BADSIG)", INVALID)
    if "ERRSIG" in status:
        args = status["ERRSIG"]
        key = args[6] if len(args) > 6 and args[6] != "-" else args[0]
        if len(args) > 5 and args[5] == "9":  # no public key: not one of the allowed
            return refused(f"is signed by gpg key {key}, which is not in 'signers'", UNKNOWN_KEY)
        return refused(f"has a gpg signature gpg cannot check (ERRSIG, key {key})", UNUSABLE)
    for keyword, fact in (("REVKEYSIG", "revoked"), ("EXPKEYSIG", "expired")):
        if keyword in status:
            key = status[keyword][0]
            return refused(f"is signed by gpg key {key}, which has {fact}", UNUSABLE)
    if "EXPSIG" in status:
        return refused("has a gpg signature that has expired", UNUSABLE)
    if "GOODSIG" not in status or "VALIDSIG" not in status:
        return refused(f"has a gpg signature gpg could not verify ({_said(done)})", UNUSABLE)
    args = status["VALIDSIG"]
    signing, primary = args[0], args[9] if len(args) > 9 else args[0]
    if policy.gpg_only and not {signing, primary} & policy.gpg_only:
        return refused(
            f"is signed by gpg key {primary}, which is not among the fingerprints in 'signers'",
            UNKNOWN_KEY,
        )
    user_id = next((k.user_id for k in policy.gpg_keys if k.fingerprint == primary), "")
    return Verdict(signer=f"gpg {primary} {user_id}".rstrip())


def _said(done: subprocess.CompletedProcess[bytes]) -> str:
    """The last thing a program said, for a message."""
    text = (done.stderr or done.stdout).decode("utf-8", "replace").strip()
    return text.splitlines()[-1] if text else f"exit status {done.returncode}"


def _program(kind: str) -> str:
    name, package = _PROGRAMS[kind]
    found = shutil.which(name)
    if found is None:
        raise StepsError(
            f"verifying {kind} signatures needs {name}, which is not installed",
            hint=f"install {package} (on Debian and Ubuntu: apt-get install {package})",
        )
    return found


def _run(command: list[str], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    name = Path(command[0]).name
    try:
        return subprocess.run(
            command, input=stdin, capture_output=True, timeout=_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise StepsError(
            f"{name} did not finish verifying a signature within {_TIMEOUT:g} s",
            hint=f"check that {command[0]} runs on its own",
        ) from None
    except OSError as exc:
        raise StepsError(f"cannot run {name}: {exc.strerror or exc}") from None
