"""``pack``: the .nupkg read back with zipfile and lxml, and with steps' own package readers."""

from __future__ import annotations

import os
import re
import stat
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from steptemplates.errors import StepsError
from steptemplates.nuget.nuspec import NAMESPACE
from steptemplates.nuget.pack import pack
from steptemplates.packages import PackageIdentity, identify
from steptemplates.packages.archive import extract
from tests.nuget.conftest import make_template, template_contents

CONTENT_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"
RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CORE = "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}"
DC = "{http://purl.org/dc/elements/1.1/}"
PSMDCP_RE = re.compile(r"package/services/metadata/core-properties/[0-9a-f]{32}\.psmdcp")


def xml(package: zipfile.ZipFile, name: str) -> etree._Element:
    return etree.fromstring(package.read(name))


def nuspec_fields(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as package:
        root = xml(package, next(n for n in package.namelist() if n.endswith(".nuspec")))
    assert root.tag == f"{{{NAMESPACE}}}package"
    metadata = root.find(f"{{{NAMESPACE}}}metadata")
    assert metadata is not None
    return {etree.QName(child).localname: child.text or "" for child in metadata}


def test_layout_of_a_pack(template: Path, tmp_path: Path) -> None:
    path = pack(template, tmp_path / "dist", version="1.2")

    assert path == tmp_path / "dist" / "Deploy-Web.1.2.0.nupkg"
    with zipfile.ZipFile(path) as package:
        names = package.namelist()
        psmdcp = [n for n in names if PSMDCP_RE.fullmatch(n)]
        assert len(psmdcp) == 1
        assert names == [
            "Deploy-Web.nuspec",
            ".hidden.conf",
            "files/100%25.txt",
            "files/with%20space.txt",
            "run.sh",
            "steptemplate.toml",
            "tools/helper",
            "_rels/.rels",
            psmdcp[0],
            "[Content_Types].xml",
        ]
        relationships = {
            r.get("Type"): r.get("Target")
            for r in xml(package, "_rels/.rels").iter(f"{RELATIONSHIPS}Relationship")
        }
        types = xml(package, "[Content_Types].xml")
        core = xml(package, psmdcp[0])

    assert relationships == {
        "http://schemas.microsoft.com/packaging/2010/07/manifest": "/Deploy-Web.nuspec",
        "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties": "/"
        + psmdcp[0],
    }
    defaults = {
        d.get("Extension"): d.get("ContentType") for d in types.iter(f"{CONTENT_TYPES}Default")
    }
    assert defaults == {
        "conf": "application/octet",
        "nuspec": "application/octet",
        "psmdcp": "application/vnd.openxmlformats-package.core-properties+xml",
        "rels": "application/vnd.openxmlformats-package.relationships+xml",
        "sh": "application/octet",
        "toml": "application/octet",
        "txt": "application/octet",
    }
    overrides = [o.get("PartName") for o in types.iter(f"{CONTENT_TYPES}Override")]
    assert overrides == ["/tools/helper"]
    assert core.findtext(f"{DC}identifier") == "Deploy-Web"
    assert core.findtext(f"{CORE}version") == "1.2.0"


def test_nuspec_fields(template: Path, tmp_path: Path) -> None:
    path = pack(template, tmp_path, version="1.2.0-Beta.1+sha.5")

    assert path.name == "Deploy-Web.1.2.0-Beta.1.nupkg"
    assert nuspec_fields(path) == {
        "id": "Deploy-Web",
        "version": "1.2.0-Beta.1+sha.5",
        "authors": "Deploy-Web",
        "description": "Deploys the web site.",
        "tags": "steps-template",
    }


def test_executable_bits_are_in_the_zip(template: Path, tmp_path: Path) -> None:
    os.chmod(template / "run.sh", 0o700)  # any executable bit counts; the mode is normalised
    path = pack(template, tmp_path, version="1.0.0")

    with zipfile.ZipFile(path) as package:
        modes = {info.filename: info.external_attr >> 16 for info in package.infolist()}
    assert modes["run.sh"] == stat.S_IFREG | 0o755
    assert modes["tools/helper"] == stat.S_IFREG | 0o755
    assert modes["steptemplate.toml"] == stat.S_IFREG | 0o644
    assert modes["files/with%20space.txt"] == stat.S_IFREG | 0o644


def test_steps_reads_the_pack_back(template: Path, tmp_path: Path) -> None:
    path = pack(template, tmp_path / "dist", version="2.0.0+build.7", package_id="Acme.Deploy")

    assert identify(path) == PackageIdentity("Acme.Deploy", "2.0.0+build.7")
    extract(path, tmp_path / "out")
    found = {
        p.relative_to(tmp_path / "out").as_posix(): (p.read_bytes(), bool(p.stat().st_mode & 0o100))
        for p in (tmp_path / "out").rglob("*")
        if p.is_file()
    }
    assert found == template_contents()


def test_same_inputs_give_the_same_bytes(template: Path, tmp_path: Path) -> None:
    first = pack(template, tmp_path / "a", version="1.0.0").read_bytes()
    # Times, non-executable permission bits and where the output goes do not matter.
    os.utime(template / "run.sh", (1_000_000_000, 1_000_000_000))
    os.chmod(template / "files" / "with space.txt", 0o600)
    second = pack(template, tmp_path / "b", version="1.0").read_bytes()
    assert second == first

    (template / "run.sh").write_text("#!/bin/sh\necho changed\n", encoding="utf-8")
    changed = pack(template, tmp_path / "c", version="1.0.0")
    assert changed.read_bytes() != first
    with zipfile.ZipFile(tmp_path / "a" / changed.name) as a, zipfile.ZipFile(changed) as c:
        assert [n for n in a.namelist() if n.endswith(".psmdcp")] != [
            n for n in c.namelist() if n.endswith(".psmdcp")
        ]


def test_version_and_id_options(template: Path, tmp_path: Path) -> None:
    assert pack(template, tmp_path, version="01.2.3.0").name == "Deploy-Web.1.2.3.nupkg"
    assert pack(template, tmp_path, version="1.2.3.4").name == "Deploy-Web.1.2.3.4.nupkg"
    named = pack(template, tmp_path, version="1.0", package_id="Acme.Web_Deploy")
    assert named.name == "Acme.Web_Deploy.1.0.0.nupkg"
    assert nuspec_fields(named)["id"] == "Acme.Web_Deploy"


def test_output_directory_is_made_and_left_clean(template: Path, tmp_path: Path) -> None:
    out = tmp_path / "deep" / "dist"
    path = pack(template, out, version="1.0.0")
    assert sorted(p.name for p in out.iterdir()) == [path.name]


def test_an_empty_description_is_filled_in(tmp_path: Path) -> None:
    root = make_template(tmp_path / "t", name="bare", description="")
    assert nuspec_fields(pack(root, tmp_path, version="1.0.0"))["description"] == (
        "The step template bare."
    )


# --- refusals -------------------------------------------------------------------------------


def refused(directory: Path, out: Path, **options: str) -> str:
    with pytest.raises(StepsError) as caught:
        pack(directory, out, **options)
    assert not out.exists() or not list(out.iterdir()), "a refused pack left a file behind"
    return str(caught.value)


def test_no_template_file(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    message = refused(tmp_path / "empty", tmp_path / "out", version="1.0.0")
    assert message.startswith(f"{tmp_path / 'empty'}: no steptemplate.toml or Octopus step template JSON file found")


def test_no_version(template: Path, tmp_path: Path) -> None:
    assert refused(template, tmp_path / "out") == (
        f"cannot pack {template}: no version given; pass --version, e.g. 1.0.0"
    )


def test_bad_version(template: Path, tmp_path: Path) -> None:
    message = refused(template, tmp_path / "out", version="one")
    assert message.startswith(f"cannot pack {template}: invalid version: 'one' is not a version")
    assert "pass --version as 1.2.3" in message


def test_bad_id(template: Path, tmp_path: Path) -> None:
    message = refused(template, tmp_path / "out", version="1.0.0", package_id="Acme Web")
    assert message.startswith(f"cannot pack {template}: invalid package id 'Acme Web': an id is")
    assert message.endswith("pass a valid --id, such as Acme.Deploy-Web")


def test_a_name_that_makes_no_id(tmp_path: Path) -> None:
    root = make_template(tmp_path / "t", name="???")
    message = refused(root, tmp_path / "out", version="1.0.0")
    assert "no package id can be made from the template name '???'" in message
    assert "pass --id" in message
    assert pack(root, tmp_path / "ok", version="1.0.0", package_id="Q").name == "Q.1.0.0.nupkg"


@pytest.mark.parametrize("target_is_directory", [False, True])
def test_symbolic_links_are_refused(
    template: Path, tmp_path: Path, target_is_directory: bool
) -> None:
    target = "files" if target_is_directory else "run.sh"
    (template / "files" / "link").symlink_to(template / target)
    assert refused(template, tmp_path / "out", version="1.0.0") == (
        f"cannot pack {template}: 'files/link' is a symbolic link; "
        "replace it with the file or directory it points to"
    )


@pytest.mark.parametrize(
    "name", ["package/notes.txt", "_rels/x.rels", "Other.nuspec", "[Content_Types].xml"]
)
def test_names_nuget_keeps_for_itself_are_refused(
    template: Path, tmp_path: Path, name: str
) -> None:
    (template / name).parent.mkdir(exist_ok=True)
    (template / name).write_text("x", encoding="utf-8")
    message = refused(template, tmp_path / "out", version="1.0.0")
    assert message == (
        f"cannot pack {template}: '{name}' is where a .nupkg keeps NuGet's own files; rename it"
    )


def test_names_differing_only_in_case_are_refused(template: Path, tmp_path: Path) -> None:
    (template / "README").write_text("a", encoding="utf-8")
    (template / "readme").write_text("b", encoding="utf-8")
    if len(list(template.glob("[Rr][Ee][Aa][Dd][Mm][Ee]"))) < 2:
        pytest.skip("the file system here is case-insensitive")
    assert "'README' and 'readme' differ only in case" in refused(
        template, tmp_path / "out", version="1.0.0"
    )


def test_a_special_file_is_refused(template: Path, tmp_path: Path) -> None:
    os.mkfifo(template / "pipe")
    assert refused(template, tmp_path / "out", version="1.0.0") == (
        f"cannot pack {template}: 'pipe' is not a regular file or directory; "
        "remove it from the template directory"
    )


def test_an_invalid_template_is_refused(template: Path, tmp_path: Path) -> None:
    (template / "steptemplate.toml").write_text('name = "x"\n', encoding="utf-8")
    assert "a [script] table is required" in refused(template, tmp_path / "out", version="1.0")
