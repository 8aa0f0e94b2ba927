"""`steps list` and `steps show`."""

from __future__ import annotations

from tests.support.gitserver import SmartHttpServer
from tests.support.projects import OTHER, Catalog, Steps


def test_list(steps: Steps, catalog: Catalog) -> None:
    url = catalog.repo.file_url
    steps.write(
        f'[templates.greet]\ngit = "{url}"\nversion = "^1.0"\n\n'
        f'[templates.other]\ngit = "{url}"\nsubdir = "{OTHER}"\nbranch = "develop"\n\n'
        '[[steps]]\nname = "Say hello"\ntemplate = "greet"\n\n'
        '[[steps]]\nname = "Clean up"\ntemplate = "other"\ncondition = "always"\n'
    )
    before = steps.ok("list")
    steps.ok("lock", "--upgrade-template", "greet")

    listed = steps.ok("list")

    assert "(not locked)" in before.out
    assert listed.out.splitlines() == [
        f"TEMPLATE  SOURCE{' ' * (len(url) + len(OTHER) + 3 - 6)}  REQUESTED       LOCKED",
        f"greet     {url}{' ' * (len(OTHER) + 3)}  ^1.0            1.2.7",
        f"other     {url} ({OTHER})  branch=develop  {catalog.develop[:12]}",
        "",
        "PROCESS",
        "  1. Say hello -> greet",
        "  2. Clean up -> other [always]",
    ]


def test_show(steps: Steps, catalog: Catalog, git_http: SmartHttpServer) -> None:
    steps.use(greet={"git": catalog.repo.http_url, "version": "~1.1"})

    unlocked = steps.ok("show", "greet")
    steps.ok("lock")
    shown = steps.ok("show", "greet")
    before = git_http.requests
    offline = steps.ok("show", "greet", "--offline")

    assert "locked:   not locked yet (would lock greet 1.1.0)" in unlocked.out
    assert shown.out.splitlines() == [
        "greet: greet",
        "  Says hello",
        "  category: test",
        "  script:   bash",
        f"  source:   {catalog.repo.http_url}@v1.1.0",
        f"  locked:   greet 1.1.0 at {catalog.commits['v1.1.0']}",
        "  versions: v0.9.0, v1.0.0, v1.1.0, v1.2.0, v1.2.3, v1.2.7, v1.3.0-beta.1, v2.0.0, "
        "v2.1.0-rc.1",
        "",
        "PARAMETER  TYPE  REQUIRED  DEFAULT  LABEL",
        "Greeting   text            hello    Greeting",
    ]
    assert offline.out == shown.out
    assert git_http.requests == before


def test_show_an_unknown_template(steps: Steps, catalog: Catalog) -> None:
    steps.use(greet={"git": catalog.repo.file_url})

    failed = steps.fails("show", "gret")

    assert failed.error == "no template named 'gret' in steps.toml; did you mean greet?"
