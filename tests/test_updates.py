"""The pure parts of `steps outdated` and `steps update`: choosing among releases under a
range and a cooldown, parameter changes between versions, and the script diff."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from steptemplates.masking import MASK
from steptemplates.releases import Release
from steptemplates.template_changes import file_diffs, parameter_changes, script_files
from steptemplates.templates import (
    Parameter,
    ParameterType,
    SelectOption,
    load_module,
    load_template,
)
from steptemplates.updates import choose, cutoff_for, old_enough
from steptemplates.versions import parse_range, parse_version

NOW = datetime(2025, 6, 1, tzinfo=UTC)
CORPUS = Path(__file__).parent / "data" / "octopus-corpus"


def release(version: str, days_ago: float | None, *, flagged: bool = False) -> Release:
    published = None if days_ago is None else NOW - timedelta(days=days_ago)
    return Release(version, f"v{version}", published, None, flagged_prerelease=flagged)


OFFERED = [
    release("2.1.0", 1),
    release("2.0.0", 30),
    release("1.3.0-beta.1", 2),
    release("1.2.0", 3),
    release("1.1.0", 100),
    release("1.0.0", 400),
]


def versions(found: tuple[Release, ...] | list[Release]) -> list[str | None]:
    return [r.version for r in found]


def test_newest_in_range_and_overall_without_a_cooldown() -> None:
    choice = choose(
        OFFERED, parse_range("^1.0"), prereleases=False, locked=parse_version("1.0.0"), cutoff=None
    )

    assert choice.in_range == OFFERED[3]
    assert choice.newest == OFFERED[0]
    assert choice.held_back == ()
    assert choice.any_in_range


def test_a_cooldown_holds_back_young_versions_newer_than_the_locked_one() -> None:
    cutoff = cutoff_for(7, NOW)

    choice = choose(
        OFFERED,
        parse_range("^1.0"),
        prereleases=False,
        locked=parse_version("1.1.0"),
        cutoff=cutoff,
    )

    assert choice.in_range == OFFERED[4]  # 1.1.0: 1.2.0 came out 3 days ago
    assert choice.newest == OFFERED[1]  # 2.0.0: 2.1.0 came out yesterday
    assert versions(choice.held_back) == ["2.1.0", "1.2.0"]  # not the prerelease


def test_prereleases_count_when_asked_for() -> None:
    choice = choose(
        OFFERED, parse_range("~1.3.0-0"), prereleases=True, locked=None, cutoff=cutoff_for(1, NOW)
    )

    assert choice.in_range == OFFERED[2]


def test_a_release_github_flags_as_prerelease_is_one() -> None:
    offered = [release("3.0.0", 10, flagged=True), *OFFERED]

    plain = choose(offered, parse_range("*"), prereleases=False, locked=None, cutoff=None)
    allowing = choose(offered, parse_range("*"), prereleases=True, locked=None, cutoff=None)

    assert versions([plain.newest] if plain.newest else []) == ["2.1.0"]
    assert allowing.newest == offered[0]


def test_undated_versions_pass_the_cooldown() -> None:
    undated = release("1.4.0", None)

    assert old_enough(undated, cutoff_for(30, NOW))
    choice = choose(
        [undated, *OFFERED], parse_range("^1"), prereleases=False, locked=None, cutoff=NOW
    )
    assert choice.in_range == undated


def test_no_cooldown_at_zero_days() -> None:
    assert cutoff_for(0) is None
    assert cutoff_for(None) is None
    assert cutoff_for(1.5, NOW) == NOW - timedelta(hours=36)


def test_a_range_that_excludes_everything_is_told_apart_from_a_cooldown() -> None:
    excluded = choose(OFFERED, parse_range(">=9"), prereleases=False, locked=None, cutoff=None)
    all_young = choose(
        OFFERED[:1], parse_range("^2.1"), prereleases=False, locked=None, cutoff=cutoff_for(7, NOW)
    )

    assert not excluded.any_in_range and excluded.in_range is None
    assert all_young.any_in_range and all_young.in_range is None
    assert versions(all_young.held_back) == ["2.1.0"]


def test_pinned_requirements_have_nothing_in_range() -> None:
    choice = choose(OFFERED, None, prereleases=False, locked=parse_version("1.0.0"), cutoff=None)

    assert choice.in_range is None and not choice.any_in_range
    assert choice.newest == OFFERED[0]


# --- parameters -----------------------------------------------------------------------------


def parameter(
    name: str,
    default: str | None = None,
    *,
    label: str | None = None,
    kind: ParameterType = ParameterType.TEXT,
    required: bool = False,
    options: tuple[SelectOption, ...] = (),
) -> Parameter:
    return Parameter(name, label or name, "", kind, default, required, options)


def test_parameters_added_removed_and_changed() -> None:
    old = [
        parameter("Greeting", "hello"),
        parameter("Url", label="URL", required=True),
        parameter("Mode", "a", kind=ParameterType.SELECT, options=(SelectOption("a", "a"),)),
        parameter("Retries", "3"),
    ]
    new = [
        parameter("greeting", "hi", label="Greeting"),  # names compare ignoring case
        parameter("Url", label="Address"),
        parameter(
            "Mode",
            "a",
            kind=ParameterType.SELECT,
            options=(SelectOption("a", "a"), SelectOption("b", "b")),
        ),
        parameter("Timeout", "30", kind=ParameterType.TEXT, required=True),
    ]

    described = [change.describe() for change in parameter_changes(old, new)]

    assert described == [
        '~ greeting: default "hello" -> "hi"',
        '~ Url: label "URL" -> "Address", no longer required',
        "~ Mode: options a -> a|b",
        '- Retries (text, default "3")',
        '+ Timeout (text, required, default "30")',
    ]


def test_a_removed_and_an_added_parameter_with_the_same_label_or_default_look_renamed() -> None:
    old = [parameter("Target", label="Who"), parameter("Port", "8080"), parameter("Gone", "x")]
    new = [parameter("Audience", label="Who"), parameter("ListenPort", "8080"), parameter("New")]

    changes = parameter_changes(old, new)

    assert [change.describe() for change in changes] == [
        "- Target (text)",
        '- Port (text, default "8080")',
        '- Gone (text, default "x")',
        "+ Audience (text) (looks renamed from Target: same label)",
        '+ ListenPort (text, default "8080") (looks renamed from Port: same default)',
        "+ New (text)",
    ]


def test_sensitive_defaults_are_masked_whatever_way_they_change() -> None:
    old = [
        parameter("ApiKey", "old-s3cret", kind=ParameterType.SENSITIVE),
        parameter("Token", "t0k"),
    ]
    new = [
        parameter("ApiKey", "new-s3cret", kind=ParameterType.SENSITIVE),
        parameter("Token", "t0k-2", kind=ParameterType.SENSITIVE),
        parameter("Password", "p4ss", kind=ParameterType.SENSITIVE),
    ]

    described = "\n".join(change.describe() for change in parameter_changes(old, new))

    assert f"~ ApiKey: default {MASK} -> {MASK}" in described
    assert f"~ Token: type text -> sensitive, default {MASK} -> {MASK}" in described
    assert f"+ Password (sensitive, default {MASK})" in described
    for secret in ("s3cret", "t0k", "p4ss"):
        assert secret not in described


# --- scripts --------------------------------------------------------------------------------


def test_unified_diffs_name_the_template_and_its_versions() -> None:
    old = {"run.sh": b"echo 1\nexit 0\n", "lib/helpers.sh": b"x\n", "logo.png": b"\x89PNG\0a"}
    new = {"run.sh": b"echo 2\nexit 0\n", "notes.txt": b"new\n", "logo.png": b"\x89PNG\0b"}

    diffs = {d.path: d.lines for d in file_diffs(old, new, "a/greet@1.0.0", "b/greet@1.1.0")}

    assert diffs["run.sh"] == (
        "--- a/greet@1.0.0/run.sh",
        "+++ b/greet@1.1.0/run.sh",
        "@@ -1,2 +1,2 @@",
        "-echo 1",
        "+echo 2",
        " exit 0",
    )
    assert diffs["lib/helpers.sh"][:2] == ("--- a/greet@1.0.0/lib/helpers.sh", "+++ /dev/null")
    assert diffs["notes.txt"][:2] == ("--- /dev/null", "+++ b/greet@1.1.0/notes.txt")
    assert diffs["logo.png"] == (
        "Binary files a/greet@1.0.0/logo.png and b/greet@1.1.0/logo.png differ",
    )


def test_the_files_a_reviewer_reads(tmp_path: Path) -> None:
    native = tmp_path / "native"
    (native / "lib").mkdir(parents=True)
    (native / "steptemplate.toml").write_text(
        'name = "x"\n[script]\nsyntax = "bash"\nfile = "run.sh"\n', encoding="utf-8"
    )
    (native / "run.sh").write_text("echo run\n", encoding="utf-8")
    (native / "lib" / "helpers.sh").write_text("helper\n", encoding="utf-8")
    octopus = tmp_path / "octopus"
    octopus.mkdir()
    data = json.loads((CORPUS / "step-templates" / "http-check-status.json").read_text("utf-8"))
    (octopus / "check.json").write_text(json.dumps(data), encoding="utf-8")
    module_root = tmp_path / "module"
    module_root.mkdir()
    (module_root / "retry.json").write_bytes(
        (CORPUS / "modules" / "retry-helpers.json").read_bytes()
    )

    assert script_files(load_template(native)) == {
        "run.sh": b"echo run\n",
        "lib/helpers.sh": b"helper\n",
    }
    body = data["Properties"]["Octopus.Action.Script.ScriptBody"]
    assert script_files(load_template(octopus, file="check.json")) == {"script.py": body.encode()}
    module = load_module(module_root, file="retry.json")
    assert script_files(module) == {"RetryHelpers.sh": module.body.encode()}
