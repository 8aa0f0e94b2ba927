"""The Octostache template language, parsed into a tree of nodes (docs/variables.md).

``parse`` turns text into nodes once; results are cached, because the same script body or
variable value is rendered again for every step. Every node that can fail to evaluate knows
how to print itself back (``echo``): Octostache leaves an unresolved expression in the output
re-rendered from its parse tree, not as it was typed.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass

from steptemplates.errors import StepsError


class TemplateError(StepsError):
    """Every error the variable engine raises is one of these."""


class TemplateSyntaxError(TemplateError):
    def __init__(self, message: str, line: int, column: int, source: str = "") -> None:
        self.reason = message
        self.line = line
        self.column = column
        self.source = source
        where = f"{source}:" if source else "line "
        super().__init__(f"{where}{line}:{column}: {message}")

    def located(self, source: str) -> TemplateSyntaxError:
        """The same error, naming the file (or variable) the template came from."""
        return TemplateSyntaxError(self.reason, self.line, self.column, source)


# -- the tree ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Ident:
    name: str

    def echo(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Index:
    """``[text]``, ``[#{Other.Var}]`` or ``[*]`` (the first entry)."""

    text: str = ""
    symbol: Symbol | None = None
    wildcard: bool = False

    def echo(self) -> str:
        if self.symbol is not None:
            return f"[#{{{self.symbol.echo()}}}]"
        return "[*]" if self.wildcard else f"[{self.text}]"


@dataclass(frozen=True, slots=True)
class Symbol:
    segments: tuple[Ident | Index, ...]
    text: str = ""  # the path as Octostache prints it; computed once, it is also a lookup key
    key: str = ""

    def __post_init__(self) -> None:
        out = []
        for position, segment in enumerate(self.segments):
            if isinstance(segment, Ident) and position:
                out.append(".")
            out.append(segment.echo())
        text = "".join(out)
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "key", text.casefold())

    def echo(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Option:
    """A filter option: literal text, or a nested token evaluated to text."""

    text: str = ""
    nested: Node | None = None

    def echo(self) -> str:
        return _echo_nested(self.nested) if self.nested is not None else f'"{self.text}"'


@dataclass(frozen=True, slots=True)
class FilterCall:
    name: str
    options: tuple[Option, ...]

    def echo(self) -> str:
        return " ".join([self.name, *(o.echo() for o in self.options)])


@dataclass(frozen=True, slots=True)
class Chain:
    """``Argument | Filter opt | Filter``; the argument may be left out (``#{ | NowDate}``)."""

    argument: Symbol | None
    filters: tuple[FilterCall, ...]

    def echo(self) -> str:
        parts = [self.argument.echo() if self.argument else " "]
        parts.extend(f.echo() for f in self.filters)
        return " | ".join(parts).replace("  | ", " | ")


Expression = Symbol | Chain


@dataclass(frozen=True, slots=True)
class Literal:
    text: str


@dataclass(frozen=True, slots=True)
class Condition:
    left: Expression | Literal
    operator: str | None = None  # "==" or "!="
    right: Expression | Literal | None = None


@dataclass(frozen=True, slots=True)
class Substitution:
    expression: Expression
    line: int
    column: int

    def echo(self) -> str:
        return "#{" + self.expression.echo() + "}"


@dataclass(frozen=True, slots=True)
class Conditional:
    condition: Condition
    truthy: tuple[Node, ...]
    falsy: tuple[Node, ...]
    source: str  # the whole block as written: echoed when the condition cannot be evaluated
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Repetition:
    variable: str
    collection: Symbol
    body: tuple[Node, ...]
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Number:
    value: str


@dataclass(frozen=True, slots=True)
class Operation:
    operator: str
    left: CalcTerm
    right: CalcTerm


CalcTerm = Number | Symbol | Operation


@dataclass(frozen=True, slots=True)
class Calculation:
    expression: CalcTerm
    source: str  # as written, without spaces: how Octostache echoes it
    line: int
    column: int

    def echo(self) -> str:
        return "#{" + self.source + "}"


Node = Text | Substitution | Conditional | Repetition | Calculation


def _echo_nested(node: Node) -> str:
    if isinstance(node, Substitution | Calculation):
        return node.echo()
    if isinstance(node, Conditional):
        return node.source
    return ""


# -- the parser -------------------------------------------------------------------------------

_IDENT_PUNCTUATION = frozenset("_-:/~()@")
_NEWLINE = re.compile("\n")
_KEYWORDS = ("if", "unless", "elseif", "each", "calc")
_BLOCK_ENDS = {"if": "/if", "unless": "/unless"}


def _is_ident_char(char: str) -> bool:
    return char.isalnum() or char in _IDENT_PUNCTUATION or char.isspace()


@functools.lru_cache(maxsize=2048)
def parse(text: str) -> tuple[Node, ...]:
    """The nodes of ``text``; TemplateSyntaxError (with line and column) if it is malformed."""
    if "#{" not in text:
        return (Text(text),)
    return _Parser(text).template()


def parse_lenient(text: str) -> tuple[Node, ...]:
    """Octostache's continue-on-error mode: a fragment that does not parse stays as text."""
    if "#{" not in text:
        return (Text(text),)
    return _Parser(text, lenient=True).template()


@functools.lru_cache(maxsize=65536)
def parse_name(name: str) -> Symbol | None:
    """A variable name as a path (``Octopus.Action[A].Name``); None if it is not one."""
    parser = _Parser(name)
    try:
        symbol = parser.symbol()
    except TemplateSyntaxError:
        return None
    return symbol if parser.pos == len(name) else None


@dataclass
class _Closer:
    keyword: str  # "/if", "/each", "/unless", "else", "elseif"
    start: int
    end: int
    condition: Condition | None = None  # for elseif


class _Parser:
    def __init__(self, text: str, *, lenient: bool = False) -> None:
        self.text = text
        self.pos = 0
        self.lenient = lenient
        self._newlines: list[int] | None = None

    # positions and errors

    def where(self, offset: int) -> tuple[int, int]:
        """Line and column (from 1) of ``offset``."""
        if self._newlines is None:
            self._newlines = [match.start() for match in _NEWLINE.finditer(self.text)]
        line = bisect.bisect_left(self._newlines, offset)
        line_start = self._newlines[line - 1] + 1 if line else 0
        return line + 1, offset - line_start + 1

    def error(self, message: str, offset: int | None = None) -> TemplateSyntaxError:
        line, column = self.where(self.pos if offset is None else offset)
        return TemplateSyntaxError(message, line, column)

    def peek(self, count: int = 1) -> str:
        return self.text[self.pos : self.pos + count]

    def skip_spaces(self) -> None:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos].isspace():
            pos += 1
        self.pos = pos

    def expect(self, literal: str, what: str) -> None:
        if not self.text.startswith(literal, self.pos):
            found = self.text[self.pos : self.pos + 10] or "the end of the text"
            raise self.error(f"expected {what}, found '{found}'")
        self.pos += len(literal)

    # the template

    def template(self) -> tuple[Node, ...]:
        nodes, closer = self.nodes(frozenset())
        if closer is not None:
            raise self.error(_stray_message(closer.keyword), closer.start)
        return tuple(nodes)

    def nodes(self, closers: frozenset[str]) -> tuple[list[Node], _Closer | None]:
        """Nodes up to the end, or up to one of ``closers`` (returned, consumed)."""
        text = self.text
        nodes: list[Node] = []
        pending: list[str] = []

        def flush() -> None:
            if pending:
                nodes.append(Text("".join(pending)))
                pending.clear()

        while True:
            found = text.find("#{", self.pos)
            if found < 0:
                pending.append(text[self.pos :])
                self.pos = len(text)
                flush()
                return nodes, None
            run_start = found
            while run_start > self.pos and text[run_start - 1] == "#":
                run_start -= 1
            hashes = found + 1 - run_start
            pending.append(text[self.pos : run_start])
            # Each pair of `#` before `{` is one literal `#`; an odd one left starts a token.
            pending.append("#" * (hashes // 2))
            if hashes % 2 == 0:
                pending.append("{")
                self.pos = found + 2
                continue
            start = found
            try:
                item = self.token(start)
            except TemplateSyntaxError:
                if not self.lenient:
                    raise
                pending.append("#{")
                self.pos = start + 2
                continue
            if isinstance(item, _Closer):
                if item.keyword in closers:
                    flush()
                    return nodes, item
                if not self.lenient:
                    raise self.error(_stray_message(item.keyword), item.start)
                pending.append(text[item.start : item.end])
                continue
            flush()
            nodes.append(item)

    def token(self, start: int) -> Node | _Closer:
        """The token at ``start`` (which is ``#{``)."""
        self.pos = start + 2
        self.skip_spaces()
        if self.peek() == "/":
            return self.closing_tag(start)
        keyword = self.keyword()
        if keyword == "else":
            return _Closer("else", start, self.pos)
        if keyword == "elseif":
            condition = self.condition()
            return _Closer("elseif", start, self.pos, condition)
        if keyword in _BLOCK_ENDS:
            return self.conditional(start, unless=keyword == "unless")
        if keyword == "each":
            return self.repetition(start)
        if keyword == "calc":
            return self.calculation(start)
        line, column = self.where(start)
        expression = self.expression(in_condition=False)
        self.skip_spaces()
        self.expect("}", "'}' to close the expression")
        return Substitution(expression, line, column)

    def keyword(self) -> str | None:
        """A keyword at the cursor (consumed with the spaces after it), or None."""
        text, pos = self.text, self.pos
        if text[pos : pos + 4].lower() == "else":
            after = pos + 4
            while after < len(text) and text[after].isspace():
                after += 1
            if text[after : after + 1] == "}":
                self.pos = after + 1
                return "else"
        for word in _KEYWORDS:
            end = pos + len(word)
            if text[pos:end].lower() == word and end < len(text) and text[end].isspace():
                self.pos = end
                self.skip_spaces()
                return word
        return None

    def closing_tag(self, start: int) -> _Closer:
        self.pos += 1
        word_start = self.pos
        while self.pos < len(self.text) and self.text[self.pos].isalpha():
            self.pos += 1
        word = "/" + self.text[word_start : self.pos].lower()
        if word not in ("/if", "/unless", "/each"):
            raise self.error(f"unknown closing tag '#{{{word}}}'", start)
        self.skip_spaces()
        self.expect("}", f"'}}' to close #{{{word}}}")
        return _Closer(word, start, self.pos)

    def conditional(self, start: int, *, unless: bool) -> Conditional:
        line, column = self.where(start)
        condition = self.condition()
        keyword = "unless" if unless else "if"
        closers = {"else", f"/{keyword}"} | (set() if unless else {"elseif"})
        truthy, closer = self.nodes(frozenset(closers))
        falsy: list[Node] = []
        if closer is None:
            raise self.error(f"#{{{keyword}}} is never closed with #{{/{keyword}}}", start)
        if closer.keyword == "elseif":
            assert closer.condition is not None
            falsy = [self.rest_of_elseif(closer)]
        elif closer.keyword == "else":
            falsy, end = self.nodes(frozenset({f"/{keyword}"}))
            if end is None:
                raise self.error(f"#{{{keyword}}} is never closed with #{{/{keyword}}}", start)
        if unless:
            truthy, falsy = falsy, truthy
        source = self.text[start : self.pos]
        return Conditional(condition, tuple(truthy), tuple(falsy), source, line, column)

    def rest_of_elseif(self, opener: _Closer) -> Conditional:
        """``#{elseif X}...`` is an ``#{if X}`` nested in the else branch, ending at /if."""
        assert opener.condition is not None
        line, column = self.where(opener.start)
        truthy, closer = self.nodes(frozenset({"else", "elseif", "/if"}))
        falsy: list[Node] = []
        if closer is None:
            raise self.error("#{elseif} is never closed with #{/if}", opener.start)
        if closer.keyword == "elseif":
            falsy = [self.rest_of_elseif(closer)]
        elif closer.keyword == "else":
            falsy, end = self.nodes(frozenset({"/if"}))
            if end is None:
                raise self.error("#{if} is never closed with #{/if}", opener.start)
        source = self.text[opener.start : self.pos]
        return Conditional(opener.condition, tuple(truthy), tuple(falsy), source, line, column)

    def repetition(self, start: int) -> Repetition:
        line, column = self.where(start)
        name_start = self.pos
        variable = self.identifier()
        if not variable:
            raise self.error("expected a loop variable after 'each'", name_start)
        self.skip_spaces()
        if (
            self.text[self.pos : self.pos + 2].lower() != "in"
            or not self.text[self.pos + 2 : self.pos + 3].isspace()
        ):
            raise self.error("expected 'in' after the loop variable in #{each}")
        self.pos += 2
        self.skip_spaces()
        collection = self.symbol()
        self.skip_spaces()
        self.expect("}", "'}' to close #{each ...}")
        body, closer = self.nodes(frozenset({"/each"}))
        if closer is None:
            raise self.error("#{each} is never closed with #{/each}", start)
        return Repetition(variable, collection, tuple(body), line, column)

    # expressions

    def condition(self) -> Condition:
        left = self.operand()
        self.skip_spaces()
        operator = self.peek(2)
        if operator not in ("==", "!="):
            self.expect("}", "'}', '==' or '!=' in the condition")
            return Condition(left)
        self.pos += 2
        self.skip_spaces()
        right = self.operand()
        self.skip_spaces()
        self.expect("}", "'}' to close the condition")
        return Condition(left, operator, right)

    def operand(self) -> Expression | Literal:
        literal = self.quoted()
        if literal is not None:
            return Literal(literal)
        return self.expression(in_condition=True)

    def quoted(self) -> str | None:
        """``"text"`` (no ``"`` or ``#`` inside) or ``\\"text\\"`` (anything); None if neither."""
        text, pos = self.text, self.pos
        if text.startswith('\\"', pos):
            end = text.find('\\"', pos + 2)
            if end < 0:
                raise self.error('a \\"quoted\\" text is never closed')
            self.pos = end + 2
            return text[pos + 2 : end]
        if text.startswith('"', pos):
            end = pos + 1
            while end < len(text) and text[end] not in '"#':
                end += 1
            if end >= len(text) or text[end] != '"':
                raise self.error('a "quoted" text is never closed (it may not contain " or #)')
            self.pos = end + 1
            return text[pos + 1 : end]
        return None

    def expression(self, *, in_condition: bool) -> Expression:
        self.skip_spaces()
        argument = None if self.peek() == "|" else self.symbol()
        self.skip_spaces()
        filters: list[FilterCall] = []
        while self.peek() == "|":
            self.pos += 1
            self.skip_spaces()
            filters.append(self.filter_call())
            self.skip_spaces()
        if argument is None and not filters:
            raise self.error("expected a variable name")
        return Chain(argument, tuple(filters)) if filters else argument  # type: ignore[return-value]

    def filter_call(self) -> FilterCall:
        start = self.pos
        while self.pos < len(self.text) and (
            self.text[self.pos].isalnum() or self.text[self.pos] in "_-"
        ):
            self.pos += 1
        name = self.text[start : self.pos]
        if not name:
            raise self.error("expected a filter name after '|'")
        options: list[Option] = []
        while True:
            before = self.pos
            self.skip_spaces()
            option = self.option()
            if option is None:
                self.pos = before
                return FilterCall(name, tuple(options))
            options.append(option)

    def option(self) -> Option | None:
        text, pos = self.text, self.pos
        literal = self.quoted()
        if literal is not None:
            return Option(literal)
        if text.startswith("#{", pos):
            nested = self.token(pos)
            if isinstance(nested, _Closer):
                raise self.error("a closing tag cannot be a filter option", pos)
            return Option(nested=nested)
        end = pos
        while end < len(text) and _is_ident_char(text[end]) and not text[end].isspace():
            end += 1
        if end == pos:
            return None
        self.pos = end
        return Option(text[pos:end])

    def symbol(self) -> Symbol:
        start = self.pos
        name = self.identifier()
        if not name:
            raise self.error("expected a variable name", start)
        segments: list[Ident | Index] = [Ident(name)]
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == ".":
                self.pos += 1
                name = self.identifier()
                if not name:
                    raise self.error("expected a name after '.'")
                segments.append(Ident(name))
            elif char == "[":
                segments.append(self.index())
            else:
                break
        return Symbol(tuple(segments))

    def identifier(self) -> str:
        """Identifier characters; spaces end it before `|`, `}`, `in `, `==` and `!=`."""
        text = self.text
        start = pos = self.pos
        length = len(text)
        while pos < length and _is_ident_char(text[pos]):
            if text[pos].isspace() and self._ends_identifier(pos):
                break
            pos += 1
        self.pos = pos
        return text[start:pos].strip()

    def _ends_identifier(self, pos: int) -> bool:
        text = self.text
        after = pos
        while after < len(text) and text[after].isspace():
            after += 1
        rest = text[after : after + 3]
        if rest[:1] in ("|", "}", "") or rest[:2] in ("==", "!="):
            return True
        return rest[:2].lower() == "in" and rest[2:3].isspace()

    def index(self) -> Index:
        start = self.pos
        self.pos += 1  # [
        text = self.text
        if text.startswith("#{", self.pos):
            self.pos += 2
            self.skip_spaces()
            symbol = self.symbol()
            self.skip_spaces()
            self.expect("}", "'}' to close the index variable")
            self.expect("]", "']' to close the index")
            return Index(symbol=symbol)
        depth = 1
        pos = self.pos
        while pos < len(text):
            if text[pos] == "[":
                depth += 1
            elif text[pos] == "]":
                depth -= 1
                if depth == 0:
                    break
            pos += 1
        else:
            raise self.error("an index '[' is never closed with ']'", start)
        content = text[self.pos : pos]
        self.pos = pos + 1
        return Index(wildcard=True) if content == "*" else Index(content)

    # calc

    def calculation(self, start: int) -> Calculation:
        line, column = self.where(start)
        expression_start = self.pos
        depth = 0
        pos = self.pos
        while pos < len(self.text):
            char = self.text[pos]
            if char == "{":
                depth += 1
            elif char == "}":
                if depth == 0:
                    break
                depth -= 1
            pos += 1
        else:
            raise self.error("#{calc ...} is never closed with '}'", start)
        source = self.text[expression_start:pos]
        calc = _CalcParser(source, self, expression_start)
        expression = calc.parse()
        self.pos = pos + 1
        return Calculation(expression, "".join(source.split()), line, column)


class _CalcParser:
    """``+ - * /`` with parentheses; operands are numbers, variable paths or ``{Var}``."""

    def __init__(self, source: str, owner: _Parser, offset: int) -> None:
        self.source = source
        self.pos = 0
        self.owner = owner
        self.offset = offset

    def error(self, message: str) -> TemplateSyntaxError:
        return self.owner.error(f"in #{{calc}}: {message}", self.offset + self.pos)

    def parse(self) -> CalcTerm:
        term = self.sum()
        self.skip()
        if self.pos != len(self.source):
            raise self.error(f"unexpected '{self.source[self.pos]}'")
        return term

    def skip(self) -> None:
        while self.pos < len(self.source) and self.source[self.pos].isspace():
            self.pos += 1

    def sum(self) -> CalcTerm:
        term = self.product()
        while True:
            self.skip()
            operator = self.source[self.pos : self.pos + 1]
            if operator not in ("+", "-"):
                return term
            self.pos += 1
            term = Operation(operator, term, self.product())

    def product(self) -> CalcTerm:
        term = self.operand()
        while True:
            self.skip()
            operator = self.source[self.pos : self.pos + 1]
            if operator not in ("*", "/"):
                return term
            self.pos += 1
            term = Operation(operator, term, self.operand())

    def operand(self) -> CalcTerm:
        self.skip()
        source = self.source
        char = source[self.pos : self.pos + 1]
        if char == "(":
            self.pos += 1
            term = self.sum()
            self.skip()
            if source[self.pos : self.pos + 1] != ")":
                raise self.error("expected ')'")
            self.pos += 1
            return term
        if char == "{":
            end = source.find("}", self.pos)
            if end < 0:
                raise self.error("expected '}' after the variable name")
            symbol = parse_name(source[self.pos + 1 : end].strip())
            if symbol is None:
                raise self.error("expected a variable name inside '{...}'")
            self.pos = end + 1
            return symbol
        signed = char == "-" and source[self.pos + 1 : self.pos + 2].isdigit()
        if char.isdigit() or char == "." or signed:
            end = self.pos + 1
            while end < len(source) and (source[end].isdigit() or source[end] == "."):
                end += 1
            number = source[self.pos : end]
            self.pos = end
            return Number(number)
        end = self.pos
        # `-` and `/` are identifier characters: `B-2` is a variable named "B-2".
        while end < len(source) and (
            source[end].isalnum() or source[end] in "_-:/~@.[]" or source[end] == " "
        ):
            if source[end] == " ":
                break
            end += 1
        symbol = parse_name(source[self.pos : end]) if end > self.pos else None
        if symbol is None:
            raise self.error("expected a number, a variable or '('")
        self.pos = end
        return symbol


def _stray_message(keyword: str) -> str:
    if keyword in ("else", "elseif"):
        return f"#{{{keyword}}} outside #{{if}} ... #{{/if}}"
    opener = keyword[1:]
    return f"#{{{keyword}}} without a matching #{{{opener}}}"
