from __future__ import annotations

import pytest

from steptemplates.execution.service_messages import format_message, parse_message

# "a" = YQ==, "b" = Yg==, "é" = w6k=
CASES = [
    ("##octopus[stdout-default]", ("stdout-default", {})),
    (
        "##octopus[setVariable name='YQ==' value='Yg==']",
        ("setVariable", {"name": "a", "value": "b"}),
    ),
    (
        '##octopus[setVariable name="YQ==" value="Yg=="]',
        ("setVariable", {"name": "a", "value": "b"}),
    ),
    (
        "##octopus[setVariable name='YQ==' value=\"Yg==\"]",
        ("setVariable", {"name": "a", "value": "b"}),
    ),
    (
        "##octopus[setVariable NAME='YQ==' Value='Yg==']",
        ("setVariable", {"name": "a", "value": "b"}),
    ),
    ("text before ##octopus[progress percentage='YQ==']", ("progress", {"percentage": "a"})),
    ("##octopus[mask value='w6k=']   ", ("mask", {"value": "é"})),
    ("##octopus[mask value = 'w6k=' ]", ("mask", {"value": "é"})),
    ("##octopus[setVariable name='' value='Yg==']", ("setVariable", {"name": "", "value": "b"})),
    ("##octopus[mask value='YQ==']##octopus[mask value='Yg==']", ("mask", {"value": "a"})),
    ("##octopus[mask value='/w==']", ("mask", {"value": "\ufffd"})),
    # junk: no message, malformed bodies, bad base64
    ("plain output", None),
    ("##octopus", None),
    ("##octopus[]", None),
    ("##octopus[setVariable name='YQ=='", None),
    ("##octopus[ stdout-default]", None),
    ("##octopus[setVariable name=YQ==]", None),
    ("##octopus[setVariable name='YQ==\"]", None),
    ("##octopus[setVariable name='YQ=='value='Yg==']", None),
    ("##octopus[setVariable name='YQ==' NAME='Yg==']", None),
    ("##octopus[mask value='not base64!']", None),
    ("##octopus[mask value='YQ']", None),
    ("##octopus[1abc]", None),
    ("##octopus[setVariable <x>]", None),
    ("##octopusx[stdout-default]", None),
]


@pytest.mark.parametrize(("line", "expected"), CASES)
def test_parse(line: str, expected: tuple[str, dict[str, str]] | None) -> None:
    message = parse_message(line)
    if expected is None:
        assert message is None
    else:
        assert message is not None
        assert (message.name, dict(message.attributes)) == expected


def test_format_uses_single_quotes_and_base64() -> None:
    line = format_message("setVariable", name="a", value="é")
    assert line == "##octopus[setVariable name='YQ==' value='w6k=']"


def test_format_and_parse_round_trip() -> None:
    value = "line 1\nline 2 ] with 'quotes' and \"more\""
    message = parse_message(format_message("resultMessage", message=value))
    assert message is not None
    assert message.name == "resultMessage"
    assert dict(message.attributes) == {"message": value}
