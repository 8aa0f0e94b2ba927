"""The deployment journal: installation directories, records, retention, secrets and diffs."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import filelock
import pytest

from steptemplates import deployments, fsutil
from steptemplates.deployments import (
    SENSITIVE_LINE,
    Deployment,
    FileChange,
    Journal,
    applications_root,
    apply_retention,
    diff_deployments,
    installation_directory,
    sensitive_lines,
)
from steptemplates.errors import StepsError
from tests.support.projects import steps_env

SET = "Shop/Deploy web"
SECRET = "s3cr&t-Pa55"


def deploy(
    journal: Journal,
    version: str,
    files: Mapping[str, str | bytes] | None = None,
    *,
    successful: bool = True,
    retention_set: str = SET,
    package_id: str = "web",
    secrets: tuple[str, ...] = (),
) -> Deployment:
    """Install ``files`` as a new deployment of ``package_id`` and record it."""
    target = installation_directory(
        journal.root, tenant="", environment="Production", package_id=package_id, version=version
    )
    target.mkdir(parents=True)
    for name, content in (files or {"app.config": f"version={version}\n"}).items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return journal.record(
        package_id=package_id,
        version=version,
        retention_set=retention_set,
        project="Shop",
        step="Deploy web",
        environment="Production",
        tenant="",
        extracted_to=target,
        successful=successful,
        sensitive_lines=sensitive_lines(target, secrets),
    )


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "apps")


def ids(entries: list[Deployment]) -> list[int]:
    return [e.id for e in entries]


# --- applications root -----------------------------------------------------------------------


def test_root_prefers_explicit_then_environment_then_project_then_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEPS_APPLICATIONS_DIR", str(tmp_path / "from-env"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    state = tmp_path / "project" / ".steps"

    explicit = applications_root(tmp_path / "explicit", state)
    from_env = applications_root(None, state)
    monkeypatch.setenv("STEPS_APPLICATIONS_DIR", "")
    from_project = applications_root(None, state)
    from_user = applications_root(None, None)

    assert explicit == tmp_path / "explicit"
    assert from_env == tmp_path / "from-env"
    assert from_project == state / "applications"
    if sys.platform.startswith("linux"):
        assert from_user == tmp_path / "data" / "steps" / "applications"
    assert from_user.name == "applications"


# --- installation directories ----------------------------------------------------------------


def test_installation_directory_nests_tenant_environment_package_and_version(
    tmp_path: Path,
) -> None:
    made = installation_directory(
        tmp_path, tenant="Acme", environment="Test", package_id="Web", version="1.0.0"
    )

    assert made == tmp_path / "Acme" / "Test" / "Web" / "1.0.0"
    assert not tmp_path.joinpath("Acme").exists()  # nothing is created


def test_installation_directory_leaves_out_an_absent_tenant_or_environment(
    tmp_path: Path,
) -> None:
    no_tenant = installation_directory(
        tmp_path, tenant="", environment="Test", package_id="Web", version="1.0.0"
    )
    neither = installation_directory(
        tmp_path, tenant="", environment="", package_id="Web", version="1.0.0"
    )

    assert no_tenant == tmp_path / "Test" / "Web" / "1.0.0"
    assert neither == tmp_path / "Web" / "1.0.0"


def test_installation_directory_removes_characters_not_allowed_in_names(tmp_path: Path) -> None:
    made = installation_directory(
        tmp_path,
        tenant='Acme: "North" <EU>',
        environment="Prod\\uction|*?",
        package_id="we/b\x07\x7f",
        version="1.0\t.0",
    )

    assert made.relative_to(tmp_path).parts == ("Acme North EU", "Production", "web", "1.0.0")


def test_a_segment_made_only_of_invalid_characters_counts_as_absent(tmp_path: Path) -> None:
    made = installation_directory(
        tmp_path, tenant="::", environment="Test", package_id="Web", version="2.0.0"
    )

    assert made == tmp_path / "Test" / "Web" / "2.0.0"


def test_installation_directory_never_reuses_an_existing_path(tmp_path: Path) -> None:
    def claim() -> Path:
        made = installation_directory(
            tmp_path, tenant="", environment="Test", package_id="Web", version="1.0.0"
        )
        made.mkdir(parents=True)
        return made

    first, second, third = claim(), claim(), claim()
    fsutil.remove_tree(second)
    again = claim()
    (tmp_path / "Test" / "Web" / "1.0.0_3").write_text("a file, not a directory")
    (tmp_path / "Test" / "Web" / "1.0.0_4").symlink_to(tmp_path / "missing")
    after_others = claim()

    assert [p.name for p in (first, second, third)] == ["1.0.0", "1.0.0_1", "1.0.0_2"]
    assert again.name == "1.0.0_1"  # only what exists is skipped
    assert after_others.name == "1.0.0_5"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"package_id": ".."},
            "the package id '..' would name the directory '..', which is not allowed; "
            "use another package id",
        ),
        (
            {"version": ".:"},
            "the version '.:' would name the directory '.', which is not allowed; "
            "use another version",
        ),
        (
            {"environment": ".|."},
            "the environment '.|.' would name the directory '..', which is not allowed; "
            "use another environment",
        ),
        (
            {"package_id": "<>"},
            "the package id '<>' is empty once characters not allowed in file names are "
            "removed; give the package a real id and version",
        ),
    ],
)
def test_installation_directory_refuses_dot_segments_and_empty_names(
    tmp_path: Path, fields: dict[str, str], message: str
) -> None:
    arguments = {"tenant": "", "environment": "Test", "package_id": "Web", "version": "1.0.0"}

    with pytest.raises(StepsError) as raised:
        installation_directory(tmp_path / "root", **{**arguments, **fields})

    assert str(raised.value) == message
    assert not (tmp_path / "root").exists()


# --- the journal -----------------------------------------------------------------------------


def test_a_missing_journal_has_no_entries(journal: Journal) -> None:
    assert journal.entries() == []
    assert journal.latest(SET, "web") is None
    assert not journal.root.exists()


def test_recorded_deployments_read_back_the_same(journal: Journal) -> None:
    first = deploy(
        journal, "1.0.0", {"web.config": f"<add value='{SECRET}' />\n"}, secrets=(SECRET,)
    )
    second = deploy(journal, "1.1.0", successful=False)

    reread = Journal(journal.root).entries()
    document = json.loads(journal.path.read_text(encoding="utf-8"))

    assert reread == [first, second]
    assert (first.id, second.id) == (1, 2)
    assert first.extracted_to == str(journal.root / "Production" / "web" / "1.0.0")
    assert first.sensitive_lines == {"web.config": (1,)}
    assert second.successful is False
    assert document["version"] == 1
    assert [d["version"] for d in document["deployments"]] == ["1.0.0", "1.1.0"]
    assert SECRET not in journal.path.read_text(encoding="utf-8")


def test_installed_on_is_utc_to_the_second(journal: Journal, tmp_path: Path) -> None:
    now = deploy(journal, "1.0.0")
    given = journal.record(
        package_id="web",
        version="1.0.1",
        retention_set=SET,
        project="Shop",
        step="Deploy web",
        environment="",
        tenant="",
        extracted_to=tmp_path,
        successful=True,
        installed_on="2024-05-01T14:30:15.75+02:00",
    )

    assert len(now.installed_on) == len("2024-05-01T12:30:15Z")
    assert now.installed_on.endswith("Z")
    assert given.installed_on == "2024-05-01T12:30:15Z"


def test_ids_keep_increasing_after_older_entries_are_forgotten(journal: Journal) -> None:
    for version in ("1.0.0", "1.0.1", "1.0.2"):
        deploy(journal, version)
    journal.forget({1, 2})

    added = deploy(journal, "1.0.3")

    assert ids(journal.entries()) == [3, 4]
    assert added.id == 4


def test_latest_finds_the_newest_of_a_set_and_package(journal: Journal) -> None:
    good = deploy(journal, "1.0.0")
    bad = deploy(journal, "1.1.0", successful=False)
    deploy(journal, "9.0.0", package_id="api")
    deploy(journal, "9.0.0", retention_set="Other/Deploy web")

    assert journal.latest(SET, "web") == bad
    assert journal.latest(SET, "web", successful_only=True) == good
    assert journal.latest(SET, "db") is None


def test_get_an_unknown_id_lists_nearby_ones(journal: Journal) -> None:
    for number in range(12):
        deploy(journal, f"1.0.{number}")
    journal.forget({7})

    with pytest.raises(StepsError) as raised:
        journal.get(7)

    assert journal.get(8).version == "1.0.7"
    assert str(raised.value) == (
        f"no deployment 7 in {journal.path}; nearby ids: 5, 6, 8, 9; "
        "`steps deployments list` shows them all"
    )


def test_get_from_an_empty_journal_says_nothing_is_recorded(journal: Journal) -> None:
    with pytest.raises(StepsError) as raised:
        journal.get(1)

    assert str(raised.value).startswith(
        f"no deployment 1: no deployments are recorded in {journal.path}"
    )


def test_threads_recording_at_once_lose_nothing(journal: Journal) -> None:
    def record_many(worker: int) -> None:
        own = Journal(journal.root)
        for number in range(10):
            own.record(
                package_id=f"pkg{worker}",
                version=f"1.0.{number}",
                retention_set=SET,
                project="Shop",
                step="Deploy web",
                environment="",
                tenant="",
                extracted_to=journal.root / f"w{worker}-{number}",
                successful=True,
            )

    threads = [threading.Thread(target=record_many, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    entries = journal.entries()
    assert ids(entries) == list(range(1, 61))
    assert {(e.package_id, e.version) for e in entries} == {
        (f"pkg{w}", f"1.0.{n}") for w in range(6) for n in range(10)
    }


_RECORDER = """
import sys
from pathlib import Path
from steptemplates.deployments import Journal

journal = Journal(Path(sys.argv[1]))
for number in range(15):
    journal.record(
        package_id=sys.argv[2], version=f"1.0.{number}", retention_set="s", project="p",
        step="s", environment="", tenant="", extracted_to=Path(sys.argv[1], sys.argv[2]),
        successful=True,
    )
"""


def test_processes_recording_at_once_lose_nothing(journal: Journal) -> None:
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _RECORDER, str(journal.root), name], env=steps_env()
        )
        for name in ("one", "two", "three")
    ]
    codes = [worker.wait(timeout=60) for worker in workers]

    entries = journal.entries()
    assert codes == [0, 0, 0]
    assert ids(entries) == list(range(1, 46))
    assert sorted(e.package_id for e in entries) == ["one"] * 15 + ["three"] * 15 + ["two"] * 15


def test_a_held_lock_times_out_with_a_clear_message(journal: Journal) -> None:
    journal.root.mkdir(parents=True)
    lock_path = journal.root / "deployments.json.lock"
    impatient = Journal(journal.root, lock_timeout=0.2)

    with filelock.FileLock(str(lock_path)), pytest.raises(StepsError) as raised:
        impatient.forget({1})

    assert str(raised.value) == (
        f"gave up after 0.2 s waiting for {lock_path}: another steps process is recording or "
        "pruning deployments there; let it finish and try again"
    )


def _entry_json(**changes: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "id": 1,
        "package_id": "web",
        "version": "1.0.0",
        "retention_set": SET,
        "project": "Shop",
        "step": "Deploy web",
        "environment": "",
        "tenant": "",
        "installed_on": "2024-05-01T12:00:00Z",
        "extracted_to": "/srv/apps/web/1.0.0",
        "custom_directory": "",
        "successful": True,
        "sensitive_lines": {},
    }
    entry.update(changes)
    return {key: value for key, value in entry.items() if value is not None}


def _journal_text(*entries: dict[str, object], version: object = 1) -> str:
    return json.dumps({"version": version, "deployments": list(entries)})


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"version": 1, "deployments": [', "not valid JSON at line 1: Expecting value"),
        ("[]", 'expected an object with exactly the keys "version" and "deployments"'),
        (_journal_text(version=2), "unknown format version 2 (expected 1)"),
        (
            json.dumps({"version": 1, "deployments": {}}),
            '"deployments" must be a list',
        ),
        (_journal_text(_entry_json(step=None)), "entry 1: missing key 'step'"),
        (_journal_text(_entry_json(colour="red")), "entry 1: unknown key 'colour'"),
        (_journal_text(_entry_json(id="1")), "entry 1: 'id' must be a positive whole number"),
        (_journal_text(_entry_json(id=True)), "entry 1: 'id' must be a positive whole number"),
        (
            _journal_text(_entry_json(), _entry_json(id=2, successful="yes")),
            "entry 2: 'successful' must be true or false (deployment 2)",
        ),
        (
            _journal_text(_entry_json(version=1.0)),
            "entry 1: 'version' must be a string (deployment 1)",
        ),
        (
            _journal_text(_entry_json(installed_on="yesterday")),
            "entry 1: 'installed_on' is not an ISO-8601 time (deployment 1)",
        ),
        (
            _journal_text(_entry_json(extracted_to="web/1.0.0")),
            "entry 1: 'extracted_to' must be an absolute path (deployment 1)",
        ),
        (
            _journal_text(_entry_json(sensitive_lines={"a.config": [0]})),
            "entry 1: 'sensitive_lines' must map file paths to lists of line numbers "
            "(deployment 1)",
        ),
        (
            _journal_text(_entry_json(), _entry_json()),
            "deployment id 1 appears more than once",
        ),
    ],
)
def test_a_damaged_journal_is_refused_with_the_file_and_what_to_do(
    journal: Journal, text: str, problem: str
) -> None:
    journal.root.mkdir()
    journal.path.write_text(text, encoding="utf-8")

    with pytest.raises(StepsError) as raised:
        journal.entries()
    with pytest.raises(StepsError):
        deploy(journal, "2.0.0")

    assert str(raised.value) == (
        f"damaged deployment journal {journal.path}: {problem}; fix the file or delete it "
        "(deleting it forgets every recorded deployment)"
    )
    assert journal.path.read_text(encoding="utf-8") == text


def test_a_journal_that_is_not_utf8_is_damaged(journal: Journal) -> None:
    journal.root.mkdir()
    journal.path.write_bytes(b"\xff\xfe{")

    with pytest.raises(StepsError, match="it is not UTF-8 text; fix the file"):
        journal.entries()


def test_the_written_journal_reads_back_strictly(journal: Journal) -> None:
    deploy(journal, "1.0.0", {"a.json": f'{{"p": "{SECRET}"}}\n'}, secrets=(SECRET,))

    document = json.loads(journal.path.read_text(encoding="utf-8"))

    assert set(document["deployments"][0]) == set(_entry_json())
    assert document["deployments"][0]["sensitive_lines"] == {"a.json": [1]}


# --- retention -------------------------------------------------------------------------------


def removed_by(journal: Journal, keep: int, **options: object) -> list[int]:
    return ids(apply_retention(journal, SET, keep, **options))  # type: ignore[arg-type]


def test_retention_keeps_the_newest_successful_deployments(journal: Journal) -> None:
    made = [deploy(journal, f"1.0.{n}") for n in range(5)]

    removed = removed_by(journal, 2)

    assert removed == [1, 2, 3]
    assert ids(journal.entries()) == [4, 5]
    assert [Path(d.extracted_to).exists() for d in made] == [False, False, False, True, True]
    assert (journal.root / "Production" / "web").is_dir()


def test_retention_removes_failed_deployments_but_the_newest(journal: Journal) -> None:
    deploy(journal, "1.0.0")
    failed = deploy(journal, "1.0.1", successful=False)
    deploy(journal, "1.0.2")
    newest = deploy(journal, "1.0.3", successful=False)

    removed = removed_by(journal, 5)

    assert removed == [failed.id]
    assert ids(journal.entries()) == [1, 3, 4]
    assert not Path(failed.extracted_to).exists()
    assert Path(newest.extracted_to).exists()


def test_failed_deployments_do_not_count_towards_keep(journal: Journal) -> None:
    deploy(journal, "1.0.0")
    deploy(journal, "1.0.1")
    deploy(journal, "1.0.2", successful=False)
    deploy(journal, "1.0.3", successful=False)

    removed = removed_by(journal, 1)

    assert removed == [1, 3]
    assert ids(journal.entries()) == [2, 4]


def test_the_newest_deployment_is_kept_even_when_nothing_succeeded(journal: Journal) -> None:
    for n in range(3):
        deploy(journal, f"1.0.{n}", successful=False)

    removed = removed_by(journal, 2)

    assert removed == [1, 2]
    assert ids(journal.entries()) == [3]


def test_retention_never_removes_the_protected_directory(journal: Journal) -> None:
    oldest = deploy(journal, "1.0.0")
    for n in range(1, 4):
        deploy(journal, f"1.0.{n}")

    removed = removed_by(journal, 1, protect=Path(oldest.extracted_to))

    assert removed == [2, 3]
    assert Path(oldest.extracted_to).is_dir()


def test_keep_zero_or_less_keeps_everything(journal: Journal) -> None:
    for n in range(3):
        deploy(journal, f"1.0.{n}", successful=n != 1)

    assert removed_by(journal, 0) == []
    assert removed_by(journal, -1) == []
    assert ids(journal.entries()) == [1, 2, 3]


def test_retention_touches_only_its_own_set(journal: Journal) -> None:
    other = [deploy(journal, f"2.0.{n}", retention_set="Shop/Other") for n in range(3)]
    deploy(journal, "1.0.0")
    deploy(journal, "1.0.1")

    removed = removed_by(journal, 1)

    assert removed == [4]
    assert all(Path(d.extracted_to).is_dir() for d in other)
    assert ids(journal.entries()) == [1, 2, 3, 5]


def test_a_directory_shared_with_a_kept_deployment_is_not_deleted(journal: Journal) -> None:
    first = deploy(journal, "1.0.0")
    again = journal.record(**{**_fields(first), "version": "1.0.0-again"})

    removed_same_set = removed_by(journal, 1)
    elsewhere = journal.record(**{**_fields(first), "retention_set": "Shop/Other"})
    deploy(journal, "1.0.1")
    removed_other_set = removed_by(journal, 1)

    assert removed_same_set == [first.id]
    assert removed_other_set == [again.id]
    assert Path(first.extracted_to).is_dir()  # the other set's deployment still uses it
    assert elsewhere in journal.entries()


def test_a_directory_shared_by_removed_deployments_is_deleted_once(journal: Journal) -> None:
    first = deploy(journal, "1.0.0")
    journal.record(**{**_fields(first), "version": "1.0.0-again"})
    deploy(journal, "1.0.1")

    removed = removed_by(journal, 1)

    assert removed == [1, 2]
    assert not Path(first.extracted_to).exists()


def _fields(deployment: Deployment) -> dict[str, Any]:
    return {k: v for k, v in deployment.to_json().items() if k not in ("id", "installed_on")}


def test_a_directory_containing_a_kept_one_is_not_deleted(journal: Journal) -> None:
    outer = deploy(journal, "1.0.0")
    inner = Path(outer.extracted_to, "nested")
    inner.mkdir()
    journal.record(**{**_fields(outer), "retention_set": "Shop/Other", "extracted_to": inner})
    deploy(journal, "1.0.1")

    removed = removed_by(journal, 1)

    assert removed == [outer.id]
    assert inner.is_dir()


def test_retention_never_deletes_outside_the_root(journal: Journal, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    (outside / "keep.txt").parent.mkdir(parents=True)
    (outside / "keep.txt").write_text("mine")
    journal.record(**{**_fields(deploy(journal, "0.9.0")), "extracted_to": outside})
    journal.forget({1})
    journal.record(**{**_fields(deploy(journal, "0.9.1")), "extracted_to": journal.root})
    deploy(journal, "1.0.0")
    warnings: list[str] = []

    removed = removed_by(journal, 1, warn=warnings.append)

    assert removed == [2, 3, 4]
    assert (outside / "keep.txt").read_text() == "mine"
    assert journal.root.is_dir() and journal.path.is_file()
    assert warnings == [
        f"not deleting {outside} of deployment 2 (web 0.9.0): it is outside the applications "
        f"root {journal.root}",
        f"not deleting {journal.root} of deployment 4 (web 0.9.1): it is outside the "
        f"applications root {journal.root}",
    ]


def test_a_symlinked_directory_is_deleted_as_a_link_only(journal: Journal, tmp_path: Path) -> None:
    target = tmp_path / "real"
    target.mkdir()
    (target / "data.txt").write_text("precious")
    link = journal.root / "link"
    journal.root.mkdir()
    link.symlink_to(target, target_is_directory=True)
    journal.record(**{**_fields(deploy(journal, "0.9.0")), "extracted_to": link})
    deploy(journal, "1.0.0")

    removed = removed_by(journal, 1)

    assert removed == [1, 2]
    assert not link.exists() and not link.is_symlink()
    assert (target / "data.txt").read_text() == "precious"


def test_a_directory_already_gone_is_fine(journal: Journal) -> None:
    gone = deploy(journal, "1.0.0")
    deploy(journal, "1.0.1")
    fsutil.remove_tree(Path(gone.extracted_to))

    assert removed_by(journal, 1) == [gone.id]


def test_a_directory_that_cannot_be_deleted_stays_in_the_journal(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    stuck = deploy(journal, "1.0.0")
    deploy(journal, "1.0.1")
    deploy(journal, "1.0.2")

    real_remove_tree = fsutil.remove_tree

    def refuse(path: Path) -> None:
        if path == Path(stuck.extracted_to):
            raise PermissionError(13, "Permission denied")
        real_remove_tree(path)

    monkeypatch.setattr(deployments.fsutil, "remove_tree", refuse)
    warnings: list[str] = []
    removed = removed_by(journal, 1, warn=warnings.append)
    monkeypatch.undo()
    retried = removed_by(journal, 1)

    assert removed == [2]
    assert warnings == [
        f"could not delete {stuck.extracted_to} of deployment 1 (web 1.0.0): Permission denied; "
        "it stays in the journal and retention will try again"
    ]
    assert retried == [1]
    assert ids(journal.entries()) == [3]


# --- sensitive lines -------------------------------------------------------------------------


def test_sensitive_lines_are_found_in_configuration_files_only(tmp_path: Path) -> None:
    files = {
        "web.config": f'<a/>\n<add key="db" value="{SECRET.replace("&", "&amp;")}" />\n<b/>\n',
        "conf/appsettings.json": f'{{\n  "Db": "x",\n  "Password": "{SECRET}"\n}}\n',
        "quoted.json": '{"Token": "say \\"hi\\""}\n',
        ".env": f"A=1\r\nB={SECRET}\r\nC=3\r\n",
        "deploy.sh": f"echo {SECRET}\n",
        "clean.yaml": "nothing: here\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(text.encode("utf-8"))
    (tmp_path / "utf16.ini").write_bytes(f"[s]\nkey={SECRET}\n".encode("utf-16"))

    found = sensitive_lines(tmp_path, [SECRET, "", 'say "hi"'])

    assert found == {
        "web.config": (2,),
        "conf/appsettings.json": (3,),
        "quoted.json": (1,),
        ".env": (2,),
        "utf16.ini": (2,),
    }


def test_each_line_of_a_multi_line_secret_is_sensitive(tmp_path: Path) -> None:
    (tmp_path / "key.yml").write_text(
        "key: |\n  -----BEGIN-----\n  abcdef\n  -----END-----\nx: 1\n"
    )

    found = sensitive_lines(tmp_path, ["-----BEGIN-----\nabcdef\n-----END-----"])

    assert found == {"key.yml": (2, 3, 4)}


def test_no_values_find_no_lines(tmp_path: Path) -> None:
    (tmp_path / "a.config").write_text("anything\n")

    assert sensitive_lines(tmp_path, ["", "  "]) == {}


# --- diff ------------------------------------------------------------------------------------


def test_diff_shows_added_removed_and_changed_configuration_files(journal: Journal) -> None:
    context = [f"line {n}" for n in range(1, 9)]
    old_settings = "\n".join([*context, "Level=Info", "tail"]) + "\n"
    new_settings = "\n".join([*context, "Level=Debug", "tail"]) + "\n"
    a = deploy(
        journal,
        "1.0.0",
        {
            "settings.ini": old_settings,
            "old.json": "{}\n",
            "same.xml": "<a/>\n",
            "app.dll": b"MZ\0",
        },
    )
    b = deploy(
        journal,
        "1.1.0",
        {
            "settings.ini": new_settings,
            "new.yaml": "a: 1\n",
            "same.xml": "<a/>\n",
            "app.dll": b"MZ\1",
        },
    )

    changes = diff_deployments(a, b)

    assert [(c.path, c.kind) for c in changes] == [
        ("new.yaml", "added"),
        ("old.json", "removed"),
        ("settings.ini", "changed"),
    ]
    assert changes[0].diff == (
        "--- A:new.yaml (deployment 1)",
        "+++ B:new.yaml (deployment 2)",
        "@@ -0,0 +1 @@",
        "+a: 1",
    )
    assert changes[1].diff[-1] == "-{}"
    assert changes[2].diff == (
        "--- A:settings.ini (deployment 1)",
        "+++ B:settings.ini (deployment 2)",
        "@@ -6,5 +6,5 @@",
        " line 6",
        " line 7",
        " line 8",
        "-Level=Info",
        "+Level=Debug",
        " tail",
    )


def test_diff_of_all_files_includes_binaries_with_a_note(journal: Journal) -> None:
    a = deploy(journal, "1.0.0", {"app.dll": b"MZ\0\1", "gone.bin": b"\0", "run.sh": "echo 1\n"})
    b = deploy(
        journal, "1.1.0", {"app.dll": b"MZ\0\2", "new.png": b"\x89PNG\0", "run.sh": "echo 1\n"}
    )

    changes = diff_deployments(a, b, all_files=True)

    assert changes == [
        FileChange(
            "app.dll",
            "changed",
            ("Binary files A:app.dll (deployment 1) and B:app.dll (deployment 2) differ",),
        ),
        FileChange("gone.bin", "removed", ("Binary file A:gone.bin (deployment 1) removed",)),
        FileChange("new.png", "added", ("Binary file B:new.png (deployment 2) added",)),
    ]


def test_utf16_configuration_is_diffed_as_text(journal: Journal) -> None:
    a = deploy(journal, "1.0.0", {"app.config": "<a x='1'/>\n".encode("utf-16")})
    b = deploy(journal, "1.1.0", {"app.config": "<a x='2'/>\n".encode("utf-16")})

    (change,) = diff_deployments(a, b)

    assert change.diff[-2:] == ("-<a x='1'/>", "+<a x='2'/>")


def test_sensitive_lines_are_masked_on_both_sides(journal: Journal) -> None:
    old = f"Server=db1\nPassword={SECRET}\nTimeout=30\n"
    new = "Server=db2\nPassword=n3w-secret\nTimeout=30\n"
    a = deploy(journal, "1.0.0", {"db.properties": old}, secrets=(SECRET,))
    b = deploy(journal, "1.1.0", {"db.properties": new}, secrets=("n3w-secret",))

    (change,) = diff_deployments(a, b)

    assert change.diff[3:] == (
        "-Server=db1",
        "+Server=db2",
        f" {SENSITIVE_LINE}",
        " Timeout=30",
    )
    assert not any(SECRET in line or "n3w-secret" in line for line in change.diff)


def test_a_line_sensitive_on_one_side_is_masked_on_the_other_too(journal: Journal) -> None:
    a = deploy(journal, "1.0.0", {"a.env": f"TOKEN={SECRET}\nX=1\n"}, secrets=(SECRET,))
    b = deploy(journal, "1.1.0", {"a.env": f"TOKEN={SECRET}\nX=2\n"})  # recorded without secrets

    (change,) = diff_deployments(a, b)

    assert all(SECRET not in line for line in change.diff)
    assert f" {SENSITIVE_LINE}" in change.diff


def test_a_change_only_in_sensitive_lines_is_reported_without_values(journal: Journal) -> None:
    a = deploy(journal, "1.0.0", {"a.env": f"TOKEN={SECRET}\n"}, secrets=(SECRET,))
    b = deploy(journal, "1.1.0", {"a.env": "TOKEN=rotated\n"}, secrets=("rotated",))

    (change,) = diff_deployments(a, b)

    assert change == FileChange(
        "a.env",
        "changed",
        (
            "A:a.env (deployment 1) and B:a.env (deployment 2) differ only in sensitive lines, "
            "which are not shown",
        ),
    )


def test_a_change_only_in_line_endings_is_reported(journal: Journal) -> None:
    a = deploy(journal, "1.0.0", {"a.cfg": b"x=1\ny=2\n"})
    b = deploy(journal, "1.1.0", {"a.cfg": b"x=1\r\ny=2\r\n"})

    (change,) = diff_deployments(a, b)

    assert change.diff == (
        "A:a.cfg (deployment 1) and B:a.cfg (deployment 2) differ only in line endings or encoding",
    )


def test_identical_deployments_have_no_changes(journal: Journal) -> None:
    files: dict[str, str | bytes] = {"a.toml": "x = 1\n", "bin/tool": b"\0\1"}
    a = deploy(journal, "1.0.0", files)
    b = deploy(journal, "1.0.0", files)

    assert diff_deployments(a, b, all_files=True) == []
    assert Path(b.extracted_to).name == "1.0.0_1"


def test_diff_refuses_a_deployment_whose_directory_is_gone(journal: Journal) -> None:
    a = deploy(journal, "1.0.0")
    b = deploy(journal, "1.1.0")
    fsutil.remove_tree(Path(a.extracted_to))

    with pytest.raises(StepsError) as raised:
        diff_deployments(a, b)

    assert str(raised.value) == (
        f"the files of deployment 1 (web 1.0.0) are gone: {a.extracted_to} no longer exists; "
        "it was removed by retention or by hand; pick a deployment that still has its "
        "directory (`steps deployments list`)"
    )


def test_configuration_suffixes_are_matched_case_insensitively(tmp_path: Path) -> None:
    (tmp_path / "Web.Config").write_text(f"x={SECRET}\n")
    (tmp_path / "notes.txt").write_text(f"x={SECRET}\n")

    assert sensitive_lines(tmp_path, [SECRET]) == {"Web.Config": (1,)}
