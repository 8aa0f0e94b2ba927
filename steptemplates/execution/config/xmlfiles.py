"""XML files read and written back so that only what was changed changes.

lxml parses the file: it decides what is well-formed and gives the tree that XPath and the
edits work on. A small scanner then walks the same text and records how each node was
written: every start tag with the spacing, quoting and order of its attributes, every end
tag, the text between tags (character references, CDATA sections and all), comments,
processing instructions, entity references, and everything around the root element (the
declaration or its absence, the doctype, top-level comments).

Writing the tree back reuses that text for each node whose name, attributes and text are
unchanged; only changed or new parts are written afresh, in the style of their neighbours.
The encoding, a byte-order mark and the line endings stay as they were. Elements copied from
another document (an XDT transform, an XML fragment) bring their own written form with them.
"""

from __future__ import annotations

import codecs
import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lxml import etree

from steptemplates.errors import StepsError

XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"

Node = Any  # an lxml node: element, comment, processing instruction or entity reference


class InvalidXml(StepsError):
    """The file is not well-formed XML; ``line``, ``column`` and ``reason`` say where and why."""

    def __init__(self, name: str, line: int, column: int, reason: str) -> None:
        super().__init__(
            f"{name}: invalid XML at line {line}, column {column}: {reason}", hint="fix the file"
        )
        self.line = line
        self.column = column
        self.reason = reason


@dataclass(frozen=True)
class _Written:
    """A run of text as it appears in the file, and the value lxml made of it."""

    text: str
    value: str


@dataclass(frozen=True)
class _Attribute:
    """One attribute or namespace declaration inside a start tag, as written."""

    lead: str  # the whitespace before the name
    name: str  # the qualified name as written
    equals: str  # "=" with any spaces around it
    quote: str
    raw: str  # the value as written, references unexpanded
    key: str | None  # lxml's key ("{uri}local"); None for a namespace declaration
    value: str  # the parsed value; for a declaration, the namespace

    def text(self) -> str:
        return f"{self.lead}{self.name}{self.equals}{self.quote}{self.raw}{self.quote}"

    def with_value(self, value: str) -> str:
        escaped = escape_attribute(value, self.quote)
        return f"{self.lead}{self.name}{self.equals}{self.quote}{escaped}{self.quote}"

    @property
    def declared_prefix(self) -> str | None:
        return None if self.name == "xmlns" else self.name[len("xmlns:") :]


@dataclass(frozen=True)
class _StartTag:
    name: str  # the qualified name as written
    attributes: tuple[_Attribute, ...]
    trailing: str  # the whitespace before ">" or "/>"
    self_closing: bool
    raw: str | None  # the whole tag as written; None once its pieces were edited


@dataclass(frozen=True)
class _ElementLayout:
    start: _StartTag
    tag: str  # lxml's tag when parsed
    attributes: tuple[tuple[str, str], ...]  # lxml's attributes when parsed
    end: str | None  # the end tag as written; None for an empty-element tag


@dataclass(frozen=True)
class _LeafLayout:
    """A comment, processing instruction or entity reference as written."""

    text: str
    value: str


@dataclass
class _Layout:
    nodes: dict[Node, _ElementLayout | _LeafLayout] = field(default_factory=dict)
    texts: dict[Node, _Written] = field(default_factory=dict)  # an element's leading text
    tails: dict[Node, _Written] = field(default_factory=dict)  # the text after a node
    prolog: list[str | Node] = field(default_factory=list)  # before the root element
    epilog: list[str | Node] = field(default_factory=list)  # after it
    prefixes: dict[str, str] = field(default_factory=dict)  # namespace -> prefix declared for it


@dataclass(frozen=True)
class XmlDocument:
    """A parsed XML file and how it was written; edit ``tree``, then ``to_bytes``."""

    name: str  # how messages refer to the file
    tree: etree._ElementTree
    encoding: str  # the Python codec it is written back in
    bom: bytes
    newline: str  # the line ending for new text: "\r\n" when the file mostly uses it
    layout: _Layout

    @property
    def root(self) -> etree._Element:
        return self.tree.getroot()


def _parser() -> etree.XMLParser:
    # No DTD loading, no network, no entity expansion: configuration files come from
    # packages, and an entity reference must be written back as the reference it was.
    return etree.XMLParser(
        remove_blank_text=False,
        remove_comments=False,
        remove_pis=False,
        strip_cdata=False,
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
    )


def read_xml(path: Path) -> XmlDocument:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise StepsError(f"cannot read {path}: {error.strerror or error}") from None
    return parse_xml(data, name=str(path))


def parse_xml(data: bytes, *, name: str) -> XmlDocument:
    """Parse ``data``; ``InvalidXml`` (a ``StepsError``) naming ``name`` when it is not XML."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        line, column = error.position
        raise InvalidXml(name, line, column, _reason(error)) from None
    text, encoding, bom = _decode(data, name)
    tree = root.getroottree()
    layout = _Scanner(text, tree, name).scan()
    for element in root.iter():
        for prefix, uri in element.nsmap.items() if isinstance(element.tag, str) else ():
            if prefix:
                layout.prefixes.setdefault(uri, prefix)
    return XmlDocument(name, tree, encoding, bom, _newline(text), layout)


def _reason(error: etree.XMLSyntaxError) -> str:
    message = str(error.msg or error)
    # lxml repeats the position at the end of its message; the caller names it already.
    return re.sub(r"(, line \d+, column \d+)?( \(.*, line \d+\))?$", "", message).strip()


_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z][\w.:-]*)["']""")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _decode(data: bytes, name: str) -> tuple[str, str, bytes]:
    """The text lxml parsed, with the codec and byte-order mark to write it back."""
    bom, encoding = next(((b, e) for b, e in _BOMS if data.startswith(b)), (b"", ""))
    if not encoding:
        encoding = _unmarked_encoding(data)
    try:
        return data[len(bom) :].decode(encoding), encoding, bom
    except (LookupError, UnicodeDecodeError) as error:
        raise InvalidXml(name, 1, 1, f"cannot decode it as {encoding}: {error}") from None


def _unmarked_encoding(data: bytes) -> str:
    if data.startswith(b"<\x00?\x00"):
        return "utf-16-le"
    if data.startswith(b"\x00<\x00?"):
        return "utf-16-be"
    declared = _DECLARED_ENCODING.match(data)
    if declared is None:
        return "utf-8"
    encoding = codecs.lookup(declared.group(1).decode("ascii")).name
    # A declared UTF-16 without a byte-order mark was caught above; the generic codec
    # would write a mark that the file never had.
    return {"utf-16": "utf-16-le", "utf-32": "utf-32-le"}.get(encoding, encoding)


def _newline(text: str) -> str:
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf * 2 >= text.count("\n") else "\n"


# ---------------------------------------------------------------------------------------------
# Scanning: how each node was written


_MARKUP = re.compile(r"<!--|<!\[CDATA\[|<\?|<!DOCTYPE|</|<|&(?!(?:lt|gt|amp|apos|quot);|#)")
_START_TAG = re.compile(r"""<([^\s/>!?]+)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)(\s*)(/?)>""")
_ATTRIBUTE = re.compile(r"""(\s+)([^\s=/>]+)(\s*=\s*)(?:"([^"]*)"|'([^']*)')""")


class _Scanner:
    """Walks the text and lxml's nodes side by side, recording each node's written form."""

    def __init__(self, text: str, tree: etree._ElementTree, name: str) -> None:
        self.text = text
        self.name = name
        self.layout = _Layout()
        self.nodes = _document_order(tree)
        self.stack: list[Node] = []
        self.slot: tuple[str, Node] = ("prolog", None)
        self.run_start = 0

    def scan(self) -> _Layout:
        position = 0
        while (found := _MARKUP.search(self.text, position)) is not None:
            position = self._markup(found.group(), found.start())
        self._close_run(len(self.text))
        return self.layout

    def _markup(self, opening: str, start: int) -> int:
        if opening == "<![CDATA[":
            return self._end_of(start, "]]>")  # part of the surrounding text
        if opening == "<!DOCTYPE":
            end = _doctype_end(self.text, start)
            self._close_run(start)
            self._top_level(self.text[start:end])
            return self._open_run(end)
        self._close_run(start)
        if opening == "<!--":
            end = self._end_of(start, "-->")
            self._leaf(etree._Comment, start, end, lambda node: node.text or "")
        elif opening == "<?":
            end = self._end_of(start, "?>")
            if start == 0 and re.match(r"<\?xml\s", self.text):
                self._top_level(self.text[:end])  # the declaration is not a node
            else:
                self._leaf(etree._ProcessingInstruction, start, end, _pi_value)
        elif opening == "</":
            end = self._end_of(start, ">")
            self._end_tag(start, end)
        elif opening == "<":
            end = self._start_tag(start)
        else:
            end = self._end_of(start, ";")
            self._leaf(etree._Entity, start, end, lambda node: node.text or "")
        return self._open_run(end)

    def _end_of(self, start: int, terminator: str) -> int:
        end = self.text.find(terminator, start)
        if end < 0:
            self._disagree(start)
        return end + len(terminator)

    def _open_run(self, position: int) -> int:
        self.run_start = position
        return position

    def _close_run(self, position: int) -> None:
        written = self.text[self.run_start : position]
        where, node = self.slot
        if where == "text":
            self.layout.texts[node] = _Written(written, node.text or "")
        elif where == "tail":
            self.layout.tails[node] = _Written(written, node.tail or "")
        elif written:
            self._top_level(written)
        self.run_start = position

    def _top_level(self, piece: str | Node) -> None:
        where = self.slot[0]
        (self.layout.epilog if where == "epilog" else self.layout.prolog).append(piece)

    def _next_node(self, kind: type, start: int) -> Node:
        node = next(self.nodes, None)
        if not isinstance(node, kind):
            self._disagree(start)
        return node

    def _leaf(self, kind: type, start: int, end: int, value: Any) -> None:
        node = self._next_node(kind, start)
        self.layout.nodes[node] = _LeafLayout(self.text[start:end], value(node))
        if self.stack:
            self.slot = ("tail", node)
        else:
            self._top_level(node)

    def _start_tag(self, start: int) -> int:
        match = _START_TAG.match(self.text, start)
        element = self._next_node(etree._Element, start)
        if match is None or not isinstance(element.tag, str):
            return self._disagree(start)
        if etree.QName(element).localname != match.group(1).split(":")[-1]:
            self._disagree(start)
        attributes = tuple(_attributes(match.group(2), element))
        start_tag = _StartTag(
            match.group(1), attributes, match.group(3), bool(match.group(4)), match.group()
        )
        self.layout.nodes[element] = _ElementLayout(
            start_tag, element.tag, tuple(attributes_of(element).items()), None
        )
        if start_tag.self_closing:
            self._after_element(element)
        else:
            self.stack.append(element)
            self.slot = ("text", element)
        return match.end()

    def _end_tag(self, start: int, end: int) -> None:
        if not self.stack:
            self._disagree(start)
        element = self.stack.pop()
        layout = self.layout.nodes[element]
        assert isinstance(layout, _ElementLayout)
        self.layout.nodes[element] = replace(layout, end=self.text[start:end])
        self._after_element(element)

    def _after_element(self, element: Node) -> None:
        self.slot = ("tail", element) if self.stack else ("epilog", None)

    def _disagree(self, position: int) -> Any:
        line = self.text.count("\n", 0, position) + 1
        raise RuntimeError(
            f"{self.name}: line {line}: lxml and the layout scanner read the file differently"
        )


def _document_order(tree: etree._ElementTree) -> Iterator[Node]:
    root = tree.getroot()
    yield from reversed(list(root.itersiblings(preceding=True)))
    yield from root.iter()
    yield from root.itersiblings()


def _attributes(written: str, element: etree._Element) -> Iterator[_Attribute]:
    for match in _ATTRIBUTE.finditer(written):
        lead, name, equals = match.group(1), match.group(2), match.group(3)
        quote, raw = ('"', match.group(4)) if match.group(4) is not None else ("'", match.group(5))
        if name == "xmlns" or name.startswith("xmlns:"):
            prefix = None if name == "xmlns" else name[len("xmlns:") :]
            yield _Attribute(lead, name, equals, quote, raw, None, element.nsmap.get(prefix, ""))
            continue
        key = _attribute_key(name, element)
        yield _Attribute(lead, name, equals, quote, raw, key, element.get(key, ""))


def _attribute_key(name: str, element: etree._Element) -> str:
    if ":" not in name:
        return name
    prefix, local = name.split(":", 1)
    uri = XML_NAMESPACE if prefix == "xml" else element.nsmap.get(prefix, "")
    return f"{{{uri}}}{local}"


def _doctype_end(text: str, start: int) -> int:
    """The end of a doctype, past any internal subset with its quoted strings and comments."""
    position, depth, quote = start + len("<!DOCTYPE"), 0, ""
    while position < len(text):
        char = text[position]
        if quote:
            quote = "" if char == quote else quote
        elif text.startswith("<!--", position):
            closing = text.find("-->", position)
            position = closing + 2 if closing >= 0 else len(text)
        elif char in "\"'":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == ">" and depth == 0:
            return position + 1
        position += 1
    return len(text)


def _pi_value(node: Any) -> str:
    return f"{node.target}\0{node.text or ''}"


# ---------------------------------------------------------------------------------------------
# Writing


def to_bytes(document: XmlDocument) -> bytes:
    """The document in its own encoding, with its byte-order mark and declaration."""
    writer = _Writer(document.layout, document.newline)
    writer.top_level(document.layout.prolog)
    writer.element(document.root, {})
    writer.top_level(document.layout.epilog)
    text = "".join(writer.parts)
    return document.bom + text.encode(document.encoding, "xmlcharrefreplace")


def escape_text(value: str) -> str:
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value.replace("\r", "&#xD;")


def escape_attribute(value: str, quote: str = '"') -> str:
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = value.replace('"', "&quot;") if quote == '"' else value.replace("'", "&apos;")
    # Literal line breaks and tabs in a value would be read back as spaces.
    return value.replace("\n", "&#xA;").replace("\r", "&#xD;").replace("\t", "&#x9;")


class _Writer:
    def __init__(self, layout: _Layout, newline: str) -> None:
        self.layout = layout
        self.newline = newline
        self.parts: list[str] = []

    def fresh(self, text: str) -> str:
        """New text, with the file's line endings."""
        return text.replace("\n", self.newline) if self.newline != "\n" else text

    def text(self, value: str | None, written: _Written | None) -> str:
        value = value or ""
        if written is not None and written.value == value:
            return written.text
        value = value.replace("\r\n", "\n")  # a value's line breaks take the file's style
        if written is not None and _is_cdata(written.text) and "]]>" not in value:
            return self.fresh(f"<![CDATA[{value}]]>")
        return self.fresh(escape_text(value))

    def top_level(self, pieces: list[str | Node]) -> None:
        for piece in pieces:
            self.parts.append(piece if isinstance(piece, str) else self.leaf(piece))

    def node(self, node: Node, scope: dict[str | None, str]) -> None:
        if isinstance(node.tag, str):
            self.element(node, scope)
        else:
            self.parts.append(self.leaf(node))
        self.parts.append(self.text(node.tail, self.layout.tails.get(node)))

    def leaf(self, node: Node) -> str:
        if isinstance(node, etree._ProcessingInstruction):
            value = _pi_value(node)
            target, text = str(node.target), str(node.text or "")
            fresh = f"<?{target} {text}?>" if text else f"<?{target}?>"
        elif isinstance(node, etree._Entity):
            value, fresh = node.text or "", node.text or ""
        else:
            value, fresh = node.text or "", f"<!--{node.text or ''}-->"
        written = self.layout.nodes.get(node)
        if isinstance(written, _LeafLayout) and written.value == value:
            return written.text
        return self.fresh(fresh)

    def element(self, element: etree._Element, scope: dict[str | None, str]) -> None:
        layout = self.layout.nodes.get(element)
        if not isinstance(layout, _ElementLayout) or layout.tag != element.tag:
            layout = None
        names = _Names(element, layout, scope, self.layout.prefixes)
        start = layout.start if layout else None
        empty = len(element) == 0 and not element.text
        self.parts.append(self.start_tag(element, layout, names, empty))
        if empty and (start is None or start.self_closing):
            return
        self.parts.append(self.text(element.text, self.layout.texts.get(element)))
        for child in element:
            self.node(child, names.scope)
        if layout is not None and layout.end is not None and names.qname == layout.start.name:
            self.parts.append(layout.end)
        else:
            self.parts.append(f"</{names.qname}>")

    def start_tag(
        self, element: etree._Element, layout: _ElementLayout | None, names: _Names, empty: bool
    ) -> str:
        start = layout.start if layout else None
        unchanged = (
            layout is not None
            and start is not None
            and start.raw is not None
            and not names.declarations
            and names.qname == start.name
            and tuple(attributes_of(element).items()) == layout.attributes
            and (empty or not start.self_closing)
        )
        if unchanged and start is not None and start.raw is not None:
            return start.raw
        parts = self.attributes(element, start, names)
        if empty and (start is None or start.self_closing):
            close = (start.trailing if start else " ") + "/>"
        else:
            close = (start.trailing if start and not start.self_closing else "") + ">"
        return self.fresh("".join(["<", names.qname, *parts, close]))

    def attributes(
        self, element: etree._Element, start: _StartTag | None, names: _Names
    ) -> list[str]:
        current = attributes_of(element)
        parts: list[str] = []
        separator, written = " ", set()
        for piece in start.attributes if start else ():
            if piece.key is not None and piece.key not in current:
                continue  # removed
            separator = piece.lead
            if piece.key is None or current[piece.key] == piece.value:
                parts.append(piece.text())
            else:
                parts.append(piece.with_value(current[piece.key]))
            written.add(piece.key)
        for prefix, uri in names.declarations:
            name = "xmlns" if prefix is None else f"xmlns:{prefix}"
            parts.append(f'{separator}{name}="{escape_attribute(uri)}"')
        for key, value in current.items():
            if key not in written:
                parts.append(f'{separator}{names.attributes[key]}="{escape_attribute(value)}"')
        return parts


class _Names:
    """The qualified names an element and its attributes are written with, and any namespace
    declarations it needs that its written form (or the ancestors written so far) lacks."""

    def __init__(
        self,
        element: etree._Element,
        layout: _ElementLayout | None,
        outer: dict[str | None, str],
        preferred: dict[str, str],
    ) -> None:
        self.element = element
        self.preferred = preferred
        self.scope = dict(outer)
        self.declarations: list[tuple[str | None, str]] = []
        written = layout.start.attributes if layout else ()
        for piece in written:
            if piece.key is None:
                self.scope[piece.declared_prefix] = piece.value
        self.qname = self._element_name(layout.start.name if layout else None)
        by_key = {piece.key: piece.name for piece in written if piece.key is not None}
        self.attributes = {
            key: self._attribute_name(key, by_key.get(key)) for key in attributes_of(element)
        }

    def _element_name(self, written: str | None) -> str:
        qname = etree.QName(self.element)
        uri = qname.namespace or ""
        if written is not None:
            prefix = written.split(":")[0] if ":" in written else None
            if self.scope.get(prefix, "") == uri:
                return written
        if not uri:
            self._declare(None, "")
            return qname.localname
        prefix = self.element.prefix
        self._declare(prefix, uri)
        return qname.localname if prefix is None else f"{prefix}:{qname.localname}"

    def _attribute_name(self, key: str, written: str | None) -> str:
        qname = etree.QName(key)
        uri = qname.namespace
        if uri is None:
            return key
        if written is not None and ":" in written and self._bound(written.split(":")[0]) == uri:
            return written
        prefix = next((p for p, u in self.scope.items() if p and u == uri), None)
        if uri == XML_NAMESPACE:
            prefix = "xml"
        if prefix is None:
            known = (p for p, u in self.element.nsmap.items() if p and u == uri)
            prefix = self.preferred.get(uri) or next(known, None)
            if prefix is None or prefix in self.scope:
                prefix = self._unused_prefix()
            self._declare(prefix, uri)
        return f"{prefix}:{qname.localname}"

    def _bound(self, prefix: str) -> str | None:
        return XML_NAMESPACE if prefix == "xml" else self.scope.get(prefix)

    def _declare(self, prefix: str | None, uri: str) -> None:
        if self.scope.get(prefix, "") != uri:
            self.scope[prefix] = uri
            self.declarations.append((prefix, uri))

    def _unused_prefix(self) -> str:
        return next(f"ns{n}" for n in range(len(self.scope) + 1) if f"ns{n}" not in self.scope)


def attributes_of(element: etree._Element) -> dict[str, str]:
    """The element's attributes by lxml key ("{uri}local" or "local"), in document order."""
    return {str(key): str(value) for key, value in element.attrib.items()}


def _is_cdata(written: str) -> bool:
    return written.startswith("<![CDATA[") and written.find("]]>") == len(written) - 3


# ---------------------------------------------------------------------------------------------
# Bringing nodes in from another document


def import_element(
    document: XmlDocument,
    element: etree._Element,
    source: XmlDocument,
    *,
    drop_namespace: str | None = None,
) -> etree._Element:
    """A deep copy of ``element`` (from ``source``) for ``document``, written as in ``source``.

    Attributes and namespace declarations in ``drop_namespace`` are left out of the copy.
    """
    share_prefixes(document, source)
    duplicate = copy.deepcopy(element)
    duplicate.tail = None
    convert = _newline_converter(source.newline, document.newline)
    for original, copied in zip(element.iter(), duplicate.iter(), strict=True):
        _copy_layout(source.layout, document.layout, original, copied, convert, drop_namespace)
        if copied is not duplicate and original in source.layout.tails:
            written = source.layout.tails[original]
            document.layout.tails[copied] = _Written(convert(written.text), written.value)
    if drop_namespace is not None:
        for copied in duplicate.iter():
            for key in [k for k in attributes_of(copied) if k.startswith(f"{{{drop_namespace}}}")]:
                del copied.attrib[key]
    return duplicate


def share_prefixes(document: XmlDocument, source: XmlDocument) -> None:
    """Let ``document`` write namespaces it lacks with the prefixes ``source`` declares."""
    for uri, prefix in source.layout.prefixes.items():
        document.layout.prefixes.setdefault(uri, prefix)


def _newline_converter(source: str, target: str) -> Any:
    if source == target:
        return lambda text: text
    return lambda text: text.replace("\r\n", "\n").replace("\n", target)


def _copy_layout(
    source: _Layout,
    target: _Layout,
    original: Node,
    copied: Node,
    convert: Any,
    drop_namespace: str | None,
) -> None:
    layout = source.nodes.get(original)
    if isinstance(layout, _LeafLayout):
        target.nodes[copied] = _LeafLayout(convert(layout.text), layout.value)
    elif isinstance(layout, _ElementLayout):
        target.nodes[copied] = _converted(layout, convert, drop_namespace)
    if original in source.texts:
        written = source.texts[original]
        target.texts[copied] = _Written(convert(written.text), written.value)


def _converted(layout: _ElementLayout, convert: Any, drop_namespace: str | None) -> _ElementLayout:
    start = layout.start
    kept = tuple(
        replace(a, lead=convert(a.lead))
        for a in start.attributes
        if not (a.key is None and a.value == drop_namespace)
    )
    raw = convert(start.raw) if start.raw is not None and kept == start.attributes else None
    end = convert(layout.end) if layout.end is not None else None
    new_start = replace(start, attributes=kept, trailing=convert(start.trailing), raw=raw)
    return replace(layout, start=new_start, end=end)


def set_inner_xml(document: XmlDocument, element: etree._Element, text: str) -> None:
    """Replace the content of ``element`` with ``text`` parsed as XML content.

    Prefixes in scope at ``element`` may be used in ``text``. Raises ``InvalidXml`` when the
    text is not well-formed content, leaving ``element`` unchanged.
    """
    declarations = "".join(
        f' {"xmlns" if prefix is None else "xmlns:" + prefix}="{escape_attribute(uri)}"'
        for prefix, uri in element.nsmap.items()
    )
    wrapped = f"<fragment{declarations}>{text}</fragment>"
    parsed = parse_xml(wrapped.encode("utf-8"), name="the value")
    fragment = import_element(document, parsed.root, parsed)
    for child in list(element):
        element.remove(child)
    element.text = fragment.text
    if fragment in document.layout.texts:
        document.layout.texts[element] = document.layout.texts[fragment]
    for child in list(fragment):
        element.append(child)  # moves the child with its tail


# ---------------------------------------------------------------------------------------------
# Edits that keep the indentation around them


@dataclass(frozen=True)
class Indent:
    """Where a node was written: its line's indentation and the file's indentation step."""

    line: str
    unit: str


def line_indent(node: Node) -> str | None:
    """The indentation of the line ``node`` starts, when it starts its own line."""
    if node.getparent() is None:
        return ""
    before = _preceding_text(node)
    if before is None or "\n" not in before or before.strip():
        return None
    return before.rsplit("\n", 1)[1]


def indent_of(node: Node) -> Indent | None:
    """How ``node`` is indented where it stands, to re-indent a copy of it elsewhere."""
    line = line_indent(node)
    return None if line is None else Indent(line, _indent_unit(node))


def append_child(parent: etree._Element, child: Node, *, written: Indent | None = None) -> None:
    """Add ``child`` as the last child of ``parent``, on its own line like its siblings."""
    children = list(parent)
    if children:
        last = children[-1]
        closing, separator = last.tail, _preceding_text(last)
        parent.append(child)
        if _is_layout(closing) and _is_layout(separator):
            last.tail, child.tail = separator, closing
    else:
        indent = line_indent(parent)
        if indent is not None and not (parent.text or "").strip():
            parent.text = "\n" + indent + _indent_unit(parent)
            child.tail = "\n" + indent
        parent.append(child)
    _reindent(child, written)


def insert_before(reference: Node, node: Node, *, written: Indent | None = None) -> None:
    before = _preceding_text(reference)
    reference.addprevious(node)
    if _is_layout(before):
        node.tail = before
    _reindent(node, written)


def insert_after(reference: Node, node: Node, *, written: Indent | None = None) -> None:
    before, after = _preceding_text(reference), reference.tail
    reference.addnext(node)
    if _is_layout(before) and _is_layout(after):
        reference.tail, node.tail = before, after
    _reindent(node, written)


def replace_element(
    old: etree._Element, new: etree._Element, *, written: Indent | None = None
) -> None:
    parent = old.getparent()
    if parent is None:
        raise ValueError("the root element is replaced through the tree")
    tail = old.tail
    parent.replace(old, new)
    new.tail = tail
    _reindent(new, written)


def remove_node(node: Node) -> None:
    """Remove ``node``; the line it stood on goes with it, text around it stays."""
    parent = node.getparent()
    if parent is None:
        raise ValueError("the root element cannot be removed")
    before, after = _preceding_text(node), node.tail
    previous = node.getprevious()
    parent.remove(node)
    if _is_layout(before) and _is_layout(after):
        joined = after
    else:
        joined = (before or "") + (after or "") or None
    if previous is not None:
        previous.tail = joined
    else:
        parent.text = joined


def _preceding_text(node: Node) -> str | None:
    previous = node.getprevious()
    if previous is not None:
        return str(previous.tail) if previous.tail is not None else None
    parent = node.getparent()
    return parent.text if parent is not None else None


def _is_layout(text: str | None) -> bool:
    """Whitespace that ends a line: indentation, not content."""
    return text is not None and "\n" in text and not text.strip()


def _indent_unit(node: Node) -> str:
    """How much deeper a line is indented than its parent's, from the nearest example."""
    element: etree._Element | None = node
    while element is not None and element.getparent() is not None:
        inner, outer = line_indent(element), line_indent(element.getparent())
        if inner and outer is not None and inner.startswith(outer) and inner != outer:
            return inner[len(outer) :]
        element = element.getparent()
    return "  "


def _reindent(node: Node, written: Indent | None) -> None:
    """Move the lines inside ``node`` from where it was written to where it now stands."""
    now = indent_of(node) if written is not None else None
    if written is None or now is None or written == now:
        return
    for inner in node.iter():
        if inner is not node and _is_layout(inner.tail):
            inner.tail = _shift(inner.tail, written, now)
        if isinstance(inner.tag, str) and _is_layout(inner.text):
            inner.text = _shift(inner.text, written, now)


def _shift(text: str, written: Indent, now: Indent) -> str:
    first, *rest = text.split("\n")
    return "\n".join([first, *(_shift_line(line, written, now) for line in rest)])


def _shift_line(line: str, written: Indent, now: Indent) -> str:
    if not line.startswith(written.line):
        return line
    deeper, steps = line[len(written.line) :], 0
    while written.unit and deeper.startswith(written.unit * (steps + 1)):
        steps += 1
    return now.line + now.unit * steps + deeper[len(written.unit) * steps :]
