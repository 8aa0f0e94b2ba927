"""``steps registry site``: a registry as a static HTML catalogue (docs/catalogue.md).

The catalogue is plain files with relative links: ``index.html`` (every template, searched
in the browser from data embedded in the page, since a page opened from file:// cannot
fetch), ``templates/<name>.html`` per template, ``style.css`` and ``catalogue.js``. The
index is untrusted: every text from it is escaped, and links are made only to http(s)
URLs. The same index and scripts give the same bytes. The directory is written beside its
destination and renamed into place, so a half-written catalogue is never served.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, partial
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from steptemplates import fsutil, parallel
from steptemplates.errors import StepsError
from steptemplates.registries import config, fetch
from steptemplates.registries import index as registry_index
from steptemplates.registries.index import IndexEntry, IndexSource, RegistryIndex
from steptemplates.registries.refs import template_ref
from steptemplates.resolve import lock_and_load
from steptemplates.templates import Template
from steptemplates.versions import caret_range_for

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

    from steptemplates.manifest import Manifest
    from steptemplates.sources import SourceContext

GENERATOR = "steps registry site"
ASSETS = ("style.css", "catalogue.js")
_GENERATOR_META = f'<meta name="generator" content="{GENERATOR}">'
_REPLACE_HINT = "choose a new or empty directory: steps replaces only a catalogue it wrote"


@dataclass(frozen=True)
class SiteInput:
    """An index and what ``git = "."`` stands for in it."""

    index: RegistryIndex
    repository: str | None  # the git URL of the registry's own repository, when known
    registry: str  # how messages name the registry: its configured name or its file


@dataclass(frozen=True)
class ShownScript:
    version: str  # the version it is the script of, or "branch NAME"
    syntax: str
    file: str | None  # the script file inside the template; None for an inline script
    body: str


@dataclass(frozen=True)
class ScriptOutcome:
    script: ShownScript | None = None
    problem: str | None = None  # why it could not be loaded; None when it was


@dataclass(frozen=True)
class SiteResult:
    directory: Path
    templates: int
    unavailable: tuple[str, ...]  # templates whose script could not be loaded


# --- the index ------------------------------------------------------------------------------


def index_at(path: Path | None, cwd: Path) -> SiteInput:
    """The index ``--index`` names (a file, or a directory holding index.toml), else
    ./registry/index.toml or ./index.toml."""
    if path is None:
        candidates = [cwd / "registry" / registry_index.FILE_NAME, cwd / registry_index.FILE_NAME]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise StepsError(
                f"no registry/{registry_index.FILE_NAME} or {registry_index.FILE_NAME} in {cwd}",
                hint="pass --index PATH or --registry NAME, or build one with "
                "`steps registry build`",
            )
        path = found
    elif path.is_dir():
        path = path / registry_index.FILE_NAME
    if not path.is_file():
        raise StepsError(f"{path} does not exist", hint="pass the index.toml of a registry")
    return SiteInput(registry_index.load(path), git_repository_of(path.parent), str(path))


def git_repository_of(directory: Path) -> str | None:
    """The file:// URL of the git work tree holding ``directory``, if any."""
    for candidate in (directory.resolve(), *directory.resolve().parents):
        if (candidate / ".git").exists():
            return candidate.as_uri()
    return None


def configured_index(name: str, manifest: Manifest | None, context: SourceContext) -> SiteInput:
    """The index of the registry configured as ``name`` (steps.toml or the user config)."""
    location = config.select(config.configured(manifest), name)[name]
    fetched = fetch.fetch_index(location, context)
    return SiteInput(fetched.index, fetched.repository, name)


# --- scripts --------------------------------------------------------------------------------


def load_scripts(
    site: SiteInput, context: SourceContext, directory: Path
) -> dict[str, ScriptOutcome]:
    """The script of each template's newest version (or its branch head), through the
    template's own source; a template that cannot be loaded gets the reason instead."""
    entries = site.index.entries
    jobs = [partial(_load_script, entry, site, context, directory) for entry in entries]
    return {e.name: outcome for e, outcome in zip(entries, parallel.run_all(jobs), strict=True)}


def _load_script(
    entry: IndexEntry, site: SiteInput, context: SourceContext, directory: Path
) -> ScriptOutcome:
    newest = entry.newest
    try:
        if newest is None:
            ref = template_ref(entry, repository=site.repository, registry=site.registry)
        else:
            prerelease = newest.parsed.is_prerelease
            ref = template_ref(
                entry,
                version=newest.version,
                prerelease=prerelease,
                repository=site.repository,
                registry=site.registry,
            )
        _locked, loaded = lock_and_load(ref, context, directory)
    except StepsError as error:
        return ScriptOutcome(problem=error.message)
    if not isinstance(loaded, Template):
        return ScriptOutcome(problem="the source holds no template")
    version = newest.version if newest else (f"branch {entry.branch}" if entry.branch else "")
    script = loaded.script
    return ScriptOutcome(ShownScript(version, script.syntax, script.file, script.body))


# --- writing --------------------------------------------------------------------------------


def write_site(
    site: SiteInput, out: Path, context: SourceContext, *, scripts: bool = True
) -> SiteResult:
    """Write the catalogue of ``site`` into ``out``, replacing an earlier catalogue there."""
    check_replaceable(out)
    outcomes = load_scripts(site, context, out.parent) if scripts else {}
    unavailable = tuple(name for name, o in sorted(outcomes.items()) if o.problem is not None)
    for name in unavailable:
        context.console.warning(
            f"the script of template '{name}' is unavailable (its page says so): "
            f"{outcomes[name].problem}"
        )
    files = render_site(site, outcomes)
    publish(out, files)
    return SiteResult(out, len(site.index.entries), unavailable)


def check_replaceable(out: Path) -> None:
    """Refuse to replace a file, or a directory holding anything but an earlier catalogue."""
    if out.exists() and not out.is_dir():
        raise StepsError(f"{out} is a file, not a directory", hint=_REPLACE_HINT)
    if not out.is_dir() or not any(out.iterdir()):
        return
    page = out / "index.html"
    try:
        written_here = _GENERATOR_META in page.read_text(encoding="utf-8", errors="replace")
    except OSError:
        written_here = False
    if not written_here:
        raise StepsError(f"{out} is not empty and holds no catalogue", hint=_REPLACE_HINT)


def publish(out: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` into a directory beside ``out``, then rename it into place."""
    parent = out.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".new", dir=parent))
    except OSError as error:
        raise StepsError(f"cannot write {out}: {error.strerror or error}") from None
    try:
        _write_files(staging, files)
        _swap(staging, out)
    except OSError as error:
        raise StepsError(
            f"cannot write {out}: {error.strerror or error}",
            hint="check that its directory is writable and the disk has room",
        ) from None
    finally:
        fsutil.remove_tree(staging)


def _write_files(staging: Path, files: Mapping[str, bytes]) -> None:
    # mkdtemp makes a private directory; a static host must be able to read it.
    os.chmod(staging, 0o777 & ~_umask())
    for relpath, data in sorted(files.items()):
        target = staging / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _swap(staging: Path, out: Path) -> None:
    if not out.exists():
        os.replace(staging, out)
        return
    retired = out.with_name(f".{out.name}.old-{os.getpid()}")
    fsutil.remove_tree(retired)
    os.replace(out, retired)
    try:
        os.replace(staging, out)
    except OSError:
        os.replace(retired, out)  # put the earlier catalogue back
        raise
    fsutil.remove_tree(retired)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


# --- pages ----------------------------------------------------------------------------------


def render_site(site: SiteInput, scripts: Mapping[str, ScriptOutcome]) -> dict[str, bytes]:
    """Every file of the catalogue by relative path; a pure function of its arguments."""
    entries = sorted(site.index.entries, key=lambda e: e.name)
    files = {name: _asset(name) for name in ASSETS}
    files["index.html"] = render_index_page(site.index, entries).encode("utf-8")
    for entry in entries:
        page = render_template_page(site, entry, scripts.get(entry.name))
        files[f"templates/{entry.name}.html"] = page.encode("utf-8")
    return files


def _asset(name: str) -> bytes:
    return resources.files("steptemplates.registries").joinpath("site_assets", name).read_bytes()


def render_index_page(index: RegistryIndex, entries: list[IndexEntry]) -> str:
    title = index.name or "Templates"
    body = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="lead">{_e(index.description)}</p>' if index.description else "",
        _search_form(entries),
        f'<p id="count" class="count" aria-live="polite">{_count(len(entries))}</p>',
        '<ol id="results" class="results">',
        *(_result_item(entry) for entry in entries),
        "</ol>",
        '<p id="no-results" class="empty" hidden>No template matches. '
        "Try fewer or shorter words.</p>",
        '<script type="application/json" id="catalogue-data">'
        f"{_json_for_script(_search_data(entries))}</script>",
    ]
    return _page(title, "", "".join(f"{part}\n" for part in body if part), home=title)


def _search_form(entries: list[IndexEntry]) -> str:
    categories = Counter(entry.category for entry in entries)
    options = [f'<option value="">All categories ({len(entries)})</option>']
    for category in sorted(categories):
        options.append(
            f'<option value="c:{_e(category)}">{_e(_category_label(category))} '
            f"({categories[category]})</option>"
        )
    return (
        '<form class="search" role="search" action="#">\n'
        '<input id="search" type="search" name="q" autocomplete="off" autofocus '
        'placeholder="Search by name, description, category or parameter" '
        'aria-label="Search templates">\n'
        '<select id="category" name="category" aria-label="Category">\n'
        + "\n".join(options)
        + "\n</select>\n</form>"
    )


def _count(shown: int) -> str:
    return f"{shown} template" + ("" if shown == 1 else "s")


def _result_item(entry: IndexEntry) -> str:
    newest = entry.newest
    version = newest.version if newest else (f"branch {entry.branch}" if entry.branch else "")
    return (
        f'<li class="result" data-name="{_e(entry.name)}">'
        f'<a class="name" href="{_template_href(entry.name)}">{_e(entry.name)}</a> '
        f'<span class="category">{_e(_category_label(entry.category))}</span> '
        + (f'<span class="version">{_e(version)}</span>' if version else "")
        + f'<p class="summary">{_e(_summary(entry.description))}</p></li>'
    )


def _search_data(entries: list[IndexEntry]) -> list[dict[str, object]]:
    return [
        {
            "name": entry.name,
            "description": entry.description,
            "category": entry.category,
            "parameters": [" ".join(filter(None, (p.name, p.label))) for p in entry.parameters],
        }
        for entry in entries
    ]


def render_template_page(site: SiteInput, entry: IndexEntry, outcome: ScriptOutcome | None) -> str:
    newest = entry.newest
    facts = [f'<span class="category">{_e(_category_label(entry.category))}</span>']
    if newest is not None:
        facts.append(f'<span class="version">{_e(newest.version)}</span>')
    body = [
        f'<h1 id="name">{_e(entry.name)}</h1>',
        f'<p class="facts">{" ".join(facts)}</p>',
        f'<div class="description">{_markdown(entry.description)}</div>',
        _add_section(entry),
        _parameters_section(entry),
        _versions_section(entry),
        _source_section(site, entry),
        _script_section(entry, outcome),
    ]
    home = site.index.name or "Templates"
    return _page(f"{entry.name} · {home}", "../", "".join(f"{p}\n" for p in body), home=home)


def _add_section(entry: IndexEntry) -> str:
    lines = [f"steps add {entry.name}"]
    newest = entry.newest
    if newest is not None:
        lines.append(f"steps add {entry.name}@{caret_range_for(newest.parsed)}")
    commands = "".join(
        f'<div class="command"><code>{_e(line)}</code>'
        '<button type="button" class="copy">Copy</button></div>\n'
        for line in lines
    )
    return f'<section id="add">\n<h2>Add it to a project</h2>\n{commands}</section>'


def _parameters_section(entry: IndexEntry) -> str:
    if not entry.parameters:
        return '<section id="parameters">\n<h2>Parameters</h2>\n<p>None.</p>\n</section>'
    rows = []
    for p in entry.parameters:
        kind = p.type + (": " + ", ".join(p.options) if p.options else "")
        default = f"<code>{_e(p.default)}</code>" if p.default else ""
        rows.append(
            f"<tr><td><code>{_e(p.name)}</code></td><td>{_e(p.label)}</td>"
            f"<td>{_e(kind)}</td><td>{'yes' if p.required else 'no'}</td>"
            f"<td>{default}</td><td>{_markdown(p.help)}</td></tr>"
        )
    head = (
        "<thead><tr><th>Name</th><th>Label</th><th>Type</th><th>Required</th>"
        "<th>Default</th><th>Help</th></tr></thead>"
    )
    table = (
        f'<table class="parameters">\n{head}\n<tbody>\n' + "\n".join(rows) + "\n</tbody>\n</table>"
    )
    return f'<section id="parameters">\n<h2>Parameters</h2>\n{table}\n</section>'


def _versions_section(entry: IndexEntry) -> str:
    if not entry.versions:
        followed = f"the branch <code>{_e(entry.branch)}</code>" if entry.branch else "a branch"
        own = (
            f" (template version {entry.template_version})"
            if entry.template_version is not None
            else ""
        )
        text = f"<p>No released versions: follows {followed}{own}.</p>"
        return f'<section id="versions">\n<h2>Versions</h2>\n{text}\n</section>'
    rows = []
    for v in entry.versions:
        date = v.published.strftime("%Y-%m-%d") if v.published else ""
        rows.append(
            f"<tr><td>{_e(v.version)}</td><td>{date}</td><td>{_e(v.tag or '')}</td>"
            f'<td class="notes">{_e(v.notes)}</td></tr>'
        )
    table = (
        '<table class="versions">\n<thead><tr><th>Version</th><th>Published</th><th>Tag</th>'
        "<th>Notes</th></tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"
    )
    return f'<section id="versions">\n<h2>Versions</h2>\n{table}\n</section>'


def _source_section(site: SiteInput, entry: IndexEntry) -> str:
    facts: list[tuple[str, str]] = [("Source", _source_html(entry.source, site.repository))]
    if entry.source.subdir:
        facts.append(("Folder", f"<code>{_e(entry.source.subdir)}</code>"))
    if entry.source.template:
        facts.append(("Template file", f"<code>{_e(entry.source.template)}</code>"))
    facts.append(("Format", _e(entry.format)))
    if entry.maintainers:
        facts.append(("Maintainers", "<br>".join(_e(m) for m in entry.maintainers)))
    modules = ", ".join(f"<code>{_e(m)}</code>" for m in entry.modules)
    facts.append(("Script modules", modules or "none"))
    rows = "".join(f"<dt>{term}</dt><dd>{value}</dd>\n" for term, value in facts)
    return f'<section id="source">\n<h2>Source</h2>\n<dl class="facts">\n{rows}</dl>\n</section>'


def _source_html(source: IndexSource, repository: str | None) -> str:
    from steptemplates.git import redact_url

    if source.kind == "git":
        url = repository if source.same_repository else source.location
        if url is None:
            return "git: the registry's own repository"
        return "git " + _link(redact_url(url))
    if source.kind == "github":
        return "GitHub " + _link(f"https://github.com/{source.location}", source.location)
    if source.kind == "nuget":
        return f"NuGet package <code>{_e(source.id or '')}</code> on " + _link(
            redact_url(source.location)
        )
    return "archive " + _link(redact_url(source.location))


def _link(url: str, text: str | None = None) -> str:
    """A link only to a web address: an index could hold a javascript: or file: URL."""
    shown = _e(text or url)
    if urlsplit(url).scheme not in ("http", "https"):
        return f"<code>{shown}</code>"
    return f'<a href="{_e(url)}" rel="nofollow noopener">{shown}</a>'


def _script_section(entry: IndexEntry, outcome: ScriptOutcome | None) -> str:
    heading = "<h2>Script</h2>"
    if outcome is None:
        note = "<p>Scripts are not included in this catalogue.</p>"
        return f'<section id="script">\n{heading}\n{note}\n</section>'
    if outcome.script is None:
        note = (
            '<p class="unavailable">The script is unavailable: it could not be loaded from '
            "the template's source when this catalogue was written.</p>"
        )
        return f'<section id="script">\n{heading}\n{note}\n</section>'
    script = outcome.script
    parts = (script.file or "inline script", script.syntax, script.version)
    label = " · ".join(_e(part) for part in parts if part)
    return (
        f'<section id="script">\n{heading}\n<p class="script-label">{label}</p>\n'
        f'<pre><code class="language-{_e(script.syntax)}">{_e(script.body)}</code></pre>\n'
        "</section>"
    )


def _page(title: str, root: str, main: str, *, home: str) -> str:
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"{_GENERATOR_META}\n<title>{_e(title)}</title>\n"
        f'<link rel="stylesheet" href="{root}style.css">\n</head>\n<body>\n'
        f'<header class="site"><a href="{root}index.html">{_e(home)}</a>'
        ' <span class="tagline">step templates</span></header>\n'
        f"<main>\n{main}</main>\n"
        '<footer class="site">Written by <code>steps registry site</code>.</footer>\n'
        f'<script src="{root}catalogue.js"></script>\n</body>\n</html>\n'
    )


# --- text -----------------------------------------------------------------------------------


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _template_href(name: str) -> str:
    return f"templates/{quote(name)}.html"


def _category_label(category: str) -> str:
    return category or "uncategorised"


def _summary(description: str) -> str:
    """The first paragraph on one line, for the result list."""
    first = description.strip().split("\n\n", 1)[0]
    return " ".join(first.split())


def _json_for_script(data: object) -> str:
    # Inside <script>, "</script>" or "<!--" in a description would end or confuse the
    # element: JSON allows those characters escaped, so no text can leave it.
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _markdown(text: str) -> str:
    """Descriptions and help are Markdown (Octopus's are); raw HTML in them stays text."""
    return _markdown_renderer()(text) if text.strip() else ""


@cache
def _markdown_renderer() -> Callable[[str], str]:
    from markdown_it import MarkdownIt  # imported on first use: most commands never render it

    renderer: MarkdownIt = MarkdownIt("commonmark", {"html": False}).enable("table")
    # Images would load from wherever the index says, from every visitor's browser.
    renderer.disable("image")
    return renderer.render
