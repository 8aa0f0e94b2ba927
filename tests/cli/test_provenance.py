"""`steps lock` and `steps sync` with signed versions required (verify and signers)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.gitserver import ServedRepo
from tests.support.projects import Steps, write_template
from tests.support.signing import Signer, gpg_signer, needs_gpg, needs_ssh_keygen, ssh_signer
from tests.support.signing import stop_gpg_agent as stop


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


def released(repo: ServedRepo, signer: Signer, *versions: str) -> ServedRepo:
    for version in versions:
        write_template(repo, name="greet", script=f"echo greet {version}\n")
        repo.commit(f"release {version}")
        signer.tag(repo, f"v{version}")
    return repo


def use(steps: Steps, url: str, *, verify: str | None = None, signers: str = "") -> None:
    lines = ["[templates.greet]", f'git = "{url}"', 'version = "^1.0"']
    if verify:
        lines += [f'verify = "{verify}"', f"signers = [{signers}]"]
    steps.write("\n".join(lines) + "\n")


@needs_ssh_keygen
def test_lock_records_the_signer_and_sync_checks_it_online_and_offline(
    steps: Steps, remote_repo: Callable[[str], ServedRepo], alice: Signer
) -> None:
    repo = released(remote_repo("signed"), alice, "1.0.0", "1.1.0")
    (steps.directory / "keys").mkdir()
    alice.write_public(steps.directory / "keys" / "alice.pub")
    use(steps, repo.git_url, verify="ssh", signers='"keys/alice.pub"')

    steps.ok("lock")
    steps.ok("sync")
    steps.ok("sync", "--offline", "--frozen")

    entry = steps.lock()["greet"]
    assert (entry["tag"], entry["requested"]) == ("v1.1.0", "^1.0 verify=ssh")
    assert entry["signer"] == f"ssh {alice.fingerprint} alice@example.com"


@needs_gpg
def test_a_gpg_signed_release_locks_with_an_asc_file(
    steps: Steps, remote_repo: Callable[[str], ServedRepo], carol: Signer
) -> None:
    repo = released(remote_repo("gpg"), carol, "1.0.0")
    carol.write_public(steps.directory / "carol.asc")
    use(steps, repo.http_url, verify="gpg", signers=f'"carol.asc", "{carol.fingerprint}"')

    steps.ok("sync")

    assert steps.lock()["greet"]["signer"] == f"gpg {carol.fingerprint} Carol <carol@example.com>"


@needs_ssh_keygen
def test_a_lock_made_before_verify_was_set_is_out_of_date(
    steps: Steps, remote_repo: Callable[[str], ServedRepo], alice: Signer
) -> None:
    repo = released(remote_repo("later"), alice, "1.0.0")
    use(steps, repo.file_url)
    steps.ok("lock")
    assert "signer" not in steps.lock()["greet"]
    use(steps, repo.file_url, verify="ssh", signers=f'"{alice.entry}"')

    stale = steps.fails("lock", "--locked")
    frozen = steps.fails("sync", "--frozen")
    relocked = steps.ok("lock")

    assert stale.error == (
        "steps.lock is out of date with steps.toml (greet: requested changed from '^1.0' to "
        "'^1.0 verify=ssh'); run `steps lock` and commit the result"
    )
    assert frozen.error == (
        f"template 'greet': steps.toml requires ssh signatures from {repo.file_url}, but "
        "steps.lock records no signer for tag v1.0.0; run `steps lock` to verify it and "
        "record who signed it"
    )
    assert "updated greet 1.0.0 (requested '^1.0' -> '^1.0 verify=ssh')" in relocked.err
    assert steps.lock()["greet"]["signer"] == alice.signer


@needs_ssh_keygen
def test_sync_refuses_a_version_whose_key_was_removed_from_signers(
    steps: Steps, remote_repo: Callable[[str], ServedRepo], alice: Signer, bob: Signer
) -> None:
    repo = released(remote_repo("rotated"), alice, "1.0.0")
    use(steps, repo.file_url, verify="ssh", signers=f'"{alice.entry}"')
    steps.ok("sync")
    use(steps, repo.file_url, verify="ssh", signers=f'"{bob.entry}"')

    refused = steps.fails("sync")

    assert refused.error == (
        f"template 'greet': tag v1.0.0 in {repo.file_url}, pinned by steps.lock, is signed by "
        f"ssh key {alice.fingerprint}, which is not in 'signers'; pin a version signed by a "
        "key in 'signers', then run `steps lock --upgrade-template greet`"
    )


@needs_ssh_keygen
def test_an_unsigned_newest_release_fails_the_lock_and_writes_nothing(
    steps: Steps, remote_repo: Callable[[str], ServedRepo], alice: Signer
) -> None:
    repo = released(remote_repo("forged"), alice, "1.0.0")
    write_template(repo, name="greet", script="echo forged\n")
    repo.commit("forged")
    repo.tag("v1.0.1", message="release v1.0.1")
    use(steps, repo.git_url, verify="ssh", signers=f'"{alice.entry}"')

    refused = steps.fails("lock")

    assert refused.error.startswith(
        f"template 'greet': tag v1.0.1 in {repo.git_url} is not signed;"
    )
    assert not steps.lock_path.exists()


@needs_ssh_keygen
def test_templates_from_one_repository_must_agree_on_signatures(
    steps: Steps, remote_repo: Callable[[str], ServedRepo], alice: Signer
) -> None:
    repo = released(remote_repo("agree"), alice, "1.0.0")
    steps.write(
        f'[templates.greet]\ngit = "{repo.file_url}"\nverify = "ssh"\nsigners = ["{alice.entry}"]\n'
        f'[templates.plain]\ngit = "{repo.file_url}"\n'
    )

    refused = steps.fails("lock")

    assert refused.error == (
        f"steps.toml: template 'greet' and template 'plain' come from the same repository "
        f"{repo.file_url} but ask for different signatures; give both the same 'verify' and "
        "'signers' (docs/provenance.md)"
    )


def test_a_signer_that_does_not_parse_is_a_file_and_line_error(steps: Steps) -> None:
    steps.write(
        '[templates.greet]\ngit = "https://example.com/t.git"\nverify = "gpg"\n'
        'signers = ["0123 4567 89AB CDEF"]\n'
    )

    refused = steps.fails("lock")

    assert refused.error.startswith(
        "steps.toml:4: template 'greet': signers[0]: 0123 4567 89AB CDEF is a key id, which "
        "others can forge: give the full 40-digit fingerprint"
    )
