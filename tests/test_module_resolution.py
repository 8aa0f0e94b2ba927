"""Script modules in a project: one version each for every range asked of it, locked, kept,
upgraded, and handed to the steps that run."""

from __future__ import annotations

import io
import json
import tomllib
from collections.abc import Callable, Mapping

from steptemplates import project
from steptemplates.console import Console
from steptemplates.execution.languages.base import ModuleFile
from steptemplates.module_resolution import Need, combined_range, conflict, parse_need
from steptemplates.templates import load_template
from steptemplates.templates.model import ModuleNeed
from steptemplates.versions import parse_version
from tests.support.gitserver import ServedRepo, SmartHttpServer
from tests.support.projects import Steps

# --- files ---------------------------------------------------------------------------------


def module_toml(
    name: str, *, body: str = "", syntax: str = "bash", needs: Mapping[str, str] = {}
) -> str:
    """A native script module (``kind = "module"``); JSON escapes are TOML escapes too."""
    text = f'kind = "module"\nname = "{name}"\n[script]\nsyntax = "{syntax}"\n'
    text += f"body = {json.dumps(body)}\n"
    return text + _needs(needs)


def template_toml(
    name: str, *, body: str = "", syntax: str = "bash", needs: Mapping[str, str] = {}
) -> str:
    text = f'name = "{name}"\n[script]\nsyntax = "{syntax}"\nbody = {json.dumps(body)}\n'
    return text + _needs(needs)


def _needs(needs: Mapping[str, str]) -> str:
    if not needs:
        return ""
    return "[modules]\n" + "".join(f'{name} = "{wanted}"\n' for name, wanted in needs.items())


def released(
    remote_repo: Callable[[str], ServedRepo],
    name: str,
    versions: Mapping[str, Mapping[str, str]],
    *,
    body: str = "",
) -> ServedRepo:
    """A module repository with one tagged release per version (version -> its needs)."""
    repo = remote_repo(name.lower())
    for version, needs in versions.items():
        repo.write("steptemplate.toml", module_toml(name, body=body, needs=needs))
        repo.commit(f"{name} {version}")
        repo.tag(f"v{version}")
    return repo


def deploy_template(
    remote_repo: Callable[[str], ServedRepo], needs: Mapping[str, str]
) -> ServedRepo:
    """The template 'deploy', released as 1.4.0, needing ``needs``."""
    repo = remote_repo("deploy")
    repo.write("steptemplate.toml", template_toml("deploy", needs=needs))
    repo.commit("deploy")
    repo.tag("v1.4.0")
    return repo


def local(steps: Steps, folder: str, text: str) -> None:
    directory = steps.directory / folder
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "steptemplate.toml").write_text(text)


def modules_locked(steps: Steps) -> dict[str, dict[str, object]]:
    data = tomllib.loads(steps.lock_path.read_text(encoding="utf-8"))
    return {entry["name"]: entry for entry in data.get("module", [])}


NOTIFY = '[templates.note]\npath = "note"\n'
NOTIFY_STEP = '[[steps]]\nname = "notify"\ntemplate = "note"\nmodules = {{ Helpers = "{}" }}\n'


# --- choosing one version ------------------------------------------------------------------


def test_one_version_satisfies_template_step_and_manifest(
    steps: Steps, remote_repo: Callable[[str], ServedRepo]
) -> None:
    helpers = released(remote_repo, "Helpers", {"1.2.0": {}, "1.2.3": {}, "1.4.0": {}, "2.0.1": {}})
    deploy = deploy_template(remote_repo, {"Helpers": "^1.2"})
    local(steps, "note", template_toml("note"))
    steps.write(
        f'[templates.deploy]\ngit = "{deploy.file_url}"\nversion = "^1"\n\n{NOTIFY}\n'
        f'[modules.Helpers]\ngit = "{helpers.file_url}"\nversion = ">=1.2.1"\n\n'
        + NOTIFY_STEP.format("~1.2")
    )

    locked = steps.ok("lock")

    entry = modules_locked(steps)["Helpers"]
    assert (entry["version"], entry["requested"]) == ("1.2.3", ">=1.2.1, ^1.2, ~1.2")
    assert steps.lock()["deploy"]["needs"] == ["Helpers ^1.2"]
    assert "  added module Helpers 1.2.3" in locked.err.splitlines()
    assert "Resolved 2 templates and 1 script module in" in locked.err


def test_no_version_in_every_range(steps: Steps, remote_repo: Callable[[str], ServedRepo]) -> None:
    helpers = released(remote_repo, "Helpers", {"1.2.3": {}, "2.0.1": {}})
    deploy = deploy_template(remote_repo, {"Helpers": "^1.2"})
    local(steps, "note", template_toml("note"))
    steps.write(
        f'[templates.deploy]\ngit = "{deploy.file_url}"\ntag = "v1.4.0"\n\n{NOTIFY}\n'
        f'[modules.Helpers]\ngit = "{helpers.file_url}"\n\n' + NOTIFY_STEP.format("^2.0")
    )

    failed = steps.fails("lock")

    assert failed.error == (
        "script module 'Helpers': no version satisfies every requirement: template 'deploy' "
        "1.4.0 needs ^1.2, step 'notify' needs ^2.0, steps.toml needs *; nearest available: "
        "1.2.3, 2.0.1"
    )


def test_modules_need_modules(steps: Steps, remote_repo: Callable[[str], ServedRepo]) -> None:
    base = released(remote_repo, "Base", {"1.0.0": {}, "1.1.0": {}, "1.2.0": {}, "2.0.0": {}})
    helpers = released(remote_repo, "Helpers", {"1.0.0": {}, "2.0.1": {"Base": "^1.1"}})
    manifest = (
        f'[modules.Helpers]\ngit = "{helpers.file_url}"\n\n'
        f'[modules.Base]\ngit = "{base.file_url}"\n'
    )
    steps.write(manifest)

    steps.ok("lock")

    locked = modules_locked(steps)
    assert (locked["Helpers"]["version"], locked["Helpers"]["needs"]) == ("2.0.1", ["Base ^1.1"])
    assert (locked["Base"]["version"], locked["Base"]["requested"]) == ("1.2.0", "^1.1")

    steps.write(manifest + 'version = "^2"\n')
    failed = steps.fails("lock")
    assert failed.error == (
        "script module 'Base': no version satisfies every requirement: module 'Helpers' 2.0.1 "
        "needs ^1.1, steps.toml needs ^2; nearest available: 1.0.0, 1.1.0, 1.2.0, 2.0.0"
    )


def test_a_module_steps_toml_does_not_declare(steps: Steps) -> None:
    local(steps, "deploy", template_toml("deploy", needs={"Missing": "^1"}))
    steps.write('[templates.deploy]\npath = "deploy"\n')

    failed = steps.fails("lock")

    assert failed.error == (
        "template 'deploy' needs script module 'Missing', which is not in [modules] of "
        "steps.toml; declare where it comes from with `steps add SOURCE --module --name Missing`"
    )


def test_a_cycle_among_modules(steps: Steps) -> None:
    local(steps, "a", module_toml("A", needs={"B": "*"}))
    local(steps, "b", module_toml("B", needs={"A": "*"}))
    steps.write('[modules.A]\npath = "a"\n\n[modules.B]\npath = "b"\n')

    failed = steps.fails("lock")

    assert failed.error == (
        "script module cycle: A -> B -> A; a module may not need itself, directly or through "
        "others; remove one of these needs"
    )


def test_a_module_under_another_name(steps: Steps) -> None:
    local(steps, "helpers", module_toml("Helpers"))
    steps.write('[modules.Tools]\npath = "helpers"\n')

    failed = steps.fails("lock")

    assert failed.error == (
        "script module 'Tools': helpers holds the module 'Helpers', not 'Tools'; rename "
        "[modules.Tools] to [modules.Helpers] in steps.toml (and where steps and templates "
        "need it)"
    )


def test_path_modules_have_no_versions_to_check(steps: Steps) -> None:
    local(steps, "helpers", module_toml("Helpers"))
    local(steps, "deploy", template_toml("deploy", needs={"Helpers": "^9"}))
    steps.write('[templates.deploy]\npath = "deploy"\n\n[modules.Helpers]\npath = "helpers"\n')

    steps.ok("lock")

    assert modules_locked(steps)["Helpers"] == {
        "name": "Helpers",
        "source": "path",
        "path": "helpers",
        "requested": "path",
    }


def test_a_tag_pin_is_checked_against_the_ranges(
    steps: Steps, remote_repo: Callable[[str], ServedRepo]
) -> None:
    helpers = released(remote_repo, "Helpers", {"1.2.3": {}, "2.0.1": {}})
    local(steps, "deploy", template_toml("deploy", needs={"Helpers": "^2"}))
    steps.write(
        '[templates.deploy]\npath = "deploy"\n\n'
        f'[modules.Helpers]\ngit = "{helpers.file_url}"\ntag = "v1.2.3"\n'
    )

    failed = steps.fails("lock")

    assert failed.error == (
        "script module 'Helpers': no version satisfies every requirement: template 'deploy' "
        "needs ^2, steps.toml pins tag=v1.2.3 (1.2.3); change the pin in [modules.Helpers], "
        "or the ranges that leave 1.2.3 out"
    )


# --- keeping and upgrading -----------------------------------------------------------------


def test_an_unchanged_project_relocks_without_the_network(
    steps: Steps, remote_repo: Callable[[str], ServedRepo], git_http: SmartHttpServer
) -> None:
    base = released(remote_repo, "Base", {"1.1.0": {}, "1.2.0": {}})
    helpers = released(remote_repo, "Helpers", {"2.0.1": {"Base": "^1.1"}})
    local(steps, "deploy", template_toml("deploy", needs={"Helpers": "^2"}))
    steps.write(
        '[templates.deploy]\npath = "deploy"\n\n'
        f'[modules.Helpers]\ngit = "{helpers.http_url}"\n\n'
        f'[modules.Base]\ngit = "{base.http_url}"\n'
    )
    steps.ok("lock")
    locked = steps.lock_path.read_bytes()
    before = git_http.requests

    relocked = steps.ok("lock")
    steps.ok("lock", "--locked")
    synced = steps.ok("sync", "--offline")

    assert steps.lock_path.read_bytes() == locked
    assert git_http.requests == before
    assert "added" not in relocked.err and "updated" not in relocked.err
    assert "Synced" in synced.err


def test_upgrade_moves_modules_within_their_ranges(
    steps: Steps, remote_repo: Callable[[str], ServedRepo]
) -> None:
    helpers = released(remote_repo, "Helpers", {"1.2.3": {}, "2.0.0": {}})
    local(steps, "deploy", template_toml("deploy", needs={"Helpers": "^1.2"}))
    steps.write(
        f'[templates.deploy]\npath = "deploy"\n\n[modules.Helpers]\ngit = "{helpers.file_url}"\n'
    )
    steps.ok("lock")
    helpers.write("steptemplate.toml", module_toml("Helpers", body="echo 1.2.9\n"))
    helpers.commit("1.2.9")
    helpers.tag("v1.2.9")

    kept = steps.ok("lock")
    one = steps.ok("lock", "--upgrade-template", "Helpers")

    assert "updated" not in kept.err
    assert "  updated module Helpers 1.2.3 -> 1.2.9" in one.err.splitlines()
    assert modules_locked(steps)["Helpers"]["version"] == "1.2.9"


def test_a_template_that_needs_another_range_relocks_the_module(
    steps: Steps, remote_repo: Callable[[str], ServedRepo]
) -> None:
    helpers = released(remote_repo, "Helpers", {"1.2.3": {}, "2.0.0": {}})
    local(steps, "deploy", template_toml("deploy", needs={"Helpers": "^1.2"}))
    steps.write(
        f'[templates.deploy]\npath = "deploy"\n\n[modules.Helpers]\ngit = "{helpers.file_url}"\n'
    )
    steps.ok("lock")

    local(steps, "deploy", template_toml("deploy", needs={"Helpers": "^2"}))
    stale = steps.fails("lock", "--locked")
    relocked = steps.ok("lock")

    assert stale.error.startswith("steps.lock would change (updated deploy ")
    assert "  updated module Helpers 1.2.3 -> 2.0.0" in relocked.err.splitlines()


def test_what_a_replaced_version_needed_no_longer_counts(
    steps: Steps, remote_repo: Callable[[str], ServedRepo]
) -> None:
    base = released(remote_repo, "Base", {"1.0.0": {}, "2.0.0": {}})
    helpers = released(remote_repo, "Helpers", {"1.0.0": {"Base": "^1"}, "2.0.0": {"Base": "^2"}})
    manifest = (
        f'[modules.Helpers]\ngit = "{helpers.file_url}"\nversion = "{{}}"\n\n'
        f'[modules.Base]\ngit = "{base.file_url}"\nversion = "{{}}"\n'
    )
    steps.write(manifest.format("^1", "*"))
    steps.ok("lock")

    steps.write(manifest.format("^2", "^2"))
    moved = steps.ok("lock")

    locked = modules_locked(steps)
    assert (locked["Helpers"]["version"], locked["Base"]["version"]) == ("2.0.0", "2.0.0")
    assert locked["Base"]["requested"] == "^2"
    assert "  updated module Base 1.0.0 -> 2.0.0" in moved.err.splitlines()


def test_locked_notices_a_changed_range(
    steps: Steps, remote_repo: Callable[[str], ServedRepo]
) -> None:
    helpers = released(remote_repo, "Helpers", {"1.2.3": {}, "2.0.0": {}})
    steps.write(f'[modules.Helpers]\ngit = "{helpers.file_url}"\nversion = "^1"\n')
    steps.ok("lock")
    steps.write(f'[modules.Helpers]\ngit = "{helpers.file_url}"\nversion = "^2"\n')

    failed = steps.fails("lock", "--locked")

    assert failed.error == (
        "steps.lock is out of date with steps.toml (module Helpers: requested changed from "
        "'^1' to '^2'); run `steps lock` and commit the result"
    )


# --- steps add --module --------------------------------------------------------------------


def test_add_a_module_by_its_own_name(
    steps: Steps, remote_repo: Callable[[str], ServedRepo]
) -> None:
    helpers = released(remote_repo, "Helpers", {"1.0.0": {}, "1.1.0": {}})
    steps.ok("init")

    added = steps.ok("add", helpers.file_url, "--module", "--autoload")

    assert (
        f'[modules.Helpers]\ngit = "{helpers.file_url}"\nversion = "^1.1.0"\nautoload = true\n'
    ) in steps.manifest.read_text()
    assert modules_locked(steps)["Helpers"]["version"] == "1.1.0"
    assert added.err.strip() == (
        f"Added script module 'Helpers' (git = '{helpers.file_url}', version = '^1.1.0', "
        "autoload = True); locked 1.1.0"
    )
    listed = steps.ok("list")
    assert "MODULE   SOURCE" in listed.out
    assert f"Helpers  {helpers.file_url}  ^1.1.0     1.1.0 (autoload)" in listed.out
    steps.ok("lock", "--locked")


def test_add_a_module_under_another_name(
    steps: Steps, remote_repo: Callable[[str], ServedRepo]
) -> None:
    helpers = released(remote_repo, "Helpers", {"1.0.0": {}})
    steps.ok("init")

    failed = steps.fails("add", helpers.file_url, "--module", "--name", "Tools")

    assert failed.error.startswith("script module 'Tools': ")
    assert "holds the module 'Helpers', not 'Tools'" in failed.error


def test_autoload_is_for_modules(steps: Steps) -> None:
    steps.ok("init")

    failed = steps.fails("add", ".", "--autoload")

    assert failed.error == "--autoload applies to script modules: add --module"


# --- modules for the steps -----------------------------------------------------------------


def test_every_step_gets_every_module_dependencies_first(steps: Steps) -> None:
    local(steps, "base", module_toml("Base", body="base() { :; }\n"))
    local(steps, "helpers", module_toml("Helpers", body="helpers\n", needs={"Base": "*"}))
    local(steps, "texts", module_toml("Texts", syntax="python", body="X = 1\n"))
    local(steps, "deploy", template_toml("deploy", needs={"Helpers": "*"}))
    steps.write(
        '[templates.deploy]\npath = "deploy"\n\n'
        '[modules.Helpers]\npath = "helpers"\n\n[modules.Base]\npath = "base"\n\n'
        '[modules.Texts]\npath = "texts"\nautoload = true\n\n'
        '[[steps]]\nname = "Deploy"\ntemplate = "deploy"\n'
        'modules = { Base = { version = "*", autoload = true } }\n'
    )
    current_project = project.Project(steps.manifest)
    console = Console(io.StringIO(), io.StringIO())
    synced = project.sync(current_project, console)
    current = current_project.manifest()
    template = load_template(steps.directory / "deploy")

    for_step = project.modules_for_step(current, synced, template, current.steps[0].modules)
    bare = project.modules_for_step(current, synced, None)

    assert for_step == (
        ModuleFile("Base", "bash", "base() { :; }\n", autoload=True),
        ModuleFile("Helpers", "bash", "helpers\n", autoload=False),
        ModuleFile("Texts", "python", "X = 1\n", autoload=True),
    )
    assert [(m.name, m.autoload) for m in bare] == [
        ("Base", False),
        ("Helpers", False),
        ("Texts", True),
    ]
    assert sorted(synced.modules) == ["Base", "Helpers", "Texts"]
    needing = project.modules_for_step(
        current, synced, template, (ModuleNeed("Helpers", autoload=True),)
    )
    assert [m.name for m in needing if m.autoload] == ["Helpers", "Texts"]


def test_scripts_use_their_modules(steps: Steps, remote_repo: Callable[[str], ServedRepo]) -> None:
    helpers = released(remote_repo, "Helpers", {"1.0.0": {}}, body='shout() { echo "HELLO $1"; }\n')
    local(steps, "greet", module_toml("Greet", body='greet() { echo "hi $1"; }\n'))
    slug = "def slug(text):\n    return text.lower().replace(' ', '-')\n"
    local(steps, "texts", module_toml("TextTools", syntax="python", body=slug))
    local(
        steps,
        "bash-tpl",
        template_toml(
            "bash-tpl",
            body='source Helpers.sh\nshout "#{Octopus.Step.Name}"\ngreet world\n',
            needs={"Helpers": "^1"},
        ),
    )
    local(
        steps,
        "py-tpl",
        template_toml(
            "py-tpl",
            syntax="python",
            body="import TextTools\nprint(TextTools.slug('Release Notes'))\n",
        ),
    )
    steps.write(
        '[templates.bash-tpl]\npath = "bash-tpl"\n\n[templates.py-tpl]\npath = "py-tpl"\n\n'
        f'[modules.Helpers]\ngit = "{helpers.file_url}"\n\n'
        '[modules.Greet]\npath = "greet"\nautoload = true\n\n'
        '[modules.TextTools]\npath = "texts"\n\n'
        '[[steps]]\nname = "shell"\ntemplate = "bash-tpl"\n\n'
        '[[steps]]\nname = "python"\ntemplate = "py-tpl"\n'
    )

    ran = steps.ok("run")

    assert "HELLO shell" in ran.out
    assert "hi world" in ran.out  # sourced without the script asking: autoload
    assert "release-notes" in ran.out


# --- the plain functions -------------------------------------------------------------------


def test_needs_as_the_lock_writes_them() -> None:
    assert parse_need("Helpers ^1.2") == ("Helpers", "^1.2")
    assert parse_need("Helpers *") == ("Helpers", None)
    needs = [Need("H", "^1.2", "a"), Need("H", None, "b"), Need("H", "~1.2", "c")]
    needs.append(Need("H", "^1.2", "d"))
    assert combined_range(needs) == "^1.2, ~1.2"
    assert combined_range([Need("H", "*", "a")]) is None


def test_a_conflict_with_only_prereleases_in_range() -> None:
    available = [parse_version(v) for v in ("1.0.0", "2.0.0-rc.1")]

    error = conflict("H", [Need("H", ">=1.5", "step 's'")], available, False)

    assert str(error) == (
        "script module 'H': no version satisfies every requirement: step 's' needs >=1.5; only "
        "prereleases match: 2.0.0-rc.1 (allow them with prerelease = true in [modules.H])"
    )
    assert str(conflict("H", [], [], False)).endswith("; its source offers no versions")
