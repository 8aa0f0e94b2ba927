"""Real signing keys made for a test (ssh-keygen and gpg), and tags and commits signed with
them through the git CLI, as a maintainer would sign a release."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.gitserver import GitRepo, git_env

needs_ssh_keygen = pytest.mark.skipif(
    shutil.which("ssh-keygen") is None, reason="ssh-keygen (openssh-client) is not installed"
)
needs_gpg = pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg is not installed")


def _run(*command: str, env: dict[str, str] | None = None, stdin: bytes = b"") -> str:
    done = subprocess.run(
        command, input=stdin, capture_output=True, env=env, timeout=60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.decode().strip()}")
    return done.stdout.decode()


@dataclass(frozen=True)
class Signer:
    """A key that signs git tags and commits; ``entry`` is how steps.toml lists it."""

    kind: str  # "ssh" or "gpg"
    entry: str  # the public key line, or the armored public key
    fingerprint: str  # SHA256:... for ssh, 40 hex digits for gpg
    name: str  # the key's comment (ssh) or user id (gpg)
    private_key: Path | None = None  # ssh
    home: Path | None = None  # GNUPGHOME holding a gpg key

    @property
    def git_options(self) -> tuple[str, ...]:
        """How git is told to sign with this key."""
        if self.private_key is not None:
            public = self.private_key.with_suffix(".pub")
            return ("-c", "gpg.format=ssh", "-c", f"user.signingkey={public}")
        return ("-c", "gpg.format=openpgp", "-c", f"user.signingkey={self.fingerprint}")

    @property
    def signer(self) -> str:
        """What steps.lock records for a version this key signed."""
        prefix = "ssh" if self.kind == "ssh" else "gpg"
        return f"{prefix} {self.fingerprint} {self.name}"

    def env(self) -> dict[str, str]:
        return {**git_env(), **({"GNUPGHOME": str(self.home)} if self.home else {})}

    def git(self, repo: GitRepo, *args: str) -> str:
        return _run("git", "-C", str(repo.path), *self.git_options, *args, env=self.env())

    def tag(self, repo: GitRepo, name: str, commit: str = "HEAD") -> str:
        """A signed annotated tag; returns the tag object's sha."""
        self.git(repo, "tag", "-s", "-m", f"release {name}", name, commit)
        return repo.rev_parse(f"refs/tags/{name}")

    def commit(self, repo: GitRepo, message: str = "signed change") -> str:
        """Commit everything in the work tree, signed; returns the commit sha."""
        repo.git("add", "--all")
        self.git(repo, "commit", "--quiet", "-S", "--allow-empty", "-m", message)
        return repo.rev_parse("HEAD")

    def sign(self, data: bytes, *, namespace: str = "git") -> bytes:
        """A detached, armored signature of ``data``, as git makes one for an object."""
        if self.private_key is not None:
            key = str(self.private_key)
            command = ["ssh-keygen", "-q", "-Y", "sign", "-n", namespace, "-f", key]
        else:
            command = ["gpg", "--batch", "--armor", "--detach-sign", "-u", self.fingerprint]
        return _run(*command, env=self.env(), stdin=data).encode()

    def write_public(self, path: Path) -> Path:
        """The public key in a file, as a signers path names it (.pub or .asc)."""
        path.write_text(self.entry + "\n", encoding="utf-8")
        return path


def ssh_signer(directory: Path, comment: str) -> Signer:
    """A new ed25519 key without a passphrase, as `ssh-keygen -t ed25519 -N ''` makes it."""
    private = directory / comment.split("@")[0]
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(private))
    public = private.with_suffix(".pub")
    fingerprint = _run("ssh-keygen", "-l", "-E", "sha256", "-f", str(public)).split()[1]
    return Signer("ssh", public.read_text().strip(), fingerprint, comment, private_key=private)


def gpg_signer(user_id: str) -> Signer:
    """A new ed25519 OpenPGP key without a passphrase, in a GNUPGHOME of its own (short,
    under the temporary directory, so the agent's socket path fits). Stop its agent with
    ``stop_gpg_agent`` when done."""
    home = Path(tempfile.mkdtemp(prefix="gpg-"))
    home.chmod(0o700)
    env = {**git_env(), "GNUPGHOME": str(home)}
    _run("gpg", "--batch", "--passphrase", "", "--quick-gen-key", user_id, "ed25519", "sign",
         "never", env=env)  # fmt: skip
    listing = _run("gpg", "--batch", "--with-colons", "--list-keys", user_id, env=env)
    fingerprint = next(
        line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")
    )
    armored = _run("gpg", "--batch", "--armor", "--export", fingerprint, env=env).strip()
    return Signer("gpg", armored, fingerprint, user_id, home=home)


def stop_gpg_agent(signer: Signer) -> None:
    """Stop the agent gpg started to sign, and remove the key's home."""
    if signer.home is not None:
        subprocess.run(
            ["gpgconf", "--homedir", str(signer.home), "--kill", "all"],
            capture_output=True,
            timeout=30,
            check=False,
        )
        shutil.rmtree(signer.home, ignore_errors=True)


def tamper(repo: GitRepo, tag: str) -> str:
    """Replace ``tag`` by a copy of its tag object with another message but the same
    signature, as an attacker editing a release note would; returns the new object."""
    raw = repo.git("cat-file", "tag", tag) + "\n"
    forged = raw.replace(f"release {tag}", f"release {tag} (edited)", 1)
    assert forged != raw
    done = subprocess.run(
        ["git", "-C", str(repo.path), "mktag"],
        input=forged.encode(),
        capture_output=True,
        env=git_env(),
        check=True,
    )
    sha = done.stdout.decode().strip()
    repo.git("update-ref", f"refs/tags/{tag}", sha)
    return sha
