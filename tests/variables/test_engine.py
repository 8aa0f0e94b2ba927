"""The engine beyond the conformance vectors: errors, positions, strict mode, literal values."""

import pytest

from steptemplates.errors import StepsError
from steptemplates.variables.collection import VariableSet
from steptemplates.variables.engine import (
    Evaluator,
    RecursiveDefinitionError,
    UnresolvedVariablesError,
    format_double,
    is_truthy,
)
from steptemplates.variables.syntax import TemplateError, TemplateSyntaxError


def variables(**values: str) -> VariableSet:
    result = VariableSet()
    for name, value in values.items():
        result.set(name.replace("_", "."), value)
    return result


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("#{Name}", "world"),
        ("Hello #{Name}!", "Hello world!"),
        ("#{name}", "world"),  # names are case-insensitive
        ("##{Name}", "#{Name}"),  # escaped
        ("####{Name}", "##{Name}"),  # each pair of # before { is one literal #
        ("#{Missing}", "#{Missing}"),  # unresolved references are left as written
        ("#{Octopus.Action[Step A].Output.Url}", "http://x"),
        ("#{Deep}", "[Hello world]"),
        ("#{Site[#{Which}].Url}", "https://b"),
        ("#{each s in Site}#{s}=#{s.Url};#{/each}", "a=https://a;b=https://b;"),
        ("#{if Name == \"world\"}yes#{else}no#{/if}", "yes"),
        ("#{Name | ToUpper}", "WORLD"),
    ],
)
def test_render(template: str, expected: str) -> None:
    values = variables(Name="world", Nested="Hello #{Name}", Deep="[#{Nested}]", Which="b")
    values.set("Octopus.Action[Step A].Output.Url", "http://x")
    values.set("Site[a].Url", "https://a")
    values.set("Site[b].Url", "https://b")
    assert Evaluator(values).render(template) == expected


def test_value_evaluates_nested_references() -> None:
    evaluator = Evaluator(variables(A="#{B}-#{C}", B="b", C="#{Unknown}"))
    assert evaluator.value("A") == "b-#{Unknown}"
    assert evaluator.value("Nope") is None
    assert [u.expression for u in evaluator.value_of("A").unresolved] == ["#{Unknown}"]


def test_literal_values_are_not_evaluated_again() -> None:
    # Values that were already evaluated: an escaped reference must stay as text.
    evaluator = Evaluator.of_values({"A": "#{B}", "B": "b"})
    assert evaluator.render("#{A}") == "#{B}"


@pytest.mark.parametrize(
    ("template", "line", "column", "message"),
    [
        ("one\n  #{if Ready}yes", 2, 3, "#{if} is never closed with #{/if}"),
        ("#{each a in List}x", 1, 1, "#{each} is never closed with #{/each}"),
        ("text #{/if}", 1, 6, "#{/if} without a matching #{if}"),
        ("#{else}", 1, 1, "#{else} outside #{if}"),
        ("#{if A}a#{/each}", 1, 9, "#{/each} without a matching #{each}"),
        ("ok\n#{Foo", 2, 6, "expected '}' to close the expression"),
        ("#{unless A}a#{elseif B}b#{/unless}", 1, 13, "#{elseif} outside #{if}"),
        ("#{Foo | }", 1, 9, "expected a filter name after '|'"),
        ("#{calc 1 + }", 1, 12, "in #{calc}: expected a number, a variable or '('"),
    ],
)
def test_syntax_errors_name_line_and_column(
    template: str, line: int, column: int, message: str
) -> None:
    with pytest.raises(TemplateSyntaxError) as raised:
        Evaluator({}).render(template, source="deploy.sh")
    assert (raised.value.line, raised.value.column) == (line, column)
    assert str(raised.value).startswith(f"deploy.sh:{line}:{column}: ")
    assert message in str(raised.value)


def test_octostache_mode_keeps_a_malformed_template_unchanged() -> None:
    result = Evaluator({"A": "a"}).evaluate("#{A} #{if A}", syntax="keep")
    assert result.text == "#{A} #{if A}"
    assert result.unresolved[0].reason == "#{if} is never closed with #{/if}"


def test_strict_mode_lists_every_unresolved_reference_with_its_position() -> None:
    template = "a=#{A}\nb=#{Missing}\nc=#{A | ToBazooka}\nd=#{Other[#{Key}]}\n"
    with pytest.raises(UnresolvedVariablesError) as raised:
        Evaluator({"A": "1"}).render(template, source="app.conf", strict=True)
    message = str(raised.value)
    assert "app.conf: 3 unresolved variable references" in message
    assert "#{Missing} at app.conf:2:3" in message
    assert "#{A | ToBazooka} at app.conf:3:3 (there is no filter named 'ToBazooka'" in message
    assert "#{Other[#{Key}]} at app.conf:4:3" in message
    assert [u.line for u in raised.value.unresolved] == [2, 3, 4]


def test_strict_mode_reports_references_missing_inside_other_values() -> None:
    with pytest.raises(UnresolvedVariablesError, match=r"#\{Host\} at app.conf:1:5"):
        Evaluator({"Url": "http://#{Host}/"}).render("url=#{Url}", source="app.conf", strict=True)


def test_wrong_filter_arguments_are_reported() -> None:
    result = Evaluator({"A": "abc"}).evaluate("#{A | Substring x}")
    assert result.text == '#{A | Substring "x"}'
    assert result.unresolved[0].reason


def test_invalid_json_in_a_json_valued_variable_is_unresolved() -> None:
    result = Evaluator({"Config": "{Name: NoComma Port: 1}"}).evaluate("#{Config.Name}")
    assert result.text == "#{Config.Name}"
    assert result.unresolved[0].reason == "the value of 'Config' is not a JSON object or array"


@pytest.mark.parametrize(
    ("values", "chain"),
    [
        ({"A": "#{A}"}, "A -> A"),
        ({"A": "x #{B}", "B": "#{C | ToUpper}", "C": "#{A}"}, "A -> B -> C -> A"),
        ({"A": "#{if B}#{B}#{/if}", "B": "#{A}"}, "A -> B -> A"),
    ],
)
def test_self_reference_is_an_error_naming_the_chain(values: dict, chain: str) -> None:
    with pytest.raises(RecursiveDefinitionError, match=f"self referencing loop \\({chain}\\)"):
        Evaluator(values).render("#{A}")


def test_runaway_nesting_stops_with_an_error() -> None:
    values = {f"V{i}": f"#{{V{i + 1}}}" for i in range(150)}
    with pytest.raises(TemplateError, match="more than 100 levels deep"):
        Evaluator(values).render("#{V0}")


def test_errors_are_steps_errors() -> None:
    # The CLI prints these as one line and exits 2.
    assert issubclass(TemplateError, StepsError)


@pytest.mark.parametrize(
    ("value", "truthy"),
    [("", False), ("0", False), ("no", False), (" FALSE ", False), ("False", False),
     (" ", True), ("00", True), ("0.0", True), ("off", True), ("yes", True)],
)  # fmt: skip
def test_truthiness(value: str, truthy: bool) -> None:
    assert is_truthy(value) is truthy


@pytest.mark.parametrize(
    ("number", "text"),
    [(1.5, "1.5"), (3.0, "3"), (0.2 * 7, "1.4000000000000001"), (1e15, "1E+15"),
     (123456789012345.0, "123456789012345"), (0.0001, "0.0001"), (0.00001, "1E-05"),
     (-2.5, "-2.5"), (1 / 3, "0.3333333333333333"), (float("inf"), "∞"), (float("nan"), "NaN")],
)  # fmt: skip
def test_numbers_print_as_dotnet_does(number: float, text: str) -> None:
    assert format_double(number) == text


def test_calc_division_by_zero() -> None:
    assert Evaluator({"A": "1"}).render("#{calc {A}/0} #{calc -1/0} #{calc 0/0}") == "∞ -∞ NaN"


def test_each_iterates_json_and_comma_separated_values() -> None:
    values = {"Ports": "[80, 443]", "Names": "a,b", "Map": '{"x": 1, "y": {"z": 2}}'}
    template = (
        "#{each p in Ports}#{p}#{if Octopus.Template.Each.Last == \"False\"},#{/if}#{/each}|"
        "#{each n in Names}#{Octopus.Template.Each.Index}#{n}#{/each}|"
        "#{each m in Map}#{m.Key}=#{m.Value};#{/each}"
    )
    assert Evaluator(values).render(template) == '80,443|0a1b|x=1;y={"z":2};'


def test_parsed_templates_are_cached() -> None:
    from steptemplates.variables.syntax import parse

    assert parse("#{A} and #{B}") is parse("#{A} and #{B}")


def test_a_self_reference_names_where_it_was_met() -> None:
    with pytest.raises(RecursiveDefinitionError) as raised:
        Evaluator({"A": "#{B}", "B": "#{A}"}).render("ok\n  #{A}", source="app.conf")
    assert str(raised.value).startswith('app.conf:2:3: An attempt to parse the variable symbol "A"')
    with pytest.raises(RecursiveDefinitionError, match=r"^variable 'B': .*\(B -> A -> B\)"):
        Evaluator({"A": "#{B}", "B": "#{A}"}).value_of("B")
