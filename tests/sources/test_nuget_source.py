"""Templates and packages from a NuGet v3 feed, through the CLI against a feed served on
127.0.0.1: version selection, locking, syncing, credentials."""

from __future__ import annotations

import base64
import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from steptemplates import integrity, lockfile
from steptemplates.manifest import NuGetRequirement, TemplateRef
from steptemplates.sources import lock_identity
from tests.support.httpserver import Fault, StaticServer
from tests.support.nugetfeed import (
    PACKAGE_ID,
    GuardedServer,
    NuGetFeed,
    assert_nothing_cached,
    build_nupkg,
    publish,
    template_files,
    use_feed,
)
from tests.support.projects import Steps, cache_entries, cache_root

LOWER_ID = PACKAGE_ID.lower()


@pytest.fixture(scope="module")
def shared_guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardedServer]:
    served = GuardedServer(tmp_path_factory.mktemp("guarded"))
    with served:
        yield served


@pytest.fixture
def feed(server: StaticServer) -> NuGetFeed:
    return NuGetFeed.on(server)


@pytest.fixture
def guarded(shared_guarded: GuardedServer) -> GuardedServer:
    """A feed server that asks for the credentials a test sets on it."""
    shared_guarded.clear()
    shared_guarded.basic, shared_guarded.api_key = None, None
    return shared_guarded


# --- locking, syncing, running ---------------------------------------------------------------


def test_lock_sync_and_run(steps: Steps, feed: NuGetFeed, server: StaticServer) -> None:
    publish(feed, "1.0.0", "1.2.0", "2.0.0")
    body = feed.add(PACKAGE_ID, "1.10.0", template_files("iis", "iis 1.10.0"))
    use_feed(steps, feed, version="^1")

    steps.ok("lock")
    ran = steps.ok("run")

    assert "iis 1.10.0" in ran.out
    entry = steps.lock()["iis"]
    artifact = feed.package_url(PACKAGE_ID, "1.10.0")
    assert entry == {
        "name": "iis",
        "source": "nuget",
        "url": feed.index_url,
        "id": PACKAGE_ID,
        "requested": "^1",
        "version": "1.10.0",
        "artifact": artifact,
        "file": f"{LOWER_ID}.1.10.0.nupkg",
        "sha256": hashlib.sha256(body).hexdigest(),
        "integrity": entry["integrity"],
    }
    tree = cache_entries()[entry["integrity"]]
    assert sorted(p.name for p in tree.iterdir()) == ["run.sh", "steptemplate.toml"]
    assert integrity.tree_integrity(tree) == entry["integrity"]
    assert [r.path for r in server.requests_to("*.nupkg")] == [artifact.removeprefix(server.url)]
    assert len(server.requests_to("*.nupkg.sha512")) == 1
    # What the writer produced must read back, and still satisfy the requirement.
    locked = lockfile.load(steps.lock_path)
    assert locked is not None
    requirement = NuGetRequirement(feed=feed.index_url, package_id=PACKAGE_ID, version="^1")
    identity = lock_identity(TemplateRef("iis", requirement))
    assert lockfile.stale_reason(locked.templates["iis"], identity) is None


@pytest.mark.parametrize(
    ("keys", "version"),
    [
        ({"version": "^1"}, "1.2.0.5"),  # a fourth part sorts above its three-part release
        ({"version": "~1.2.0"}, "1.2.0.5"),
        ({"version": "1.2.0"}, "1.2.0"),
        ({"version": "1.0"}, "1.0.0"),  # 1.0 and 1.0.0 are the same version
        ({"version": ">=1.0, <1.2"}, "1.0.0"),
        ({"version": "*"}, "1.2.0.5"),
        ({}, "1.2.0.5"),
        ({"version": "^1", "prerelease": True}, "1.3.0-beta.1"),
        ({"version": "*", "prerelease": True}, "2.0.0-rc.1"),
        ({"version": "2.0.0-rc.1"}, "2.0.0-rc.1"),  # naming a prerelease allows it
    ],
)
def test_version_ranges(
    steps: Steps, feed: NuGetFeed, keys: dict[str, str | bool], version: str
) -> None:
    publish(feed, "0.9.0", "1.0.0", "1.2.0", "1.2.0.5", "1.3.0-beta.1", "2.0.0-rc.1")
    feed.list_versions(PACKAGE_ID, [*feed.listed[LOWER_ID], "not-a-version", "1.2.x"])
    use_feed(steps, feed, **keys)

    steps.ok("lock")

    entry = steps.lock()["iis"]
    assert entry["version"] == version
    assert (cache_entries()[entry["integrity"]] / "run.sh").read_text() == f"echo iis {version}\n"


def test_listed_versions_are_normalised_for_urls_and_the_lock(
    steps: Steps, feed: NuGetFeed
) -> None:
    # A feed that lists versions as they were first written; the packages live, as NuGet
    # looks for them, under the normalised, lowercased version.
    feed.add(PACKAGE_ID, "1.1", template_files("iis", "iis 1.1"), stored_as="1.1.0")
    feed.add(PACKAGE_ID, "1.2.0-Beta", template_files("iis", "beta"), listed_as="1.2.0-Beta")
    feed.add(PACKAGE_ID, "01.0.0.0", template_files("iis", "iis 1"), stored_as="1.0.0")
    use_feed(steps, feed, version="^1")

    steps.ok("lock")
    assert steps.lock()["iis"]["version"] == "1.1.0"
    assert steps.lock()["iis"]["artifact"] == feed.package_url(PACKAGE_ID, "1.1.0")

    use_feed(steps, feed, version="^1", prerelease=True)
    steps.ok("lock")
    assert steps.lock()["iis"]["version"] == "1.2.0-beta"
    assert steps.lock()["iis"]["file"] == f"{LOWER_ID}.1.2.0-beta.nupkg"

    use_feed(steps, feed, version="1.0")
    steps.ok("lock")
    assert steps.lock()["iis"]["version"] == "1.0.0"


def test_only_prereleases_match_until_allowed(steps: Steps, feed: NuGetFeed) -> None:
    publish(feed, "1.0.0", "2.0.0-beta.1", "2.0.0-beta.2")
    use_feed(steps, feed, version=">=1.5")

    failed = steps.fails("lock")

    assert failed.error == (
        f"template 'iis' ({PACKAGE_ID} in {feed.index_url}): only prereleases match '>=1.5': "
        "2.0.0-beta.1, 2.0.0-beta.2 (allow them with prerelease = true)"
    )
    use_feed(steps, feed, version=">=1.5", prerelease=True)
    steps.ok("lock")
    assert steps.lock()["iis"]["version"] == "2.0.0-beta.2"


def test_no_version_in_range(steps: Steps, feed: NuGetFeed) -> None:
    publish(feed, "1.0.0", "1.1.0")
    use_feed(steps, feed, version="^3")

    failed = steps.fails("lock")

    assert failed.error.startswith(
        f"template 'iis' ({PACKAGE_ID} in {feed.index_url}): no version matches '^3'; "
        "nearest available: 1.0.0, 1.1.0"
    )


def test_subdir_selects_a_folder_and_a_lone_top_folder_is_kept(
    steps: Steps, feed: NuGetFeed
) -> None:
    files = {f"templates/iis/{name}": text for name, text in template_files("iis", "sub").items()}
    feed.add(PACKAGE_ID, "1.0.0", {**files, "templates/README.txt": "read me\n"})
    use_feed(steps, feed, subdir="templates/iis")

    assert "sub" in steps.ok("run").out
    assert steps.lock()["iis"]["subdir"] == "templates/iis"

    # No single top directory is stripped from a package: "iis" alone is not in it.
    use_feed(steps, feed, subdir="iis")
    failed = steps.fails("lock")
    assert failed.error.startswith(
        f"template 'iis': {PACKAGE_ID} 1.0.0//iis has no directory 'iis'"
    )
    assert "templates/" in failed.error


def test_an_id_differing_only_in_case_is_the_same_package(
    steps: Steps, feed: NuGetFeed, server: StaticServer
) -> None:
    publish(feed, "1.0.0")
    use_feed(steps, feed, id="ACME.templates.iis")

    locked = steps.ok("lock", "--verbose")

    assert locked.warnings == []
    assert "the package calls itself Acme.Templates.Iis" in locked.err
    assert steps.lock()["iis"]["id"] == "ACME.templates.iis"
    assert "iis 1.0.0" in steps.ok("run").out
    assert all(LOWER_ID in r.path for r in server.requests if "flatcontainer" in r.path)


def test_a_package_that_names_another_id_is_refused(steps: Steps, feed: NuGetFeed) -> None:
    body = build_nupkg("Evil.Package", "1.0.0", template_files("iis"))
    feed.add(PACKAGE_ID, "1.0.0", nupkg=body)
    use_feed(steps, feed)

    failed = steps.fails("lock")

    assert failed.error == (
        f"template 'iis': {feed.package_url(PACKAGE_ID, '1.0.0')} holds package Evil.Package, "
        f"not {PACKAGE_ID}; the feed served another package than it listed: tell its owner"
    )
    assert_nothing_cached()


def test_a_package_that_names_another_version_is_refused(steps: Steps, feed: NuGetFeed) -> None:
    feed.add(PACKAGE_ID, "1.0.0", nupkg=build_nupkg(PACKAGE_ID, "0.1.0", template_files("iis")))
    use_feed(steps, feed)

    failed = steps.fails("lock")

    assert f"holds {PACKAGE_ID} 0.1.0, not version 1.0.0" in failed.error
    assert_nothing_cached()


def test_a_package_is_deployed_from_a_feed(
    steps: Steps, feed: NuGetFeed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    applications = tmp_path / "Applications"
    monkeypatch.setenv("STEPS_APPLICATIONS_DIR", str(applications))
    deploy = 'echo "deployed $(get_octopusvariable Octopus.Action.Package.PackageVersion)"\n'
    feed.add("Acme.Web", "1.4.0", {"Deploy.sh": deploy, "index.html": "<h1>hi</h1>\n"})
    steps.write(f"""
[packages.web]
nuget = "{feed.index_url}"
id = "Acme.Web"

[[steps]]
name = "web"
package = "web"
""")

    ran = steps.ok("run")

    assert "deployed 1.4.0" in ran.out
    assert (applications / "Acme.Web" / "1.4.0" / "index.html").read_text() == "<h1>hi</h1>\n"
    assert '[[package]]\nname = "web"\nsource = "nuget"' in steps.lock_path.read_text()


def test_a_feed_on_disk(steps: Steps, tmp_path: Path) -> None:
    feed = NuGetFeed(tmp_path / "disk feed", (tmp_path / "disk feed").as_uri())
    publish(feed, "1.0.0", "1.1.0")
    use_feed(steps, feed, version="~1.0")

    assert "iis 1.0.0" in steps.ok("run").out
    assert steps.lock()["iis"]["artifact"] == feed.package_url(PACKAGE_ID, "1.0.0")


# --- the network: none when warm, none offline -------------------------------------------------


def test_a_warm_lock_and_sync_make_no_requests(
    steps: Steps, feed: NuGetFeed, server: StaticServer
) -> None:
    publish(feed, "1.0.0")
    use_feed(steps, feed)
    steps.ok("lock")
    server.clear()

    steps.ok("lock")
    steps.ok("sync")
    steps.ok("run")

    assert server.requests == []


def test_offline_sync_works_from_the_cached_download(
    steps: Steps, feed: NuGetFeed, server: StaticServer
) -> None:
    publish(feed, "1.0.0")
    use_feed(steps, feed)
    steps.ok("lock")
    shutil.rmtree(cache_root() / "templates")
    server.clear()

    steps.ok("sync", "--offline")

    assert "iis 1.0.0" in steps.ok("run", "--offline").out
    assert server.requests == []
    assert steps.lock()["iis"]["integrity"] in cache_entries()


def test_offline_sync_without_the_cache_fails(steps: Steps, feed: NuGetFeed) -> None:
    publish(feed, "1.0.0")
    use_feed(steps, feed)
    steps.ok("lock")
    shutil.rmtree(cache_root())

    failed = steps.fails("sync", "--offline")

    assert failed.error == (
        f"template 'iis': nuget:{PACKAGE_ID}@1.0.0 is not in the cache and --offline forbids "
        "downloading it; run `steps sync` once without --offline"
    )


def test_offline_lock_of_a_new_template_fails(
    steps: Steps, feed: NuGetFeed, server: StaticServer
) -> None:
    publish(feed, "1.0.0")
    use_feed(steps, feed)

    failed = steps.fails("lock", "--offline")

    assert failed.error.startswith("template 'iis': ")
    assert "--offline" in failed.error
    assert server.requests == []


# --- credentials ------------------------------------------------------------------------------


def guarded_feed(
    server: GuardedServer, *, basic: tuple[str, str] | None = None, api_key: str | None = None
) -> NuGetFeed:
    server.basic, server.api_key = basic, api_key
    feed = NuGetFeed.on(server)
    publish(feed, "1.0.0")
    return feed


def named_source(steps: Steps, feed: NuGetFeed, settings: str) -> None:
    steps.write(f"""
[sources.acme]
nuget = "{feed.index_url}"
{settings}

[templates.iis]
source = "acme"
id = "{PACKAGE_ID}"

[[steps]]
name = "Go"
template = "iis"
""")


PASSWORD_SETTINGS = 'username = "deploy"\npassword-env = "ACME_FEED_PASSWORD"'


def test_a_named_source_with_username_and_password_env(
    steps: Steps, guarded: GuardedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = guarded_feed(guarded, basic=("deploy", "s3cret-pw"))
    monkeypatch.setenv("ACME_FEED_PASSWORD", "s3cret-pw")
    named_source(steps, feed, PASSWORD_SETTINGS)

    ran = steps.ok("run")
    shutil.rmtree(cache_root())
    steps.ok("sync")  # from the lock alone: the source is found again by the feed's URL

    assert "iis 1.0.0" in ran.out
    assert len(guarded.requests_to("*.nupkg")) == 2
    expected = "Basic " + base64.b64encode(b"deploy:s3cret-pw").decode()
    assert all(r.headers.get("authorization") == expected for r in guarded.requests)
    lock_text = steps.lock_path.read_text()
    assert "s3cret-pw" not in lock_text and "ACME_FEED_PASSWORD" not in lock_text


def test_a_wrong_password_names_the_feed_and_the_variable(
    steps: Steps, guarded: GuardedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = guarded_feed(guarded, basic=("deploy", "right"))
    monkeypatch.setenv("ACME_FEED_PASSWORD", "wrong-pw")
    named_source(steps, feed, PASSWORD_SETTINGS)

    failed = steps.fails("lock")

    assert failed.error == (
        f"template 'iis': the NuGet feed {feed.index_url} refused the credentials from "
        "$ACME_FEED_PASSWORD (source 'acme') (401 Unauthorized); check username 'deploy' and "
        f"ACME_FEED_PASSWORD of source 'acme' ({steps.manifest.name})"
    )
    assert "wrong-pw" not in failed.err


def test_an_unset_password_variable_is_named(steps: Steps, guarded: GuardedServer) -> None:
    feed = guarded_feed(guarded, basic=("deploy", "right"))
    named_source(steps, feed, PASSWORD_SETTINGS)

    failed = steps.fails("lock")

    assert failed.error == (
        "template 'iis': environment variable ACME_FEED_PASSWORD (password-env of source "
        "'acme') is not set or empty; set ACME_FEED_PASSWORD to the feed's password"
    )
    assert guarded.requests == []


def test_a_named_source_with_an_api_key(
    steps: Steps, guarded: GuardedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = guarded_feed(guarded, api_key="key-123")
    named_source(steps, feed, 'api-key-env = "ACME_API_KEY"')
    monkeypatch.setenv("ACME_API_KEY", "key-456")
    refused = steps.fails("lock")
    monkeypatch.setenv("ACME_API_KEY", "key-123")

    steps.ok("lock")

    assert refused.error.startswith(
        f"template 'iis': the NuGet feed {feed.index_url} refused the credentials from "
        "$ACME_API_KEY (source 'acme') (401 Unauthorized); check ACME_API_KEY of source 'acme'"
    )
    assert "key-456" not in refused.err
    assert len(guarded.requests_to("*.nupkg")) == 1
    assert all("x-nuget-apikey" in r.headers for r in guarded.requests)
    assert not any("authorization" in r.headers for r in guarded.requests)


def test_netrc_credentials_for_the_feed_host(steps: Steps, guarded: GuardedServer) -> None:
    feed = guarded_feed(guarded, basic=("netrc-user", "netrc-pw"))
    use_feed(steps, feed)
    refused = steps.fails("lock")
    netrc = Path.home() / ".netrc"
    netrc.write_text("machine 127.0.0.1 login netrc-user password netrc-pw\n")
    netrc.chmod(0o600)

    steps.ok("lock")

    assert refused.error == (
        f"template 'iis': the NuGet feed {feed.index_url} requires credentials "
        "(401 Unauthorized); add a 'machine 127.0.0.1' entry to ~/.netrc, or declare the feed "
        "under [sources.NAME] with username and password-env (or api-key-env)"
    )
    expected = "Basic " + base64.b64encode(b"netrc-user:netrc-pw").decode()
    assert guarded.requests[-1].headers["authorization"] == expected


def test_forbidden_names_the_feed(steps: Steps, feed: NuGetFeed, server: StaticServer) -> None:
    publish(feed, "1.0.0")
    use_feed(steps, feed)
    server.fail("*.nupkg", Fault.of_status(403))

    failed = steps.fails("lock")

    assert failed.error.startswith(
        f"template 'iis': the NuGet feed {feed.index_url} denied access (403 Forbidden); "
        "add a 'machine 127.0.0.1' entry to ~/.netrc"
    )
    assert_nothing_cached()


def test_a_sync_the_feed_refuses_names_the_feed(
    steps: Steps, guarded: GuardedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = guarded_feed(guarded, basic=("deploy", "s3cret-pw"))
    monkeypatch.setenv("ACME_FEED_PASSWORD", "s3cret-pw")
    named_source(steps, feed, PASSWORD_SETTINGS)
    steps.ok("lock")
    shutil.rmtree(cache_root())
    monkeypatch.setenv("ACME_FEED_PASSWORD", "expired-pw")

    failed = steps.fails("sync")

    assert failed.error == (
        f"template 'iis': the NuGet feed {feed.index_url} refused the credentials from "
        "$ACME_FEED_PASSWORD (source 'acme') (401 Unauthorized); check username 'deploy' and "
        f"ACME_FEED_PASSWORD of source 'acme' ({steps.manifest.name})"
    )
    assert "expired-pw" not in failed.err
