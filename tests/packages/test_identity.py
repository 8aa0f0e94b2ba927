from __future__ import annotations

from pathlib import Path

import pytest

from steptemplates.errors import StepsError
from steptemplates.packages import PackageIdentity, archive_format, identify
from tests.packages.builders import build_zip, file, nuget_metadata


@pytest.mark.parametrize(
    ("name", "package_id", "version"),
    [
        ("Acme.Web.1.2.3-beta.4.zip", "Acme.Web", "1.2.3-beta.4"),
        ("webapp.2.0.0.tar.gz", "webapp", "2.0.0"),
        ("webapp.1.0.tgz", "webapp", "1.0"),
        ("Acme.Web.1.2.3.4.tar.bz2", "Acme.Web", "1.2.3.4"),
        ("Acme.9.1.2.3.4.tar.bz2", "Acme", "9.1.2.3.4"),
        ("Acme.Web.1.0.0+build.5.tar.xz", "Acme.Web", "1.0.0+build.5"),
        ("Acme.Web2.3.1.0-rc.1.txz", "Acme.Web2", "3.1.0-rc.1"),
        ("Acme.7zip.1.0.0.tbz", "Acme.7zip", "1.0.0"),
        ("WebApp.1.0.0.ZIP", "WebApp", "1.0.0"),
        ("deploy-scripts.10.20.30.tar", "deploy-scripts", "10.20.30"),
        ("Acme.Web@S1.2.3-beta.4@A1B2C3D4E5F60718293A4B5C6D7E8F90.zip", "Acme.Web", "1.2.3-beta.4"),
        ("acme-api@M1.0-SNAPSHOT@deadbeef.tar.gz", "acme-api", "1.0-SNAPSHOT"),
        ("Acme.Tools@O2024.1.5@0123abcd.tgz", "Acme.Tools", "2024.1.5"),
        ("Acme%40Corp@L1.0@ff.zip", "Acme@Corp", "1.0"),
    ],
)
def test_identity_from_file_name(name: str, package_id: str, version: str) -> None:
    assert identify(Path("/packages") / name) == PackageIdentity(package_id, version)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.1.0.0.zip", "zip"),
        ("a.1.0.0.nupkg", "nupkg"),
        ("a.1.0.0.tar", "tar"),
        ("a.1.0.0.tar.gz", "tar.gz"),
        ("a.1.0.0.TGZ", "tar.gz"),
        ("a.1.0.0.tar.bz2", "tar.bz2"),
        ("a.1.0.0.tbz", "tar.bz2"),
        ("a.1.0.0.tbz2", "tar.bz2"),
        ("a.1.0.0.tar.xz", "tar.xz"),
        ("a.1.0.0.txz", "tar.xz"),
        ("a.1.0.0.rar", None),
        ("a.1.0.0.gz", None),
        ("zip", None),
    ],
)
def test_archive_format_by_extension(name: str, expected: str | None) -> None:
    assert archive_format(Path(name)) == expected


@pytest.mark.parametrize(
    "name", ["webapp.zip", "webapp.latest.tar.gz", "webapp.1.zip", "webapp.1.0.x.zip"]
)
def test_name_without_version_is_refused_with_both_forms(name: str) -> None:
    with pytest.raises(StepsError) as caught:
        identify(Path(name))
    assert str(caught.value) == (
        f"{name}: cannot tell the package id and version from the file name; "
        "name it <Id>.<Version>.<ext> (Acme.Web.1.2.3.zip) or <Id>@S<Version>@<hex>.<ext>"
    )


def test_unknown_extension_is_refused() -> None:
    with pytest.raises(
        StepsError,
        match=r"^webapp\.1\.0\.0\.rar is not a package file name: unknown extension; use one of \.zip, \.nupkg, \.tar, ",
    ):
        identify(Path("webapp.1.0.0.rar"))


def test_nupkg_identity_comes_from_the_nuspec(tmp_path: Path) -> None:
    package = build_zip(
        tmp_path / "renamed.9.9.9.nupkg",
        [*nuget_metadata("Acme.Web", "1.2.3-beta.1"), file("content/a.txt", "a")],
    )
    assert identify(package) == PackageIdentity("Acme.Web", "1.2.3-beta.1")


def test_nuspec_without_namespace(tmp_path: Path) -> None:
    nuspec = "<package><metadata><id> Acme.Api </id><version>2.0.0</version></metadata></package>"
    package = build_zip(tmp_path / "x.1.0.0.nupkg", [file("Acme.Api.nuspec", nuspec)])
    assert identify(package) == PackageIdentity("Acme.Api", "2.0.0")


def test_nupkg_without_nuspec_falls_back_to_its_name(tmp_path: Path) -> None:
    package = build_zip(tmp_path / "Acme.Web.3.1.4.nupkg", [file("content/nested.nuspec", "<x/>")])
    assert identify(package) == PackageIdentity("Acme.Web", "3.1.4")


def test_nuspec_without_version_is_an_error(tmp_path: Path) -> None:
    nuspec = '<package xmlns="urn:x"><metadata><id>Acme</id></metadata></package>'
    package = build_zip(tmp_path / "Acme.1.0.0.nupkg", [file("Acme.nuspec", nuspec)])
    with pytest.raises(StepsError) as caught:
        identify(package)
    assert (
        str(caught.value)
        == "Acme.1.0.0.nupkg: Acme.nuspec has no <version> in <metadata>; fix the package"
    )


def test_nuspec_that_is_not_xml_is_an_error(tmp_path: Path) -> None:
    package = build_zip(tmp_path / "Acme.1.0.0.nupkg", [file("Acme.nuspec", "<package><metadata>")])
    with pytest.raises(
        StepsError, match=r"^Acme\.1\.0\.0\.nupkg: Acme\.nuspec is not valid XML \("
    ):
        identify(package)


def test_nuspec_entities_are_not_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret", encoding="utf-8")
    nuspec = (
        f'<!DOCTYPE package [<!ENTITY leak SYSTEM "file://{secret}">]>'
        "<package><metadata><id>Acme&leak;</id><version>1.0.0</version></metadata></package>"
    )
    package = build_zip(tmp_path / "Acme.1.0.0.nupkg", [file("Acme.nuspec", nuspec)])
    assert "s3cret" not in identify(package).id


def test_corrupt_nupkg_is_an_error(tmp_path: Path) -> None:
    package = tmp_path / "Acme.1.0.0.nupkg"
    package.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(
        StepsError,
        match=r"^Acme\.1\.0\.0\.nupkg is not a valid zip archive \(.+\); build or download the package again$",
    ):
        identify(package)


def test_missing_nupkg_is_an_error(tmp_path: Path) -> None:
    package = tmp_path / "Acme.1.0.0.nupkg"
    with pytest.raises(StepsError) as caught:
        identify(package)
    assert (
        str(caught.value)
        == f"cannot read package {package}: No such file or directory; check the path and its permissions"
    )
