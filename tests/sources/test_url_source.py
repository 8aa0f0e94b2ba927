"""Templates in an archive at a plain URL (http and file://), pinned by the archive's sha256."""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.httpserver import Fault, StaticServer
from tests.support.nugetfeed import GuardedServer, assert_nothing_cached, template_files
from tests.support.projects import Steps, cache_entries, cache_root


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardedServer]:
    served = GuardedServer(tmp_path_factory.mktemp("downloads"))
    with served:
        yield served


@pytest.fixture
def server(shared_server: GuardedServer) -> GuardedServer:
    """A static server; it asks for Basic auth only when a test sets ``basic``."""
    shared_server.clear()
    shared_server.basic = None
    return shared_server


_published = iter(range(1, 1_000_000))


def publish(server: StaticServer, name: str, body: bytes) -> str:
    """Serve ``body`` as ``name`` under a directory of its own; returns the URL."""
    relative = f"release-{next(_published)}/{name}"
    path = server.root / relative
    path.parent.mkdir(parents=True)
    path.write_bytes(body)
    return f"{server.url}/{relative}"


def tarball(files: dict[str, str | bytes], top: str = "") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(f"{top}/{name}" if top else name)
            info.size, info.mode = len(data), 0o755 if name.endswith(".sh") else 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def zipped(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def use(steps: Steps, url: str, **keys: str) -> None:
    lines = ["[templates.tool]", f'url = "{url}"', *(f'{k} = "{v}"' for k, v in keys.items())]
    steps.write("\n".join(lines) + '\n\n[[steps]]\nname = "Go"\ntemplate = "tool"\n')


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


# --- locking and running ------------------------------------------------------------------------


def test_a_tarball_with_a_top_directory(steps: Steps, server: GuardedServer) -> None:
    body = tarball(template_files("tool", "tool 1.2.0"), top="tool-1.2.0")
    url = publish(server, "tool-1.2.0.tar.gz", body)
    use(steps, url)

    steps.ok("lock")
    ran = steps.ok("run")

    assert "tool 1.2.0" in ran.out
    entry = steps.lock()["tool"]
    assert entry == {
        "name": "tool",
        "source": "http",
        "url": url,
        "requested": "url",
        "artifact": url,
        "file": "tool-1.2.0.tar.gz",
        "sha256": sha256(body),
        "integrity": entry["integrity"],
    }
    tree = cache_entries()[entry["integrity"]]
    assert sorted(p.name for p in tree.iterdir()) == ["run.sh", "steptemplate.toml"]
    assert (cache_root() / "downloads" / f"sha256-{sha256(body)}" / "tool-1.2.0.tar.gz").is_file()


def test_a_zip_with_the_template_in_a_subdir(steps: Steps, server: GuardedServer) -> None:
    files = {f"steps/tool/{name}": text for name, text in template_files("tool", "zipped").items()}
    url = publish(server, "bundle.zip", zipped({**files, "README.md": "hi\n"}))
    use(steps, url, subdir="steps/tool")

    assert "zipped" in steps.ok("run").out
    assert steps.lock()["tool"]["subdir"] == "steps/tool"


def test_a_sha256_in_steps_toml_is_checked_and_locked(steps: Steps, server: GuardedServer) -> None:
    body = tarball(template_files("tool", "pinned"))
    url = publish(server, "tool.tgz", body)
    use(steps, url, sha256=sha256(body).upper())

    assert "pinned" in steps.ok("run").out
    assert steps.lock()["tool"]["requested"] == f"sha256={sha256(body)}"
    assert steps.lock()["tool"]["sha256"] == sha256(body)


def test_a_sha256_in_steps_toml_that_does_not_match(steps: Steps, server: GuardedServer) -> None:
    body = tarball(template_files("tool"))
    url = publish(server, "tool.tar.gz", body)
    wrong = "0" * 64
    use(steps, url, sha256=wrong)

    failed = steps.fails("lock")

    assert failed.error.startswith(
        f"template 'tool': the archive downloaded from {url} has sha256 {sha256(body)}, "
        f"but steps.toml gives {wrong}"
    )
    assert_nothing_cached()


def test_the_recorded_sha256_refuses_a_replaced_archive(
    steps: Steps, server: GuardedServer
) -> None:
    url = publish(server, "tool.tar.gz", tarball(template_files("tool", "first")))
    use(steps, url)
    steps.ok("lock")
    recorded = steps.lock()["tool"]["sha256"]
    replaced = tarball(template_files("tool", "second"))
    (server.root / url.removeprefix(server.url + "/")).write_bytes(replaced)
    shutil.rmtree(cache_root())

    failed = steps.fails("sync")

    assert failed.error.startswith(
        f"template 'tool': the archive downloaded from {url} has sha256 {sha256(replaced)}, "
        f"but steps.lock records {recorded}"
    )
    assert_nothing_cached()


def test_a_file_url(steps: Steps, tmp_path: Path) -> None:
    archive = tmp_path / "local tool.tar.gz"
    archive.write_bytes(tarball(template_files("tool", "from disk"), top="tool"))
    url = archive.as_uri()
    use(steps, url)

    assert "from disk" in steps.ok("run").out
    assert steps.lock()["tool"]["file"] == "local tool.tar.gz"
    shutil.rmtree(cache_root() / "templates")
    steps.ok("sync", "--offline")


# --- the network: none when warm, none offline -------------------------------------------------


def test_warm_lock_and_sync_make_no_requests(steps: Steps, server: GuardedServer) -> None:
    use(steps, publish(server, "tool.tar.gz", tarball(template_files("tool", "warm"))))
    steps.ok("lock")
    server.clear()

    steps.ok("lock")
    steps.ok("sync")
    shutil.rmtree(cache_root() / "templates")
    steps.ok("sync", "--offline")

    assert "warm" in steps.ok("run", "--offline").out
    assert server.requests == []


def test_offline_without_the_cache(steps: Steps, server: GuardedServer) -> None:
    url = publish(server, "tool.tar.gz", tarball(template_files("tool")))
    use(steps, url)
    steps.ok("lock")
    shutil.rmtree(cache_root())

    failed = steps.fails("sync", "--offline")

    assert failed.error == (
        f"template 'tool': {url} is not in the cache and --offline forbids downloading it; "
        "run `steps sync` once without --offline"
    )


# --- credentials and failures --------------------------------------------------------------------


def test_netrc_credentials_for_the_host(steps: Steps, server: GuardedServer) -> None:
    server.basic = ("me", "netrc-pw")
    url = publish(server, "tool.zip", zipped(template_files("tool", "guarded")))
    use(steps, url)
    refused = steps.fails("lock")
    netrc = Path.home() / ".netrc"
    netrc.write_text("machine 127.0.0.1 login me password netrc-pw\n")
    netrc.chmod(0o600)

    assert "guarded" in steps.ok("run").out

    assert refused.error.startswith(f"template 'tool': {url} answered 401")
    assert refused.error.endswith(
        "add a 'machine 127.0.0.1' entry with login and password to ~/.netrc"
    )
    expected = "Basic " + base64.b64encode(b"me:netrc-pw").decode()
    assert server.requests[-1].headers["authorization"] == expected
    assert "netrc-pw" not in steps.lock_path.read_text()


def test_a_url_without_an_archive_extension(steps: Steps, server: GuardedServer) -> None:
    url = publish(server, "download", tarball(template_files("tool")))
    use(steps, url + "?version=1")

    failed = steps.fails("lock")

    assert failed.error == (
        f"template 'tool': {url}?version=1 does not name an archive file (its name must end in "
        "an archive extension); use a URL whose file name ends in one of .zip, .nupkg, .tar, "
        ".tar.gz, .tgz, .tar.bz2, .tbz, .tbz2, .tar.xz, .txz"
    )
    assert server.requests == []


def test_an_archive_that_is_damaged(steps: Steps, server: GuardedServer) -> None:
    use(steps, publish(server, "tool.tar.gz", tarball(template_files("tool"))[:-40]))

    failed = steps.fails("lock")

    assert failed.error.startswith("template 'tool': ")
    assert_nothing_cached()


def test_an_archive_without_a_template(steps: Steps, server: GuardedServer) -> None:
    use(steps, publish(server, "tool.zip", zipped({"notes.txt": "nothing to run\n"})))

    failed = steps.fails("lock")

    assert failed.error.startswith("template 'tool' (")
    assert_nothing_cached()


def test_a_download_that_stays_truncated(steps: Steps, server: GuardedServer) -> None:
    url = publish(server, "tool.tar.gz", tarball(template_files("tool"), top="t"))
    server.fail("*/tool.tar.gz", Fault.truncate(0.5, times=100))
    use(steps, url)

    failed = steps.fails("lock")

    assert failed.error.startswith(f"template 'tool': {url}")
    assert_nothing_cached()
