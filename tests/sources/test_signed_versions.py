"""Signed tags and commits through the git source: verified at lock, verified again at sync."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from steptemplates import signatures
from steptemplates.cache import Cache
from steptemplates.console import Console
from steptemplates.errors import LockMismatchError, OfflineError, StepsError
from steptemplates.lockfile import LockedTemplate
from steptemplates.manifest import GitRequirement, TemplateRef
from steptemplates.sources import SourceContext, lock_identity
from steptemplates.sources.git import GitSource
from tests.support.gitserver import ServedRepo
from tests.support.projects import write_template
from tests.support.signing import (
    Signer,
    gpg_signer,
    needs_gpg,
    needs_ssh_keygen,
    ssh_signer,
    stop_gpg_agent,
    tamper,
)


@pytest.fixture(scope="module")
def alice(tmp_path_factory: pytest.TempPathFactory) -> Signer:
    return ssh_signer(tmp_path_factory.mktemp("alice"), "alice@example.com")


@pytest.fixture(scope="module")
def mallory(tmp_path_factory: pytest.TempPathFactory) -> Signer:
    return ssh_signer(tmp_path_factory.mktemp("mallory"), "mallory@example.com")


@pytest.fixture(scope="module")
def carol() -> Iterator[Signer]:
    signer = gpg_signer("Carol <carol@example.com>")
    yield signer
    stop_gpg_agent(signer)


def release(repo: ServedRepo, version: str) -> str:
    write_template(repo, name="greet", script=f"echo greet {version}\n")
    return repo.commit(f"release {version}")


def source(tmp_path: Path, *, offline: bool = False, policies: dict[str, str] | None = None,
           signers: tuple[str, ...] = ()) -> GitSource:  # fmt: skip
    """A git source; ``policies`` (URL -> kind) are what a sync checks, with ``signers``."""
    checked = {
        url: signatures.read_policy(kind, signers, tmp_path)
        for url, kind in (policies or {}).items()
    }
    context = SourceContext(
        Cache(), Console(io.StringIO(), io.StringIO()), offline, signatures=checked
    )
    return GitSource(context, manifest_dir=tmp_path)


def ref(
    url: str, signer: Signer, *keys: tuple[str, str], signers: tuple[str, ...] = ()
) -> TemplateRef:
    requirement = GitRequirement(
        url=url, verify=signer.kind, signers=signers or (signer.entry,), **dict(keys)
    )
    return TemplateRef("greet", requirement)


def refused(call: Callable[[], object], error: type[StepsError] = StepsError) -> str:
    with pytest.raises(error) as raised:
        call()
    return str(raised.value)


# --- at lock ---------------------------------------------------------------------------------


@needs_ssh_keygen
def test_an_ssh_signed_tag_locks_and_records_its_signer(
    tmp_path: Path, remote_repo: Callable[[str], ServedRepo], alice: Signer
) -> None:
    repo = remote_repo("ssh-signed")
    commit = release(repo, "1.0.0")
    alice.tag(repo, "v1.0.0")
    wanted = ref(repo.file_url, alice, ("version", "^1.0"))

    entry = source(tmp_path).lock(wanted)

    assert (entry.tag, entry.commit) == ("v1.0.0", commit)
    assert entry.signer == f"ssh {alice.fingerprint} alice@example.com"
    assert entry.requested == "^1.0 verify=ssh"
    assert lock_identity(wanted)["requested"] == entry.requested


@needs_gpg
def test_a_gpg_signed_tag_locks_and_records_its_signer(
    tmp_path: Path, remote_repo: Callable[[str], ServedRepo], carol: Signer
) -> None:
    repo = remote_repo("gpg-signed")
    release(repo, "1.0.0")
    carol.tag(repo, "v1.0.0")

    entry = source(tmp_path).lock(ref(repo.file_url, carol, ("tag", "v1.0.0")))

    assert entry.signer == f"gpg {carol.fingerprint} Carol <carol@example.com>"


@needs_ssh_keygen
@pytest.mark.parametrize("annotated", [False, True])
def test_an_unsigned_tag_is_refused(
    tmp_path: Path, remote_repo: Callable[[str], ServedRepo], alice: Signer, annotated: bool
) -> None:
    repo = remote_repo("unsigned")
    release(repo, "1.0.0")
    repo.tag("v1.0.0", message="release" if annotated else None)

    message = refused(lambda: source(tmp_path).lock(ref(repo.file_url, alice, ("tag", "v1.0.0"))))

    fact = "is not signed" + ("" if annotated else ": it is a lightweight tag")
    assert message.startswith(f"template 'greet': tag v1.0.0 in {repo.file_url} {fact}")
    assert "pin a tag that is signed" in message


@needs_ssh_keygen
def test_a_tag_signed_by_another_key_is_refused(
    tmp_path: Path, remote_repo: Callable[[str], ServedRepo], alice: Signer, mallory: Signer
) -> None:
    repo = remote_repo("other-key")
    release(repo, "1.0.0")
    mallory.tag(repo, "v1.0.0")

    message = refused(lambda: source(tmp_path).lock(ref(repo.file_url, alice, ("tag", "v1.0.0"))))

    assert message == (
        f"template 'greet': tag v1.0.0 in {repo.file_url} is signed by ssh key "
        f"{mallory.fingerprint}, which is not in 'signers'; if you trust that key, add it to "
        "'signers' in steps.toml (docs/provenance.md)"
    )


@needs_ssh_keygen
def test_a_tampered_tag_is_refused(
    tmp_path: Path, remote_repo: Callable[[str], ServedRepo], alice: Signer
) -> None:
    repo = remote_repo("tampered")
    release(repo, "1.0.0")
    alice.tag(repo, "v1.0.0")
    tamper(repo, "v1.0.0")

    message = refused(lambda: source(tmp_path).lock(ref(repo.file_url, alice, ("tag", "v1.0.0"))))

    assert f"tag v1.0.0 in {repo.file_url} has an ssh signature that does not verify (" in message


@needs_gpg
def test_a_tampered_gpg_tag_is_refused(
    tmp_path: Path, remote_repo: Callable[[str], ServedRepo], carol: Signer
) -> None:
    repo = remote_repo("tampered-gpg")
    release(repo, "1.0.0")
    carol.tag(repo, "v1.0.0")
    tamper(repo, "v1.0.0")

    message = refused(lambda: source(tmp_path).lock(ref(repo.file_url, carol, ("tag", "v1.0.0"))))

    assert "tag v1.0.0 in" in message and "has a gpg signature that does not verify" in message


@needs_ssh_keygen
def test_an_unsigned_newest_version_is_refused_not_skipped(
    tmp_path: Path, remote_repo: Callable[[str], ServedRepo], alice: Signer
) -> None:
    repo = remote_repo("forged-newest")
    release(repo, "1.0.0")
    alice.tag(repo, "v1.0.0")
    release(repo, "1.1.0")
    repo.tag("v1.1.0", message="looks like a release")

    message = refused(lambda: source(tmp_path).lock(ref(repo.file_url, alice, ("version", "^1.0"))))

    assert message.startswith(f"template 'greet': tag v1.1.0 in {repo.file_url} is not signed;")
    assert "steps never falls back to an older one by itself: pin a signed version" in message
    # The older signed version is still there for whoever pins it.
    pinned = source(tmp_path).lock(ref(repo.file_url, alice, ("tag", "v1.0.0")))
    assert pinned.signer == alice.signer


@needs_ssh_keygen
def test_a_signed_tag_object_moved_under_another_name_is_refused(
    tmp_path: Path, remote_repo: Callable[[str], ServedRepo], alice: Signer
) -> None:
    repo = remote_repo("replayed")
    release(repo, "1.0.0")
    signed = alice.tag(repo, "v1.0.0")
    repo.git("update-ref", "refs/tags/v9.0.0", signed)

    message = refused(lambda: source(tmp_path).lock(ref(repo.file_url, alice, ("version", "*"))))

    assert "tag v9.0.0" in message
    assert "points to a tag object made as 'v1.0.0', not as 'v9.0.0'" in message


@needs_ssh_keygen
@needs_gpg
def test_a_gpg_signature_where_ssh_is_required_is_refused(
    tmp_path: Path, remote_repo: Callable[[str], ServedRepo], alice: Signer
) -> None:
    repo = remote_repo("other-kind")
    release(repo, "1.0.0")
    other = gpg_signer("Eve <eve@example.com>")
    try:
        other.tag(repo, "v1.0.0")
    finally:
        stop_gpg_agent(other)

    message = refused(lambda: source(tmp_path).lock(ref(repo.file_url, alice, ("tag", "v1.0.0"))))

    assert (
        'is signed with gpg, but steps.toml accepts only ssh signatures (verify = "ssh")' in message
    )


@needs_ssh_keygen
def test_a_branch_pin_checks_the_commit_signature(
    tmp_path: Path, remote_repo: Callable[[str], ServedRepo], alice: Signer
) -> None:
    repo = remote_repo("signed-branch")
    write_template(repo, name="greet", script="echo signed\n")
    signed = alice.commit(repo)
    wanted = ref(repo.file_url, alice, ("branch", "main"))

    entry = source(tmp_path).lock(wanted)
    assert (entry.commit, entry.signer, entry.tag) == (signed, alice.signer, None)

    write_template(repo, name="greet", script="echo unsigned\n")
    unsigned = repo.commit("not signed")
    message = refused(lambda: source(tmp_path).lock(wanted))
    assert message.startswith(
        f"template 'greet': commit {unsigned[:12]} (branch main) in {repo.file_url} is not signed;"
    )
    assert "pin a signed commit with 'rev'" in message
    by_rev = source(tmp_path).lock(ref(repo.file_url, alice, ("rev", signed[:10])))
    assert by_rev.signer == alice.signer


@needs_ssh_keygen
def test_the_tag_object_is_fetched_when_the_mirror_has_only_the_commit(
    tmp_path: Path, remote_repo: Callable[[str], ServedRepo], alice: Signer
) -> None:
    repo = remote_repo("commit-first")
    commit = release(repo, "1.0.0")
    alice.tag(repo, "v1.0.0")
    plain = source(tmp_path).lock(
        TemplateRef("greet", GitRequirement(url=repo.git_url, rev=commit))
    )
    assert plain.signer is None and plain.requested == f"rev={commit}"

    entry = source(tmp_path).lock(ref(repo.git_url, alice, ("tag", "v1.0.0")))

    assert entry.signer == alice.signer


# --- at sync ---------------------------------------------------------------------------------


def locked(
    tmp_path: Path, repo: ServedRepo, signer: Signer, url: str | None = None
) -> LockedTemplate:
    release(repo, "1.0.0")
    signer.tag(repo, "v1.0.0")
    return source(tmp_path).lock(ref(url or repo.file_url, signer, ("version", "^1.0")))


@needs_ssh_keygen
def test_sync_verifies_again_over_git_daemon(
    tmp_path: Path, remote_repo: Callable[[str], ServedRepo], alice: Signer
) -> None:
    repo = remote_repo("daemon")
    entry = locked(tmp_path, repo, alice, repo.git_url)
    # A fresh cache: the sync fetches the commit and the tag object again.
    shutil.rmtree(Cache().root)

    syncing = source(tmp_path, policies={repo.git_url: "ssh"}, signers=(alice.entry,))
    path = syncing.materialize(entry)

    assert (path / "run.sh").read_text() == "echo greet 1.0.0\n"


@needs_ssh_keygen
def test_sync_refuses_a_version_whose_signer_left_signers(
    tmp_path: Path, remote_repo: Callable[[str], ServedRepo], alice: Signer, mallory: Signer
) -> None:
    repo = remote_repo("rotated")
    entry = locked(tmp_path, repo, alice)

    syncing = source(tmp_path, policies={repo.file_url: "ssh"}, signers=(mallory.entry,))
    message = refused(lambda: syncing.materialize(entry), LockMismatchError)

    assert message == (
        f"template 'greet': tag v1.0.0 in {repo.file_url}, pinned by steps.lock, is signed by "
        f"ssh key {alice.fingerprint}, which is not in 'signers'; pin a version signed by a "
        "key in 'signers', then run `steps lock --upgrade-template greet`"
    )


@needs_ssh_keygen
def test_sync_refuses_a_lock_entry_without_a_signer(
    tmp_path: Path, remote_repo: Callable[[str], ServedRepo], alice: Signer
) -> None:
    repo = remote_repo("no-signer")
    entry = replace(locked(tmp_path, repo, alice), signer=None)

    syncing = source(tmp_path, policies={repo.file_url: "ssh"}, signers=(alice.entry,))
    message = refused(lambda: syncing.from_cache(entry), LockMismatchError)

    assert message == (
        f"template 'greet': steps.toml requires ssh signatures from {repo.file_url}, but "
        "steps.lock records no signer for tag v1.0.0; run `steps lock` to verify it and "
        "record who signed it"
    )


@needs_ssh_keygen
def test_sync_refuses_a_signer_other_than_the_locked_one(
    tmp_path: Path, remote_repo: Callable[[str], ServedRepo], alice: Signer, mallory: Signer
) -> None:
    repo = remote_repo("re-signed")
    entry = locked(tmp_path, repo, alice)
    both = (alice.entry, mallory.entry)
    recorded = replace(entry, signer=f"ssh {mallory.fingerprint} alice@example.com")

    syncing = source(tmp_path, policies={repo.file_url: "ssh"}, signers=both)
    message = refused(lambda: syncing.from_cache(recorded), LockMismatchError)

    assert (
        f"is signed by {alice.signer}, but steps.lock records ssh {mallory.fingerprint}" in message
    )
    # The name after the key is for people: a renamed key is the same signer.
    renamed = replace(entry, signer=f"ssh {alice.fingerprint} alice (work laptop)")
    assert syncing.from_cache(renamed) is not None


@needs_ssh_keygen
def test_an_offline_sync_verifies_from_the_mirror(
    tmp_path: Path, remote_repo: Callable[[str], ServedRepo], alice: Signer, mallory: Signer
) -> None:
    repo = remote_repo("offline")
    entry = locked(tmp_path, repo, alice, repo.git_url)

    offline = source(tmp_path, offline=True, policies={repo.git_url: "ssh"}, signers=(alice.entry,))
    assert offline.from_cache(entry) == Cache().entry_path(entry.integrity or "")

    removed = source(
        tmp_path, offline=True, policies={repo.git_url: "ssh"}, signers=(mallory.entry,)
    )
    message = refused(lambda: removed.from_cache(entry), LockMismatchError)
    assert "which is not in 'signers'" in message


@needs_ssh_keygen
def test_an_offline_sync_without_the_tag_object_says_so(
    tmp_path: Path, remote_repo: Callable[[str], ServedRepo], alice: Signer
) -> None:
    repo = remote_repo("offline-bare")
    commit = release(repo, "1.0.0")
    alice.tag(repo, "v1.0.0")
    # Locked without verification: the mirror holds the commit but never fetched the tag.
    plain = source(tmp_path).lock(
        TemplateRef("greet", GitRequirement(url=repo.file_url, rev=commit))
    )
    entry = replace(plain, tag="v1.0.0", version="1.0.0", signer=alice.signer)

    offline = source(
        tmp_path, offline=True, policies={repo.file_url: "ssh"}, signers=(alice.entry,)
    )
    message = refused(lambda: offline.from_cache(entry), OfflineError)

    assert message == (
        "template 'greet': cannot check the signature of tag v1.0.0: the git mirror in the "
        "cache lacks it, and --offline forbids fetching it; run `steps sync` once without "
        "--offline"
    )
    online = source(tmp_path, policies={repo.file_url: "ssh"}, signers=(alice.entry,))
    assert online.from_cache(entry) is None  # the tag object needs the network
    assert online.materialize(entry).is_dir()
