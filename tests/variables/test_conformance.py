"""Every Octostache conformance vector in data/octostache.jsonl, run through the engine.

The vectors come from Octostache's own test suite (see the file's `source` fields). Each
vector's id is its test id; `test_all_436_vectors_are_present` guards the count.
"""

import json
from pathlib import Path

import pytest

from steptemplates.variables.engine import Evaluator, RecursiveDefinitionError

VECTORS = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "octostache.jsonl").read_text("utf-8").splitlines()
    if line.strip()
]


def test_all_436_vectors_are_present() -> None:
    # A guard against a truncated data file: the published set has 436 vectors.
    print(f"{len(VECTORS)} Octostache conformance vectors")
    assert len(VECTORS) == 436


def _evaluator(vector: dict) -> Evaluator:
    return Evaluator({name: value or "" for name, value in vector["variables"].items()})


def _normalise(text: str, compare: str | None) -> str:
    if compare == "strip_double_quotes":
        return text.replace('"', "")
    if compare == "trim":
        return text.strip()
    return text


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector(vector: dict) -> None:
    evaluator = _evaluator(vector)
    template = vector["template"]
    if vector.get("mode") == "truthy":
        assert evaluator.truthy(template) is vector["expected_truthy"]
        return
    if vector.get("error"):
        with pytest.raises(RecursiveDefinitionError) as raised:
            evaluator.evaluate(template, syntax="keep")
        assert str(raised.value) == vector["error"]
        return
    syntax = "keep" if vector.get("halt_on_error", True) else "continue"
    result = evaluator.evaluate(template, syntax=syntax)
    if vector["expected"] is None:
        assert result.text is None
        return
    assert result.text is not None
    compare = vector.get("compare")
    if "expected_any_of" in vector:
        assert result.text in vector["expected_any_of"]
    else:
        assert _normalise(result.text, compare) == _normalise(vector["expected"], compare)
    note = vector.get("note", "")
    if "error must be null" in note:
        assert not result.unresolved
    if "unresolved" in note or "fails to parse" in note or "echoed" in note:
        assert result.unresolved
