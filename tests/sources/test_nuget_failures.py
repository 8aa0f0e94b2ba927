"""A NuGet feed that is broken, unreachable, lying or damaged in transit: each failure is one
clear line naming the template and the feed, and nothing unverified enters the cache."""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import zipfile

import pytest

from tests.support.httpserver import Fault, StaticServer
from tests.support.nugetfeed import (
    PACKAGE_ID,
    SERVICE_INDEX,
    NuGetFeed,
    assert_nothing_cached,
    build_nupkg,
    publish,
    template_files,
    use_feed,
)
from tests.support.projects import Steps, cache_entries, cache_root

LOWER_ID = PACKAGE_ID.lower()
VERSIONS_INDEX = f"v3-flatcontainer/{LOWER_ID}/index.json"


@pytest.fixture
def feed(server: StaticServer, steps: Steps) -> NuGetFeed:
    """A feed with versions 1.0.0 and 1.1.0 of the template, which steps.toml asks for."""
    served = NuGetFeed.on(server)
    publish(served, "1.0.0", "1.1.0")
    use_feed(steps, served, version="^1")
    return served


# --- the feed's documents ---------------------------------------------------------------------


def test_an_unknown_package_id(steps: Steps, feed: NuGetFeed) -> None:
    use_feed(steps, feed, id="Acme.Templates.Nope")

    failed = steps.fails("lock")

    assert failed.error == (
        f"template 'iis': package Acme.Templates.Nope not found in {feed.index_url}; "
        "check 'id' in steps.toml, and that this feed is the one that holds it"
    )


def test_no_service_index_at_the_url(steps: Steps, feed: NuGetFeed) -> None:
    (feed.root / SERVICE_INDEX).unlink()

    failed = steps.fails("lock")

    assert failed.error.startswith(
        f"template 'iis': there is no NuGet service index at {feed.index_url} (404 Not Found); "
        "check the feed URL"
    )


@pytest.mark.parametrize("document", [SERVICE_INDEX, VERSIONS_INDEX])
def test_malformed_json(steps: Steps, feed: NuGetFeed, document: str) -> None:
    feed.write(document, b'{"version": "3.0.0", "resources": [')

    failed = steps.fails("lock")

    assert failed.error.startswith("template 'iis': ")
    assert f"{feed.base_url}/{document}" in failed.error
    assert "valid JSON" in failed.error


def test_a_service_index_without_package_base_address(steps: Steps, feed: NuGetFeed) -> None:
    feed.write_json(
        SERVICE_INDEX,
        {
            "version": "3.0.0",
            "resources": [
                {"@id": f"{feed.base_url}/query", "@type": "SearchQueryService"},
                {"@id": f"{feed.base_url}/flat/", "@type": "PackageBaseAddress/2.0.0"},
            ],
        },
    )

    failed = steps.fails("lock")

    assert failed.error == (
        f"template 'iis': {feed.index_url} is not a NuGet v3 service index: no "
        "PackageBaseAddress resource; steps reads packages through PackageBaseAddress/3.0.0; "
        "check the feed URL"
    )


@pytest.mark.parametrize(
    ("document", "why"),
    [
        (["PackageBaseAddress/3.0.0"], "it has no 'resources' list"),
        ({"resources": "none"}, "it has no 'resources' list"),
        ({"version": "2.0.0", "resources": []}, "its version is '2.0.0'"),
    ],
)
def test_a_document_that_is_not_a_service_index(
    steps: Steps, feed: NuGetFeed, document: object, why: str
) -> None:
    feed.write_json(SERVICE_INDEX, document)

    failed = steps.fails("lock")

    assert failed.error.startswith(
        f"template 'iis': {feed.index_url} is not a NuGet v3 service index ({why}); "
        "check the feed URL"
    )


def test_a_versions_list_of_the_wrong_shape(steps: Steps, feed: NuGetFeed) -> None:
    feed.write_json(VERSIONS_INDEX, {"items": ["1.0.0"]})

    failed = steps.fails("lock")

    assert failed.error == (
        f"template 'iis': {feed.base_url}/{VERSIONS_INDEX} is not a NuGet versions list (it "
        "has no 'versions' list); the feed's flat container is broken: tell its owner"
    )


def test_a_listed_version_without_its_package(steps: Steps, feed: NuGetFeed) -> None:
    feed.list_versions(PACKAGE_ID, ["1.0.0", "1.1.0", "1.5.0"])

    failed = steps.fails("lock")

    assert failed.error == (
        f"template 'iis': {feed.index_url} lists {PACKAGE_ID} 1.5.0, but its package file is "
        f"missing ({feed.package_url(PACKAGE_ID, '1.5.0')} answered 404); the feed is "
        "inconsistent: tell its owner, or pin another version"
    )


def test_a_sha512_file_that_holds_no_hash_is_ignored(steps: Steps, feed: NuGetFeed) -> None:
    feed.write(feed.package_path(PACKAGE_ID, "1.1.0") + ".sha512", b"<html>not here</html>")

    assert "iis 1.1.0" in steps.ok("run").out


# --- transient failures -------------------------------------------------------------------------


def test_server_errors_are_retried(steps: Steps, feed: NuGetFeed, server: StaticServer) -> None:
    server.fail(feed.url_path(SERVICE_INDEX), Fault.of_status(503, times=2))
    server.fail("*.nupkg", Fault.of_status(500))

    steps.ok("lock")

    assert len(server.requests_to(feed.url_path(SERVICE_INDEX))) == 3
    assert len(server.requests_to("*.nupkg")) == 2
    assert steps.lock()["iis"]["version"] == "1.1.0"


def test_server_errors_that_persist_fail_clearly(
    steps: Steps, feed: NuGetFeed, server: StaticServer
) -> None:
    server.fail(feed.url_path(VERSIONS_INDEX), Fault.of_status(503, times=100))

    failed = steps.fails("lock")

    assert failed.error.startswith("template 'iis': ")
    assert f"{feed.base_url}/{VERSIONS_INDEX}" in failed.error
    assert "503" in failed.error
    assert 1 < len(server.requests_to(feed.url_path(VERSIONS_INDEX))) < 10


def test_a_truncated_download_is_fetched_again(
    steps: Steps, feed: NuGetFeed, server: StaticServer
) -> None:
    server.fail("*.nupkg", Fault.truncate(0.5))

    steps.ok("lock")

    assert steps.lock()["iis"]["integrity"] in cache_entries()
    assert len(server.requests_to("*.nupkg")) >= 2


def test_a_download_that_stays_truncated_leaves_nothing(
    steps: Steps, feed: NuGetFeed, server: StaticServer
) -> None:
    server.fail("*.nupkg", Fault.truncate(0.5, times=100))

    failed = steps.fails("lock")

    assert failed.error.startswith("template 'iis': ")
    assert feed.package_url(PACKAGE_ID, "1.1.0") in failed.error
    assert_nothing_cached()


# --- damaged or replaced packages ---------------------------------------------------------------


def test_a_download_that_does_not_match_the_feeds_sha512(
    steps: Steps, feed: NuGetFeed, server: StaticServer
) -> None:
    server.fail("*.nupkg", Fault.corrupt(times=100))

    failed = steps.fails("lock")

    artifact = feed.package_url(PACKAGE_ID, "1.1.0")
    assert failed.error.startswith(
        f"template 'iis': the archive downloaded from {artifact} has SHA-512 "
    )
    assert ", but the feed says " in failed.error
    assert_nothing_cached()


def test_a_package_that_is_not_a_zip(steps: Steps, feed: NuGetFeed) -> None:
    feed.add(PACKAGE_ID, "1.2.0", nupkg=b"PK\x03\x04 this is not really a zip archive")

    failed = steps.fails("lock")

    artifact = feed.package_url(PACKAGE_ID, "1.2.0")
    assert failed.error.startswith(
        f"template 'iis': {artifact}: {LOWER_ID}.1.2.0.nupkg is not a valid zip archive"
    )
    assert_nothing_cached()


def test_a_package_with_a_damaged_file(steps: Steps, feed: NuGetFeed) -> None:
    body = bytearray(build_nupkg(PACKAGE_ID, "1.2.0", template_files("iis", "x" * 200)))
    # Damage run.sh's stored bytes (not the nuspec): only unpacking can notice, by its CRC.
    with zipfile.ZipFile(io.BytesIO(bytes(body))) as package:
        info = package.getinfo("run.sh")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    body[start + 2] ^= 0xFF
    feed.add(PACKAGE_ID, "1.2.0", nupkg=bytes(body))

    failed = steps.fails("lock")

    assert failed.error.startswith("template 'iis': ")
    assert "run.sh" in failed.error
    assert_nothing_cached()


def test_a_package_that_holds_no_template(steps: Steps, feed: NuGetFeed) -> None:
    feed.add(PACKAGE_ID, "1.2.0", {"readme.txt": "just a file\n"})

    failed = steps.fails("lock")

    assert failed.error.startswith(f"template 'iis' ({PACKAGE_ID} 1.2.0)")
    assert_nothing_cached()


def test_a_package_replaced_upstream_is_refused_on_sync(
    steps: Steps, feed: NuGetFeed, server: StaticServer
) -> None:
    steps.ok("lock")
    locked = steps.lock()["iis"]
    shutil.rmtree(cache_root())
    server.clear()
    replaced = build_nupkg(PACKAGE_ID, "1.1.0", template_files("iis", "something else"))
    feed.write(feed.package_path(PACKAGE_ID, "1.1.0"), replaced)

    failed = steps.fails("sync")

    new_sha256 = hashlib.sha256(replaced).hexdigest()
    assert failed.error == (
        f"template 'iis': the archive downloaded from {locked['artifact']} has sha256 "
        f"{new_sha256}, but steps.lock records {locked['sha256']}; if it was replaced upstream "
        "on purpose, relock it (`steps lock --upgrade-template` with the template's name, or a "
        "new 'sha256' in steps.toml for an archive URL); otherwise do not trust it"
    )
    assert_nothing_cached()
    # Syncing from a lock asks for the package alone, not the feed's documents or hash.
    assert [r.path for r in server.requests] == [
        feed.url_path(feed.package_path(PACKAGE_ID, "1.1.0"))
    ]
    # Relocking as the message says takes the new package, once trusted (and once the feed
    # publishes its new hash too: a feed whose .sha512 disagrees is refused).
    path = feed.package_path(PACKAGE_ID, "1.1.0")
    feed.write(path + ".sha512", base64.b64encode(hashlib.sha512(replaced).digest()))
    steps.ok("lock", "--upgrade-template", "iis")
    assert steps.lock()["iis"]["sha256"] == new_sha256
    assert "something else" in steps.ok("run").out
