"""The index format: strict reading with file:line errors, deterministic writing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from steptemplates.errors import StepsError
from steptemplates.registries import index
from steptemplates.registries.index import (
    IndexEntry,
    IndexParameter,
    IndexSource,
    IndexVersion,
    RegistryIndex,
)


def _entry(name: str, **changes: object) -> IndexEntry:
    fields: dict[str, object] = {
        "name": name,
        "description": f"{name} does things.\nSecond line with \"quotes\" and \\ and \t.",
        "category": "web",
        "source": IndexSource("git", ".", subdir=f"templates/{name}"),
        "maintainers": ("Platform <platform@example.com>",),
        "versions": (
            IndexVersion("1.1.0", "v1.1.0", "b" * 40, datetime(2026, 3, 1, 9, tzinfo=UTC), "Fix"),
            IndexVersion("1.0.0", "v1.0.0", "a" * 40, None),
        ),
        "parameters": (
            IndexParameter("Url", "URL", "text", True, None, "Where to go."),
            IndexParameter("Mode", "Mode", "select", False, "fast", options=("fast", "slow")),
        ),
        "modules": ("Retry ^1",),
    }
    fields.update(changes)
    return IndexEntry(**fields)  # type: ignore[arg-type]


def test_render_then_parse_gives_the_same_index() -> None:
    written = RegistryIndex("team", "Our templates", (_entry("b-one"), _entry("a-two")))
    text = index.render(written)
    read = index.parse(text, display="index.toml")
    assert read.name == "team" and read.description == "Our templates"
    assert [e.name for e in read.entries] == ["a-two", "b-one"]  # sorted by name
    assert read.entry("b-one") == written.entry("b-one")
    assert index.render(read) == text


def test_rendering_is_independent_of_entry_order_and_one_line_per_value() -> None:
    one = index.render(RegistryIndex("r", "", (_entry("x"), _entry("y"))))
    two = index.render(RegistryIndex("r", "", (_entry("y"), _entry("x"))))
    assert one == two
    assert 'description = "x does things.\\nSecond line' in one


def test_dates_are_written_in_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    version = IndexVersion("2.0.0", published=datetime(2026, 5, 1, 11, 0, tzinfo=plus_two))
    text = index.render(RegistryIndex("r", "", (_entry("x", versions=(version,)),)))
    assert "published = 2026-05-01T09:00:00Z" in text
    read = index.parse(text, display="i")
    assert read.entries[0].versions[0].published == datetime(2026, 5, 1, 9, tzinfo=UTC)


def test_newest_prefers_stable_versions() -> None:
    versions = (IndexVersion("2.0.0-beta.1"), IndexVersion("1.4.0"), IndexVersion("1.3.0"))
    assert _entry("x", versions=versions).newest == versions[1]
    only_pre = (IndexVersion("2.0.0-beta.1"),)
    assert _entry("x", versions=only_pre).newest == only_pre[0]
    assert _entry("x", versions=()).newest is None
    assert _entry("x", versions=versions).version("v1.3") == versions[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("format = 2\nname = 'r'\n", "idx.toml:1: index format 2 is newer"),
        ("name = 'r'\n", "idx.toml: 'format' must be 1"),
        (
            "format = 1\nname = 'r'\n[[template]]\nname = 'a'\nsource = { git = 'u' }\n"
            "[[template]]\nname = 'a'\nsource = { git = 'u' }\n",
            "idx.toml:7: template 'a' is listed twice (first at line 4)",
        ),
        (
            "format = 1\nname = 'r'\n[[template]]\nname = 'a'\n",
            "idx.toml:3: template 'a': 'source' is required",
        ),
        (
            "format = 1\nname = 'r'\n[[template]]\nname = 'a'\nsource = { nuget = 'u' }\n",
            "idx.toml:5: template 'a': a nuget source needs 'id'",
        ),
        (
            "format = 1\nname = 'r'\n[[template]]\nname = 'a'\nsource = { git = 'u' }\n"
            "versions = [\n  { version = 'one' },\n]\n",
            "idx.toml:7: template 'a': 'one' is not a version",
        ),
        (
            "format = 1\nname = 'r'\n[[template]]\nname = 'a'\nsource = { git = 'u' }\n"
            "colour = 'red'\n",
            "idx.toml:6: unknown key 'colour' in [template[0]]",
        ),
        ("format = 1\nname = 'r'\n[[template]\n", "idx.toml:3:11: invalid TOML"),
    ],
)
def test_malformed_indexes_name_file_and_line(text: str, expected: str) -> None:
    with pytest.raises(StepsError) as raised:
        index.parse(text, display="idx.toml")
    assert str(raised.value.message).startswith(expected), raised.value.message
