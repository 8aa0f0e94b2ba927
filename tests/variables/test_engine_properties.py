"""Random templates and variables: the engine returns text or raises its own error, and ends.

Templates are built from the language's own pieces (tokens, block tags, filters, brackets,
quotes, hashes) so that the generator reaches the parser's corners, not just plain text.
"""

import contextlib
import threading

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from steptemplates.variables.engine import Evaluator
from steptemplates.variables.syntax import TemplateError

NAMES = ["A", "b", "Site[x].Url", "Site[y].Url", "List", "Json", "Octopus.Action[s].Name"]
PIECES = [
    "#{", "}", "##{", "#", "{", "[", "]", ".", "|", " ", "\n", '"', '\\"', "==", "!=",
    "#{if ", "#{unless ", "#{elseif ", "#{else}", "#{/if}", "#{/unless}", "#{each x in ",
    "#{/each}", "#{calc ", "+", "-", "*", "/", "(", ")", "0", "1.5",
    "ToUpper", "Replace a b", "Substring 1", "Md5", "null", "Format N2", "Truncate 2",
    "Indent", "VersionMajor", "JsonEscape", "NoSuchFilter", "*", "x", "in",
    *NAMES,
]  # fmt: skip

templates = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)
values = st.lists(st.sampled_from([*PIECES, "[1,2]", '{"k": "v"}', "a,b,c"]), max_size=8).map(
    "".join
)
variable_sets = st.dictionaries(st.sampled_from(NAMES), values, max_size=len(NAMES))


def _render_within(seconds: float, variables: dict[str, str], template: str) -> None:
    outcome: list[BaseException | str | None] = []

    def work() -> None:
        try:
            for syntax in ("raise", "keep", "continue"):
                result = Evaluator(variables).evaluate(template, syntax=syntax)
                assert result.text is None or isinstance(result.text, str)
            outcome.append("done")
        except TemplateError:
            outcome.append("done")
        except BaseException as error:  # anything else is a bug the test must show
            outcome.append(error)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"evaluation did not finish in {seconds}s: {template!r} with {variables!r}"
    if isinstance(outcome[0], BaseException):
        raise outcome[0]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(variable_sets, templates)
def test_engine_returns_text_or_raises_its_own_error(variables: dict, template: str) -> None:
    _render_within(10, variables, template)


@settings(max_examples=200, deadline=None)
@given(variable_sets)
def test_every_variable_value_evaluates_or_raises_its_own_error(variables: dict) -> None:
    evaluator = Evaluator(variables)
    for name in variables:
        with contextlib.suppress(TemplateError):
            evaluator.value_of(name)
