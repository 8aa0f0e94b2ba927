"""Structured configuration variables for XML: variable names are XPath expressions.

As in Calamari, a variable counts as an XPath only when its name contains ``/`` or ``:``
(so ordinary variables never select the document), and names starting with ``Octopus`` are
skipped. Each node the expression selects takes the variable's value:

- an attribute, text node (CDATA included), comment or processing instruction: its content;
- an element with child elements: the value, parsed as XML content, becomes its content; a
  value that is not well-formed XML is a warning and the element stays as it was;
- any other element: its text (a lone CDATA section stays CDATA).

Every namespace prefix declared in the document can be used, with the first declaration of
a prefix winning. A default namespace has no prefix, so its elements are selected with
``*[local-name()='name']``. lxml evaluates XPath 1.0, where Calamari has XPath 2.0: the
path language and predicates are the same, but 2.0-only functions (``matches``,
``lower-case``, ``ends-with`` and so on) and sequence expressions are not available; such a
name, like any name that does not compile, is a warning and is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

from steptemplates.execution.config import xmlfiles
from steptemplates.execution.config.structured_base import NotThisFormat, Replaced, Warn
from steptemplates.execution.config.xmlfiles import XmlDocument


def replace(data: bytes, variables: Mapping[str, str], *, warn: Warn) -> Replaced:
    try:
        document = xmlfiles.parse_xml(data, name="the file")
    except xmlfiles.InvalidXml as error:
        raise NotThisFormat(f"line {error.line}, column {error.column}: {error.reason}") from None
    namespaces = _prefixes(document.root, warn)
    order = {node: index for index, node in enumerate(document.root.iter())}
    applied: list[tuple[int, str]] = []
    for name, value in variables.items():
        if ("/" not in name and ":" not in name) or name.startswith("Octopus"):
            continue
        try:
            selected = document.tree.xpath(name, namespaces=namespaces)
        except etree.XPathError:
            # Most such names are paths for other formats (Logging:LogLevel:Default), which
            # Calamari skips silently in XML files; warning about each would bury real ones.
            continue
        positions = [
            _position(node, order)
            for node in (selected if isinstance(selected, list) else [])
            if _set(document, node, name, value, warn)
        ]
        if positions:
            applied.append((min(positions), name))
    replaced = tuple(name for _, name in sorted(applied, key=lambda item: item[0]))
    return Replaced(xmlfiles.to_bytes(document), replaced)


def _prefixes(root: etree._Element, warn: Warn) -> dict[str, str]:
    prefixes: dict[str, str] = {}
    conflicts: set[tuple[str, str]] = set()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for prefix, uri in element.nsmap.items():
            if prefix is None or prefixes.setdefault(prefix, uri) == uri:
                continue
            if (prefix, uri) in conflicts:
                continue  # descendants inherit the declaration; say it once
            conflicts.add((prefix, uri))
            warn(
                f"The namespace '{uri}' could not be mapped to the prefix '{prefix}', which "
                f"already stands for '{prefixes[prefix]}'; XPath using '{prefix}' may not "
                "select what you expect. Give each namespace its own prefix to avoid this."
            )
    return prefixes


def _set(document: XmlDocument, node: object, name: str, value: str, warn: Warn) -> bool:
    """Give one selected node the value; False when the node cannot take one."""
    if isinstance(node, etree._ElementUnicodeResult):
        parent = node.getparent()
        if parent is None:
            return False  # a computed string, not part of the document
        if node.is_attribute:
            parent.set(str(node.attrname), value)
        elif node.is_tail:
            parent.tail = value
        else:
            parent.text = value
        return True
    if not isinstance(node, etree._Element):
        return False  # a number or boolean
    if not isinstance(node.tag, str):
        return _set_leaf(node, name, value, warn)
    if any(isinstance(child.tag, str) for child in node):
        try:
            xmlfiles.set_inner_xml(document, node, value)
        except xmlfiles.InvalidXml:
            warn(f"Could not set the value of '{name}': the value is not valid XML")
            return False
        return True
    for child in list(node):
        node.remove(child)
    node.text = value
    return True


def _set_leaf(node: etree._Element, name: str, value: str, warn: Warn) -> bool:
    """A comment or processing instruction; an entity reference cannot take a value."""
    if isinstance(node, etree._Entity):
        return False
    if isinstance(node, etree._Comment) and ("--" in value or value.endswith("-")):
        problem = "a comment cannot contain '--' or end with '-'"
    elif isinstance(node, etree._ProcessingInstruction) and "?>" in value:
        problem = "a processing instruction cannot contain '?>'"
    else:
        node.text = value
        return True
    warn(f"Could not set the value of '{name}': {problem}")
    return False


def _position(node: object, order: dict[etree._Element, int]) -> int:
    if isinstance(node, etree._ElementUnicodeResult):
        parent = node.getparent()
        return order.get(parent, -1) if parent is not None else -1
    return order.get(node, -1) if isinstance(node, etree._Element) else -1
