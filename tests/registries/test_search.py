"""Ranked search across registries, lookup by short name, and what a short name is."""

from __future__ import annotations

import pytest

from steptemplates.errors import StepsError
from steptemplates.registries import search
from steptemplates.registries.fetch import FetchedIndex
from steptemplates.registries.index import (
    IndexEntry,
    IndexParameter,
    IndexSource,
    IndexVersion,
    RegistryIndex,
)
from steptemplates.registries.location import RegistryLocation
from steptemplates.registries.search import ShortName


def _entry(
    name: str,
    description: str = "",
    category: str = "",
    parameters: tuple[tuple[str, str], ...] = (),
    source: IndexSource | None = None,
) -> IndexEntry:
    return IndexEntry(
        name=name,
        description=description,
        category=category,
        source=source or IndexSource("git", "https://git.example.com/t.git", subdir=name),
        versions=(IndexVersion("1.0.0"),),
        parameters=tuple(IndexParameter(n, label) for n, label in parameters),
    )


def _registry(name: str, *entries: IndexEntry, repository: str | None = None) -> FetchedIndex:
    location = RegistryLocation(name, "git", f"https://git.example.com/{name}.git")
    return FetchedIndex.of(RegistryIndex(name, "", entries), location, repository)


def _ranked(indexes: list[FetchedIndex], *words: str) -> list[str]:
    return [hit.row.name for hit in search.search(indexes, words)]


# --- ranking -----------------------------------------------------------------------------------


def test_where_a_word_matches_decides_the_order() -> None:
    team = _registry(
        "team",
        _entry("in-params", "Unrelated.", parameters=(("BackupPath", "Where to"),)),
        _entry("in-description", "Takes a backup of the database."),
        _entry("in-category", "Unrelated.", category="backup"),
        _entry("backup"),
    )

    assert _ranked([team], "backup") == ["backup", "in-category", "in-description", "in-params"]


def test_whole_words_and_prefixes_rank_above_substrings() -> None:
    # Named so that the order by name is the reverse of the order by match.
    team = _registry(
        "team",
        _entry("a-inside", "Sweeps a cobweb away."),
        _entry("b-prefix", "Calls webhooks."),
        _entry("c-word", "Deploys a web site."),
        _entry("d-other", "Nothing to see."),
    )

    hits = search.search([team], ["web"])

    assert [hit.row.name for hit in hits] == ["c-word", "b-prefix", "a-inside"]
    assert hits[0].score > hits[1].score > hits[2].score


def test_every_word_must_match_somewhere() -> None:
    team = _registry(
        "team",
        _entry("sql-backup", "Back up a SQL Server database.", "database"),
        _entry("sql-restore", "Restore a SQL Server database.", "database"),
        _entry("file-backup", "Back up files.", "files"),
    )

    assert _ranked([team], "sql", "backup") == ["sql-backup"]
    assert _ranked([team], "SQL") == ["sql-backup", "sql-restore"]  # ties by name
    assert _ranked([team], "oracle") == []


def test_parameter_names_match_word_by_word() -> None:
    team = _registry(
        "team",
        _entry("notify", "Sends a message.", parameters=(("WebhookUrl", "Hook"),)),
        _entry("other", "Sends nothing."),
    )

    assert _ranked([team], "webhook") == ["notify"]
    assert _ranked([team], "url") == ["notify"]


def test_hits_name_their_registry_and_respect_the_limit() -> None:
    team = _registry("team", _entry("deploy-web"), _entry("deploy-db"))
    community = _registry("community", _entry("deploy-web"), _entry("deploy-queue"))

    hits = search.search([team, community], ["deploy"])
    limited = search.search([team, community], ["deploy"], limit=2)

    assert [(h.row.name, h.registry) for h in hits] == [
        ("deploy-db", "team"),
        ("deploy-queue", "community"),
        ("deploy-web", "community"),
        ("deploy-web", "team"),
    ]
    assert limited == hits[:2]


def test_a_query_needs_a_word() -> None:
    with pytest.raises(StepsError) as failure:
        search.search([], ["  "])

    assert str(failure.value) == "give at least one word to search for"


# --- lookup ------------------------------------------------------------------------------------


def test_lookup_by_name_and_by_qualified_name() -> None:
    team = _registry("team", _entry("deploy-web"), _entry("slack-notify"))
    community = _registry("community", _entry("deploy-web"), _entry("teams-notify"))

    plain = search.lookup("slack-notify", [team, community])
    qualified = search.lookup("community/deploy-web", [team, community])

    assert (plain.registry, plain.entry.name, plain.add_name) == (
        "team",
        "slack-notify",
        "slack-notify",
    )
    assert (qualified.registry, qualified.add_name) == ("community", "community/deploy-web")


def test_a_name_in_two_registries_lists_the_candidates() -> None:
    team = _registry("team", _entry("deploy-web"))
    community = _registry("community", _entry("deploy-web"))

    with pytest.raises(StepsError) as failure:
        search.lookup("deploy-web", [team, community])

    assert str(failure.value) == (
        "template 'deploy-web' is in several registries: team, community; "
        "name the one you mean: `team/deploy-web` or `community/deploy-web`"
    )


def test_a_name_in_no_registry_suggests_close_names() -> None:
    team = _registry("team", _entry("slack-notify"), _entry("deploy-web"))
    community = _registry("community", _entry("teams-notify"))

    with pytest.raises(StepsError) as misspelt:
        search.lookup("slak-notify", [team, community])
    with pytest.raises(StepsError) as partial:
        search.lookup("slack", [team, community])
    with pytest.raises(StepsError) as unrelated:
        search.lookup("kubernetes", [team])
    with pytest.raises(StepsError) as no_registry:
        search.lookup("other/slack-notify", [team, community])

    assert str(misspelt.value) == (
        "no template named 'slak-notify' in registries 'team', 'community'; "
        "did you mean 'slack-notify', 'teams-notify'?"
    )
    assert str(partial.value).endswith("did you mean 'slack-notify'?")
    assert str(unrelated.value) == (
        "no template named 'kubernetes' in registry 'team'; search with `steps search WORDS`"
    )
    assert str(no_registry.value) == (
        "no registry named 'other' is configured (for 'other/slack-notify'); "
        "registries: team, community; see `steps registry list`"
    )


# --- short names and sources -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("http-check", ShortName("http-check")),
        ("team/http-check", ShortName("http-check", "team")),
        ("http-check@^1.2", ShortName("http-check", None, "^1.2")),
        ("team/http-check@1.4.0", ShortName("http-check", "team", "1.4.0")),
        ("Octopus.Slack_2", ShortName("Octopus.Slack_2")),
        ("./http-check", None),
        ("../x", None),
        ("a/b/c", None),
        ("-x", None),
        ("x@", None),
    ],
)
def test_what_reads_as_a_short_name(text: str, parsed: ShortName | None) -> None:
    assert ShortName.parse(text) == parsed


def test_the_real_source_is_described() -> None:
    own = _entry("own", source=IndexSource("git", ".", subdir="templates/own"))
    feed = _entry("iis", source=IndexSource("nuget", "https://feed/v3/index.json", id="Acme.Iis"))
    release = _entry("gh", source=IndexSource("github", "acme/steps", template="x.json"))
    team = _registry("team", own, feed, release, repository="file:///srv/registry")

    assert search.describe_source(search.lookup("own", [team])) == (
        "file:///srv/registry (templates/own)"
    )
    assert search.describe_source(search.lookup("iis", [team])) == (
        "nuget:https://feed/v3/index.json#Acme.Iis"
    )
    assert search.describe_source(search.lookup("gh", [team])) == "github:acme/steps [x.json]"
