from __future__ import annotations

from pathlib import Path

import pytest

from steptemplates.errors import StepsError
from steptemplates.execution.languages import SYNTAXES, get_language, syntax_for_extension
from steptemplates.templates.model import SCRIPT_SYNTAXES

MISSING = {
    "bash": "bash scripts need `bash` on PATH; install it",
    "python": "python scripts need `python3` on PATH; install Python 3",
    "powershell": "powershell scripts need `pwsh` on PATH; install PowerShell 7",
    "csharp": "csharp scripts need `dotnet-script` on PATH; "
    "install it with `dotnet tool install --global dotnet-script`",
    "fsharp": "fsharp scripts need `dotnet` on PATH; install the .NET SDK",
}


def test_syntaxes_and_extensions() -> None:
    assert SYNTAXES == ("bash", "python", "powershell", "csharp", "fsharp")
    extensions = [get_language(syntax).extension for syntax in SYNTAXES]
    assert extensions == [".sh", ".py", ".ps1", ".csx", ".fsx"]


def test_octopus_spellings_are_accepted() -> None:
    assert get_language("PowerShell").syntax == "powershell"
    assert get_language("CSharp").syntax == "csharp"


def test_unknown_syntax() -> None:
    with pytest.raises(StepsError) as caught:
        get_language("ruby")
    assert str(caught.value) == (
        "unsupported script syntax 'ruby'; expected one of bash, python, powershell, csharp, fsharp"
    )


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_missing_interpreter(syntax: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StepsError) as caught:
        get_language(syntax).check_available()
    assert str(caught.value) == MISSING[syntax]


@pytest.mark.parametrize("syntax", ["bash", "python"])
def test_installed_interpreters_are_found(syntax: str) -> None:
    get_language(syntax).check_available()


def test_every_template_syntax_has_a_language() -> None:
    assert SYNTAXES == SCRIPT_SYNTAXES
    assert [syntax_for_extension(e) for e in (".sh", ".PY", ".ps1", ".csx", ".fsx", ".rb")] == [
        "bash",
        "python",
        "powershell",
        "csharp",
        "fsharp",
        None,
    ]
