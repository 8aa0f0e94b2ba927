"""XML Document Transforms (XDT): the ``Web.Release.config`` language, as Octopus applies it.

A transform document mirrors the target. Each of its elements, walked from the root, selects
target elements by path: the parent's path plus the element's own name (an element in a
default namespace is written ``_defaultNamespace:name``), narrowed by ``xdt:Locator``:

- ``Match(a,b)``: the target's ``a`` and ``b`` equal the transform element's;
- ``Condition(expr)``: the XPath predicate ``[expr]``;
- ``XPath(path)``: ``path`` itself when absolute, else appended to this element's path.

Children are visited after their parent's transform has run, against the document as it is
by then, so their paths see what the parent inserted or replaced. Following
Microsoft.Web.XmlTransform, ``Replace`` and ``Remove`` act on the first selected element,
``RemoveAll``, ``SetAttributes`` and ``RemoveAttributes`` on every one, and the ``Insert``
family inserts once, under the first element the parent path selects (with ``XPath(...)``
that is the element the path selects). ``SetAttributes`` and ``RemoveAttributes`` without
arguments mean every attribute. Copied elements lose their ``xdt:`` attributes and the
declaration of the XDT namespace.

Where Microsoft logs a warning (a path that selects nothing, an argument that names no
attribute, arguments to a transform that takes none, an unknown ``xdt:`` attribute), Octopus
fails the deployment unless told otherwise: with ``warnings_as_errors`` these raise
``StepsError``, else they go to ``warn``. Microsoft makes a missing parent for ``Insert`` an
error of its own; here it is the same kind of warning, since Octopus's one switch
(``IgnoreConfigTransformationErrors``) lets both through. ``xdt:SupressWarnings="true"`` on
an element silences its warnings. Malformed ``xdt:Transform`` or ``xdt:Locator`` values and
invalid XPath are always errors.

Octopus's discovery of transform files is ``transform_pairs``; see its docstring for the order.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import NoReturn

from lxml import etree

from steptemplates import fsutil
from steptemplates.errors import StepsError
from steptemplates.execution.config import xmlfiles
from steptemplates.execution.config.xmlfiles import XmlDocument

XDT_NAMESPACE = "http://schemas.microsoft.com/XML-Document-Transform"
_TRANSFORM = f"{{{XDT_NAMESPACE}}}Transform"
_LOCATOR = f"{{{XDT_NAMESPACE}}}Locator"
_SUPPRESS = f"{{{XDT_NAMESPACE}}}SupressWarnings"  # Microsoft's spelling
_DEFAULT_PREFIX = "_defaultNamespace"  # how transform paths name a default namespace
_NAME_AND_ARGUMENTS = re.compile(r"\A\s*(\w+)(?:\s*\((.*)\))?\s*\Z", re.DOTALL)

Warn = Callable[[str], None]

_TRANSFORMS = (
    "Replace",
    "Insert",
    "InsertIfMissing",
    "InsertBefore",
    "InsertAfter",
    "Remove",
    "RemoveAll",
    "SetAttributes",
    "RemoveAttributes",
)
_WITHOUT_ARGUMENTS = {"Replace", "Insert", "InsertIfMissing", "Remove", "RemoveAll"}
_LOCATORS = ("Match", "Condition", "XPath")


@dataclass(frozen=True)
class TransformResult:
    data: bytes  # the transformed document
    changed: bool  # whether ``data`` differs from the target as read
    applied: tuple[str, ...]  # "SetAttributes /configuration/system.web/compilation", in order
    warnings: tuple[str, ...]  # the messages passed to ``warn``


def apply_transform(
    target: Path,
    transform: Path,
    *,
    output: Path | None = None,
    warn: Warn,
    warnings_as_errors: bool = True,
) -> TransformResult:
    """Transform ``target`` with ``transform``; write the result to ``output`` or ``target``.

    ``target`` is rewritten (atomically) only when the transform changed it.
    """
    result = transform_bytes(
        _read(target),
        _read(transform),
        target_name=str(target),
        transform_name=str(transform),
        warn=warn,
        warnings_as_errors=warnings_as_errors,
    )
    if output is not None or result.changed:
        fsutil.write_bytes_atomic(output or target, result.data)
    return result


def transform_bytes(
    target: bytes,
    transform: bytes,
    *,
    target_name: str = "target",
    transform_name: str = "transform",
    warn: Warn,
    warnings_as_errors: bool = True,
) -> TransformResult:
    """The pure form of ``apply_transform``: documents in, transformed bytes out."""
    target_document = xmlfiles.parse_xml(target, name=target_name)
    transform_document = xmlfiles.parse_xml(transform, name=transform_name)
    xmlfiles.share_prefixes(target_document, transform_document)
    run = _Transformer(target_document, transform_document, warn, warnings_as_errors)
    run.visit(transform_document.root, None)
    data = xmlfiles.to_bytes(target_document)
    return TransformResult(data, data != target, tuple(run.applied), tuple(run.warnings))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise StepsError(f"cannot read {path}: {error.strerror or error}") from None


@dataclass(frozen=True)
class _Context:
    """One transform element with the target paths it stands for."""

    element: etree._Element
    parent: _Context | None
    xpath: str  # selects the target elements this element stands for
    parent_xpath: str  # selects where Insert puts it ("" at the root)
    namespaces: dict[str, str]


class _Transformer:
    def __init__(
        self, target: XmlDocument, transform: XmlDocument, warn: Warn, strict: bool
    ) -> None:
        self.target = target
        self.transform = transform
        self.warn = warn
        self.strict = strict
        self.applied: list[str] = []
        self.warnings: list[str] = []

    def visit(self, element: etree._Element, parent: _Context | None) -> None:
        context = self.context(element, parent)
        self.check_attributes(element)
        spec = element.get(_TRANSFORM)
        if spec is not None:
            name, argument = self.parse(element, spec, "xdt:Transform", _TRANSFORMS)
            self.execute(context, name, argument)
        for child in element:
            if isinstance(child.tag, str):
                self.visit(child, context)

    # -- paths ---------------------------------------------------------------------------------

    def context(self, element: etree._Element, parent: _Context | None) -> _Context:
        namespaces = {prefix or _DEFAULT_PREFIX: uri for prefix, uri in element.nsmap.items()}
        parent_path = parent.xpath if parent else ""
        step = f"{parent_path}/{_step_name(element)}"
        locator = element.get(_LOCATOR)
        if locator is None:
            return _Context(element, parent, step, parent_path, namespaces)
        name, argument = self.parse(element, locator, "xdt:Locator", _LOCATORS)
        if name == "Match":
            predicate = self.match_predicate(element, argument)
            return _Context(element, parent, f"{step}[{predicate}]", parent_path, namespaces)
        if not argument:
            self.fail(element, f"xdt:Locator '{locator}' needs an argument", f"write {name}(...)")
        if name == "Condition":
            predicate = argument if argument.startswith("[") else f"[{argument}]"
            return _Context(element, parent, step + predicate, parent_path, namespaces)
        path = argument if argument.startswith("/") else f"{step}/{argument}".replace("/./", "/")
        # As in Microsoft's XPath locator, the located element is also where Insert goes.
        return _Context(element, parent, path, path, namespaces)

    def match_predicate(self, element: etree._Element, argument: str) -> str:
        names = _split_arguments(argument)
        if not names:
            self.fail(element, "xdt:Locator 'Match' needs attribute names", "write Match(name)")
        tests = []
        for name in names:
            value = element.get(_attribute_key(element, name))
            if value is None:
                self.fail(
                    element,
                    f"xdt:Locator 'Match({argument})' names '{name}', "
                    "which the element does not have",
                    "add the attribute to the transform element or fix the name",
                )
            tests.append(f"@{name}={_xpath_literal(value)}")
        return " and ".join(tests)

    def select(
        self, context: _Context, xpath: str, start: etree._Element | None = None
    ) -> list[etree._Element]:
        try:
            if start is None:
                found = self.target.tree.xpath(xpath, namespaces=context.namespaces)
            else:
                found = start.xpath(xpath, namespaces=context.namespaces)
        except etree.XPathError as error:
            self.fail(context.element, f"invalid XPath '{xpath}': {error}", "fix the path")
        if not isinstance(found, list):
            self.fail(context.element, f"XPath '{xpath}' does not select elements", "fix it")
        return [node for node in found if isinstance(node, etree._Element)]

    def missing(self, context: _Context, xpath: str) -> None:
        """Report the outermost path that selects nothing, as Microsoft does."""
        wanted, ancestor = xpath, context.parent
        while ancestor is not None and not self.select(ancestor, ancestor.xpath):
            xpath, ancestor = ancestor.xpath, ancestor.parent
        needed = f" (needed for '{wanted}')" if wanted != xpath else ""
        self.warning(
            context.element,
            f"no element in {self.target.name} matches '{xpath}'{needed}",
            "fix the element path or xdt:Locator in the transform, or set "
            "Octopus.Action.Package.TreatConfigTransformationWarningsAsErrors to False "
            "to only warn",
        )

    # -- transforms ----------------------------------------------------------------------------

    def execute(self, context: _Context, name: str, argument: str) -> None:
        if argument and name in _WITHOUT_ARGUMENTS:
            self.warning(
                context.element,
                f"xdt:Transform '{name}' takes no arguments; '{argument}' is ignored",
                f"write {name} alone",
            )
        if name in ("InsertBefore", "InsertAfter") and not argument:
            self.fail(context.element, f"xdt:Transform '{name}' needs an XPath", f"{name}(path)")
        actions = {
            "Replace": self.replace,
            "Insert": self.insert,
            "InsertIfMissing": self.insert_if_missing,
            "InsertBefore": self.insert_before,
            "InsertAfter": self.insert_after,
            "Remove": self.remove_first,
            "RemoveAll": self.remove_all,
            "SetAttributes": self.set_attributes,
            "RemoveAttributes": self.remove_attributes,
        }
        if actions[name](context, argument):
            self.applied.append(f"{name} {context.xpath}")

    def replace(self, context: _Context, _argument: str) -> bool:
        found = self.targets(context)
        if not found:
            return False
        old, new = found[0], self.copy(context)
        if old.getparent() is None:
            self.target.tree._setroot(new)
        else:
            xmlfiles.replace_element(old, new, written=self.indent(context))
        return True

    def remove_first(self, context: _Context, _argument: str) -> bool:
        found = self.targets(context)
        for element in found[:1]:
            self.remove(context, element)
        return bool(found)

    def remove_all(self, context: _Context, _argument: str) -> bool:
        found = self.targets(context)
        for element in found:
            self.remove(context, element)
        return bool(found)

    def insert(self, context: _Context, _argument: str) -> bool:
        parent = self.parent(context)
        if parent is None:
            return False
        xmlfiles.append_child(parent, self.copy(context), written=self.indent(context))
        return True

    def insert_if_missing(self, context: _Context, _argument: str) -> bool:
        parent = self.parent(context)
        if parent is None or self.select(context, context.xpath):
            return False
        xmlfiles.append_child(parent, self.copy(context), written=self.indent(context))
        return True

    def insert_before(self, context: _Context, argument: str) -> bool:
        sibling = self.sibling(context, argument)
        if sibling is not None:
            xmlfiles.insert_before(sibling, self.copy(context), written=self.indent(context))
        return sibling is not None

    def insert_after(self, context: _Context, argument: str) -> bool:
        sibling = self.sibling(context, argument)
        if sibling is not None:
            xmlfiles.insert_after(sibling, self.copy(context), written=self.indent(context))
        return sibling is not None

    def set_attributes(self, context: _Context, argument: str) -> bool:
        values = {
            key: value
            for key, value in xmlfiles.attributes_of(context.element).items()
            if not key.startswith(f"{{{XDT_NAMESPACE}}}")
        }
        names = _split_arguments(argument)
        if names:
            keys = {_attribute_key(context.element, name) for name in names}
            values = {key: value for key, value in values.items() if key in keys}
            if not values:
                self.no_attributes(context, "SetAttributes", argument, "the transform element")
                return False
        found = self.targets(context)
        for element in found:
            for key, value in values.items():
                element.set(key, value)
        return bool(found)

    def remove_attributes(self, context: _Context, argument: str) -> bool:
        names = _split_arguments(argument)
        keys = [_attribute_key(context.element, name) for name in names]
        found = self.targets(context)
        for element in found:
            present = [k for k in keys or xmlfiles.attributes_of(element) if k in element.attrib]
            if names and not present:
                tag = etree.QName(element).localname
                where = f"<{tag}> at line {element.sourceline} of {self.target.name}"
                self.no_attributes(context, "RemoveAttributes", argument, where)
            for key in present:
                del element.attrib[key]
        return bool(found)

    # -- helpers for the transforms ------------------------------------------------------------

    def targets(self, context: _Context) -> list[etree._Element]:
        found = self.select(context, context.xpath)
        if not found:
            self.missing(context, context.xpath)
        return found

    def parent(self, context: _Context) -> etree._Element | None:
        if not context.parent_xpath:
            self.fail(context.element, "the root element cannot be inserted", "insert below it")
        parents = self.select(context, context.parent_xpath)
        if not parents:
            self.missing(context, context.parent_xpath)
        return parents[0] if parents else None

    def sibling(self, context: _Context, argument: str) -> etree._Element | None:
        parent = self.parent(context)
        if parent is None:
            return None
        siblings = self.select(context, argument, parent)
        if not siblings:
            self.missing(context, argument)
        return siblings[0] if siblings else None

    def remove(self, context: _Context, element: etree._Element) -> None:
        if element.getparent() is None:
            self.fail(context.element, "the root element cannot be removed", "remove below it")
        xmlfiles.remove_node(element)

    def copy(self, context: _Context) -> etree._Element:
        return xmlfiles.import_element(
            self.target, context.element, self.transform, drop_namespace=XDT_NAMESPACE
        )

    def indent(self, context: _Context) -> xmlfiles.Indent | None:
        return xmlfiles.indent_of(context.element)

    def no_attributes(self, context: _Context, name: str, argument: str, where: str) -> None:
        self.warning(
            context.element,
            f"{name}({argument}): {where} has none of these attributes",
            "fix the attribute names",
        )

    # -- checking and reporting ----------------------------------------------------------------

    def check_attributes(self, element: etree._Element) -> None:
        self.suppressed(element)  # a bad value is an error even when nothing warns
        for key in xmlfiles.attributes_of(element):
            if key.startswith(f"{{{XDT_NAMESPACE}}}") and key not in (
                _TRANSFORM,
                _LOCATOR,
                _SUPPRESS,
            ):
                local = etree.QName(key).localname
                self.warning(
                    element,
                    f"unknown attribute xdt:{local}",
                    "use xdt:Transform, xdt:Locator or xdt:SupressWarnings",
                )

    def parse(
        self, element: etree._Element, value: str, attribute: str, known: Sequence[str]
    ) -> tuple[str, str]:
        match = _NAME_AND_ARGUMENTS.match(value)
        if match is None:
            self.fail(element, f"bad {attribute} '{value}'", "write Name or Name(arguments)")
        name, argument = match.group(1), (match.group(2) or "").strip()
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1) or [
                k for k in known if k.lower() == name.lower()
            ]
            hint = f"did you mean '{close[0]}'?" if close else f"use one of {', '.join(known)}"
            self.fail(element, f"unknown {attribute} '{name}'", hint)
        return name, argument

    def warning(self, element: etree._Element, message: str, hint: str) -> None:
        if self.suppressed(element):
            return
        located = f"{self.transform.name}:{element.sourceline}: {message}"
        if self.strict:
            raise StepsError(located, hint=hint)
        self.warnings.append(located)
        self.warn(located)

    def suppressed(self, element: etree._Element) -> bool:
        value = element.get(_SUPPRESS)
        if value is None:
            return False
        if value.strip().lower() not in ("true", "false"):
            self.fail(element, f"xdt:SupressWarnings is '{value}'", "write true or false")
        return value.strip().lower() == "true"

    def fail(self, element: etree._Element, message: str, hint: str) -> NoReturn:
        raise StepsError(f"{self.transform.name}:{element.sourceline}: {message}", hint=hint)


def _step_name(element: etree._Element) -> str:
    qname = etree.QName(element)
    if qname.namespace and element.prefix is None:
        return f"{_DEFAULT_PREFIX}:{qname.localname}"
    return qname.localname if element.prefix is None else f"{element.prefix}:{qname.localname}"


def _attribute_key(element: etree._Element, name: str) -> str:
    if ":" not in name:
        return name
    prefix, local = name.split(":", 1)
    return f"{{{element.nsmap.get(prefix, '')}}}{local}"


def _split_arguments(argument: str) -> list[str]:
    """Comma-separated arguments; commas inside parentheses or quotes do not split."""
    parts, depth, quote, current = [], 0, "", ""
    for char in argument:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def _xpath_literal(value: str) -> str:
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    pieces = ', "\'", '.join(f"'{piece}'" for piece in value.split("'"))
    return f"concat({pieces})"


# ---------------------------------------------------------------------------------------------
# Which transform applies to which file


@dataclass(frozen=True)
class TransformPair:
    transform: Path
    target: Path


@dataclass(frozen=True)
class _Rule:
    text: str  # as written, for messages
    transform: PurePosixPath  # a pattern: a "*" in the file name binds like the target's
    target: PurePosixPath  # a pattern matched against the end of each file's path


def parse_additional_transforms(text: str) -> list[str]:
    """The rules in Octopus's additional-transforms setting: split on commas and line breaks."""
    return [part.strip() for part in re.split(r"[,\r\n]", text) if part.strip()]


def transform_pairs(
    directory: Path,
    *,
    environment: str | None,
    tenant: str | None,
    automatic: bool,
    additional: Sequence[str],
    already_applied: set[Path],
) -> list[TransformPair]:
    """Which transform to apply to which file under ``directory``, in the order to apply them.

    Files are visited in path order; for each, the ``additional`` rules come first in the
    order given, then (when ``automatic``) ``<name>.Release.config``, ``<name>.<environment>
    .config`` and ``<name>.<tenant>.config`` for ``<name>.config``, as Calamari does. A rule
    is ``Transform => Target``, or a bare transform whose target drops the second-to-last
    part of its name (``Web.Foo.config`` -> ``Web.config``); a bare ``Foo`` or
    ``Foo.config`` means ``*.Foo.config => *.config``. Targets are found anywhere below
    ``directory`` by the end of their path; the transform is looked up relative to the
    target's folder (less any folders the target pattern names) unless absolute. One ``*``
    may stand in each file name; when both sides have one, they stand for the same text.
    Names compare without regard to case. A file never transforms itself, a pair is listed
    once, and transforms in ``already_applied`` are skipped.
    """
    rules = [_parse_rule(text) for text in additional]
    if automatic:
        middles = [m.strip() for m in ("Release", environment, tenant) if m and m.strip()]
        rules += [_middle_rule(middle, middle) for middle in middles]
    listing = _Listing()
    pairs: list[TransformPair] = []
    for target in _files_below(directory):
        relative = PurePosixPath(target.relative_to(directory).as_posix())
        for rule in rules:
            for transform in _transforms_for(rule, target, relative, listing):
                pair = TransformPair(transform, target)
                if transform != target and transform not in already_applied and pair not in pairs:
                    pairs.append(pair)
    return pairs


def _middle_rule(text: str, middle: str) -> _Rule:
    """``<name>.<middle>.config`` transforms ``<name>.config``."""
    return _Rule(text, PurePosixPath(f"*.{middle}.config"), PurePosixPath("*.config"))


def _parse_rule(text: str) -> _Rule:
    if "=>" in text:
        left, _, right = (part.strip().replace("\\", "/") for part in text.partition("=>"))
        if not left or not right or "=>" in right:
            raise StepsError(
                f"additional XML transform '{text}' is not a rule",
                hint="write 'Transform.config => Target.config'",
            )
        rule = _Rule(text, PurePosixPath(left), PurePosixPath(right))
    else:
        pattern = PurePosixPath(text.strip().replace("\\", "/"))
        parts = pattern.name.split(".")
        if len(parts) >= 3:
            target = pattern.with_name(".".join([*parts[:-2], parts[-1]]))
            rule = _Rule(text, pattern, target)
        else:
            rule = _middle_rule(text, parts[0])
    _check_rule(rule)
    return rule


def _check_rule(rule: _Rule) -> None:
    if rule.target.is_absolute():
        raise StepsError(
            f"additional XML transform '{rule.text}' has an absolute target",
            hint="name the target relative to the package; only the transform may be absolute",
        )
    for path in (rule.transform, rule.target):
        if "*" in str(path.parent) or path.name.count("*") > 1:
            raise StepsError(
                f"additional XML transform '{rule.text}' has a '*' outside a file name "
                "or more than one in a name",
                hint="use at most one '*', in the file name",
            )


def _transforms_for(
    rule: _Rule, target: Path, relative: PurePosixPath, listing: _Listing
) -> Iterator[Path]:
    bound = _bind(rule.target, relative)
    if bound is None:
        return
    folders = len(rule.target.parts) - 1
    base = target.parents[folders]
    folder = Path(rule.transform.parent)
    folder = folder if folder.is_absolute() else base / folder
    name = rule.transform.name
    if "*" in name and "*" in rule.target.name:
        name = name.replace("*", bound)
    pattern = _name_pattern(name)
    for candidate in listing.files(folder):
        if pattern.fullmatch(candidate):
            yield folder / candidate


def _bind(pattern: PurePosixPath, relative: PurePosixPath) -> str | None:
    """What the target pattern's ``*`` stands for in ``relative``; None when it does not match."""
    if len(relative.parts) < len(pattern.parts):
        return None
    tail = relative.parts[len(relative.parts) - len(pattern.parts) :]
    folders = zip(tail[:-1], pattern.parts[:-1], strict=True)
    if any(actual.casefold() != wanted.casefold() for actual, wanted in folders):
        return None
    match = _name_pattern(pattern.name).fullmatch(tail[-1])
    if match is None:
        return None
    return match.group(1) if match.groups() else ""


def _name_pattern(name: str) -> re.Pattern[str]:
    before, star, after = name.partition("*")
    body = re.escape(before) + ("(.+)" if star else "") + re.escape(after)
    return re.compile(body, re.IGNORECASE)


class _Listing:
    """File names per folder, read once per search."""

    def __init__(self) -> None:
        self.cache: dict[Path, list[str]] = {}

    def files(self, folder: Path) -> list[str]:
        if folder not in self.cache:
            try:
                entries = [entry.name for entry in os.scandir(folder) if entry.is_file()]
            except OSError:
                entries = []
            self.cache[folder] = sorted(entries)
        return self.cache[folder]


def _files_below(directory: Path) -> list[Path]:
    files: list[Path] = []
    for folder, subfolders, names in os.walk(directory):
        subfolders.sort()
        files.extend(Path(folder, name) for name in names)
    return sorted(files, key=lambda path: path.relative_to(directory).parts)
