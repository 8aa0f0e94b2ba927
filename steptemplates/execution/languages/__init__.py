"""Script syntaxes, one module each; adding a syntax is adding a module and a line here."""

from __future__ import annotations

from steptemplates.errors import StepsError
from steptemplates.execution.languages import bash, csharp, fsharp, powershell, python
from steptemplates.execution.languages.base import Language

__all__ = ["SYNTAXES", "Language", "get_language", "syntax_for_extension"]

_LANGUAGES: dict[str, Language] = {
    language.syntax: language
    for language in (
        bash.LANGUAGE,
        python.LANGUAGE,
        powershell.LANGUAGE,
        csharp.LANGUAGE,
        fsharp.LANGUAGE,
    )
}

SYNTAXES: tuple[str, ...] = tuple(_LANGUAGES)


def syntax_for_extension(extension: str) -> str | None:
    """The syntax of a script file named ``*<extension>`` (``.sh`` is bash), if any."""
    return next((s for s, lang in _LANGUAGES.items() if lang.extension == extension.lower()), None)


def get_language(syntax: str) -> Language:
    """The language for a template's script syntax; Octopus spellings such as ``Bash`` work too."""
    language = _LANGUAGES.get(syntax.lower())
    if language is None:
        raise StepsError(
            f"unsupported script syntax {syntax!r}; expected one of {', '.join(SYNTAXES)}"
        )
    return language
