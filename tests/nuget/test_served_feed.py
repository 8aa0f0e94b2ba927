"""A published feed served by a plain static file server, read the way NuGet clients read it."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from steptemplates.nuget.static_feed import publish
from tests.nuget.conftest import PackFactory
from tests.support.httpserver import StaticServer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[StaticServer]:
    (tmp_path / "www").mkdir()
    with StaticServer(tmp_path / "www") as served:
        yield served


def resource(index: dict[str, list[dict[str, str]]], kind: str) -> str:
    return next(r["@id"] for r in index["resources"] if r["@type"] == kind)


def test_a_client_finds_and_downloads_each_version(
    packed: PackFactory, server: StaticServer, tmp_path: Path
) -> None:
    feed = tmp_path / "www" / "feed"
    base = f"{server.url}/feed"
    packages = {version: packed("Acme.Web", version) for version in ("1.0.0", "2.0.0-RC.1")}
    for package in packages.values():
        publish(package, feed, base_url=base)

    with httpx.Client(timeout=5) as client:
        index = client.get(f"{base}/index.json").raise_for_status().json()
        flat = resource(index, "PackageBaseAddress/3.0.0")
        versions = client.get(f"{flat}acme.web/index.json").raise_for_status().json()
        assert versions == {"versions": ["1.0.0", "2.0.0-rc.1"]}
        for version, package in packages.items():
            lower = version.lower()
            url = f"{flat}acme.web/{lower}/acme.web.{lower}.nupkg"
            body = client.get(url).raise_for_status().content
            assert body == package.read_bytes()
            served_hash = client.get(url + ".sha512").raise_for_status().text
            assert served_hash == base64.b64encode(hashlib.sha512(body).digest()).decode()
            nuspec = client.get(f"{flat}acme.web/{lower}/acme.web.nuspec").raise_for_status()
            assert b"<id>Acme.Web</id>" in nuspec.content

        registrations = resource(index, "RegistrationsBaseUrl/3.0.0")
        registration = client.get(f"{registrations}acme.web/index.json").raise_for_status().json()
        items = registration["items"][0]["items"]
        assert [item["catalogEntry"]["version"] for item in items] == ["1.0.0", "2.0.0-RC.1"]
        for item in items:
            entry = item["catalogEntry"]
            body = client.get(entry["packageContent"]).raise_for_status().content
            assert base64.b64encode(hashlib.sha512(body).digest()).decode() == entry["packageHash"]
            leaf = client.get(item["@id"]).raise_for_status().json()
            assert leaf["packageContent"] == entry["packageContent"]
        assert client.get(f"{flat}acme.other/index.json").status_code == 404
