"""`steps registry site`: the static catalogue's pages, read back with html.parser."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from steptemplates.registries import index
from steptemplates.registries.index import (
    IndexEntry,
    IndexParameter,
    IndexSource,
    IndexVersion,
    RegistryIndex,
)
from tests.support.gitserver import GitRepo, make_repo
from tests.support.projects import Steps

GREET = """\
name = "greet"
description = "Says hello."
category = "demo"

[[parameters]]
name = "Greeting"
label = "Greeting"
default = "hello"

[[parameters]]
name = "Target"
required = true

[script]
syntax = "bash"
file = "run.sh"
"""

NEWEST_SCRIPT = 'echo "#{Greeting} <b>&amp; friends</b>"\n'
HOSTILE = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'


# --- reading pages --------------------------------------------------------------------------


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def all(self, tag: str | None = None) -> list[Element]:
        found = []
        for child in self.children:
            if isinstance(child, Element):
                if tag is None or child.tag == tag:
                    found.append(child)
                found.extend(child.all(tag))
        return found

    def by_id(self, ident: str) -> Element:
        matches = [e for e in self.all() if e.attrs.get("id") == ident]
        assert len(matches) == 1, f"{len(matches)} elements with id {ident!r}"
        return matches[0]

    def rows(self) -> list[list[str]]:
        """A table's body rows as cell texts."""
        return [[cell.text().strip() for cell in row.all("td")] for row in self.all("tr")[1:]]


_VOID = {"meta", "link", "input", "br", "img", "hr", "source", "wbr"}


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.open[-1].children.append(element)
        if tag not in _VOID:
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        assert self.open[-1].tag == tag, f"</{tag}> closes <{self.open[-1].tag}>"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.open[-1].children.append(data)


def read_page(path: Path) -> Element:
    builder = _TreeBuilder()
    builder.feed(path.read_text(encoding="utf-8"))
    builder.close()
    assert builder.open == [builder.root], "unclosed elements"
    return builder.root


# --- registries to publish ------------------------------------------------------------------


def template_repo(path: Path) -> GitRepo:
    """A repository with templates/greet released as v1.0.0 and v1.1.0."""
    repo = make_repo(path)
    repo.write("templates/greet/steptemplate.toml", GREET)
    repo.write("templates/greet/run.sh", "echo first\n", mode=0o755)
    repo.commit("greet 1.0.0")
    repo.tag("v1.0.0", message="First release")
    repo.write("templates/greet/run.sh", NEWEST_SCRIPT, mode=0o755)
    repo.commit("greet 1.1.0")
    repo.tag("v1.1.0", message="Friends")
    return repo


def greet_entry(**changes: object) -> IndexEntry:
    fields: dict[str, object] = {
        "name": "greet",
        "description": "Says hello.\n\nTo **anyone** listening.",
        "category": "demo",
        "source": IndexSource("git", ".", subdir="templates/greet"),
        "maintainers": ("Platform team <platform@example.com>",),
        "versions": (
            IndexVersion("1.1.0", "v1.1.0", None, datetime(2026, 5, 2, 8, tzinfo=UTC), "Friends"),
            IndexVersion("1.0.0", "v1.0.0", None, datetime(2026, 4, 1, 8, tzinfo=UTC), "First"),
        ),
        "parameters": (
            IndexParameter("Greeting", "Greeting", "text", False, "hello", "What to say."),
            IndexParameter("Target", "", "text", True, None, ""),
        ),
        "modules": ("Retry ^1",),
    }
    fields.update(changes)
    return IndexEntry(**fields)  # type: ignore[arg-type]


def other_entry(name: str, category: str = "net", **changes: object) -> IndexEntry:
    fields: dict[str, object] = {
        "name": name,
        "description": f"{name} does its job.",
        "category": category,
        "source": IndexSource("github", "acme/templates", subdir=name),
        "versions": (IndexVersion("0.3.0"),),
    }
    fields.update(changes)
    return IndexEntry(**fields)  # type: ignore[arg-type]


def write_index(directory: Path, *entries: IndexEntry, name: str = "demo") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "index.toml"
    registry = RegistryIndex(name, "Templates of the demo team", entries)
    path.write_text(index.render(registry), encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return template_repo(tmp_path / "repo")


# --- tests ----------------------------------------------------------------------------------


def test_the_index_page_lists_every_template_with_its_data_for_search(
    steps: Steps, repo: GitRepo, tmp_path: Path
) -> None:
    path = write_index(repo.path / "registry", greet_entry(), other_entry("ping"))
    out = tmp_path / "site"
    outcome = steps.ok("registry", "site", str(out), "--index", str(path), "--no-scripts")
    assert outcome.out.strip() == str(out / "index.html")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "catalogue.js",
        "index.html",
        "style.css",
        "templates/greet.html",
        "templates/ping.html",
    ]
    page = read_page(out / "index.html")
    assert page.all("title")[0].text() == "demo"
    assert page.by_id("search").attrs["type"] == "search"
    items = page.by_id("results").all("li")
    assert [li.attrs["data-name"] for li in items] == ["greet", "ping"]
    links = [li.all("a")[0] for li in items]
    assert [(a.attrs["href"], a.text()) for a in links] == [
        ("templates/greet.html", "greet"),
        ("templates/ping.html", "ping"),
    ]
    assert "Says hello." in items[0].text() and "1.1.0" in items[0].text()
    options = [(o.attrs["value"], o.text()) for o in page.by_id("category").all("option")]
    assert options == [("", "All categories (2)"), ("c:demo", "demo (1)"), ("c:net", "net (1)")]
    data = json.loads(page.by_id("catalogue-data").text())
    assert data[0] == {
        "name": "greet",
        "description": "Says hello.\n\nTo **anyone** listening.",
        "category": "demo",
        "parameters": ["Greeting Greeting", "Target"],
    }
    assert page.by_id("count").text() == "2 templates"


def test_a_template_page_shows_everything_about_the_template_and_its_newest_script(
    steps: Steps, repo: GitRepo, tmp_path: Path
) -> None:
    path = write_index(repo.path / "registry", greet_entry())
    out = tmp_path / "site"
    outcome = steps.ok("registry", "site", str(out), "--index", str(path))
    assert outcome.warnings == []
    page = read_page(out / "templates" / "greet.html")
    assert page.by_id("name").text() == "greet"
    description = page.all("main")[0].all("div")[0]
    assert [p.text() for p in description.all("p")] == ["Says hello.", "To anyone listening."]
    assert description.all("strong")[0].text() == "anyone"
    assert page.by_id("parameters").all("table")[0].rows() == [
        ["Greeting", "Greeting", "text", "no", "hello", "What to say."],
        ["Target", "", "text", "yes", "", ""],
    ]
    assert [c.text() for c in page.by_id("add").all("code")] == [
        "steps add greet",
        "steps add greet@^1.1.0",
    ]
    assert len(page.by_id("add").all("button")) == 2
    assert page.by_id("versions").all("table")[0].rows() == [
        ["1.1.0", "2026-05-02", "v1.1.0", "Friends"],
        ["1.0.0", "2026-04-01", "v1.0.0", "First"],
    ]
    source = [dd.text() for dd in page.by_id("source").all("dd")]
    assert source == [
        f"git {repo.path.resolve().as_uri()}",
        "templates/greet",
        "native",
        "Platform team <platform@example.com>",
        "Retry ^1",
    ]
    script = page.by_id("script")
    assert script.all("p")[0].text() == "run.sh · bash · 1.1.0"
    code = script.all("pre")[0].all("code")[0]
    assert code.text() == NEWEST_SCRIPT  # escaped in the file, the same text once parsed
    assert "&lt;b&gt;&amp;amp; friends&lt;/b&gt;" in (out / "templates/greet.html").read_text()


def test_the_script_comes_from_another_repository_by_its_own_url(
    steps: Steps, repo: GitRepo, tmp_path: Path
) -> None:
    entry = greet_entry(source=IndexSource("git", repo.path.as_uri(), subdir="templates/greet"))
    path = write_index(tmp_path / "elsewhere", entry)
    out = tmp_path / "site"
    steps.ok("registry", "site", str(out), "--index", str(path))
    page = read_page(out / "templates" / "greet.html")
    assert page.by_id("script").all("code")[0].text() == NEWEST_SCRIPT
    assert page.by_id("source").all("dd")[0].text() == f"git {repo.path.as_uri()}"


def test_a_template_that_cannot_be_loaded_is_named_and_the_site_is_still_written(
    steps: Steps, repo: GitRepo, tmp_path: Path
) -> None:
    gone = greet_entry(name="gone", versions=(IndexVersion("9.0.0", "v9.0.0"),))
    path = write_index(repo.path / "registry", greet_entry(), gone)
    out = tmp_path / "site"
    outcome = steps.ok("registry", "site", str(out), "--index", str(path))
    assert len(outcome.warnings) == 1
    assert outcome.warnings[0].startswith("the script of template 'gone' is unavailable")
    assert "9.0.0" in outcome.warnings[0]
    unavailable = read_page(out / "templates" / "gone.html").by_id("script")
    assert "The script is unavailable" in unavailable.text()
    assert unavailable.all("pre") == []
    loaded = read_page(out / "templates" / "greet.html").by_id("script")
    assert loaded.all("code")[0].text() == NEWEST_SCRIPT


def test_a_registry_not_in_git_cannot_load_its_own_repository_templates(
    steps: Steps, tmp_path: Path
) -> None:
    path = write_index(tmp_path / "plain", greet_entry())
    out = tmp_path / "site"
    outcome = steps.ok("registry", "site", str(out), "--index", str(path))
    assert outcome.warnings and "not read from git" in outcome.warnings[0]
    page = read_page(out / "templates" / "greet.html")
    assert page.by_id("source").all("dd")[0].text() == "git: the registry's own repository"


def test_no_scripts_loads_nothing_and_says_so(steps: Steps, tmp_path: Path) -> None:
    unreachable = IndexSource("git", "http://127.0.0.1:9/none.git")
    path = write_index(tmp_path / "plain", greet_entry(source=unreachable))
    out = tmp_path / "site"
    outcome = steps.ok("registry", "site", str(out), "--index", str(path), "--no-scripts")
    assert outcome.warnings == []
    script = read_page(out / "templates" / "greet.html").by_id("script")
    assert "not included" in script.text()


def test_hostile_index_text_is_shown_as_text_and_never_runs(steps: Steps, tmp_path: Path) -> None:
    entry = greet_entry(
        description=HOSTILE + "\n\n[click](javascript:alert(1)) </script><!--",
        category='"><img src=x onerror=alert(1)>',
        maintainers=(HOSTILE,),
        source=IndexSource("git", "javascript:alert(1)//", subdir=HOSTILE),
        versions=(IndexVersion("1.0.0", HOSTILE, None, None, HOSTILE),),
        parameters=(IndexParameter("P", HOSTILE, HOSTILE, False, HOSTILE, HOSTILE),),
        modules=(HOSTILE,),
    )
    path = write_index(tmp_path / "plain", entry, name=HOSTILE)
    out = tmp_path / "site"
    steps.ok("registry", "site", str(out), "--index", str(path), "--no-scripts")
    for file in ("index.html", "templates/greet.html"):
        page = read_page(out / file)
        elements = page.all()
        assert page.all("img") == []
        assert [a for e in elements for a in e.attrs if a.startswith("on")] == []
        scripts = [s.attrs for s in page.all("script")]
        assert all(s.get("type") == "application/json" or "src" in s for s in scripts), scripts
        hrefs = [a.attrs["href"] for a in page.all("a")]
        assert not [h for h in hrefs if "javascript" in h]
        assert HOSTILE in page.text()
    index_page = read_page(out / "index.html")
    data = json.loads(index_page.by_id("catalogue-data").text())
    assert data[0]["description"].startswith(HOSTILE)
    assert "</script>" not in index_page.by_id("catalogue-data").text()
    template = read_page(out / "templates/greet.html")
    assert template.by_id("parameters").all("table")[0].rows()[0][1:5] == [
        HOSTILE,
        HOSTILE,
        "no",
        HOSTILE,
    ]


def test_links_are_relative_or_to_the_web_and_lead_to_written_pages(
    steps: Steps, repo: GitRepo, tmp_path: Path
) -> None:
    entries = (
        greet_entry(),
        other_entry("ping"),
        other_entry(
            "feed-one",
            source=IndexSource("nuget", "https://nuget.example/v3/index.json", id="Acme.One"),
        ),
        other_entry("secret-url", source=IndexSource("url", "https://user:pw@files.example/t.zip")),
    )
    path = write_index(repo.path / "registry", *entries)
    out = tmp_path / "site"
    steps.ok("registry", "site", str(out), "--index", str(path), "--no-scripts")
    external = set()
    for file in out.rglob("*.html"):
        page = read_page(file)
        links = [e.attrs.get("href") or e.attrs.get("src") for e in page.all()]
        for link in filter(None, links):
            parts = urlsplit(link)
            if parts.scheme:
                assert parts.scheme == "https", link
                external.add(link)
            else:
                assert not link.startswith("/"), link
                assert (file.parent / link).resolve().is_file(), f"{file}: {link}"
    assert external == {
        "https://github.com/acme/templates",
        "https://nuget.example/v3/index.json",
        "https://files.example/t.zip",
    }
    assert "pw" not in (out / "templates/secret-url.html").read_text()


def test_the_same_index_gives_the_same_bytes(steps: Steps, repo: GitRepo, tmp_path: Path) -> None:
    path = write_index(repo.path / "registry", greet_entry(), other_entry("ping"))
    first, second = tmp_path / "one", tmp_path / "two"
    steps.ok("registry", "site", str(first), "--index", str(path))
    steps.ok("registry", "site", str(second), "--index", str(path))
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for relpath in files:
        assert (first / relpath).read_bytes() == (second / relpath).read_bytes(), relpath


def test_a_catalogue_is_replaced_whole(steps: Steps, repo: GitRepo, tmp_path: Path) -> None:
    out = tmp_path / "site"
    path = write_index(repo.path / "registry", greet_entry(), other_entry("ping"))
    steps.ok("registry", "site", str(out), "--index", str(path), "--no-scripts")
    write_index(repo.path / "registry", greet_entry())
    steps.ok("registry", "site", str(out), "--index", str(path), "--no-scripts")
    assert not (out / "templates" / "ping.html").exists()
    assert (out / "templates" / "greet.html").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging


def test_a_directory_holding_other_files_is_not_replaced(steps: Steps, tmp_path: Path) -> None:
    path = write_index(tmp_path / "plain", greet_entry())
    out = tmp_path / "docs"
    out.mkdir()
    (out / "notes.md").write_text("mine\n")
    error = steps.fails("registry", "site", str(out), "--index", str(path)).error
    assert error == (
        f"{out} is not empty and holds no catalogue; "
        "choose a new or empty directory: steps replaces only a catalogue it wrote"
    )
    assert (out / "notes.md").read_text() == "mine\n"
    file = tmp_path / "a-file"
    file.write_text("x")
    error = steps.fails("registry", "site", str(file), "--index", str(path)).error
    assert error.startswith(f"{file} is a file, not a directory; ")


def test_the_index_is_found_in_the_current_directory(steps: Steps) -> None:
    write_index(steps.directory / "registry", greet_entry())
    steps.ok("registry", "site", "out", "--no-scripts")
    assert (steps.directory / "out" / "templates" / "greet.html").is_file()
    error = steps.fails("registry", "site", "out", "--index", "missing.toml").error
    assert error == "missing.toml does not exist; pass the index.toml of a registry"


def test_no_index_here_says_where_it_looked(steps: Steps) -> None:
    error = steps.fails("registry", "site", "out").error
    assert error == (
        f"no registry/index.toml or index.toml in {steps.directory}; "
        "pass --index PATH or --registry NAME, or build one with `steps registry build`"
    )


def test_a_malformed_index_is_reported_with_file_and_line(steps: Steps) -> None:
    (steps.directory / "index.toml").write_text(
        'format = 1\nname = "x"\n\n[[template]]\nname = 3\n'
    )
    error = steps.fails("registry", "site", "out").error
    assert error.startswith(f"{steps.directory / 'index.toml'}:5")
    assert not (steps.directory / "out").exists()


def test_offline_scripts_come_from_the_cache_of_an_earlier_run(
    steps: Steps, repo: GitRepo, tmp_path: Path
) -> None:
    entry = greet_entry(source=IndexSource("git", repo.path.as_uri(), subdir="templates/greet"))
    path = write_index(tmp_path / "elsewhere", entry)
    cold = steps.ok("registry", "site", str(tmp_path / "cold"), "--index", str(path), "--offline")
    assert len(cold.warnings) == 1 and "--offline" in cold.warnings[0]
    steps.ok("registry", "site", str(tmp_path / "online"), "--index", str(path))
    warm = steps.ok("registry", "site", str(tmp_path / "warm"), "--index", str(path), "--offline")
    assert warm.warnings == []
    script = read_page(tmp_path / "warm" / "templates" / "greet.html").by_id("script")
    assert script.all("code")[0].text() == NEWEST_SCRIPT


def test_a_configured_registry_is_read_by_its_name(
    steps: Steps, repo: GitRepo, tmp_path: Path
) -> None:
    entry = greet_entry(source=IndexSource("git", repo.path.as_uri(), subdir="templates/greet"))
    write_index(tmp_path / "team-registry", entry, name="team")
    steps.write(f'[registries.team]\npath = "{tmp_path / "team-registry"}"\n')
    out = tmp_path / "site"
    steps.ok("registry", "site", str(out), "--registry", "team")
    page = read_page(out / "templates" / "greet.html")
    assert page.by_id("script").all("code")[0].text() == NEWEST_SCRIPT
    assert read_page(out / "index.html").all("h1")[0].text() == "team"
    error = steps.fails("registry", "site", str(tmp_path / "other"), "--registry", "nope").error
    assert error == "no registry named 'nope' is configured; configured: team"
    assert not (tmp_path / "other").exists()


def test_a_registry_read_from_git_loads_its_own_templates_from_that_repository(
    steps: Steps, repo: GitRepo, tmp_path: Path
) -> None:
    write_index(repo.path / "registry", greet_entry())
    repo.commit("the registry")
    steps.write(f'[registries.team]\ngit = "{repo.path.as_uri()}"\nsubdir = "registry"\n')
    out = tmp_path / "site"
    outcome = steps.ok("registry", "site", str(out), "--registry", "team")
    assert outcome.warnings == []
    page = read_page(out / "templates" / "greet.html")
    assert page.by_id("script").all("code")[0].text() == NEWEST_SCRIPT
    assert page.by_id("source").all("dd")[0].text() == f"git {repo.path.as_uri()}"
