"""A NuGet v3 feed built by hand, laid out as nuget.org lays its out, for the source tests.

``NuGetFeed`` writes files under a directory that ``StaticServer`` (or a subclass that asks
for credentials, ``GuardedServer``) serves::

    v3/index.json                                          service index
    v3-flatcontainer/{id}/index.json                       {"versions": [...]}
    v3-flatcontainer/{id}/{ver}/{id}.{ver}.nupkg           the package (+ .nuspec, .sha512)

Ids and versions are lowercase in paths; each .nupkg is an OPC zip made here with zipfile:
``<Id>.nuspec`` (the id as its author spelled it), ``[Content_Types].xml``, ``_rels/.rels``,
a core-properties ``.psmdcp`` and the template's files. It is written independently of the
publishing code on purpose: the two must agree only through the protocol.
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from tests.support.httpserver import Response, StaticServer
from tests.support.projects import (
    TEMPLATE,
    Steps,
    assert_cache_consistent,
    cache_entries,
    cache_root,
)

_prefixes = itertools.count(1)

PACKAGE_ID = "Acme.Templates.Iis"
SERVICE_INDEX = "v3/index.json"
FLAT_CONTAINER = "v3-flatcontainer/"

_CONTENT_TYPES = """<?xml version="1.0" encoding="utf-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
  <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml" />
  <Default Extension="nuspec" ContentType="application/octet" />
  <Default Extension="psmdcp" ContentType="application/vnd.openxmlformats-package.core-properties+xml" />
  <Default Extension="sh" ContentType="application/octet" />
  <Default Extension="toml" ContentType="application/octet" />
  <Default Extension="txt" ContentType="application/octet" />
</Types>
"""
_RELS = """<?xml version="1.0" encoding="utf-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
  <Relationship Type="http://schemas.microsoft.com/packaging/2010/07/manifest" Target="/{nuspec}" Id="R1" />
  <Relationship Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="/package/services/metadata/core-properties/{psmdcp}" Id="R2" />
</Relationships>
"""
_NUSPEC = """<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata>
    <id>{id}</id>
    <version>{version}</version>
    <authors>Acme</authors>
    <description>A step template for the tests.</description>
  </metadata>
</package>
"""
_PSMDCP = """<?xml version="1.0" encoding="utf-8"?>
<coreProperties xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns="http://schemas.openxmlformats.org/package/2006/metadata/core-properties">
  <dc:creator>Acme</dc:creator>
  <dc:identifier>{id}</dc:identifier>
  <version>{version}</version>
</coreProperties>
"""

# Resources a full feed lists and a restore ignores; their URLs need not resolve here.
_OTHER_RESOURCES = (
    ("query", "SearchQueryService/3.5.0"),
    ("autocomplete", "SearchAutocompleteService/3.5.0"),
    ("registration5-gz-semver2/", "RegistrationsBaseUrl/3.6.0"),
    ("package", "PackagePublish/2.0.0"),
    ("catalog0/index.json", "Catalog/3.0.0"),
)


def template_files(name: str = "greet", output: str = "hello") -> dict[str, str | bytes]:
    """A bash template that prints ``output``; ``run.sh`` is made executable in the zip."""
    return {"steptemplate.toml": TEMPLATE.format(name=name), "run.sh": f"echo {output}\n"}


def build_nupkg(package_id: str, version: str, files: dict[str, str | bytes]) -> bytes:
    """The bytes of an OPC .nupkg holding ``files`` at its root (``*.sh`` executable)."""
    psmdcp = hashlib.sha256(f"{package_id}{version}".encode()).hexdigest()[:32] + ".psmdcp"
    nuspec = f"{package_id}.nuspec"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("_rels/.rels", _RELS.format(nuspec=nuspec, psmdcp=psmdcp))
        package.writestr(nuspec, _NUSPEC.format(id=package_id, version=version))
        for name, content in sorted(files.items()):
            # OPC stores part names %-encoded (a space is %20).
            info = zipfile.ZipInfo(quote(name), date_time=(2024, 1, 2, 3, 4, 6))
            info.create_system = 3
            mode = 0o755 if name.endswith(".sh") else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            package.writestr(info, content)
        core = f"package/services/metadata/core-properties/{psmdcp}"
        package.writestr(core, _PSMDCP.format(id=package_id, version=version))
        package.writestr("[Content_Types].xml", _CONTENT_TYPES)
    return buffer.getvalue()


@dataclass
class NuGetFeed:
    """A feed under ``root`` that will be served at ``base_url`` (its JSON holds absolute URLs)."""

    root: Path
    base_url: str
    # Lowercased id -> the version strings its versions list holds, as written.
    listed: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        resources = [
            {
                "@id": f"{self.base_url}/{FLAT_CONTAINER}",
                "@type": "PackageBaseAddress/3.0.0",
                "comment": "Base URL of where NuGet packages are stored",
            },
        ]
        resources += [
            {"@id": f"{self.base_url}/{path}", "@type": kind} for path, kind in _OTHER_RESOURCES
        ]
        self.write_json(SERVICE_INDEX, {"version": "3.0.0", "resources": resources})

    @classmethod
    def on(cls, server: StaticServer) -> NuGetFeed:
        """A new, empty feed under a path of its own on ``server`` (servers are shared)."""
        prefix = f"feed-{next(_prefixes)}"
        return cls(server.root / prefix, f"{server.url}/{prefix}")

    @property
    def index_url(self) -> str:
        return f"{self.base_url}/{SERVICE_INDEX}"

    def url_path(self, relative: str) -> str:
        """The path part of a file's URL, for the server's fault and request globs."""
        return f"{urlsplit(self.base_url).path}/{relative}"

    def write_json(self, relative: str, data: object) -> None:
        self.write(relative, json.dumps(data, indent=2).encode())

    def write(self, relative: str, body: bytes) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)

    def package_path(self, package_id: str, version: str) -> str:
        """Where a version's .nupkg lives, relative to the root (``version`` as in its URL)."""
        lower_id, lower_version = package_id.lower(), version.lower()
        return f"{FLAT_CONTAINER}{lower_id}/{lower_version}/{lower_id}.{lower_version}.nupkg"

    def package_url(self, package_id: str, version: str) -> str:
        return f"{self.base_url}/{self.package_path(package_id, version)}"

    def add(
        self,
        package_id: str,
        version: str,
        files: dict[str, str | bytes] | None = None,
        *,
        listed_as: str | None = None,
        stored_as: str | None = None,
        sha512: bool = True,
        nupkg: bytes | None = None,
    ) -> bytes:
        """Publish a version; returns the .nupkg's bytes.

        ``listed_as`` is the string the versions list shows (default ``version``),
        ``stored_as`` the version in the package's path (default ``version`` lowercased);
        ``nupkg`` replaces the built package's bytes.
        """
        body = (
            nupkg
            if nupkg is not None
            else build_nupkg(package_id, version, files if files is not None else template_files())
        )
        path = self.package_path(package_id, stored_as or version)
        self.write(path, body)
        self.write(path.removesuffix(".nupkg") + ".nuspec", b"<package/>")
        if sha512:
            self.write(path + ".sha512", base64.b64encode(hashlib.sha512(body).digest()))
        versions = self.listed.setdefault(package_id.lower(), [])
        versions.append(listed_as or version.lower())
        self.list_versions(package_id, versions)
        return body

    def list_versions(self, package_id: str, versions: list[str]) -> None:
        self.write_json(f"{FLAT_CONTAINER}{package_id.lower()}/index.json", {"versions": versions})


class GuardedServer(StaticServer):
    """A static feed that answers 401 unless the request carries the expected credentials:
    Basic auth as ``basic`` (user, password) and/or the ``api_key`` in X-NuGet-ApiKey."""

    def __init__(
        self, root: Path, *, basic: tuple[str, str] | None = None, api_key: str | None = None
    ) -> None:
        super().__init__(root)
        self.basic = basic
        self.api_key = api_key

    def respond(self, method: str, path: str, headers: dict[str, str]) -> Response:
        if not self._allowed(headers):
            challenge = {"WWW-Authenticate": 'Basic realm="feed"', "Content-Type": "text/plain"}
            return Response(401, challenge, b"unauthorized\n")
        return super().respond(method, path, headers)

    def _allowed(self, headers: dict[str, str]) -> bool:
        if self.basic is not None:
            token = base64.b64encode(":".join(self.basic).encode()).decode()
            if headers.get("authorization") != f"Basic {token}":
                return False
        return self.api_key is None or headers.get("x-nuget-apikey") == self.api_key


# --- projects using a feed ------------------------------------------------------------------


def publish(feed: NuGetFeed, *versions: str) -> None:
    """Versions of the template ``PACKAGE_ID`` whose script prints ``iis <version>``."""
    for version in versions:
        feed.add(PACKAGE_ID, version, template_files("iis", f"iis {version}"))


def use_feed(steps: Steps, feed: NuGetFeed, **keys: str | bool) -> None:
    """steps.toml with the template ``iis`` from ``feed`` (``PACKAGE_ID`` unless ``id`` is
    given) and a step that runs it."""
    lines = [
        "[templates.iis]",
        f'nuget = "{feed.index_url}"',
        f'id = "{keys.pop("id", PACKAGE_ID)}"',
    ]
    for key, value in keys.items():
        lines.append(f"{key} = {str(value).lower() if isinstance(value, bool) else repr(value)}")
    steps.write("\n".join(lines) + '\n\n[[steps]]\nname = "Go"\ntemplate = "iis"\n')


def downloads() -> list[Path]:
    """The archives in the cache's downloads/."""
    directory = cache_root() / "downloads"
    return sorted(p for p in directory.rglob("*") if p.is_file()) if directory.exists() else []


def assert_nothing_cached() -> None:
    """A failed fetch left no entry, no download and no staging behind."""
    assert_cache_consistent()
    assert cache_entries() == {}
    assert downloads() == []
