"""``publish``: the static feed's files and JSON, refusals, base URLs, atomicity, locking."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest

from steptemplates import fsutil
from steptemplates.console import Console
from steptemplates.errors import StepsError
from steptemplates.nuget import static_feed
from steptemplates.nuget.static_feed import publish
from tests.nuget.conftest import PackFactory

BASE = "http://127.0.0.1:8000/feed"


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def sha512(data: bytes) -> str:
    return base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def feed_files(feed: Path) -> dict[str, bytes]:
    return {
        p.relative_to(feed).as_posix(): p.read_bytes()
        for p in sorted(feed.rglob("*"))
        if p.is_file() and p.name != static_feed.LOCK_NAME
    }


def registration_versions(feed: Path, lower_id: str) -> list[str]:
    index = load(feed / "registration" / lower_id / "index.json")
    return [item["catalogEntry"]["version"] for item in index["items"][0]["items"]]


def assert_listed_packages_complete(feed: Path) -> None:
    """Every version a version list names has its package, hash file and nuspec."""
    for versions_index in (feed / "flatcontainer").glob("*/index.json"):
        lower_id = versions_index.parent.name
        for version in load(versions_index)["versions"]:
            directory = versions_index.parent / version
            package = (directory / f"{lower_id}.{version}.nupkg").read_bytes()
            assert (directory / f"{lower_id}.{version}.nupkg.sha512").read_text() == sha512(package)
            assert (directory / f"{lower_id}.nuspec").is_file()


def recording_console() -> tuple[Console, io.StringIO]:
    err = io.StringIO()
    return Console(io.StringIO(), err), err


# --- layout and JSON ------------------------------------------------------------------------


def test_layout_and_documents(packed: PackFactory, tmp_path: Path) -> None:
    package = packed("Acme.Web", "1.2.0-Beta.1+sha.9", description="Deploys IIS sites.")
    feed = tmp_path / "feed"

    result = publish(package, feed, base_url=BASE + "/")

    data = package.read_bytes()
    assert result == static_feed.PublishResult(
        package_id="Acme.Web",
        version="1.2.0-Beta.1",
        feed_dir=feed,
        base_url=BASE,
        service_index_url=f"{BASE}/index.json",
        package_url=f"{BASE}/flatcontainer/acme.web/1.2.0-beta.1/acme.web.1.2.0-beta.1.nupkg",
        sha512=sha512(data),
        replaced=False,
    )
    version_dir = "flatcontainer/acme.web/1.2.0-beta.1"
    files = feed_files(feed)
    assert sorted(files) == [
        f"{version_dir}/acme.web.1.2.0-beta.1.nupkg",
        f"{version_dir}/acme.web.1.2.0-beta.1.nupkg.sha512",
        f"{version_dir}/acme.web.nuspec",
        "flatcontainer/acme.web/index.json",
        "index.json",
        "registration/acme.web/1.2.0-beta.1.json",
        "registration/acme.web/index.json",
    ]
    assert files[f"{version_dir}/acme.web.1.2.0-beta.1.nupkg"] == data
    assert files[f"{version_dir}/acme.web.1.2.0-beta.1.nupkg.sha512"] == sha512(data).encode()
    with zipfile.ZipFile(package) as opened:
        assert files[f"{version_dir}/acme.web.nuspec"] == opened.read("Acme.Web.nuspec")
    assert load(feed / "flatcontainer/acme.web/index.json") == {"versions": ["1.2.0-beta.1"]}

    service = load(feed / "index.json")
    assert service["version"] == "3.0.0"
    resources = {r["@type"]: r["@id"] for r in service["resources"]}
    assert resources == {
        "PackageBaseAddress/3.0.0": f"{BASE}/flatcontainer/",
        "RegistrationsBaseUrl": f"{BASE}/registration/",
        "RegistrationsBaseUrl/3.0.0": f"{BASE}/registration/",
        "RegistrationsBaseUrl/3.0.0-rc": f"{BASE}/registration/",
        "RegistrationsBaseUrl/3.0.0-beta": f"{BASE}/registration/",
    }
    assert all("steps publish" in r["comment"] for r in service["resources"])

    index_url = f"{BASE}/registration/acme.web/index.json"
    leaf_url = f"{BASE}/registration/acme.web/1.2.0-beta.1.json"
    registration = load(feed / "registration/acme.web/index.json")
    assert registration["@id"] == index_url
    assert registration["count"] == 1
    page = registration["items"][0]
    assert (page["count"], page["lower"], page["upper"]) == (1, "1.2.0-beta.1", "1.2.0-beta.1")
    item = page["items"][0]
    assert item["@id"] == leaf_url
    assert item["packageContent"] == result.package_url
    assert item["registration"] == index_url
    entry = item["catalogEntry"]
    assert entry["@id"].startswith(leaf_url)
    assert {k: v for k, v in entry.items() if k not in ("@id", "@type")} == {
        "id": "Acme.Web",
        "version": "1.2.0-Beta.1+sha.9",
        "description": "Deploys IIS sites.",
        "authors": "Acme.Web",
        "tags": ["steps-template"],
        "listed": True,
        "packageContent": result.package_url,
        "packageHash": sha512(data),
        "packageHashAlgorithm": "SHA512",
    }
    leaf = load(feed / "registration/acme.web/1.2.0-beta.1.json")
    assert (leaf["@id"], leaf["packageContent"], leaf["registration"], leaf["listed"]) == (
        leaf_url,
        result.package_url,
        index_url,
        True,
    )


def test_versions_are_kept_in_version_order(packed: PackFactory, tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    for version in ("1.10.0", "1.2.0", "1.2.0-beta.10", "1.2.0-beta.2", "1.2.0.1", "0.9"):
        publish(packed("Acme.Web", version), feed, base_url=BASE)

    expected = ["0.9.0", "1.2.0-beta.2", "1.2.0-beta.10", "1.2.0", "1.2.0.1", "1.10.0"]
    assert load(feed / "flatcontainer/acme.web/index.json") == {"versions": expected}
    assert registration_versions(feed, "acme.web") == expected
    page = load(feed / "registration/acme.web/index.json")["items"][0]
    assert (page["count"], page["lower"], page["upper"]) == (6, "0.9.0", "1.10.0")
    assert sorted(p.name for p in (feed / "registration/acme.web").iterdir()) == sorted(
        [*(f"{v}.json" for v in expected), "index.json"]
    )
    assert_listed_packages_complete(feed)


def test_packages_of_other_ids_are_kept_apart(packed: PackFactory, tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    publish(packed("Acme.Web", "1.0.0"), feed, base_url=BASE)
    publish(packed("Acme.Api", "2.0.0"), feed)

    assert load(feed / "flatcontainer/acme.web/index.json") == {"versions": ["1.0.0"]}
    assert load(feed / "flatcontainer/acme.api/index.json") == {"versions": ["2.0.0"]}
    assert registration_versions(feed, "acme.web") == ["1.0.0"]


# --- refusals and replacing -----------------------------------------------------------------


def test_an_existing_version_is_refused_unless_forced(packed: PackFactory, tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    publish(packed("Acme.Web", "1.0.0", description="first"), feed, base_url=BASE)
    publish(packed("Acme.Web", "1.1.0"), feed)
    before = feed_files(feed)
    second = packed("Acme.Web", "1.0.0.0+rebuilt", description="second")

    with pytest.raises(StepsError) as caught:
        publish(second, feed)
    assert str(caught.value) == (
        f"Acme.Web 1.0.0 is already in the feed {feed}; "
        "publish a new version, or pass --force to replace it"
    )
    assert feed_files(feed) == before

    result = publish(second, feed, force=True)

    assert result.replaced
    served = feed / "flatcontainer/acme.web/1.0.0/acme.web.1.0.0.nupkg"
    assert served.read_bytes() == second.read_bytes()
    assert load(feed / "flatcontainer/acme.web/index.json") == {"versions": ["1.0.0", "1.1.0"]}
    entry = load(feed / "registration/acme.web/index.json")["items"][0]["items"][0]["catalogEntry"]
    assert (entry["version"], entry["description"]) == ("1.0.0+rebuilt", "second")
    assert entry["packageHash"] == sha512(second.read_bytes())
    assert_listed_packages_complete(feed)


def test_ids_differing_in_case_are_one_package(packed: PackFactory, tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    publish(packed("Acme.Web", "1.0.0"), feed, base_url=BASE)
    console, err = recording_console()

    result = publish(packed("ACME.WEB", "2.0.0"), feed, console=console)

    assert result.package_id == "Acme.Web"
    assert err.getvalue().splitlines() == [
        f"warning: package id 'ACME.WEB' differs only in case from 'Acme.Web' in the feed "
        f"{feed}; it is published as a version of 'Acme.Web'"
    ]
    assert sorted(p.name for p in (feed / "flatcontainer").iterdir()) == ["acme.web"]
    assert load(feed / "flatcontainer/acme.web/index.json") == {"versions": ["1.0.0", "2.0.0"]}
    items = load(feed / "registration/acme.web/index.json")["items"][0]["items"]
    assert [item["catalogEntry"]["id"] for item in items] == ["Acme.Web", "Acme.Web"]
    with pytest.raises(StepsError, match=r"^acme\.web 1\.0\.0 is already in the feed"):
        publish(packed("acme.web", "1.0.0"), feed)


def nupkg(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in entries.items():
            package.writestr(name, data)
    return buffer.getvalue()


def nuspec(metadata: str) -> bytes:
    return (
        '<?xml version="1.0"?><package xmlns="http://schemas.microsoft.com/packaging/2013/05/'
        f'nuspec.xsd"><metadata>{metadata}</metadata></package>'
    ).encode()


GOOD_NUSPEC = nuspec("<id>Acme.Web</id><version>1.0.0</version><description>d</description>")


def corrupted_entry() -> bytes:
    data = bytearray(nupkg({"Acme.Web.nuspec": GOOD_NUSPEC, "run.sh": b"echo hi\n" * 50}))
    start = data.index(b"run.sh") + len("run.sh")  # the local header's name, then the data
    data[start + 5] ^= 0xFF
    return bytes(data)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a zip at all", "bad.nupkg is not a valid .nupkg (File is not a zip file)"),
        (
            nupkg({"Acme.Web.nuspec": GOOD_NUSPEC})[:-30],
            "bad.nupkg is not a valid .nupkg (File is not a zip file)",
        ),
        (nupkg({"run.sh": b"x"}), "bad.nupkg is not a valid .nupkg: no .nuspec at its root"),
        (
            nupkg({"lib/Acme.Web.nuspec": GOOD_NUSPEC}),
            "bad.nupkg is not a valid .nupkg: no .nuspec at its root",
        ),
        (
            nupkg({"a.nuspec": GOOD_NUSPEC, "b.nuspec": GOOD_NUSPEC}),
            "bad.nupkg is not a valid .nupkg: 2 .nuspec files at its root",
        ),
        (
            nupkg({"x.nuspec": nuspec("<id>Acme.Web</id>")}),
            "bad.nupkg: x.nuspec has no <version> in <metadata>",
        ),
        (
            nupkg({"x.nuspec": nuspec("<version>1.0.0</version>")}),
            "bad.nupkg: x.nuspec has no <id> in <metadata>",
        ),
        (nupkg({"x.nuspec": b"<package><metadata>"}), "bad.nupkg: x.nuspec is not valid XML"),
        (
            nupkg({"x.nuspec": nuspec("<id>Acme Web</id><version>1.0.0</version>")}),
            "bad.nupkg: invalid package id 'Acme Web': an id is",
        ),
        (
            nupkg({"x.nuspec": nuspec("<id>Acme.Web</id><version>1.0.0-</version>")}),
            "bad.nupkg: invalid package version: '1.0.0-' is not a version",
        ),
        (corrupted_entry(), "bad.nupkg is corrupt: entry 'run.sh' does not match its checksum"),
    ],
)
def test_invalid_packages_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    package = tmp_path / "bad.nupkg"
    package.write_bytes(content)

    with pytest.raises(StepsError) as caught:
        publish(package, tmp_path / "feed", base_url=BASE)

    assert str(caught.value).startswith(f"{tmp_path}/{message}")
    assert caught.value.hint == "make the package again, for example with steps pack"
    assert not (tmp_path / "feed").exists()


def test_a_missing_package_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StepsError, match=r"^cannot read package .*missing\.nupkg: No such file"):
        publish(tmp_path / "missing.nupkg", tmp_path / "feed")


def test_a_package_made_elsewhere_is_accepted(tmp_path: Path) -> None:
    """Any tool's package will do: another nuspec namespace, a version to normalise."""
    spec = (
        b'<?xml version="1.0"?><package xmlns="http://schemas.microsoft.com/packaging/2010/07/'
        b'nuspec.xsd"><metadata><id>Other.Tool</id><version>01.2</version>'
        b"<authors>someone</authors><description>d</description></metadata></package>"
    )
    package = tmp_path / "Other.Tool.1.2.nupkg"
    package.write_bytes(nupkg({"Other.Tool.nuspec": spec, "tools/run.sh": b"echo\n"}))

    result = publish(package, tmp_path / "feed", base_url=BASE)

    assert (result.package_id, result.version) == ("Other.Tool", "1.2.0")
    assert (tmp_path / "feed/flatcontainer/other.tool/1.2.0/other.tool.1.2.0.nupkg").is_file()


# --- base URLs ------------------------------------------------------------------------------


def test_without_a_base_url_the_feed_is_a_folder_feed(packed: PackFactory, tmp_path: Path) -> None:
    feed = tmp_path / "shared feed"
    console, err = recording_console()

    result = publish(packed("Acme.Web", "1.0.0"), feed, console=console)

    folder = feed.resolve().as_uri()
    assert folder.startswith("file:///") and "%20" in folder
    assert result.base_url == folder
    assert f"the feed's URLs start with {folder}, so it works as a folder feed" in err.getvalue()
    service = load(feed / "index.json")
    assert service["resources"][0]["@id"] == f"{folder}/flatcontainer/"
    # The recorded base is reused, quietly.
    console, err = recording_console()
    assert publish(packed("Acme.Web", "2.0.0"), feed, console=console).base_url == folder
    assert err.getvalue() == ""


def test_the_recorded_base_url_is_reused(packed: PackFactory, tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    publish(packed("Acme.Web", "1.0.0"), feed, base_url=BASE)
    result = publish(packed("Acme.Web", "2.0.0"), feed)
    assert result.base_url == BASE
    leaf = load(feed / "registration/acme.web/2.0.0.json")
    assert leaf["packageContent"].startswith(f"{BASE}/flatcontainer/")


def test_a_different_base_url_is_refused_unless_forced(packed: PackFactory, tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    publish(packed("Acme.Web", "1.0.0"), feed, base_url=BASE)
    publish(packed("Acme.Api", "1.0.0"), feed)
    before = feed_files(feed)
    moved = "https://packages.example.com/steps"

    with pytest.raises(StepsError) as caught:
        publish(packed("Acme.Web", "2.0.0"), feed, base_url=moved)
    assert str(caught.value) == (
        f"the feed {feed} is served at {BASE}, not {moved}; "
        "leave out --base-url, or pass --force to rewrite every URL in the feed"
    )
    assert feed_files(feed) == before

    publish(packed("Acme.Web", "2.0.0"), feed, base_url=moved, force=True)

    text = "\n".join(
        data.decode() for name, data in feed_files(feed).items() if name.endswith(".json")
    )
    assert BASE not in text
    assert f"{moved}/registration/acme.api/1.0.0.json" in text
    assert load(feed / "flatcontainer/acme.web/index.json") == {"versions": ["1.0.0", "2.0.0"]}


@pytest.mark.parametrize(
    "url", ["ftp://example.com/feed", "example.com/feed", "http:///feed", f"{BASE}?x=1"]
)
def test_unusable_base_urls_are_refused(packed: PackFactory, tmp_path: Path, url: str) -> None:
    with pytest.raises(StepsError, match="is not an http://, https:// or file:// URL"):
        publish(packed("Acme.Web", "1.0.0"), tmp_path / "feed", base_url=url)


def test_credentials_in_the_base_url_are_refused_and_not_shown(
    packed: PackFactory, tmp_path: Path
) -> None:
    with pytest.raises(StepsError) as caught:
        publish(packed("A", "1.0.0"), tmp_path / "feed", base_url="https://me:s3cret@x.test/f")
    assert str(caught.value).startswith("--base-url must not contain a user name or password")
    assert "s3cret" not in str(caught.value)
    assert not (tmp_path / "feed").exists()


def test_an_unknown_service_index_is_refused(packed: PackFactory, tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "index.json").write_text('{"version": "3.0.0", "resources": []}', encoding="utf-8")
    with pytest.raises(StepsError, match="is not a service index written by steps publish"):
        publish(packed("Acme.Web", "1.0.0"), feed)


# --- atomicity and concurrency --------------------------------------------------------------


def fail_writes(monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    real = fsutil.write_bytes_atomic

    def write(path: Path, data: bytes, *, mode: int | None = None) -> None:
        if path.as_posix().endswith(suffix):
            raise StepsError(f"cannot write {path}: No space left on device")
        real(path, data, mode=mode)

    monkeypatch.setattr(static_feed, "write_bytes_atomic", write)


@pytest.mark.parametrize(
    ("failing", "listed", "registered"),
    [
        ("acme.web.2.0.0.nupkg", ["1.0.0"], ["1.0.0"]),
        ("acme.web.2.0.0.nupkg.sha512", ["1.0.0"], ["1.0.0"]),
        ("flatcontainer/acme.web/index.json", ["1.0.0"], ["1.0.0"]),
        ("registration/acme.web/2.0.0.json", ["1.0.0", "2.0.0"], ["1.0.0"]),
        ("registration/acme.web/index.json", ["1.0.0", "2.0.0"], ["1.0.0"]),
        ("feed/index.json", ["1.0.0", "2.0.0"], ["1.0.0", "2.0.0"]),
    ],
)
def test_a_failure_mid_publish_lists_only_complete_packages(
    packed: PackFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    failing: str,
    listed: list[str],
    registered: list[str],
) -> None:
    feed = tmp_path / "feed"
    publish(packed("Acme.Web", "1.0.0"), feed, base_url=BASE)
    service_index = (feed / "index.json").read_bytes()
    second = packed("Acme.Web", "2.0.0")
    fail_writes(monkeypatch, failing)

    with pytest.raises(StepsError, match="No space left on device"):
        publish(second, feed)

    assert load(feed / "flatcontainer/acme.web/index.json") == {"versions": listed}
    assert_listed_packages_complete(feed)
    assert (feed / "index.json").read_bytes() == service_index
    assert registration_versions(feed, "acme.web") == registered
    assert not [p for p in feed.rglob("*.tmp")], "a temporary file was left behind"

    # Once the disk has room again, publishing completes the feed (a listed version needs
    # --force, as any version already in the feed does).
    monkeypatch.setattr(static_feed, "write_bytes_atomic", fsutil.write_bytes_atomic)
    publish(second, feed, force=len(listed) == 2)
    assert registration_versions(feed, "acme.web") == ["1.0.0", "2.0.0"]
    assert_listed_packages_complete(feed)


def test_a_damaged_registration_is_rebuilt(packed: PackFactory, tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    publish(packed("Acme.Web", "1.0.0", description="one"), feed, base_url=BASE)
    (feed / "registration/acme.web/index.json").write_text("{", encoding="utf-8")
    console, err = recording_console()

    publish(packed("Acme.Web", "2.0.0"), feed, console=console)

    assert "registration/acme.web/index.json is damaged" in err.getvalue()
    items = load(feed / "registration/acme.web/index.json")["items"][0]["items"]
    assert [(i["catalogEntry"]["version"], i["catalogEntry"]["description"]) for i in items] == [
        ("1.0.0", "one"),
        ("2.0.0", "A template."),
    ]


def test_a_damaged_version_list_is_an_error(packed: PackFactory, tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    publish(packed("Acme.Web", "1.0.0"), feed, base_url=BASE)
    (feed / "flatcontainer/acme.web/index.json").write_text('{"versions": "1.0"}', encoding="utf-8")
    with pytest.raises(StepsError, match=r"acme\.web/index\.json is damaged: it has no list"):
        publish(packed("Acme.Web", "2.0.0"), feed)


def test_concurrent_publishers_lose_nothing(packed: PackFactory, tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    publish(packed("Acme.Web", "0.1.0"), feed, base_url=BASE)
    packages = [packed("Acme.Web", f"1.{minor}.0") for minor in range(8)]
    errors: list[BaseException] = []

    def run(package: Path) -> None:
        try:
            publish(package, feed)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(package,)) for package in packages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    expected = ["0.1.0", *(f"1.{minor}.0" for minor in range(8))]
    assert load(feed / "flatcontainer/acme.web/index.json") == {"versions": expected}
    assert registration_versions(feed, "acme.web") == expected
    assert_listed_packages_complete(feed)
