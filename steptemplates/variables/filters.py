"""The built-in filters of the Octostache variable language: ``#{Value | Filter option ...}``.

Each filter is a small function from the argument (None when the expression has none, as in
``#{ | NowDate}``) and the evaluated option strings to the result. Where Octostache gives up
and returns null, so that the engine echoes the whole expression, a filter raises
FilterRejected with the reason, which the engine can report.

Octostache runs on .NET, so several filters reproduce .NET behaviour rather than Python's:
regular expressions and their replacement syntax, UTF-16 escapes, whitespace, ``Uri`` parts and
number and date formats (the ``dotnet`` package). The filters themselves live in the
``filters_*`` modules, grouped by what they do; this module names them.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from steptemplates.variables import (
    filters_encoding,
    filters_format,
    filters_hash,
    filters_markdown,
    filters_text,
    filters_versions,
)
from steptemplates.variables.filters_arguments import Filter, FilterRejected

__all__ = ["FILTER_NAMES", "FilterRejected", "UnknownFilter", "apply_filter"]


class UnknownFilter(FilterRejected):
    """No filter of that name; the message suggests close names (difflib) when there are any."""


def _null(argument: str | None, options: Sequence[str]) -> str | None:
    # Evaluating to null makes Octostache return null for the whole template.
    return None


_FILTERS: dict[str, Filter] = {
    "ToUpper": filters_text.to_upper,
    "ToLower": filters_text.to_lower,
    "Replace": filters_text.replace,
    "Trim": filters_text.trim,
    "Substring": filters_text.substring,
    "Truncate": filters_text.truncate,
    "Indent": filters_text.indent,
    "UriPart": filters_text.uri_part,
    "Append": filters_text.append,
    "Prepend": filters_text.prepend,
    "Match": filters_text.match,
    "StartsWith": filters_text.starts_with,
    "EndsWith": filters_text.ends_with,
    "Contains": filters_text.contains,
    "ToBase64": filters_encoding.to_base64,
    "FromBase64": filters_encoding.from_base64,
    "HtmlEscape": filters_encoding.html_escape,
    "XmlEscape": filters_encoding.xml_escape,
    "JsonEscape": filters_encoding.json_escape,
    "YamlSingleQuoteEscape": filters_encoding.yaml_single_quote_escape,
    "YamlDoubleQuoteEscape": filters_encoding.yaml_double_quote_escape,
    "PropertiesKeyEscape": filters_encoding.properties_key_escape,
    "PropertiesValueEscape": filters_encoding.properties_value_escape,
    "UriEscape": filters_encoding.uri_escape,
    "UriDataEscape": filters_encoding.uri_data_escape,
    "Markdown": filters_markdown.markdown,
    "MarkdownToHtml": filters_markdown.markdown,
    "NowDate": filters_format.now_date,
    "NowDateUtc": filters_format.now_date_utc,
    "AddHours": filters_format.add_hours,
    "AddDays": filters_format.add_days,
    "Format": filters_format.format_value,
    "Md5": filters_hash.md5,
    "Sha1": filters_hash.sha1,
    "Sha256": filters_hash.sha256,
    "Sha384": filters_hash.sha384,
    "Sha512": filters_hash.sha512,
    "VersionMajor": filters_versions.version_major,
    "VersionMinor": filters_versions.version_minor,
    "VersionPatch": filters_versions.version_patch,
    "VersionRevision": filters_versions.version_revision,
    "VersionPreRelease": filters_versions.version_prerelease,
    "VersionPreReleasePrefix": filters_versions.version_prerelease_prefix,
    "VersionPreReleaseCounter": filters_versions.version_prerelease_counter,
    "VersionMetadata": filters_versions.version_metadata,
    "null": _null,
}

# Filter names ignore case: each lower-cased name maps to its canonical spelling.
_CANONICAL_NAMES = {name.lower(): name for name in _FILTERS}

FILTER_NAMES: tuple[str, ...] = tuple(sorted(_FILTERS))


def apply_filter(name: str, argument: str | None, options: Sequence[str]) -> str | None:
    """Apply built-in filter `name` (case-insensitive) to `argument` (None when the expression
    had no argument, e.g. `#{ | NowDate}`), with already-evaluated option strings.
    Returns the text; returns None only for the `null` filter. Raises FilterRejected (or
    UnknownFilter) whenever Octostache would return null / echo."""
    canonical = _CANONICAL_NAMES.get(name.lower())
    if canonical is None:
        raise UnknownFilter(_unknown_filter_message(name))
    return _FILTERS[canonical](argument, options)


def _unknown_filter_message(name: str) -> str:
    close = difflib.get_close_matches(name.lower(), _CANONICAL_NAMES, n=3, cutoff=0.6)
    message = f"there is no filter named '{name}'"
    if close:
        message += "; did you mean " + " or ".join(f"'{_CANONICAL_NAMES[c]}'" for c in close) + "?"
    return message
