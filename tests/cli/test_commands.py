"""The command table: every command is where the table says, and running one imports only
what that command needs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from steptemplates import cli


@pytest.mark.parametrize("name", [name for name, _module, _attribute in cli._COMMANDS])
def test_every_command_is_found_under_its_name(name: str) -> None:
    assert cli.command(name).name == name


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    listed = capsys.readouterr().out
    for name, _module, _attribute in cli._COMMANDS:
        assert f"    {name} " in listed or f"    {name}\n" in listed


def _imported_by(argv: list[str]) -> set[str]:
    code = (
        "import sys\n"
        "from steptemplates import cli\n"
        f"cli.build_parser({argv!r})\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def test_a_light_command_does_not_import_the_others() -> None:
    imported = _imported_by(["search", "health"])
    assert "steptemplates.cli.search_cmd" in imported
    for heavy in ("steptemplates.project", "steptemplates.execution", "dulwich", "httpx"):
        assert heavy not in imported, heavy


def test_an_unknown_command_builds_every_command_for_the_message() -> None:
    assert "steptemplates.cli.run_cmd" in _imported_by(["serach"])
