"""The catalogue in a real browser: search as you type, follow a result, read the template
page, from a file:// URL and from a static web server. Screenshots go to test-artifacts/."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from steptemplates.registries import index
from steptemplates.registries.index import (
    IndexEntry,
    IndexParameter,
    IndexSource,
    IndexVersion,
    RegistryIndex,
)
from tests.support.gitserver import make_repo
from tests.support.httpserver import StaticServer
from tests.support.projects import Steps

WAIT_SCRIPT = 'until nc -z "$Host" "$Port"; do sleep 1; done  # <waits> & retries\n'
HOSTILE = '<img src=x onerror="window.pwned = 1"><script>window.pwned = 2</script>'

# name -> (description, category, parameters as (name, label, required, default), script)
TEMPLATES = {
    "greet": (
        "Says hello to someone." + HOSTILE,
        "demo",
        (("Greeting", "Greeting", False, "hello"), ("Target", "Who", True, None)),
        "echo hello\n",
    ),
    "http-check": (
        "Requests a URL until it answers, on any port.",
        "net",
        (("Url", "URL", True, None),),
        'curl --fail "$Url"\n',
    ),
    "wait-for-port": (
        "Waits until a TCP port accepts connections.",
        "net",
        (
            ("Host", "Host name", True, None),
            ("Port", "Port", True, "443"),
            ("TimeoutSeconds", "Timeout (seconds)", False, "60"),
        ),
        WAIT_SCRIPT,
    ),
}

_MANIFEST = """\
name = "{name}"
description = "{name}"
category = "test"

[script]
syntax = "bash"
file = "run.sh"
"""


def _entry(name: str) -> IndexEntry:
    description, category, parameters, _script = TEMPLATES[name]
    return IndexEntry(
        name=name,
        description=description,
        category=category,
        source=IndexSource("git", ".", subdir=f"templates/{name}"),
        maintainers=("Platform team <platform@example.com>",),
        versions=(
            IndexVersion("1.2.0", "v1.2.0", None, datetime(2026, 5, 2, tzinfo=UTC), "Faster."),
            IndexVersion("1.0.0", "v1.0.0", None, datetime(2026, 3, 1, tzinfo=UTC), "First."),
        ),
        parameters=tuple(
            IndexParameter(p, label, "text", required, default, f"The {label.lower()}.")
            for p, label, required, default in parameters
        ),
    )


@pytest.fixture
def site(steps: Steps, tmp_path: Path) -> Path:
    """A registry in a git repository whose templates are released as v1.0.0 and v1.2.0,
    written as a catalogue with their scripts."""
    repo = make_repo(tmp_path / "templates")
    for tag in ("v1.0.0", "v1.2.0"):
        for name, (_d, _c, _p, script) in TEMPLATES.items():
            repo.write(f"templates/{name}/steptemplate.toml", _MANIFEST.format(name=name))
            repo.write(f"templates/{name}/run.sh", f"# {tag}\n{script}", mode=0o755)
        repo.commit(f"release {tag}")
        repo.tag(tag, message=tag)
    registry = RegistryIndex("acme", "Acme's templates", tuple(_entry(n) for n in TEMPLATES))
    (repo.path / "registry").mkdir()
    (repo.path / "registry" / "index.toml").write_text(index.render(registry))
    out = tmp_path / "site"
    outcome = steps.ok("registry", "site", str(out), "--index", str(repo.path / "registry"))
    assert outcome.warnings == []
    return out


def _shown(browser: WebDriver) -> list[str]:
    items = browser.find_elements(By.CSS_SELECTOR, "#results li")
    return [str(item.get_attribute("data-name")) for item in items if item.is_displayed()]


def _wait_for(browser: WebDriver, names: list[str]) -> None:
    WebDriverWait(browser, 5).until(lambda _: _shown(browser) == names)


def _parameter_rows(browser: WebDriver) -> list[list[str]]:
    rows = browser.find_elements(By.CSS_SELECTOR, "#parameters tbody tr")
    return [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in rows]


def _save_whole_page(browser: WebDriver, path: Path) -> None:
    """A screenshot of the whole page, not only what the window shows."""
    width, height = browser.get_window_size()["width"], browser.get_window_size()["height"]
    page_height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(width, min(int(page_height) + 150, 4000))
    try:
        browser.save_screenshot(str(path))
    finally:
        browser.set_window_size(width, height)


def _check_wait_for_port_page(browser: WebDriver) -> None:
    assert browser.find_element(By.ID, "name").text == "wait-for-port"
    assert _parameter_rows(browser) == [
        ["Host", "Host name", "text", "yes", "", "The host name."],
        ["Port", "Port", "text", "yes", "443", "The port."],
        ["TimeoutSeconds", "Timeout (seconds)", "text", "no", "60", "The timeout (seconds)."],
    ]
    commands = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#add code")]
    assert commands == ["steps add wait-for-port", "steps add wait-for-port@^1.2.0"]
    script = browser.find_element(By.CSS_SELECTOR, "#script pre code")
    assert script.text == f"# v1.2.0\n{WAIT_SCRIPT}".rstrip("\n")
    # The stylesheet applied: the copy buttons are styled, not the browser's default grey.
    button = browser.find_element(By.CSS_SELECTOR, "button.copy")
    assert button.value_of_css_property("cursor") == "pointer"


def test_search_narrows_the_list_and_leads_to_the_template_page(
    browser: WebDriver, site: Path, artifacts: Path
) -> None:
    browser.get((site / "index.html").as_uri())
    assert browser.execute_script("return window.pwned") is None
    everything = ["greet", "http-check", "wait-for-port"]
    assert _shown(browser) == everything
    search = browser.find_element(By.ID, "search")
    search.send_keys("port")
    # The name match ranks above a mention in a description.
    _wait_for(browser, ["wait-for-port", "http-check"])
    assert browser.find_element(By.ID, "count").text == "2 of 3 templates"
    search.send_keys(" tcp")
    _wait_for(browser, ["wait-for-port"])
    browser.save_screenshot(str(artifacts / "catalogue-search.png"))
    search.send_keys(Keys.ESCAPE)
    _wait_for(browser, everything)
    Select(browser.find_element(By.ID, "category")).select_by_value("c:demo")
    _wait_for(browser, ["greet"])
    Select(browser.find_element(By.ID, "category")).select_by_value("")
    search.send_keys("nothing-like-this")
    _wait_for(browser, [])
    assert browser.find_element(By.ID, "no-results").is_displayed()
    search.clear()
    search.send_keys("wait")
    _wait_for(browser, ["wait-for-port"])

    browser.find_element(By.LINK_TEXT, "wait-for-port").click()
    WebDriverWait(browser, 5).until(lambda b: b.title.startswith("wait-for-port"))
    _check_wait_for_port_page(browser)
    _save_whole_page(browser, artifacts / "catalogue.png")
    assert (artifacts / "catalogue.png").stat().st_size > 0


def test_enter_opens_the_best_match_and_the_copy_button_copies(
    browser: WebDriver, site: Path
) -> None:
    browser.get((site / "index.html").as_uri() + "?q=greeting")
    _wait_for(browser, ["greet"])
    assert browser.execute_script("return window.pwned") is None
    browser.find_element(By.ID, "search").send_keys(Keys.ENTER)
    WebDriverWait(browser, 5).until(lambda b: b.title.startswith("greet"))
    assert browser.execute_script("return window.pwned") is None
    assert HOSTILE in browser.find_element(By.CSS_SELECTOR, ".description").text

    browser.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
    )
    button = browser.find_elements(By.CSS_SELECTOR, "#add button.copy")[1]
    button.click()
    WebDriverWait(browser, 5).until(lambda _: button.text == "Copied")
    copied = browser.execute_async_script(
        "const done = arguments[0]; navigator.clipboard.readText().then(done, e => done(String(e)));"
    )
    assert copied == "steps add greet@^1.2.0"


def test_the_catalogue_works_the_same_from_a_web_server(browser: WebDriver, site: Path) -> None:
    with StaticServer(site) as server:
        browser.get(f"{server.url}/index.html")
        browser.find_element(By.ID, "search").send_keys("port tcp")
        _wait_for(browser, ["wait-for-port"])
        browser.find_element(By.LINK_TEXT, "wait-for-port").click()
        WebDriverWait(browser, 5).until(lambda b: b.title.startswith("wait-for-port"))
        assert browser.current_url == f"{server.url}/templates/wait-for-port.html"
        _check_wait_for_port_page(browser)
        requested = {r.path for r in server.requests}
        assert {"/style.css", "/catalogue.js", "/templates/wait-for-port.html"} <= requested
