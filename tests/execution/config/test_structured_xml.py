"""Structured configuration variables for XML: XPath names, every kind of node, layout kept."""

from __future__ import annotations

import pytest
from lxml import etree

from steptemplates.execution.config.structured_base import NotThisFormat
from steptemplates.execution.config.structured_xml import replace

DOCUMENT = (
    b'<?xml version="1.0" encoding="utf-8"?>\r\n'
    b"<!-- service settings -->\r\n"
    b'<service xmlns="urn:default" xmlns:db="urn:db" name="orders">\r\n'
    b'  <db:connection timeout="30">Server=(local)</db:connection>\r\n'
    b"  <endpoints>\r\n"
    b'    <endpoint url="http://localhost/a" />\r\n'
    b"    <!-- the public endpoint -->\r\n"
    b'    <endpoint url="http://localhost/b" />\r\n'
    b"  </endpoints>\r\n"
    b"  <script><![CDATA[run(a < b)]]></script>\r\n"
    b"  <?render mode='fast'?>\r\n"
    b"  <motd>Hello</motd>\r\n"
    b"</service>\r\n"
)


def _run(
    variables: dict[str, str], data: bytes = DOCUMENT
) -> tuple[bytes, tuple[str, ...], list[str]]:
    warnings: list[str] = []
    result = replace(data, variables, warn=warnings.append)
    return result.data, result.replaced, warnings


def _only_change(result: bytes, before: str, after: str) -> None:
    """``result`` is DOCUMENT with exactly one piece of text replaced."""
    assert DOCUMENT.decode().count(before) == 1
    assert result.decode() == DOCUMENT.decode().replace(before, after)


def test_an_attribute_takes_the_value() -> None:
    data, replaced, warnings = _run({"/*[local-name()='service']/@name": "billing"})
    _only_change(data, 'name="orders"', 'name="billing"')
    assert replaced == ("/*[local-name()='service']/@name",)
    assert warnings == []


def test_document_prefixes_can_be_used() -> None:
    data, replaced, _ = _run({"//db:connection/@timeout": "60", "//db:connection": "Server=db01"})
    assert data.decode() == DOCUMENT.decode().replace(
        '<db:connection timeout="30">Server=(local)', '<db:connection timeout="60">Server=db01'
    )
    assert replaced == ("//db:connection/@timeout", "//db:connection")


def test_every_selected_node_takes_the_value() -> None:
    data, _, _ = _run({"//*[local-name()='endpoint']/@url": "https://api"})
    assert data.decode().count('url="https://api"') == 2
    assert b"localhost" not in data


def test_an_element_without_child_elements_takes_escaped_text() -> None:
    data, _, _ = _run({"//*[local-name()='motd']": "Closed <today> & tomorrow"})
    _only_change(data, "<motd>Hello</motd>", "<motd>Closed &lt;today&gt; &amp; tomorrow</motd>")


def test_a_text_node_takes_the_value() -> None:
    data, _, _ = _run({"//*[local-name()='motd']/text()": "Bye"})
    _only_change(data, "<motd>Hello</motd>", "<motd>Bye</motd>")


def test_an_element_with_child_elements_takes_the_value_as_xml() -> None:
    fragment = '\r\n    <endpoint url="https://new" />\r\n  '
    data, replaced, warnings = _run({"//*[local-name()='endpoints']": fragment})
    text = data.decode()
    assert '  <endpoints>\r\n    <endpoint url="https://new" />\r\n  </endpoints>\r\n' in text
    assert "localhost" not in text and "public endpoint" not in text
    assert replaced == ("//*[local-name()='endpoints']",)
    assert warnings == []
    # The new element is in the default namespace, like the ones it replaced.
    assert etree.fromstring(data).find("{urn:default}endpoints/{urn:default}endpoint") is not None


def test_a_value_that_is_not_xml_for_an_element_with_children_is_a_warning() -> None:
    data, replaced, warnings = _run({"//*[local-name()='endpoints']": "<endpoint>"})
    assert data == DOCUMENT
    assert replaced == ()
    assert warnings == [
        "Could not set the value of '//*[local-name()='endpoints']': the value is not valid XML"
    ]


def test_comments_cdata_and_processing_instructions_take_content() -> None:
    data, replaced, _ = _run(
        {
            "//comment()[contains(., 'public')]": " the internal endpoint ",
            "//*[local-name()='script']": "stop(x > y)",
            "//processing-instruction('render')": "mode='slow'",
        }
    )
    text = data.decode()
    assert "<!-- the internal endpoint -->" in text
    assert "<script><![CDATA[stop(x > y)]]></script>" in text
    assert "<?render mode='slow'?>" in text
    assert "<!-- service settings -->" in text
    assert replaced == (
        "//comment()[contains(., 'public')]",
        "//*[local-name()='script']",
        "//processing-instruction('render')",
    )


def test_a_comment_cannot_hold_a_double_hyphen() -> None:
    data, replaced, warnings = _run({"//comment()[contains(., 'public')]": "a -- b"})
    assert data == DOCUMENT and replaced == ()
    assert len(warnings) == 1
    assert warnings[0].startswith("Could not set the value of '//comment()[contains(., 'public')]'")


def test_names_that_are_not_paths_or_start_with_octopus_are_ignored() -> None:
    data, replaced, warnings = _run(
        {"motd": "x", "Octopus.Action/Name": "y", "Octopus:Thing": "z", "//nothing": "n"}
    )
    assert data == DOCUMENT
    assert replaced == ()
    assert warnings == []


def test_a_name_that_is_not_a_valid_xpath_is_skipped_silently() -> None:
    data, replaced, warnings = _run(
        {"Logging:LogLevel:Default": "Debug", "//*[local-name()='motd']": "Hi"}
    )
    _only_change(data, "<motd>Hello</motd>", "<motd>Hi</motd>")
    assert replaced == ("//*[local-name()='motd']",)
    assert warnings == []  # a path for JSON or YAML files, as Calamari treats it


def test_replaced_names_are_in_document_order() -> None:
    _, replaced, _ = _run(
        {
            "//*[local-name()='motd']": "1",
            "//*[local-name()='endpoint'][2]/@url": "2",
            "/*/@name": "3",
        }
    )
    assert replaced == (
        "/*/@name",
        "//*[local-name()='endpoint'][2]/@url",
        "//*[local-name()='motd']",
    )


def test_a_prefix_declared_twice_for_different_namespaces_warns_and_the_first_wins() -> None:
    data = b'<r xmlns:p="urn:one"><p:a>1</p:a><b xmlns:p="urn:two"><p:a>2</p:a></b></r>'
    result, _, warnings = _run({"//p:a": "x"}, data)
    assert result == b'<r xmlns:p="urn:one"><p:a>x</p:a><b xmlns:p="urn:two"><p:a>2</p:a></b></r>'
    assert len(warnings) == 1
    assert "'urn:two'" in warnings[0] and "'p'" in warnings[0]


def test_nothing_matched_leaves_the_bytes_alone() -> None:
    data, replaced, _ = _run({"//missing/@x": "1"})
    assert data == DOCUMENT
    assert replaced == ()


@pytest.mark.parametrize("data", [b'{"a": 1}', b"a: 1\n", b"", b"<a><b></a>"])
def test_data_that_is_not_xml_is_not_this_format(data: bytes) -> None:
    with pytest.raises(NotThisFormat, match=r"^line \d+, column \d+: "):
        replace(data, {"//a": "1"}, warn=pytest.fail)
