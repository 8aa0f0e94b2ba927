"""`steps outdated` and `steps update` against repositories whose versions were released
on dates the tests choose (relative to now, so that a cooldown has something to hold back)."""

from __future__ import annotations

import json
import shutil
import time
import tomllib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from steptemplates.masking import MASK
from tests.support.githubserver import GitHubServer
from tests.support.gitserver import GitRepo, ServedRepo, git, make_repo
from tests.support.httpserver import StaticServer
from tests.support.nugetfeed import NuGetFeed, publish, use_feed
from tests.support.projects import Steps

DAY = 86_400
CORPUS = Path(__file__).parents[1] / "data" / "octopus-corpus"


def parameter(name: str, **keys: str) -> str:
    lines = ["[[parameters]]", f'name = "{name}"']
    lines += [f'{key} = "{value}"' for key, value in keys.items()]
    return "\n".join(lines) + "\n"


def greet(*parameters: str) -> str:
    script = '[script]\nsyntax = "bash"\nfile = "run.sh"\n'
    return 'name = "greet"\n' + "".join(parameters) + script


# Each version of the greet template: its parameters and its script, and how many days ago
# it was released.
GREET = {
    "1.0.0": (
        300,
        greet(
            parameter("Greeting", default="hello"),
            parameter("Target", label="Who", default="world"),
            parameter("ApiKey", type="sensitive", default="s3cret-one"),
        ),
        "echo hello\n",
    ),
    "1.1.0": (
        200,
        greet(
            parameter("Greeting", default="hi"),
            parameter("Target", label="Who", default="world"),
            parameter("ApiKey", type="sensitive", default="s3cret-one"),
            parameter("Timeout", default="30"),
        ),
        "echo hi\n",
    ),
    "1.2.0": (
        2,
        greet(
            parameter("Greeting", default="hi"),
            parameter("Audience", label="Who", default="everyone"),
            parameter("ApiKey", type="sensitive", default="s3cret-two"),
            parameter("Timeout", default="30"),
        ),
        "echo hi\necho everyone\n",
    ),
    "2.0.0": (
        1,
        greet(
            parameter("Greeting", default="hi", type="multiline"),
            parameter("ApiKey", type="sensitive", default="s3cret-two"),
        ),
        "echo two\n",
    ),
}


def released_at(days_ago: float) -> int:
    return int(time.time() - days_ago * DAY)


def release(repo: GitRepo, tag: str, days_ago: float, files: dict[str, str]) -> None:
    """Commit ``files`` and tag them, both dated ``days_ago``."""
    for path, text in files.items():
        repo.write(path, text, mode=0o755 if path.endswith(".sh") else 0o644)
    when = released_at(days_ago)
    git(repo.path, "add", "--all")
    git(repo.path, "commit", "--quiet", "--allow-empty", "-m", f"release {tag}", date=when)
    git(repo.path, "tag", "--annotate", "-m", f"release {tag}", tag, date=when)


def release_greet(repo: GitRepo, *versions: str) -> None:
    for version in versions:
        days_ago, template, script = GREET[version]
        release(repo, f"v{version}", days_ago, {"steptemplate.toml": template, "run.sh": script})


@pytest.fixture
def greet_repo(remote_repo: Callable[[str], ServedRepo]) -> ServedRepo:
    """The greet template, released as 1.0.0 only (tests release the rest when they like)."""
    repo = remote_repo("greet")
    release_greet(repo, "1.0.0")
    return repo


MANIFEST = """\
# The project's templates.
[templates.greet]  # says hello
git = "{url}"
version = "^1.0"  # within 1.x
{extra}
[[steps]]
name = "Greet"
template = "greet"
"""


def locked_at_1_0(steps: Steps, url: str, extra: str = "") -> None:
    """steps.toml asking for ^1.0, locked while 1.0.0 was the only version."""
    steps.write(MANIFEST.format(url=url, extra=extra))
    steps.ok("lock")
    assert steps.lock()["greet"]["version"] == "1.0.0"


def day(days_ago: float) -> str:
    return datetime.fromtimestamp(released_at(days_ago), UTC).date().isoformat()


def table(out: str) -> dict[str, list[str]]:
    """An outdated table's rows by name, split into cells (none of them holds spaces)."""
    rows = [line.split() for line in out.splitlines() if line.strip()]
    return {row[0]: row for row in rows}


# --- outdated -------------------------------------------------------------------------------


def test_outdated_table_and_json(steps: Steps, greet_repo: ServedRepo) -> None:
    locked_at_1_0(steps, greet_repo.git_url)
    release_greet(greet_repo, "1.1.0", "1.2.0", "2.0.0")

    shown = steps.ok("outdated")
    listed = steps.ok("outdated", "--json")

    rows = table(shown.out)
    assert rows["TEMPLATE"] == [
        "TEMPLATE",
        "LOCKED",
        "AGE",
        "IN",
        "RANGE",
        "NEWEST",
        "PUBLISHED",
        "STATUS",
    ]
    assert rows["greet"] == [
        "greet",
        "1.0.0",
        "300d",
        "1.2.0",
        "2.0.0",
        day(1),
        "update",
        "in",
        "range",
    ]
    assert "0 of 1 up to date" in shown.err
    (row,) = json.loads(listed.out)
    assert row == {
        "name": "greet",
        "kind": "template",
        "source": f"{greet_repo.git_url}@v1.0.0",
        "requested": "^1.0",
        "locked": "1.0.0",
        "locked_published": row["locked_published"],
        "locked_age_days": 300,
        "in_range": "1.2.0",
        "in_range_published": row["in_range_published"],
        "newest": "2.0.0",
        "newest_published": row["newest_published"],
        "held_back": [],
        "up_to_date": False,
        "status": "update in range",
        "problem": None,
    }
    assert row["locked_published"][:10] == day(300)
    assert row["in_range_published"][:10] == day(2)
    assert row["newest_published"][:10] == day(1)


def test_outdated_with_a_cooldown_shows_what_it_holds_back(
    steps: Steps, greet_repo: ServedRepo
) -> None:
    locked_at_1_0(steps, greet_repo.file_url)
    release_greet(greet_repo, "1.1.0", "1.2.0", "2.0.0")

    shown = steps.ok("outdated", "--cooldown", "7")
    (row,) = json.loads(steps.ok("outdated", "--json", "--cooldown", "7").out)

    assert table(shown.out)["greet"][:5] == ["greet", "1.0.0", "300d", "1.1.0", "1.1.0"]
    assert "held back: 2.0.0 (1d), 1.2.0 (2d)" in shown.out
    assert "versions younger than 7 days are held back" in shown.err
    assert (row["in_range"], row["newest"]) == ("1.1.0", "1.1.0")
    assert [held["version"] for held in row["held_back"]] == ["2.0.0", "1.2.0"]


def test_an_up_to_date_project(steps: Steps, greet_repo: ServedRepo) -> None:
    locked_at_1_0(steps, greet_repo.file_url)

    shown = steps.ok("outdated")

    assert table(shown.out)["greet"][3:] == ["1.0.0", "1.0.0", day(300), "up", "to", "date"]
    assert "1 of 1 up to date" in shown.err


def test_a_source_that_cannot_be_asked_is_reported_not_fatal(
    steps: Steps, greet_repo: ServedRepo, remote_repo: Callable[[str], ServedRepo]
) -> None:
    other = remote_repo("other")
    release_greet(other, "1.0.0")
    extra = f'\n[templates.other]\ngit = "{other.file_url}"\n'
    locked_at_1_0(steps, greet_repo.file_url, extra)
    release_greet(greet_repo, "1.1.0")
    shutil.rmtree(other.path)

    shown = steps.ok("outdated")

    rows = table(shown.out)
    assert rows["greet"][3] == "1.1.0"
    assert rows["other"][1:] == ["1.0.0", "-", "-", "-", "-", "unknown"]
    (warning,) = shown.warnings
    assert warning.startswith("template 'other': could not ask its source: ")
    assert other.file_url in warning


def test_outdated_offline_answers_from_the_cache(steps: Steps, greet_repo: ServedRepo) -> None:
    locked_at_1_0(steps, greet_repo.file_url)
    release_greet(greet_repo, "1.1.0")
    online = steps.ok("outdated", "--json")
    shutil.rmtree(greet_repo.path)

    offline = steps.ok("outdated", "--json", "--offline")

    assert json.loads(offline.out) == json.loads(online.out)
    assert json.loads(offline.out)[0]["in_range_published"] is not None


def test_outdated_names_a_missing_template(steps: Steps, greet_repo: ServedRepo) -> None:
    locked_at_1_0(steps, greet_repo.file_url)

    failed = steps.fails("outdated", "gret")

    assert failed.error == (
        "no template or script module named 'gret' in steps.toml; did you mean greet?"
    )


def test_outdated_needs_a_lock(steps: Steps, greet_repo: ServedRepo) -> None:
    steps.write(MANIFEST.format(url=greet_repo.file_url, extra=""))

    failed = steps.fails("outdated")

    assert failed.error == "there is no steps.lock to compare with; run `steps lock` first"


# --- update ---------------------------------------------------------------------------------


def test_update_within_range_shows_parameters_and_script_diff(
    steps: Steps, greet_repo: ServedRepo
) -> None:
    locked_at_1_0(steps, greet_repo.git_url)
    release_greet(greet_repo, "1.1.0", "1.2.0", "2.0.0")
    manifest_before = steps.manifest.read_text()

    updated = steps.ok("update")

    assert updated.out.splitlines() == [
        "greet: 1.0.0 -> 1.2.0",
        "  parameters:",
        '    ~ Greeting: default "hello" -> "hi"',
        f"    ~ ApiKey: default {MASK} -> {MASK}",
        '    - Target (text, default "world")',
        '    + Audience (text, default "everyone") (looks renamed from Target: same label)',
        '    + Timeout (text, default "30")',
        "--- a/greet@1.0.0/run.sh",
        "+++ b/greet@1.2.0/run.sh",
        "@@ -1 +1,2 @@",
        "-echo hello",
        "+echo hi",
        "+echo everyone",
        "",
        "1 entry updated; 0 already at the newest version their range allows",
    ]
    assert "s3cret" not in updated.out + updated.err
    entry = steps.lock()["greet"]
    assert (entry["version"], entry["requested"]) == ("1.2.0", "^1.0")
    assert steps.manifest.read_text() == manifest_before
    assert steps.ok("run").out.strip() == "hi\neveryone"


def test_update_when_everything_is_newest_prints_a_count(
    steps: Steps, greet_repo: ServedRepo
) -> None:
    locked_at_1_0(steps, greet_repo.file_url)
    lock_before = steps.lock_path.read_bytes()

    updated = steps.ok("update", "greet")

    assert updated.out == (
        "0 entries updated; 1 already at the newest version their range allows\n"
    )
    assert steps.lock_path.read_bytes() == lock_before


def test_update_latest_rewrites_the_range_and_keeps_comments(
    steps: Steps, greet_repo: ServedRepo
) -> None:
    locked_at_1_0(steps, greet_repo.file_url)
    release_greet(greet_repo, "1.1.0", "2.0.0")

    updated = steps.ok("update", "--latest")

    assert steps.manifest.read_text() == MANIFEST.format(url=greet_repo.file_url, extra="").replace(
        'version = "^1.0"', 'version = "^2.0.0"'
    )
    assert updated.out.splitlines()[:7] == [
        "greet: 1.0.0 -> 2.0.0",
        '  steps.toml: version = "^2.0.0"',
        "  parameters:",
        '    ~ Greeting: type text -> multiline, default "hello" -> "hi"',
        f"    ~ ApiKey: default {MASK} -> {MASK}",
        '    - Target (text, default "world")',
        "--- a/greet@1.0.0/run.sh",
    ]
    entry = steps.lock()["greet"]
    assert (entry["version"], entry["requested"]) == ("2.0.0", "^2.0.0")
    steps.ok("lock", "--locked")  # steps.toml and steps.lock agree


def test_dry_run_writes_nothing(steps: Steps, greet_repo: ServedRepo) -> None:
    locked_at_1_0(steps, greet_repo.file_url)
    release_greet(greet_repo, "1.1.0", "2.0.0")
    files = (steps.manifest.read_bytes(), steps.lock_path.read_bytes())

    updated = steps.ok("update", "--latest", "--dry-run")

    assert updated.out.startswith("greet: would move 1.0.0 -> 2.0.0\n")
    assert "would be updated (dry run: nothing written)" in updated.out
    assert (steps.manifest.read_bytes(), steps.lock_path.read_bytes()) == files


def test_a_cooldown_locks_the_newest_old_enough_version_under_the_range(
    steps: Steps, greet_repo: ServedRepo
) -> None:
    locked_at_1_0(steps, greet_repo.file_url)
    release_greet(greet_repo, "1.1.0", "1.2.0", "2.0.0")

    updated = steps.ok("update", "--cooldown", "7")

    assert updated.out.startswith("greet: 1.0.0 -> 1.1.0\n")
    assert f"greet: held back by the cooldown (7 days): 1.2.0 (published {day(2)})" in updated.out
    entry = steps.lock()["greet"]
    assert (entry["version"], entry["requested"]) == ("1.1.0", "^1.0")
    # The lock fits steps.toml as it is: a later lock keeps the version the cooldown chose.
    lock_after = steps.lock_path.read_bytes()
    steps.ok("lock", "--locked")
    steps.ok("lock")
    assert steps.lock_path.read_bytes() == lock_after


def test_the_cooldown_of_steps_toml_and_turning_it_off(
    steps: Steps, greet_repo: ServedRepo
) -> None:
    locked_at_1_0(steps, greet_repo.file_url)
    text = steps.manifest.read_text()
    steps.write("[project]\ncooldown = 3\n\n" + text)
    release_greet(greet_repo, "1.1.0", "1.2.0")

    held = steps.ok("update", "--dry-run")
    off = steps.ok("update", "--cooldown", "0")

    assert held.out.startswith("greet: would move 1.0.0 -> 1.1.0\n")
    assert off.out.startswith("greet: 1.0.0 -> 1.2.0\n")
    assert steps.lock()["greet"]["version"] == "1.2.0"


def test_a_range_that_excludes_everything_is_refused(steps: Steps, greet_repo: ServedRepo) -> None:
    locked_at_1_0(steps, greet_repo.file_url)
    release_greet(greet_repo, "1.1.0")
    steps.write(steps.manifest.read_text().replace('"^1.0"', '">=5"'))

    failed = steps.fails("update")

    assert failed.error == (
        f"template 'greet': no version of {greet_repo.file_url} matches '>=5' "
        "(versions there: 1.1.0, 1.0.0); change 'version' in [templates.greet] of "
        "steps.toml, or run `steps update --latest greet`"
    )


def test_update_offline_after_outdated(steps: Steps, greet_repo: ServedRepo) -> None:
    locked_at_1_0(steps, greet_repo.file_url)
    release_greet(greet_repo, "1.1.0")
    steps.ok("outdated")  # lists the versions and fetches their tags into the cache
    shutil.rmtree(greet_repo.path)

    updated = steps.ok("update", "--offline")

    assert updated.out.startswith("greet: 1.0.0 -> 1.1.0\n")
    assert steps.lock()["greet"]["version"] == "1.1.0"


def test_update_names_only_templates_and_modules(steps: Steps, greet_repo: ServedRepo) -> None:
    locked_at_1_0(steps, greet_repo.file_url)

    failed = steps.fails("update", "nope")

    assert failed.error.startswith("no template or script module named 'nope' in steps.toml")


# --- a branch-pinned Octopus template, a script module, feeds ---------------------------------


def commit(repo: GitRepo, files: dict[str, str], days_ago: float) -> None:
    for path, text in files.items():
        repo.write(path, text)
    git(repo.path, "add", "--all")
    git(repo.path, "commit", "--quiet", "-m", "change", date=released_at(days_ago))


def test_a_followed_branch_is_numbered_by_the_template_files_version(
    steps: Steps, remote_repo: Callable[[str], ServedRepo]
) -> None:
    library = remote_repo("library")
    data = json.loads((CORPUS / "step-templates" / "script-show-arguments.json").read_text())
    path = "step-templates/script-show-arguments.json"
    commit(library, {path: json.dumps(data, indent=2)}, 50)
    steps.write(
        f'[templates.show]\ngit = "{library.file_url}"\nbranch = "main"\ntemplate = "{path}"\n'
    )
    steps.ok("lock")
    commit(library, {"step-templates/other.json": "{}"}, 10)  # another template's change

    unchanged = steps.ok("outdated")

    assert table(unchanged.out)["show"][1:4] == ["1", "50d", "1"]
    assert "1 of 1 up to date" in unchanged.err
    data["Version"] = 2
    data["Parameters"][0]["DefaultValue"] = "hello there"
    body = data["Properties"]["Octopus.Action.Script.ScriptBody"]
    data["Properties"]["Octopus.Action.Script.ScriptBody"] = body + "echo done\n"
    commit(library, {path: json.dumps(data, indent=2)}, 5)

    newer = steps.ok("outdated")
    updated = steps.ok("update")

    assert table(newer.out)["show"][1:6] == ["1", "50d", "2", "2", day(5)]
    lines = updated.out.splitlines()
    assert lines[:4] == [
        "show: 1 -> 2",
        "  parameters:",
        '    ~ Args.Greeting: default "hello world" -> "hello there"',
        "--- a/show@1/script.sh",
    ]
    assert "+echo done" in lines
    entry = steps.lock()["show"]
    assert (entry["template-version"], entry["commit"]) == ("2", library.rev_parse("HEAD"))


def test_a_script_module_in_the_lock(
    steps: Steps, remote_repo: Callable[[str], ServedRepo]
) -> None:
    modules = remote_repo("modules")
    text = (CORPUS / "modules" / "retry-helpers.json").read_text()
    release(modules, "v1.0.0", 40, {"retry-helpers.json": text})
    steps.write(
        f'[modules.RetryHelpers]\ngit = "{modules.file_url}"\nversion = "^1"\n'
        'template = "retry-helpers.json"\n'
    )
    steps.ok("lock")
    newer = text.replace("succeeded on attempt", "done after attempt")
    release(modules, "v1.1.0", 20, {"retry-helpers.json": newer})

    shown = steps.ok("outdated")
    updated = steps.ok("update", "RetryHelpers")

    rows = table(shown.out)
    assert rows["MODULE"][0] == "MODULE"
    assert rows["RetryHelpers"][1:6] == ["1.0.0", "40d", "1.1.0", "1.1.0", day(20)]
    lines = updated.out.splitlines()
    assert lines[:3] == [
        "module RetryHelpers: 1.0.0 -> 1.1.0",
        "--- a/RetryHelpers@1.0.0/RetryHelpers.sh",
        "+++ b/RetryHelpers@1.1.0/RetryHelpers.sh",
    ]
    assert '-    echo "succeeded on attempt $attempt"' in lines
    assert '+    echo "done after attempt $attempt"' in lines
    data = tomllib.loads(steps.lock_path.read_text())
    assert data["module"][0]["version"] == "1.1.0"


@pytest.fixture(scope="module")
def github_server() -> Iterator[GitHubServer]:
    with GitHubServer() as server:
        yield server


def test_github_release_dates(
    steps: Steps, github_server: GitHubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    github_server.reset()
    monkeypatch.setenv("STEPS_GITHUB_API_URL", github_server.api_url)
    repo = make_repo(tmp_path / "deploy")
    github_server.add_repo("acme", "deploy", repo.path)
    release_greet(repo, "1.0.0")
    github_server.add_release("acme", "deploy", "v1.0.0")
    steps.write('[templates.greet]\ngithub = "acme/deploy"\nversion = "^1"\n')
    steps.ok("lock")
    release_greet(repo, "1.1.0")
    newer = github_server.add_release("acme", "deploy", "v1.1.0")

    (row,) = json.loads(steps.ok("outdated", "--json").out)
    updated = steps.ok("update")

    published = datetime.fromtimestamp(1_700_000_000 + newer.id, UTC)
    assert (row["in_range"], row["in_range_published"]) == ("1.1.0", published.isoformat())
    assert row["locked_published"] is not None
    assert updated.out.startswith("greet: 1.0.0 -> 1.1.0\n")
    assert '    ~ Greeting: default "hello" -> "hi"' in updated.out


@pytest.fixture(scope="module")
def static_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticServer]:
    with StaticServer(tmp_path_factory.mktemp("feeds")) as served:
        yield served


def test_versions_without_a_date_pass_a_cooldown_with_a_warning(
    steps: Steps, static_server: StaticServer
) -> None:
    feed = NuGetFeed.on(static_server)  # a flat container only: no registration dates
    publish(feed, "1.0.0")
    use_feed(steps, feed, version="^1")
    steps.ok("lock")
    publish(feed, "1.1.0")

    updated = steps.ok("update", "--cooldown", "30")

    assert updated.warnings == [
        "template 'iis': 1.1.0 has no publication date, so the cooldown cannot hold it back; "
        "it is taken as old enough"
    ]
    assert updated.out.startswith("iis: 1.0.0 -> 1.1.0\n")
