from steptemplates.masking import MASK, Masker
from steptemplates.variables.collection import Variable, VariableSet


def test_later_values_win_and_the_first_spelling_stays() -> None:
    values = VariableSet([Variable("Url", "a")])
    values.set("URL", "b")
    assert values.get("url") == "b"
    assert [(v.name, v.value) for v in values] == [("Url", "b")]


def test_sensitivity_survives_a_plain_override() -> None:
    values = VariableSet([Variable("Password", "one", sensitive=True)])
    values.set("password", "two")
    assert values.sensitive_values() == ["two"]


def test_masker_masks_longest_first_and_each_line() -> None:
    masker = Masker(["abc", "abcdef", "line one\nline two"])
    assert masker.mask("x abcdef y abc") == f"x {MASK} y {MASK}"
    assert masker.mask("line two") == MASK
    assert Masker().mask("abc") == "abc"
    masker.add("   ")  # blank values would mask every space
    assert masker.mask("a b") == "a b"
