import pytest

from steptemplates.errors import StepsError
from steptemplates.variables.collection import VariableSet
from steptemplates.variables.engine import Evaluator


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
        ("#{ Name }", "world"),
        ("#{name}", "world"),  # names are case-insensitive
        ("##{Name}", "#{Name}"),  # escaped
        ("###{Name}", "#world"),
        ("#{Missing}", "#{Missing}"),  # unresolved references are left as written
        ("#{Name", "#{Name"),
        ("# ## #", "# ## #"),
        ("#{Octopus.Action[Step A].Output.Url}", "http://x"),
        ("#{Nested}", "Hello world"),
        ("#{Deep}", "[Hello world]"),
        ("no tokens", "no tokens"),
    ],
)
def test_render(template: str, expected: str) -> None:
    values = variables(Name="world", Nested="Hello #{Name}", Deep="[#{Nested}]")
    values.set("Octopus.Action[Step A].Output.Url", "http://x")
    assert Evaluator(values).render(template) == expected


def test_value_evaluates_nested_references() -> None:
    evaluator = Evaluator(variables(A="#{B}-#{C}", B="b", C="#{Unknown}"))
    assert evaluator.value("A") == "b-#{Unknown}"
    assert evaluator.value("Nope") is None


def test_a_cycle_is_an_error_naming_the_chain() -> None:
    with pytest.raises(StepsError, match=r"variable 'A' refers to itself \(A -> B -> A\)"):
        Evaluator(variables(A="#{B}", B="#{A}")).render("#{A}")
