"""The Open Packaging Conventions parts every .nupkg carries besides its files.

NuGet reads a package as an OPC package: ``[Content_Types].xml`` gives a content type to
every part, ``_rels/.rels`` points at the manifest and the core properties, and part
names are URI paths, so characters such as spaces are %-escaped in the zip entry names.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterable
from urllib.parse import quote

from lxml import etree

from steptemplates.nuget.nuspec import XML_DECLARATION, Nuspec, namespaces

CONTENT_TYPES_NAME = "[Content_Types].xml"
RELATIONSHIPS_NAME = "_rels/.rels"
CORE_PROPERTIES_DIRECTORY = "package/services/metadata/core-properties"

_CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_RELATIONSHIPS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CORE_PROPERTIES_NS = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
_DC_NS = "http://purl.org/dc/elements/1.1/"
_MANIFEST_RELATIONSHIP = "http://schemas.microsoft.com/packaging/2010/07/manifest"
_CORE_PROPERTIES_RELATIONSHIP = (
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
)
# The content types NuGet itself writes: its own parts typed, everything else opaque.
_KNOWN_TYPES = {
    "rels": "application/vnd.openxmlformats-package.relationships+xml",
    "psmdcp": "application/vnd.openxmlformats-package.core-properties+xml",
}
_OPAQUE = "application/octet"


def part_name(path: str) -> str:
    """The zip entry name of a file at ``path`` (``/``-separated): %-escaped as OPC wants."""
    return quote(path, safe="/")


def content_types(part_names: Iterable[str]) -> bytes:
    """``[Content_Types].xml``: a default per extension, an override per part without one."""
    types = etree.Element(f"{{{_CONTENT_TYPES_NS}}}Types", nsmap=namespaces(_CONTENT_TYPES_NS))
    extensions: dict[str, None] = {}
    without_extension = []
    for name in sorted(part_names):
        extension = _extension(name)
        if extension:
            extensions.setdefault(extension.lower())
        else:
            without_extension.append(name)
    for extension in sorted(extensions):
        etree.SubElement(
            types,
            f"{{{_CONTENT_TYPES_NS}}}Default",
            Extension=extension,
            ContentType=_KNOWN_TYPES.get(extension, _OPAQUE),
        )
    for name in without_extension:
        etree.SubElement(
            types, f"{{{_CONTENT_TYPES_NS}}}Override", PartName="/" + name, ContentType=_OPAQUE
        )
    return _serialise(types)


def relationships(nuspec_part: str, core_properties_part: str) -> bytes:
    """``_rels/.rels``: the manifest and the core properties, with ids derived from them."""
    root = etree.Element(
        f"{{{_RELATIONSHIPS_NS}}}Relationships", nsmap=namespaces(_RELATIONSHIPS_NS)
    )
    for kind, target in (
        (_MANIFEST_RELATIONSHIP, nuspec_part),
        (_CORE_PROPERTIES_RELATIONSHIP, core_properties_part),
    ):
        etree.SubElement(
            root,
            f"{{{_RELATIONSHIPS_NS}}}Relationship",
            Type=kind,
            Target="/" + target,
            Id=_relationship_id(target),
        )
    return _serialise(root)


def core_properties(nuspec: Nuspec) -> bytes:
    """The ``.psmdcp`` part: the package's identity as OPC core properties."""
    nsmap = namespaces(_CORE_PROPERTIES_NS, dc=_DC_NS)
    root = etree.Element(f"{{{_CORE_PROPERTIES_NS}}}coreProperties", nsmap=nsmap)
    fields = (
        (_DC_NS, "creator", nuspec.authors),
        (_DC_NS, "description", nuspec.description),
        (_DC_NS, "identifier", nuspec.id),
        (_CORE_PROPERTIES_NS, "version", nuspec.version),
        (_CORE_PROPERTIES_NS, "keywords", nuspec.tags),
        (_CORE_PROPERTIES_NS, "lastModifiedBy", "steps"),
    )
    for namespace, name, value in fields:
        if value:
            etree.SubElement(root, f"{{{namespace}}}{name}").text = value
    return _serialise(root)


def _extension(name: str) -> str:
    last = posixpath.basename(name)
    return last.rpartition(".")[2] if "." in last else ""


def _relationship_id(target: str) -> str:
    # NuGet uses random ids; a digest of the target keeps the package reproducible.
    return "R" + hashlib.sha256(target.encode("utf-8")).hexdigest()[:16].upper()


def _serialise(element: etree._Element) -> bytes:
    return XML_DECLARATION + bytes(etree.tostring(element, encoding="utf-8"))
