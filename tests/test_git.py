"""The git source against real repositories: plain paths, file://, git daemon and smart HTTP."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from dulwich.repo import Repo

from steptemplates import git
from steptemplates.errors import NetworkError, StepsError
from tests.support.gitserver import (
    HTTP_TOKEN,
    HTTP_USER,
    ServedRepo,
    SmartHttpServer,
    free_port,
)
from tests.support.gitserver import git as run_git

TRANSPORTS = ["path", "file", "git", "http"]


def url_of(repo: ServedRepo, transport: str) -> str:
    return {
        "path": str(repo.path),
        "file": repo.file_url,
        "git": repo.git_url,
        "http": repo.http_url,
    }[transport]


@dataclass(frozen=True)
class History:
    """A served repository with tags of both kinds, a second branch and a commit no ref names."""

    repo: ServedRepo
    initial: str  # no ref points here
    v1: str  # annotated tag v1.0.0
    v1_tag_object: str
    v1_1: str  # lightweight tag v1.1.0
    v2: str  # annotated tag v2.0.0, tip of main
    develop: str  # tip of the develop branch, branched from v1.0.0


@pytest.fixture
def history(remote_repo: Callable[[str], ServedRepo]) -> History:
    repo = remote_repo("history")
    repo.write("README.md", "templates\n")
    initial = repo.commit("initial")
    repo.write("templates/hello/step.yaml", "name: hello\n")
    repo.write("templates/hello/run.sh", "echo hello\n", mode=0o755)
    v1 = repo.commit("add hello")
    v1_tag_object = repo.tag("v1.0.0", message="first release")
    repo.write("templates/hello/run.sh", "echo hello again\n", mode=0o755)
    v1_1 = repo.commit("say it again")
    repo.tag("v1.1.0")
    repo.write("templates/hello/run.sh", "echo hello, world\n", mode=0o755)
    v2 = repo.commit("greet the world")
    repo.tag("v2.0.0", message="second release")
    repo.branch("develop", v1)
    repo.checkout("develop")
    repo.write("templates/hello/extra.txt", "extra\n")
    develop = repo.commit("develop work")
    repo.checkout("main")
    return History(repo, initial, v1, v1_tag_object, v1_1, v2, develop)


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    return tmp_path / "mirror.git"


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    """An empty directory to extract into."""
    path = tmp_path / "dest"
    path.mkdir()
    return path


def shallow_commits(mirror: Path) -> set[str]:
    with Repo(str(mirror)) as repo:
        return {sha.decode() for sha in repo.get_shallow()}


# --- listing refs --------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_list_remote_refs_peels_tags_and_reads_head(history: History, transport: str) -> None:
    refs = git.list_remote_refs(url_of(history.repo, transport))

    assert set(refs.refs) == {
        "refs/heads/main",
        "refs/heads/develop",
        "refs/tags/v1.0.0",
        "refs/tags/v1.1.0",
        "refs/tags/v2.0.0",
    }
    tags = refs.tags()
    assert tags["v1.0.0"] == git.RemoteRef("refs/tags/v1.0.0", history.v1_tag_object, history.v1)
    assert tags["v1.1.0"] == git.RemoteRef("refs/tags/v1.1.0", history.v1_1, history.v1_1)
    assert tags["v2.0.0"].commit_sha == history.v2 != tags["v2.0.0"].object_sha
    assert refs.head == "refs/heads/main"
    assert refs.branch("develop") == git.RemoteRef(
        "refs/heads/develop", history.develop, history.develop
    )
    assert refs.branch("nope") is None


def test_file_url_with_encoded_characters(remote_repo: Callable[[str], ServedRepo]) -> None:
    repo = remote_repo("with space")
    repo.write("a", "a")
    commit = repo.commit()

    assert "%20" in repo.file_url
    assert git.list_remote_refs(repo.file_url).branch("main") == git.RemoteRef(
        "refs/heads/main", commit, commit
    )


# --- fetching ------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_shallow_fetch_of_tags_into_a_fresh_mirror(
    history: History, mirror: Path, transport: str
) -> None:
    url = url_of(history.repo, transport)

    git.fetch(mirror, url, [history.v1_tag_object])

    assert git.has_commit(mirror, history.v1)
    assert not git.has_commit(mirror, history.initial)
    assert shallow_commits(mirror) == {history.v1}

    git.fetch(mirror, url, [history.v2])

    assert git.has_commit(mirror, history.v2)
    assert not git.has_commit(mirror, history.v1_1)
    assert shallow_commits(mirror) == {history.v1, history.v2}
    kept = run_git(mirror, "for-each-ref", "--format=%(objectname)", "refs/steps/")
    assert set(kept.split()) == {history.v1_tag_object, history.v2}
    # git itself accepts the mirror, and a gc keeps what was fetched.
    run_git(mirror, "gc", "--quiet", "--prune=now")
    assert git.has_commit(mirror, history.v1) and git.has_commit(mirror, history.v2)


def test_full_fetch_from_a_server_without_shallow(
    history: History, mirror: Path, git_served_root: Path
) -> None:
    with SmartHttpServer(git_served_root, shallow=False) as server:
        git.fetch(mirror, server.url(history.repo.name), [history.v1_tag_object])

    assert git.has_commit(mirror, history.initial)
    assert shallow_commits(mirror) == set()


def test_fetch_skips_the_network_when_the_mirror_has_everything(
    history: History, mirror: Path, git_http: SmartHttpServer
) -> None:
    git.fetch(mirror, history.repo.http_url, [history.v2])
    before = git_http.requests

    git.fetch(mirror, history.repo.http_url, [history.v2])

    assert git_http.requests == before


# Over git:// and HTTP this needs protocol v2: git upload-pack refuses unadvertised wants in v0.
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_fetch_a_commit_no_ref_points_to(history: History, mirror: Path, transport: str) -> None:
    git.fetch(mirror, url_of(history.repo, transport), [history.v1_1])

    assert git.has_commit(mirror, history.v1_1)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_fetch_of_an_object_the_remote_lacks(
    history: History, mirror: Path, transport: str
) -> None:
    missing = "0123456789" * 4

    with pytest.raises(NetworkError) as raised:
        git.fetch(mirror, url_of(history.repo, transport), [missing])

    assert str(raised.value).startswith(f"git repository {url_of(history.repo, transport)} ")
    assert "did not send 012345678901" in str(raised.value)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_abbreviated_commit_through_fetch_all(
    history: History, mirror: Path, transport: str
) -> None:
    url = url_of(history.repo, transport)
    git.fetch(mirror, url, [history.v2])
    assert git.find_commit(mirror, history.initial[:7]) is None

    git.fetch_all(mirror, url)

    assert git.find_commit(mirror, history.initial[:7]) == history.initial
    assert git.find_commit(mirror, history.develop[:10].upper()) == history.develop
    assert shallow_commits(mirror) == set()
    assert git.find_commit(mirror, "ffffffff") is None


def test_ambiguous_abbreviation(remote_repo: Callable[[str], ServedRepo], mirror: Path) -> None:
    repo = remote_repo("many")
    # Seventeen commits: two must share their first hex digit.
    commits = [repo.commit(f"commit {n}") for n in range(17)]
    git.fetch_all(mirror, repo.file_url)
    first = next(c[0] for c in commits if sum(other[0] == c[0] for other in commits) > 1)

    with pytest.raises(StepsError, match=f"abbreviated commit {first} is ambiguous"):
        git.find_commit(mirror, first)


def test_reading_a_mirror_that_does_not_exist(tmp_path: Path) -> None:
    assert not git.has_commit(tmp_path / "none", "0" * 40)
    assert git.find_commit(tmp_path / "none", "abcdef") is None


# --- extracting trees ----------------------------------------------------------------------------


@pytest.fixture
def layout(remote_repo: Callable[[str], ServedRepo], mirror: Path) -> tuple[Path, str]:
    """A mirror holding one commit with links, modes and a submodule; returns it and the commit."""
    repo = remote_repo("layout")
    repo.write("README.md", "top\n")
    repo.write("templates/deploy/step.yaml", "name: deploy\n")
    repo.write("templates/deploy/run.sh", "#!/bin/sh\necho deploy\n", mode=0o755)
    repo.write("templates/deploy/lib/helper.sh", "helper\n")
    repo.symlink("templates/deploy/helper.sh", "lib/helper.sh")
    repo.submodule("templates/deploy/vendor/module", "1234567890" * 4)
    repo.symlink("templates/escape/readme", "../../README.md")
    repo.symlink("templates/absolute/passwd", "/etc/passwd")
    # Each link stays inside on its own, but "up/.." leaves through the directory "up" names.
    repo.symlink("templates/sneaky/up", ".")
    repo.symlink("templates/sneaky/out", "up/../outside")
    commit = repo.commit("layout")
    assert "160000 commit" in repo.git("ls-tree", commit, "templates/deploy/vendor/module")
    git.fetch(mirror, repo.file_url, [commit])
    return mirror, commit


def test_extract_subdirectory(layout: tuple[Path, str], dest: Path) -> None:
    mirror, commit = layout

    git.extract_tree(mirror, commit, "templates/deploy", dest)

    found = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*"))
    assert found == ["helper.sh", "lib", "lib/helper.sh", "run.sh", "step.yaml"]
    assert (dest / "run.sh").stat().st_mode & 0o777 == 0o755
    assert (dest / "step.yaml").stat().st_mode & 0o777 == 0o644
    assert os.readlink(dest / "helper.sh") == "lib/helper.sh"
    assert (dest / "helper.sh").read_text() == "helper\n"


def test_extract_repository_root(history: History, mirror: Path, dest: Path) -> None:
    git.fetch(mirror, history.repo.file_url, [history.v1])

    git.extract_tree(mirror, history.v1, "", dest)

    assert (dest / "README.md").read_text() == "templates\n"
    assert (dest / "templates/hello/run.sh").read_text() == "echo hello\n"


@pytest.mark.parametrize(
    ("subdir", "shown"),
    [
        ("templates/escape", "templates/escape/readme"),
        ("templates/absolute", "templates/absolute/passwd"),
        ("templates/sneaky", "templates/sneaky/out"),
    ],
)
def test_links_leaving_the_template_are_refused(
    layout: tuple[Path, str], dest: Path, subdir: str, shown: str
) -> None:
    mirror, commit = layout

    with pytest.raises(
        StepsError, match=f"symlink '{shown}' at commit {commit[:12]} points outside"
    ):
        git.extract_tree(mirror, commit, subdir, dest)


def test_missing_subdirectory(layout: tuple[Path, str], dest: Path) -> None:
    mirror, commit = layout

    with pytest.raises(git.MissingSubdirError) as missing:
        git.extract_tree(mirror, commit, "templates/nope", dest)
    with pytest.raises(git.MissingSubdirError) as through_file:
        git.extract_tree(mirror, commit, "README.md/x", dest)
    with pytest.raises(git.MissingSubdirError) as a_file:
        git.extract_tree(mirror, commit, "templates/deploy/run.sh/", dest)

    assert missing.value.describe() == "'templates/nope' does not exist"
    assert str(missing.value) == f"'templates/nope' does not exist at commit {commit[:12]}"
    assert through_file.value.describe() == "'README.md/x' does not exist"
    assert a_file.value.describe() == "'templates/deploy/run.sh' is not a directory"
    assert list(dest.iterdir()) == []


# --- failures ------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["git", "http"])
def test_unreachable_server_fails_after_retries(
    scheme: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"{scheme}://127.0.0.1:{free_port()}/x.git"
    caplog.set_level(logging.INFO, logger="steptemplates.network")

    with pytest.raises(NetworkError) as raised:
        git.list_remote_refs(url)

    assert str(raised.value) == (
        f"cannot reach git repository {url}: connection refused "
        "(is the URL right and the server up?)"
    )
    assert [r.message.split(" failed")[0] for r in caplog.records] == [f"listing refs of {url}"] * 2


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_missing_repository(
    remote_repo: Callable[[str], ServedRepo], transport: str, mirror: Path
) -> None:
    repo = remote_repo("missing")
    url = url_of(repo, transport).replace("missing", "absent")
    expected = {
        "path": f"{url} is not a git repository",
        "file": f"{url} is not a git repository",
        "git": f"git repository {url} was not found",
        "http": f"git repository {url} was not found (404)",
    }[transport]

    with pytest.raises(StepsError) as listing:
        git.list_remote_refs(url)
    with pytest.raises(StepsError) as fetching:
        git.fetch(mirror, url, ["0" * 40])

    assert str(listing.value).startswith(expected)
    assert str(fetching.value).startswith(expected)
    assert "\n" not in str(listing.value)


def test_local_directory_that_is_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(StepsError, match=f"^{tmp_path} is not a git repository$"):
        git.list_remote_refs(str(tmp_path))


# --- authentication ------------------------------------------------------------------------------


@pytest.fixture
def private(history: History, git_http_auth: SmartHttpServer) -> tuple[str, str]:
    """The history repository behind Basic auth: its URL and the v2.0.0 commit."""
    return git_http_auth.url(history.repo.name), history.v2


def test_authentication_required(private: tuple[str, str]) -> None:
    url, _commit = private
    assert git.credentials_for(url) is None

    with pytest.raises(NetworkError) as raised:
        git.list_remote_refs(url)

    assert str(raised.value) == (
        f"authentication failed for {url} (401); set token-env in steps.toml to the name of an "
        "environment variable holding a token, or add the host to ~/.netrc"
    )


def test_token_from_environment(
    private: tuple[str, str], mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, commit = private
    monkeypatch.setenv("STEPS_TEST_TOKEN", HTTP_TOKEN)

    credentials = git.credentials_for(url, token_env="STEPS_TEST_TOKEN", username=HTTP_USER)
    assert credentials is not None
    refs = git.list_remote_refs(url, credentials)
    git.fetch(mirror, url, [refs.tags()["v2.0.0"].object_sha], credentials)

    assert git.has_commit(mirror, commit)
    assert HTTP_TOKEN not in repr(credentials)


def test_rejected_token(private: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    url, _commit = private
    monkeypatch.setenv("STEPS_TEST_TOKEN", "wrong")
    credentials = git.credentials_for(url, token_env="STEPS_TEST_TOKEN", username=HTTP_USER)

    with pytest.raises(NetworkError, match=r"\(401\) with the credentials from \$STEPS_TEST_TOKEN"):
        git.list_remote_refs(url, credentials)


def test_token_variable_not_set(private: tuple[str, str]) -> None:
    url, _commit = private

    with pytest.raises(StepsError, match=r"environment variable STEPS_UNSET_TOKEN .* is not set"):
        git.credentials_for(url, token_env="STEPS_UNSET_TOKEN")


@pytest.mark.parametrize("location", ["home", "NETRC"])
def test_credentials_from_netrc(
    private: tuple[str, str],
    mirror: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    location: str,
) -> None:
    url, commit = private
    if location == "home":
        netrc_path = Path(os.environ["HOME"]) / ".netrc"
    else:
        netrc_path = tmp_path / "custom-netrc"
        monkeypatch.setenv("NETRC", str(netrc_path))
    netrc_path.write_text(f"machine 127.0.0.1 login {HTTP_USER} password {HTTP_TOKEN}\n")
    netrc_path.chmod(0o600)

    credentials = git.credentials_for(url)
    assert credentials == git.GitCredentials(HTTP_USER, HTTP_TOKEN, source=str(netrc_path))
    git.fetch(mirror, url, [commit], credentials)

    assert git.has_commit(mirror, commit)


def test_credentials_in_the_url_are_refused() -> None:
    with pytest.raises(StepsError) as raised:
        git.credentials_for("https://someone:hunter2@example.com/org/repo.git")

    assert "hunter2" not in str(raised.value)
    assert str(raised.value).startswith(
        "the URL https://example.com/org/repo.git has credentials written into it;"
    )
    assert "token-env" in str(raised.value) and "~/.netrc" in str(raised.value)


def test_tokens_only_for_http() -> None:
    assert git.credentials_for("git://example.com/x.git") is None
    with pytest.raises(StepsError, match="tokens only work with http"):
        git.credentials_for("git://example.com/x.git", token_env="TOKEN")


def test_redact_url() -> None:
    assert git.redact_url("https://u:p@example.com:8443/x.git") == "https://example.com:8443/x.git"
    assert git.redact_url("ssh://git@example.com/x.git") == "ssh://git@example.com/x.git"


# --- ref snapshots -------------------------------------------------------------------------------


def test_ref_snapshot_round_trip(history: History, mirror: Path) -> None:
    refs = git.list_remote_refs(history.repo.git_url)
    assert git.read_ref_snapshot(mirror) is None

    git.write_ref_snapshot(mirror, refs)

    assert git.read_ref_snapshot(mirror) == refs
    assert [p.name for p in mirror.iterdir()] == [git.SNAPSHOT_FILE]


def test_damaged_ref_snapshot_reads_as_none(mirror: Path) -> None:
    mirror.mkdir()
    (mirror / git.SNAPSHOT_FILE).write_text('{"refs": ')

    assert git.read_ref_snapshot(mirror) is None


# --- timeouts ------------------------------------------------------------------------------------


@pytest.fixture
def stalled_http(git_served_root: Path) -> Iterator[SmartHttpServer]:
    with SmartHttpServer(git_served_root) as server:
        server.stall_seconds = 30
        yield server


def test_stalled_http_server_times_out(
    history: History, stalled_http: SmartHttpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEPS_NETWORK_TIMEOUT", "0.3")
    url = stalled_http.url(history.repo.name)
    started = time.monotonic()

    with pytest.raises(NetworkError, match=r"did not answer within 0\.3 s; set STEPS_NETWORK"):
        git.list_remote_refs(url)

    assert time.monotonic() - started < 5
    assert stalled_http.requests == 3


def test_fetch_stalled_mid_way_leaves_the_mirror_usable(
    history: History, stalled_http: SmartHttpServer, mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEPS_NETWORK_TIMEOUT", "0.3")
    stalled_http.stall_command = "fetch"
    url = stalled_http.url(history.repo.name)
    git.list_remote_refs(url)

    with pytest.raises(NetworkError, match="did not answer"):
        git.fetch(mirror, url, [history.v2])

    stalled_http.stall_seconds = 0
    git.fetch(mirror, url, [history.v2])
    assert git.has_commit(mirror, history.v2)


@pytest.fixture
def flaky_http(git_served_root: Path) -> Iterator[SmartHttpServer]:
    with SmartHttpServer(git_served_root) as server:
        yield server


def test_server_errors_are_retried(history: History, flaky_http: SmartHttpServer) -> None:
    flaky_http.fail_with = [503, 502]

    refs = git.list_remote_refs(flaky_http.url(history.repo.name))

    assert refs.tags()["v2.0.0"].commit_sha == history.v2
    assert flaky_http.requests == 4


def test_persistent_server_error(history: History, flaky_http: SmartHttpServer) -> None:
    flaky_http.fail_with = [500] * 3
    url = flaky_http.url(history.repo.name)

    with pytest.raises(NetworkError, match=f"^git repository {url} answered with HTTP 500$"):
        git.list_remote_refs(url)


def test_forbidden_is_not_retried(history: History, flaky_http: SmartHttpServer) -> None:
    flaky_http.fail_with = [403]
    url = flaky_http.url(history.repo.name)

    with pytest.raises(NetworkError, match=rf"^access to {url} was refused \(403\);"):
        git.list_remote_refs(url)
    assert flaky_http.requests == 1


def test_silent_git_daemon_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPS_NETWORK_TIMEOUT", "0.2")
    # Connections complete in the kernel's backlog, but nothing ever answers.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"git://127.0.0.1:{silent.getsockname()[1]}/x.git"

        with pytest.raises(NetworkError, match=r"did not answer within 0\.2 s"):
            git.list_remote_refs(url)


def test_a_file_name_that_is_not_utf8_is_refused(
    remote_repo: Callable[[str], ServedRepo], mirror: Path, dest: Path
) -> None:
    repo = remote_repo("latin1")
    (repo.path / os.fsdecode(b"caf\xe9.txt")).write_text("menu\n")
    commit = repo.commit("latin-1 name")
    git.fetch(mirror, repo.file_url, [commit])

    with pytest.raises(StepsError) as raised:
        git.extract_tree(mirror, commit, "", dest)

    assert str(raised.value) == (
        f"the file name 'caf\\xe9.txt' at commit {commit[:12]} is not UTF-8; "
        "rename the file; template file names must be UTF-8"
    )


def test_a_malformed_netrc_is_named_without_its_contents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc_path = tmp_path / "netrc"
    netrc_path.write_text("machine 127.0.0.1 login me password ok\nS3CRETTOKEN\n")
    monkeypatch.setenv("NETRC", str(netrc_path))

    with pytest.raises(StepsError) as raised:
        git.credentials_for("https://127.0.0.1/repo.git")

    message = str(raised.value)
    assert message.startswith(f"{netrc_path}:")
    assert message.endswith(": malformed netrc file; fix or remove that line")
    assert "S3CRETTOKEN" not in message


def test_ssh_is_bounded_by_the_network_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    # No sshd here: this checks the command dulwich is given, not a connection.
    monkeypatch.delenv("GIT_SSH_COMMAND", raising=False)
    monkeypatch.delenv("GIT_SSH", raising=False)
    monkeypatch.setenv("STEPS_NETWORK_TIMEOUT", "7")
    with git._client("ssh://git@example.invalid/x.git", None) as (client, path):
        assert client.ssh_command == (  # type: ignore[attr-defined]
            "ssh -o ConnectTimeout=7 -o ServerAliveInterval=7 -o ServerAliveCountMax=1"
        )
        assert path == "/x.git"
    monkeypatch.setenv("GIT_SSH_COMMAND", "ssh -i key")
    with git._client("git@example.invalid:x.git", None) as (client, _):
        assert client.ssh_command == "ssh -i key"  # type: ignore[attr-defined]
