"""Evaluating Octostache templates against a set of variables (docs/variables.md).

Variables are arranged as a tree of their names' paths (``Octopus.Action[A].Name``: ``Octopus``,
``Action``, index ``A``, ``Name``), which is what makes indexed lookups, ``#{each}`` over a
collection and JSON paths work. A variable's value is itself a template, evaluated when it is
looked up. What cannot be resolved is echoed, as Octostache does, and recorded so that
``--strict-variables`` can list it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from steptemplates.variables import jsontext
from steptemplates.variables.collection import Variable, VariableSet
from steptemplates.variables.filters import FilterRejected, apply_filter
from steptemplates.variables.syntax import (
    CalcTerm,
    Calculation,
    Chain,
    Conditional,
    Expression,
    Ident,
    Index,
    Literal,
    Node,
    Number,
    Operation,
    Repetition,
    Substitution,
    Symbol,
    TemplateError,
    TemplateSyntaxError,
    Text,
    parse,
    parse_lenient,
    parse_name,
)

MAX_DEPTH = 100  # variables referring to variables, this many levels deep, is a mistake


class RecursiveDefinitionError(TemplateError):
    """A variable's value refers, directly or through others, back to itself."""


class UnresolvedVariablesError(TemplateError):
    """--strict-variables: the template refers to variables that are not defined."""

    def __init__(self, source: str, unresolved: Iterable[Unresolved]) -> None:
        self.unresolved = tuple(unresolved)
        listed = "; ".join(u.describe() for u in self.unresolved)
        count = len(self.unresolved)
        noun = "reference" if count == 1 else "references"
        where = f"{source}: " if source else ""
        super().__init__(
            f"{where}{count} unresolved variable {noun}: {listed}",
            hint="define them (steps.toml [variables], --variables, -v) "
            "or run without --strict-variables to leave them as written",
        )


@dataclass(frozen=True)
class Unresolved:
    expression: str  # as Octostache echoes it: #{Name}, #{A | Filter "x"}
    line: int
    column: int
    reason: str | None = None
    source: str = ""

    def describe(self) -> str:
        where = f"{self.source}:" if self.source else "line "
        why = f" ({self.reason})" if self.reason else ""
        return f"{self.expression} at {where}{self.line}:{self.column}{why}"


@dataclass(frozen=True)
class Rendering:
    """The result of evaluating a template. ``text`` is None when the ``null`` filter ran."""

    text: str | None
    unresolved: tuple[Unresolved, ...] = ()


class _Node:
    """One step of a variable path: its own value and its named and indexed children."""

    __slots__ = ("children", "indexes", "value")

    def __init__(self, value: str | None = None) -> None:
        self.value = value
        self.children: dict[str, _Node] = {}
        self.indexes: dict[str, _Node] = {}


@dataclass
class _Scope:
    root: _Node
    parent: _Scope | None = None


@dataclass
class _State:
    source: str
    stack: list[str] = field(default_factory=list)
    in_json: int = 0  # > 0 while evaluating a value to read it as JSON
    origin: tuple[int, int] = (1, 1)
    unresolved: list[Unresolved] = field(default_factory=list)
    null: bool = False
    problem: str | None = None  # why the last filter refused, for messages
    top: int = 0  # stack depth of the template being rendered: its tokens have positions

    def record(self, expression: str, reason: str | None = None) -> None:
        if self.in_json:
            return  # a failed JSON read is reported once, by the token that needed it
        line, column = self.origin
        self.unresolved.append(Unresolved(expression, line, column, reason, self.source))


_MISSING: Any = object()
_NULL = object()  # the `null` filter's result


@dataclass(frozen=True)
class _Json:
    value: Any  # a value found inside a JSON-valued variable


def _tree(variables: Iterable[tuple[str, str]]) -> _Node:
    root = _Node()
    for name, value in variables:
        symbol = parse_name(name)
        if symbol is None:
            continue  # not a path: scripts still get it, templates cannot name it
        node = root
        for segment in symbol.segments:
            if isinstance(segment, Ident):
                key = segment.name.casefold()
                node = node.children.get(key) or node.children.setdefault(key, _Node())
            else:
                text = segment.echo()[1:-1]
                key = text.casefold()
                child = node.indexes.get(key)
                if child is None:
                    # An index's own value is its key: `#{each a in X}#{a}` prints the keys.
                    child = node.indexes[key] = _Node(text)
                node = child
        node.value = value
    return root


def _pairs(
    variables: VariableSet | Mapping[str, str] | Iterable[Variable],
) -> list[tuple[str, str]]:
    if isinstance(variables, Mapping):
        return [(name, "" if value is None else value) for name, value in variables.items()]
    return [(v.name, v.value) for v in variables]


class Evaluator:
    """Evaluates templates against one set of variables.

    ``literal=True`` treats values as final text, not templates: for rendering a script body
    against values that were already evaluated (an escaped ``##{X}`` must stay ``#{X}``).
    """

    def __init__(
        self,
        variables: VariableSet | Mapping[str, str] | Iterable[Variable] = (),
        *,
        literal: bool = False,
    ) -> None:
        pairs = _pairs(variables)
        self._raw = {name.casefold(): value for name, value in pairs}
        self._root = _tree(pairs)
        self._literal = literal
        self._memo: dict[str, tuple[Any, list[tuple[str, str | None]], bool]] = {}

    @classmethod
    def of_values(cls, values: Mapping[str, str]) -> Evaluator:
        return cls(values, literal=True)

    # public API

    def render(self, text: str, *, source: str = "template", strict: bool = False) -> str:
        """``text`` with every expression evaluated; syntax errors and (strict) unresolved
        references raise, naming ``source``, the line and the column."""
        result = self.evaluate(text, source=source)
        if strict and result.unresolved:
            raise UnresolvedVariablesError(source, result.unresolved)
        return result.text or ""

    def evaluate(self, text: str, *, source: str = "", syntax: str = "raise") -> Rendering:
        """Octostache's Evaluate. ``syntax``: "raise" a TemplateSyntaxError, "keep" the text
        unchanged (Octostache's default), or "continue" past fragments that do not parse."""
        try:
            nodes = parse_lenient(text) if syntax == "continue" else parse(text)
        except TemplateSyntaxError as error:
            if syntax == "raise":
                raise error.located(source) if source else error from None
            line, column = error.line, error.column
            return Rendering(text, (Unresolved(text, line, column, error.reason, source),))
        state = _State(source)
        try:
            output = self._nodes(nodes, _Scope(self._root), state)
        except RecursiveDefinitionError as error:
            if not source:
                raise
            line, column = state.origin
            raise RecursiveDefinitionError(f"{source}:{line}:{column}: {error}") from None
        return Rendering(None if state.null else output, tuple(state.unresolved))

    def value(self, name: str) -> str | None:
        """The evaluated value of variable ``name``; None when it is not defined."""
        raw = self._raw.get(name.casefold())
        if raw is None:
            return None
        return self.value_of(name).text or ""

    def value_of(self, name: str) -> Rendering:
        """Variable ``name`` evaluated, with what it could not resolve."""
        raw = self._raw.get(name.casefold(), "")
        if self._literal or "#{" not in raw:
            return Rendering(raw)
        state = _State(f"variable '{name}'", stack=[name], top=1)
        try:
            nodes = parse(raw)
        except TemplateSyntaxError as error:
            # Octostache leaves a value that does not parse as it is.
            return Rendering(raw, (Unresolved(raw, error.line, error.column, error.reason,
                                              state.source),))  # fmt: skip
        try:
            text = self._nodes(nodes, _Scope(self._root), state)
        except RecursiveDefinitionError as error:
            raise RecursiveDefinitionError(f"variable '{name}': {error}") from None
        return Rendering(None if state.null else text, tuple(state.unresolved))

    def truthy(self, text: str) -> bool:
        """Octostache's EvaluateTruthy: no unresolved expression and a true value."""
        result = self.evaluate(text, syntax="keep")
        return not result.unresolved and result.text is not None and is_truthy(result.text)

    # rendering

    def _nodes(self, nodes: Iterable[Node], scope: _Scope, state: _State) -> str:
        out: list[str] = []
        top = len(state.stack) == state.top
        for node in nodes:
            if type(node) is Text:
                out.append(node.text)
                continue
            if top:
                state.origin = (node.line, node.column)  # type: ignore[union-attr]
            if type(node) is Substitution and type(node.expression) is Symbol:
                # The common case, kept short: a plain reference.
                state.problem = None
                value = self._symbol(node.expression, scope, state)
                if value is None:
                    state.record(node.echo(), state.problem)
                    value = node.echo()
                out.append(value)
            else:
                out.append(self._node(node, scope, state))
        return "".join(out)

    def _node(self, node: Node, scope: _Scope, state: _State) -> str:
        if isinstance(node, Substitution):
            state.problem = None
            value = self._expression(node.expression, scope, state)
            if value is None:
                state.record(node.echo(), state.problem)
                return node.echo()
            return value
        if isinstance(node, Conditional):
            return self._conditional(node, scope, state)
        if isinstance(node, Repetition):
            return self._repetition(node, scope, state)
        if isinstance(node, Calculation):
            return self._calculation(node, scope, state)
        return node.text if isinstance(node, Text) else ""

    def _expression(self, expression: Expression, scope: _Scope, state: _State) -> str | None:
        if isinstance(expression, Symbol):
            return self._symbol(expression, scope, state)
        return self._chain(expression, scope, state, missing_as_empty=False)

    def _chain(
        self, chain: Chain, scope: _Scope, state: _State, *, missing_as_empty: bool
    ) -> str | None:
        argument: str | None = None
        if chain.argument is not None:
            argument = self._symbol(chain.argument, scope, state)
            if argument is None:
                if not missing_as_empty:
                    return None
                argument = ""
        value: Any = argument
        for call in chain.filters:
            options = [
                option.text if option.nested is None else self._node(option.nested, scope, state)
                for option in call.options
            ]
            try:
                value = apply_filter(call.name, None if value is _NULL else value, options)
            except FilterRejected as problem:
                state.problem = str(problem)
                return None
            if value is None:
                value = _NULL
        if value is _NULL:
            state.null = True
            return ""
        return value

    def _conditional(self, node: Conditional, scope: _Scope, state: _State) -> str:
        condition = node.condition
        state.problem = None
        left = self._operand(condition.left, scope, state)
        if left is None:
            state.record(node.source, state.problem)
            return node.source
        if condition.operator is None:
            passed = is_truthy(left)
        else:
            assert condition.right is not None
            right = self._operand(condition.right, scope, state)
            if right is None:
                state.record(node.source, state.problem)
                return node.source
            passed = (left == right) == (condition.operator == "==")
        return self._nodes(node.truthy if passed else node.falsy, scope, state)

    def _operand(self, operand: Expression | Literal, scope: _Scope, state: _State) -> str | None:
        """A side of a condition: a missing variable counts as empty, a failed filter as None."""
        if isinstance(operand, Literal):
            return operand.text
        if isinstance(operand, Symbol):
            value = self._symbol(operand, scope, state)
            return "" if value is None else value
        return self._chain(operand, scope, state, missing_as_empty=True)

    def _repetition(self, node: Repetition, scope: _Scope, state: _State) -> str:
        items = self._items(node.collection, scope, state)
        out = []
        last = len(items) - 1
        for position, item in enumerate(items):
            local = _Node()
            local.children[node.variable.casefold()] = item
            each = _Node()
            each.children = {
                "index": _Node(str(position)),
                "first": _Node("True" if position == 0 else "False"),
                "last": _Node("True" if position == last else "False"),
            }
            template = _Node()
            template.children["each"] = each
            octopus = local.children.setdefault("octopus", _Node())
            octopus.children["template"] = template
            out.append(self._nodes(node.body, _Scope(local, scope), state))
        return "".join(out)

    def _items(self, collection: Symbol, scope: _Scope, state: _State) -> list[_Node]:
        found = self._walk(collection, scope, state)
        if found is _MISSING:
            return []
        if isinstance(found, _Node) and found.indexes:
            return list(found.indexes.values())
        container: dict[str, Any] | list[Any] | None
        if isinstance(found, _Json) and isinstance(found.value, dict | list):
            container = found.value
        else:
            text = self._text_of(found, collection, scope, state)
            if not text:
                return []
            container = jsontext.parse_container(text)
            if container is None:
                return [_Node(part) for part in text.split(",")]
        if isinstance(container, list):
            return [_Node(jsontext.to_text(item)) for item in container]
        items = []
        for key, value in container.items():
            item = _Node(key)
            item.children = {"key": _Node(key), "value": _Node(jsontext.to_text(value))}
            items.append(item)
        return items

    def _calculation(self, node: Calculation, scope: _Scope, state: _State) -> str:
        try:
            result = self._calc(node.expression, scope, state)
        except _CalcFailed as failure:
            state.record(node.echo(), failure.reason)
            return node.echo()
        return format_double(result)

    def _calc(self, term: CalcTerm, scope: _Scope, state: _State) -> float:
        if isinstance(term, Number):
            return _number(term.value, term.value)
        if isinstance(term, Symbol):
            value = self._symbol(term, scope, state)
            if value is None:
                raise _CalcFailed(f"'{term.echo()}' is not defined")
            return _number(value, term.echo())
        left = self._calc(term.left, scope, state)
        right = self._calc(term.right, scope, state)
        return _arithmetic(term, left, right)

    # lookups

    def _symbol(self, symbol: Symbol, scope: _Scope, state: _State) -> str | None:
        """The evaluated value at ``symbol``, or None when it cannot be resolved."""
        at_root = scope.parent is None and not state.in_json
        key = symbol.key
        if at_root and key in self._memo:
            value, problems, null = self._memo[key]
            for expression, reason in problems:
                state.record(expression, reason)
            state.null = state.null or null
            return None if value is _MISSING else value
        before = len(state.unresolved)
        was_null, state.null = state.null, False
        found = self._walk(symbol, scope, state)
        value = _MISSING if found is _MISSING else self._text_of(found, symbol, scope, state)
        if value is None:
            value = _MISSING
        if at_root:
            problems = [(u.expression, u.reason) for u in state.unresolved[before:]]
            self._memo[key] = (value, problems, state.null)
        state.null = state.null or was_null
        return None if value is _MISSING else value

    def _text_of(self, found: Any, symbol: Symbol, scope: _Scope, state: _State) -> str | None:
        """The text of a node or JSON value, evaluated as a template in ``scope``."""
        if isinstance(found, _Json):
            raw = jsontext.to_text(found.value)
        else:
            if found.value is None:
                return None
            raw = found.value
        if self._literal or "#{" not in raw:
            return raw
        return self._evaluate_value(raw, symbol.echo(), scope, state)

    def _evaluate_value(self, raw: str, name: str, scope: _Scope, state: _State) -> str | None:
        folded = name.casefold()
        if any(entry.casefold() == folded for entry in state.stack):
            if state.in_json:
                return None  # Octostache reads such JSON with the inner reference unresolved
            chain = " -> ".join([*state.stack, name])
            raise RecursiveDefinitionError(
                f'An attempt to parse the variable symbol "{state.stack[0]}" appears to have '
                f"resulted in a self referencing loop ({chain}). Ensure that recursive loops "
                "do not exist in the variable values."
            )
        if len(state.stack) >= MAX_DEPTH:
            raise TemplateError(
                f"variables refer to variables more than {MAX_DEPTH} levels deep "
                f"({' -> '.join(state.stack[:3])} -> ... -> {name})"
            )
        try:
            nodes = parse(raw)
        except TemplateSyntaxError:
            return raw  # a value that does not parse is used as it is, as Octostache does
        state.stack.append(name)
        try:
            return self._nodes(nodes, _Scope(scope.root, scope.parent), state)
        finally:
            state.stack.pop()

    def _walk(self, symbol: Symbol, scope: _Scope, state: _State) -> Any:
        """The node or JSON value at ``symbol``: tried in ``scope``, then in outer scopes."""
        current: _Scope | None = scope
        while current is not None:
            found = self._walk_from(current.root, symbol, scope, state)
            if found is not _MISSING:
                return found
            current = current.parent
        return _MISSING

    def _walk_from(self, node: _Node, symbol: Symbol, scope: _Scope, state: _State) -> Any:
        segments = symbol.segments
        for position, segment in enumerate(segments):
            if isinstance(segment, Ident):
                child = node.children.get(segment.name.casefold())
            else:
                key = self._index_key(segment, scope, state)
                if key is None:
                    return _MISSING
                if segment.wildcard:
                    child = next(iter(node.indexes.values()), None)
                else:
                    child = node.indexes.get(key.casefold())
            if child is None:
                if node.value is None or node is scope.root:
                    return _MISSING
                prefix = Symbol(segments[:position])
                return self._json_path(node, prefix, segments[position:], scope, state)
            node = child
        return node

    def _index_key(self, index: Index, scope: _Scope, state: _State) -> str | None:
        if index.wildcard:
            return "*"
        if index.symbol is None:
            return index.text
        return self._symbol(index.symbol, scope, state)

    def _json_path(
        self,
        node: _Node,
        prefix: Symbol,
        rest: tuple[Ident | Index, ...],
        scope: _Scope,
        state: _State,
    ) -> Any:
        """Read the rest of a path inside the JSON held by ``node``'s value."""
        state.in_json += 1
        try:
            text = self._text_of(node, prefix, scope, state)
        finally:
            state.in_json -= 1
        container = jsontext.parse_container(text) if text else None
        if container is None:
            if text:
                state.problem = f"the value of '{prefix.echo()}' is not a JSON object or array"
            return _MISSING
        value: Any = container
        for segment in rest:
            if isinstance(segment, Ident):
                key: str | None = segment.name
            else:
                key = self._index_key(segment, scope, state)
                if key is None:
                    return _MISSING
                if segment.wildcard:
                    key = next(iter(value), None) if isinstance(value, dict) else "0"
            if key is None:
                return _Json(None)
            found, value = jsontext.child(value, key)
            if not found:
                return _Json(None)  # a missing property of existing JSON is empty, not echoed
        return _Json(value)


class _CalcFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_NUMBER = re.compile(r"\s*[+-]?(\d[\d,]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")


def _number(text: str, what: str) -> float:
    if not _NUMBER.fullmatch(text):
        raise _CalcFailed(f"'{what}' is not a number")
    return float(text.replace(",", ""))


def _arithmetic(term: Operation, left: float, right: float) -> float:
    operator = term.operator
    if operator == "+":
        return left + right
    if operator == "-":
        return left - right
    if operator == "*":
        return left * right
    if right == 0:
        # .NET doubles: x/0 is infinity with x's sign, 0/0 is NaN.
        return math.nan if left == 0 or math.isnan(left) else math.copysign(math.inf, left)
    return left / right


def format_double(value: float) -> str:
    """A double as .NET prints it: the shortest text that reads back the same number."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    assert isinstance(exponent, int)
    # The position of the decimal point relative to the first digit.
    scientific = len(digits) + exponent - 1
    minus = "-" if sign else ""
    if scientific >= 15 or scientific <= -5:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{minus}{mantissa}E{'+' if scientific >= 0 else '-'}{abs(scientific):02d}"
    if scientific < 0:
        return f"{minus}0.{'0' * (-scientific - 1)}{text}"
    whole = text[: scientific + 1].ljust(scientific + 1, "0")
    fraction = text[scientific + 1 :]
    return f"{minus}{whole}.{fraction}" if fraction else f"{minus}{whole}"


def is_truthy(value: str) -> bool:
    """Octostache's rule: "", "0", and "no"/"false" (any case, trimmed) are false."""
    if value in ("", "0"):
        return False
    return value.strip().casefold() not in ("no", "false")
