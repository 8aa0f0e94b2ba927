"""Path sources: the user's own directory, used in place, checked on every use."""

from __future__ import annotations

from tests.support.projects import Steps, cache_entries

TEMPLATE = 'name = "mine"\n[script]\nsyntax = "bash"\nbody = "echo {text}"\n'


def test_a_path_source_is_read_in_place(steps: Steps) -> None:
    local = steps.directory / "templates" / "mine"
    local.mkdir(parents=True)
    (local / "steptemplate.toml").write_text(TEMPLATE.format(text="one"))
    steps.use(mine={"path": "templates/mine"})
    steps.ok("lock")
    locked = steps.lock_path.read_bytes()

    (local / "steptemplate.toml").write_text(TEMPLATE.format(text="two"))
    shown = steps.ok("show", "mine")

    assert steps.lock()["mine"] == {
        "name": "mine",
        "source": "path",
        "path": "templates/mine",
        "requested": "path",
    }
    assert "source:   templates/mine" in shown.out
    steps.ok("lock")
    assert steps.lock_path.read_bytes() == locked
    assert cache_entries() == {}  # never copied into the cache


def test_a_missing_directory(steps: Steps) -> None:
    steps.use(mine={"path": "nowhere"})

    failed = steps.fails("lock")

    assert failed.error == (
        "template 'mine': directory nowhere does not exist; fix 'path' in steps.toml"
    )


def test_a_directory_without_a_template(steps: Steps) -> None:
    (steps.directory / "empty").mkdir()
    steps.use(mine={"path": "empty"})

    failed = steps.fails("lock")

    assert failed.error == (
        "template 'mine' (empty): no steptemplate.toml or Octopus step template JSON file "
        "found; point the source at the directory holding the template (use --subdir for "
        "git), or name the file with --template"
    )


def test_a_bad_template_names_its_file_and_line(steps: Steps) -> None:
    local = steps.directory / "mine"
    local.mkdir()
    (local / "steptemplate.toml").write_text('name = "x"\n[script]\nsyntax = "cobol"\nbody = ""\n')
    steps.use(mine={"path": "mine"})

    failed = steps.fails("lock")

    assert failed.error.startswith(
        "template 'mine' (mine): steptemplate.toml:3: unsupported script syntax 'cobol'"
    )


def test_sync_after_the_directory_went_away(steps: Steps) -> None:
    local = steps.directory / "mine"
    local.mkdir()
    (local / "steptemplate.toml").write_text(TEMPLATE.format(text="x"))
    steps.use(mine={"path": "mine"})
    steps.ok("lock")
    (local / "steptemplate.toml").unlink()
    local.rmdir()

    failed = steps.fails("sync", "--frozen")

    assert failed.error == (
        "template 'mine': directory mine does not exist; fix 'path' in steps.toml"
    )
