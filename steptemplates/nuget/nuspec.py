"""The .nuspec manifest: written by pack, read back (from any tool's packages) by publish."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from steptemplates.errors import StepsError

NAMESPACE = "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd"
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'
_REPACK = "make the package again, for example with steps pack"


def namespaces(default: str, **prefixed: str) -> Any:
    """An lxml ``nsmap`` with a default namespace (key None, which lxml's stubs do not allow)."""
    return {None: default, **prefixed}


@dataclass(frozen=True)
class Nuspec:
    id: str
    version: str  # as the package states it, build metadata included
    authors: str
    description: str
    tags: str = ""


def to_xml(nuspec: Nuspec) -> bytes:
    """The manifest as UTF-8 XML, the same bytes for the same fields."""
    package = etree.Element(f"{{{NAMESPACE}}}package", nsmap=namespaces(NAMESPACE))
    metadata = etree.SubElement(package, f"{{{NAMESPACE}}}metadata")
    fields = (
        ("id", nuspec.id),
        ("version", nuspec.version),
        ("authors", nuspec.authors),
        ("description", nuspec.description),
        ("tags", nuspec.tags),
    )
    for name, value in fields:
        if value:
            etree.SubElement(metadata, f"{{{NAMESPACE}}}{name}").text = value
    return XML_DECLARATION + bytes(etree.tostring(package, encoding="utf-8", pretty_print=True))


def parse(data: bytes, where: str) -> Nuspec:
    """Read a manifest in any nuspec namespace; ``where`` names it in errors."""
    # A nuspec never needs entities or the network; refusing both keeps hostile XML inert.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise StepsError(f"{where} is not valid XML ({error})", hint=_REPACK) from None
    metadata = _child(root, "metadata") if etree.QName(root).localname == "package" else None
    if metadata is None:
        raise StepsError(f"{where} has no <package><metadata> element", hint=_REPACK)
    values = {name: _text(metadata, name) for name in ("id", "version", "authors", "description")}
    for required in ("id", "version"):
        if not values[required]:
            raise StepsError(f"{where} has no <{required}> in <metadata>", hint=_REPACK)
    return Nuspec(**values, tags=_text(metadata, "tags"))


def _text(metadata: etree._Element, localname: str) -> str:
    element = _child(metadata, localname)
    return (element.text or "").strip() if element is not None else ""


def _child(parent: etree._Element, localname: str) -> etree._Element | None:
    """The first child element with this local name, whatever namespace it is in."""
    for child in parent:
        if isinstance(child.tag, str) and etree.QName(child).localname == localname:
            return child
    return None
