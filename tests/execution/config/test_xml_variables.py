"""Configuration variables: appSettings, connectionStrings and applicationSettings in .config."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from lxml import etree

from steptemplates.errors import StepsError
from steptemplates.execution.config.xml_variables import replace_config_variables

DATA = Path(__file__).parent / "data" / "xdt"

VARIABLES = {
    "environment": "Production",
    "APIKEY": 'it\'s "secret"',
    "main": 'Server=db01;Database=Acme;User Id=app;Password=p&<"',
    "supportemail": "ops@example.com <Ops>",
    "Banner": "Line one\nLine two",
    "NotInTheFile": "ignored",
}


@pytest.fixture
def settings(tmp_path: Path) -> Path:
    path = tmp_path / "Settings.config"
    shutil.copy(DATA / "Settings.config", path)
    return path


def _set_old_mtime(path: Path) -> None:
    os.utime(path, (1_000_000, 1_000_000))


def test_settings_with_a_variable_change_and_nothing_else_does(settings: Path) -> None:
    replaced = replace_config_variables(settings, VARIABLES)
    assert settings.read_bytes() == (DATA / "Settings.expected.config").read_bytes()
    assert replaced == ["Main", "Environment", "ApiKey", "environment", "SupportEmail", "Banner"]


def test_written_values_read_back_as_given(settings: Path) -> None:
    replace_config_variables(settings, VARIABLES)
    root = etree.fromstring(settings.read_bytes())
    assert (
        root.xpath("string(//connectionStrings/add[@name='Main']/@connectionString)")
        == (VARIABLES["main"])
    )
    assert root.xpath("string(//appSettings/add[@key='ApiKey']/@value)") == VARIABLES["APIKEY"]
    assert root.xpath("string(//setting[@name='Banner']/value)") == "Line one\nLine two"


def test_a_newline_in_an_attribute_value_survives_a_reading(settings: Path) -> None:
    replace_config_variables(settings, {"ApiKey": "a\nb\tc"})
    assert b"value='a&#xA;b&#x9;c'" in settings.read_bytes()
    root = etree.fromstring(settings.read_bytes())
    assert root.xpath("string(//appSettings/add[@key='ApiKey']/@value)") == "a\nb\tc"


def test_names_match_without_regard_to_case(settings: Path) -> None:
    assert replace_config_variables(settings, {"ENVIRONMENT": "Staging"}) == [
        "Environment",
        "environment",
    ]
    assert settings.read_bytes().count(b'value="Staging"') == 2


def test_a_file_without_matching_settings_is_not_rewritten(settings: Path) -> None:
    original = settings.read_bytes()
    _set_old_mtime(settings)
    assert replace_config_variables(settings, {"Other": "x", "Octopus.Environment.Name": "y"}) == []
    assert settings.read_bytes() == original
    assert settings.stat().st_mtime == 1_000_000


def test_a_value_that_is_already_set_reports_the_setting_but_keeps_the_file(
    settings: Path,
) -> None:
    _set_old_mtime(settings)
    assert replace_config_variables(settings, {"Environment": "Development"}) == [
        "Environment",
        "environment",
    ]
    assert settings.read_bytes() == (DATA / "Settings.config").read_bytes()
    assert settings.stat().st_mtime == 1_000_000


def test_a_missing_value_attribute_or_value_element_is_added(tmp_path: Path) -> None:
    path = tmp_path / "App.config"
    path.write_text(
        "<configuration>\n"
        '  <appSettings>\n    <add key="A" />\n  </appSettings>\n'
        "  <applicationSettings>\n    <App.Settings>\n"
        '      <setting name="B" serializeAs="String">\n      </setting>\n'
        "    </App.Settings>\n  </applicationSettings>\n"
        "</configuration>\n"
    )
    assert replace_config_variables(path, {"A": "1", "B": "2"}) == ["A", "B"]
    assert path.read_text() == (
        "<configuration>\n"
        '  <appSettings>\n    <add key="A" value="1" />\n  </appSettings>\n'
        "  <applicationSettings>\n    <App.Settings>\n"
        '      <setting name="B" serializeAs="String">\n        <value>2</value>\n'
        "      </setting>\n"
        "    </App.Settings>\n  </applicationSettings>\n"
        "</configuration>\n"
    )


def test_settings_in_a_namespace_are_found_and_new_elements_join_it(tmp_path: Path) -> None:
    path = tmp_path / "Web.config"
    path.write_text(
        '<configuration xmlns="http://schemas.microsoft.com/.NetConfiguration/v2.0">\n'
        '  <appSettings><add key="A" value="0"/></appSettings>\n'
        '  <applicationSettings><S><setting name="B"/></S></applicationSettings>\n'
        "</configuration>\n"
    )
    assert replace_config_variables(path, {"A": "1", "B": "2"}) == ["A", "B"]
    assert path.read_text() == (
        '<configuration xmlns="http://schemas.microsoft.com/.NetConfiguration/v2.0">\n'
        '  <appSettings><add key="A" value="1"/></appSettings>\n'
        '  <applicationSettings><S><setting name="B"><value>2</value></setting></S>'
        "</applicationSettings>\n"
        "</configuration>\n"
    )


def test_add_elements_elsewhere_are_not_settings(tmp_path: Path) -> None:
    path = tmp_path / "Web.config"
    original = b'<configuration>\n  <modules>\n    <add key="A" value="0" name="A" />\n  </modules>\n</configuration>\n'
    path.write_bytes(original)
    assert replace_config_variables(path, {"A": "1"}) == []
    assert path.read_bytes() == original


def test_invalid_xml_names_the_file_line_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "Web.config"
    path.write_text('<configuration>\n  <appSettings>\n    <add key="A" value="1"\n')
    with pytest.raises(StepsError) as raised:
        replace_config_variables(path, {"A": "2"})
    message = str(raised.value)
    assert message.startswith(f"{path}: invalid XML at line 4, column 1: ")
    assert message.endswith("; fix the file")
    assert "\n" not in message
