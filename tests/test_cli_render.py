"""`steps render` end to end: inputs, variable sources, scopes, secrets, errors, encodings."""

from __future__ import annotations

import io
import json
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.projects import Steps, steps_env

PASSWORD = "render-pw-5e0b"
SECRET = "s3cr3t-91fd0a"
MASK = "********"
HINT = (
    "define them (steps.toml [variables], --variables, -v) "
    "or run without --strict-variables to leave them as written"
)

PROJECT = """\
[project]
name = "shop"
environments = ["Development", "Production"]
tenants = ["Acme", "Globex"]

[targets.web-01]
roles = ["web", "cache"]

[targets.db-01]
roles = ["db"]

[variables]
Greeting = "hello"
Conn = [
  { value = "dev" },
  { value = "prod", environment = "Production" },
  { value = "web-role", role = "web" },
  { value = "acme", tenant = "Acme" },
]
"""

Feed = Callable[[bytes | str], None]


@pytest.fixture
def stdin(monkeypatch: pytest.MonkeyPatch) -> Feed:
    """Replace stdin with a pipe holding the given text or bytes."""

    def feed(data: bytes | str) -> None:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"))

    feed(b"")
    return feed


@pytest.fixture
def project(steps: Steps, monkeypatch: pytest.MonkeyPatch) -> Steps:
    """A project with scoped variables, declared environments, tenants and targets."""
    monkeypatch.delenv("STEPS_SECRETS_PASSWORD", raising=False)
    steps.write(PROJECT)
    return steps


def write(steps: Steps, name: str, content: bytes | str) -> Path:
    path = steps.directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_bytes(content.encode("utf-8"))
    else:
        path.write_bytes(content)
    return path


def render_process(
    data: bytes, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """``python -m steptemplates render ARGS`` as a separate process, ``data`` on stdin."""
    return subprocess.run(
        [sys.executable, "-m", "steptemplates", "render", *args],
        input=data,
        cwd=cwd,
        env={**steps_env(), **(env or {})},
        capture_output=True,
        timeout=60,
        check=False,
    )


# --- input and output ----------------------------------------------------------------------


def test_renders_a_file_argument(steps: Steps) -> None:
    write(steps, "app.conf", "Hello, #{Name}!\nport=#{Port}\n")
    outcome = steps.ok("render", "app.conf", "-v", "Name=World", "-v", "Port=8080")
    assert outcome.out == "Hello, World!\nport=8080\n"
    assert outcome.err == ""


@pytest.mark.parametrize("arguments", [(), ("-",)], ids=["no-argument", "dash"])
def test_reads_stdin(steps: Steps, stdin: Feed, arguments: tuple[str, ...]) -> None:
    stdin("user=#{User}\n")
    outcome = steps.ok("render", *arguments, "-v", "User=ada")
    assert outcome.out == "user=ada\n"
    assert outcome.err == ""


def test_an_assignment_splits_at_the_first_equals_sign(steps: Steps, stdin: Feed) -> None:
    stdin("#{Conn}|#{Empty}|")
    outcome = steps.ok("render", "-v", "Conn=a=b;c=d", "-v", "Empty=")
    assert outcome.out == "a=b;c=d||"


def test_an_assignment_without_equals_sign_is_refused(steps: Steps, stdin: Feed) -> None:
    stdin("#{Name}")
    outcome = steps.fails("render", "-v", "Name")
    assert outcome.error == "-v expects NAME=VALUE, got 'Name'"
    assert outcome.out == ""


def test_output_file_is_replaced_atomically_and_nothing_goes_to_stdout(steps: Steps) -> None:
    write(steps, "app.conf.template", "env=#{Env}\n")
    target = write(steps, "out/app.conf", "old contents\n")
    target.chmod(0o640)
    outcome = steps.ok("render", "app.conf.template", "-o", "out/app.conf", "-v", "Env=prod")
    assert outcome.out == ""
    assert outcome.err == ""
    assert target.read_bytes() == b"env=prod\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # replaced, keeping its mode
    assert sorted(p.name for p in target.parent.iterdir()) == ["app.conf"]  # no temporary


def test_output_file_is_created_from_stdin(steps: Steps, stdin: Feed) -> None:
    stdin("#{A}-#{B}\n")
    outcome = steps.ok("render", "-", "--output", "new.txt", "-v", "A=1", "-v", "B=2")
    assert outcome.out == ""
    assert (steps.directory / "new.txt").read_bytes() == b"1-2\n"


def test_a_missing_input_file_is_an_error(steps: Steps) -> None:
    outcome = steps.fails("render", "missing.txt", "-o", "out.txt")
    assert outcome.error == "missing.txt: no such file"
    assert outcome.out == ""
    assert not (steps.directory / "out.txt").exists()


def test_a_directory_as_input_is_an_error(steps: Steps) -> None:
    (steps.directory / "conf").mkdir()
    outcome = steps.fails("render", "conf")
    assert outcome.error == "conf: cannot read it (Is a directory)"


# --- variables files and their precedence --------------------------------------------------


@pytest.fixture
def variables_files(steps: Steps) -> None:
    write(
        steps,
        "vars.json",
        json.dumps({"A": "json", "B": "json", "C": "json", "D": "json", "Port": 8080}),
    )
    write(steps, "vars.yaml", "B: yaml\nC: yaml\nDatabase:\n  Host: db.yaml\nEnabled: true\n")
    write(steps, "vars.toml", 'C = "toml"\nRatio = 1.50\n[Smtp]\nHost = "mail"\n')


@pytest.mark.usefixtures("variables_files")
def test_variables_files_of_each_format_later_files_win(steps: Steps, stdin: Feed) -> None:
    stdin("#{A} #{B} #{C} #{D}\n#{Port} #{Database.Host} #{Enabled} #{Ratio} #{Smtp.Host}\n")
    outcome = steps.ok(
        "render", "--variables", "vars.json", "--variables", "vars.yaml", "--variables", "vars.toml"
    )
    assert outcome.out == "json yaml toml json\n8080 db.yaml True 1.5 mail\n"
    assert outcome.err == ""


@pytest.mark.usefixtures("variables_files")
def test_the_order_of_variables_files_decides(steps: Steps, stdin: Feed) -> None:
    stdin("#{A} #{B} #{C}")
    outcome = steps.ok(
        "render", "--variables", "vars.toml", "--variables", "vars.yaml", "--variables", "vars.json"
    )
    assert outcome.out == "json json json"


@pytest.mark.usefixtures("variables_files")
def test_an_assignment_wins_over_variables_files(steps: Steps, stdin: Feed) -> None:
    stdin("#{A} #{C}")
    outcome = steps.ok(
        "render", "-v", "C=cli", "--variables", "vars.json", "--variables", "vars.toml"
    )
    assert outcome.out == "json cli"


def test_a_variables_file_with_invalid_json_is_an_error(steps: Steps, stdin: Feed) -> None:
    write(steps, "vars.json", '{\n  "A": "x"\n  "B": "y"\n}\n')
    stdin("#{A}")
    outcome = steps.fails("render", "--variables", "vars.json")
    assert outcome.error == "vars.json:3:3: invalid JSON: Expecting ',' delimiter"
    assert outcome.out == ""


def test_a_missing_variables_file_is_an_error(steps: Steps, stdin: Feed) -> None:
    stdin("#{A}")
    outcome = steps.fails("render", "--variables", "nowhere.yaml")
    assert "nowhere.yaml" in outcome.error
    assert outcome.out == ""


# --- the project's variables ----------------------------------------------------------------


def test_project_variables_are_used_inside_the_project(project: Steps, stdin: Feed) -> None:
    stdin("#{Greeting} from #{Octopus.Project.Name}: #{Conn}\n")
    outcome = project.ok("render")
    assert outcome.out == "hello from shop: dev\n"
    assert outcome.err == ""


def test_project_variables_are_used_from_a_subdirectory(project: Steps) -> None:
    nested = project.directory / "config" / "app"
    write(project, "config/app/site.conf", "#{Greeting}\n")
    project.directory = nested  # run from below the project's root
    outcome = project.ok("render", "site.conf")
    assert outcome.out == "hello\n"


def test_no_project_ignores_the_project_variables(project: Steps, stdin: Feed) -> None:
    stdin("#{Greeting}|#{Octopus.Project.Name}\n")
    outcome = project("render", "--no-project")
    assert outcome.code == 0
    assert outcome.out == "#{Greeting}|\n"
    assert outcome.warnings == ["unresolved: #{Greeting} at <stdin>:1:1; left as written"]


def test_files_and_assignments_win_over_the_project(project: Steps, stdin: Feed) -> None:
    write(project, "vars.json", '{"Greeting": "from file", "Conn": "file-conn"}')
    stdin("#{Greeting}|#{Conn}")
    assert project.ok("render", "--variables", "vars.json").out == "from file|file-conn"
    stdin("#{Greeting}|#{Conn}")
    outcome = project.ok("render", "--variables", "vars.json", "-v", "Greeting=cli")
    assert outcome.out == "cli|file-conn"


# --- scopes --------------------------------------------------------------------------------

SCOPED = (
    "#{Conn}|#{Octopus.Environment.Name}|#{Octopus.Machine.Roles}|"
    "#{Octopus.Deployment.Tenant.Name}\n"
)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ((), "dev|||\n"),
        (("--environment", "Production"), "prod|Production||\n"),
        (("--environment", "production"), "prod|Production||\n"),  # spelt as declared
        (("--environment", "Development"), "dev|Development||\n"),
        (("--target", "web-01"), "web-role||web,cache|\n"),  # the target's roles
        (("--target", "db-01"), "dev||db|\n"),
        (("--role", "web"), "web-role||web|\n"),
        (("--tenant", "Acme"), "acme|||Acme\n"),
        (("--tenant", "Globex"), "dev|||Globex\n"),
        (("--environment", "Production", "--tenant", "acme"), "acme|Production||Acme\n"),
        (("--environment", "Production", "--target", "web-01"), "web-role|Production|web,cache|\n"),
    ],
)
def test_scoped_values_follow_the_context(
    project: Steps, stdin: Feed, arguments: tuple[str, ...], expected: str
) -> None:
    stdin(SCOPED)
    outcome = project.ok("render", *arguments)
    assert outcome.out == expected
    assert outcome.err == ""


def test_the_target_names_the_machine(project: Steps, stdin: Feed) -> None:
    stdin("#{Octopus.Machine.Name}")
    assert project.ok("render", "--target", "WEB-01").out == "web-01"


def test_a_misspelt_environment_is_refused_with_a_suggestion(project: Steps, stdin: Feed) -> None:
    write(project, "app.conf", "#{Conn}\n")
    outcome = project.fails("render", "app.conf", "--environment", "Prodution", "-o", "out.conf")
    assert outcome.error == (
        "--environment 'Prodution': no such environment in [project] environments of "
        "steps.toml; did you mean 'Production'?"
    )
    assert outcome.out == ""
    assert not (project.directory / "out.conf").exists()


def test_a_misspelt_target_is_refused_with_a_suggestion(project: Steps, stdin: Feed) -> None:
    stdin("#{Conn}")
    outcome = project.fails("render", "--target", "web-1")
    assert outcome.error.startswith("--target 'web-1': ")
    assert outcome.error.endswith("did you mean 'web-01'?")


def test_environment_name_comes_from_the_option_outside_a_project(
    steps: Steps, stdin: Feed
) -> None:
    stdin("deploying to #{Octopus.Environment.Name}\n")
    outcome = steps.ok("render", "--no-project", "--environment", "Staging")
    assert outcome.out == "deploying to Staging\n"


def test_env_prefix_reads_the_environment(
    steps: Steps, stdin: Feed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RENDER_TEST_REGION", "eu-west-1")
    monkeypatch.delenv("RENDER_TEST_UNSET", raising=False)
    stdin("region=#{env:RENDER_TEST_REGION}\nother=#{env:RENDER_TEST_UNSET}\n")
    outcome = steps("render")
    assert outcome.code == 0
    assert outcome.out == "region=eu-west-1\nother=#{env:RENDER_TEST_UNSET}\n"
    assert outcome.warnings == [
        "unresolved: #{env:RENDER_TEST_UNSET} at <stdin>:2:7; left as written"
    ]


# --- secrets -------------------------------------------------------------------------------


@pytest.fixture
def with_secret(project: Steps, stdin: Feed, monkeypatch: pytest.MonkeyPatch) -> Steps:
    """The project with a secret ``Token`` made by `steps secrets set`."""
    monkeypatch.setenv("STEPS_SECRETS_PASSWORD", PASSWORD)
    stdin(SECRET + "\n")
    made = project.ok("secrets", "set", "Token")
    assert SECRET not in made.out + made.err
    assert (project.directory / "steps.secrets").is_file()
    return project


def test_render_uses_the_project_secrets(with_secret: Steps, stdin: Feed) -> None:
    stdin("token=#{Token}\n")
    outcome = with_secret.ok("render")
    assert outcome.out == f"token={SECRET}\n"  # the rendered file needs the real value
    assert outcome.err == ""


def test_a_wrong_password_is_a_clear_error(
    with_secret: Steps, stdin: Feed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEPS_SECRETS_PASSWORD", "not-the-password")
    stdin("token=#{Token}\n")
    outcome = with_secret.fails("render", "-o", "out.txt")
    assert outcome.error.startswith("wrong password for steps.secrets")
    assert "STEPS_SECRETS_PASSWORD" in outcome.error
    assert outcome.out == ""
    assert SECRET not in outcome.err
    assert not (with_secret.directory / "out.txt").exists()


def test_no_project_needs_no_password(
    with_secret: Steps, stdin: Feed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STEPS_SECRETS_PASSWORD")
    stdin("#{Token}")
    outcome = with_secret("render", "--no-project", "-q")
    assert (outcome.code, outcome.out, outcome.err) == (0, "#{Token}", "")


def test_warnings_never_show_a_secret_value(with_secret: Steps, stdin: Feed) -> None:
    stdin(f'#{{Token}}\n#{{Missing | Append "{SECRET}"}}\n#{{Token | NoSuchFilter}}\n')
    outcome = with_secret("render")
    assert outcome.code == 0
    assert outcome.out == (
        f'{SECRET}\n#{{Missing | Append "{SECRET}"}}\n#{{Token | NoSuchFilter}}\n'
    )
    assert outcome.warnings == [
        f'unresolved: #{{Missing | Append "{MASK}"}} at <stdin>:2:1; left as written',
        "unresolved: #{Token | NoSuchFilter} at <stdin>:3:1 "
        "(there is no filter named 'NoSuchFilter'); left as written",
    ]
    assert SECRET not in outcome.err


def test_strict_errors_never_show_a_secret_value(with_secret: Steps, stdin: Feed) -> None:
    stdin(f'#{{Token}} #{{Missing | Append "{SECRET}"}}\n')
    outcome = with_secret.fails("render", "--strict-variables")
    assert outcome.error == (
        f'<stdin>: 1 unresolved variable reference: #{{Missing | Append "{MASK}"}} '
        f"at <stdin>:1:10; {HINT}"
    )
    assert outcome.out == ""
    assert SECRET not in outcome.err


# --- unresolved references -------------------------------------------------------------------

UNRESOLVED = "host=#{Host}\nport=#{Port}\n  url=#{Scheme}://#{Host}:#{Port}\n"


def test_unresolved_references_are_left_as_written_with_warnings(steps: Steps) -> None:
    write(steps, "site.conf", UNRESOLVED)
    outcome = steps("render", "site.conf", "-v", "Port=443")
    assert outcome.code == 0
    assert outcome.out == "host=#{Host}\nport=443\n  url=#{Scheme}://#{Host}:443\n"
    assert outcome.warnings == [
        "unresolved: #{Host} at site.conf:1:6; left as written",
        "unresolved: #{Scheme} at site.conf:3:7; left as written",
        "unresolved: #{Host} at site.conf:3:19; left as written",
    ]
    assert len(outcome.err.splitlines()) == 3


def test_quiet_hides_the_warnings(steps: Steps) -> None:
    write(steps, "site.conf", UNRESOLVED)
    outcome = steps("render", "site.conf", "-v", "Port=443", "-q")
    assert outcome.code == 0
    assert outcome.out == "host=#{Host}\nport=443\n  url=#{Scheme}://#{Host}:443\n"
    assert outcome.err == ""


def test_strict_variables_fails_listing_every_reference(steps: Steps) -> None:
    write(steps, "site.conf", UNRESOLVED)
    outcome = steps.fails(
        "render", "site.conf", "-v", "Port=443", "--strict-variables", "-o", "out.conf"
    )
    assert outcome.error == (
        "site.conf: 3 unresolved variable references: #{Host} at site.conf:1:6; "
        "#{Scheme} at site.conf:3:7; #{Host} at site.conf:3:19; " + HINT
    )
    assert outcome.warnings == []
    assert outcome.out == ""
    assert not (steps.directory / "out.conf").exists()


def test_strict_variables_leaves_an_existing_output_file_alone(steps: Steps, stdin: Feed) -> None:
    target = write(steps, "out.conf", "previous\n")
    stdin("#{Nope}")
    outcome = steps.fails("render", "--strict-variables", "-q", "-o", "out.conf")
    assert (
        outcome.error
        == f"<stdin>: 1 unresolved variable reference: #{{Nope}} at <stdin>:1:1; {HINT}"
    )
    assert target.read_bytes() == b"previous\n"


def test_strict_variables_passes_when_everything_resolves(steps: Steps, stdin: Feed) -> None:
    stdin("#{if On}on#{else}#{Off}#{/if}")
    outcome = steps.ok("render", "--strict-variables", "-v", "On=true")
    assert (outcome.out, outcome.err) == ("on", "")


def test_a_reference_inside_a_value_is_reported_where_the_value_is_used(
    steps: Steps, stdin: Feed
) -> None:
    stdin("a\n  url=#{Url}\n")
    outcome = steps("render", "-v", "Url=https://#{Domain}/")
    assert outcome.out == "a\n  url=https://#{Domain}/\n"
    assert outcome.warnings == ["unresolved: #{Domain} at <stdin>:2:7; left as written"]


# --- bad templates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ("start\n  #{if Ready}yes\n", "page.txt:2:3: #{if} is never closed with #{/if}"),
        ("#{if A}a#{else}b\n", "page.txt:1:1: #{if} is never closed with #{/if}"),
        ("one\ntwo #{/if}\n", "page.txt:2:5: #{/if} without a matching #{if}"),
        (
            "x\ny\n   #{each i in Items}#{i}\n",
            "page.txt:3:4: #{each} is never closed with #{/each}",
        ),
    ],
    ids=["if", "if-else", "stray-end-if", "each"],
)
def test_a_template_that_does_not_parse_is_an_error(
    steps: Steps, template: str, error: str
) -> None:
    write(steps, "page.txt", template)
    outcome = steps.fails("render", "page.txt", "-o", "out.txt", "-v", "Ready=1")
    assert outcome.error == error
    assert outcome.out == ""
    assert not (steps.directory / "out.txt").exists()


def test_a_syntax_error_on_stdin_names_stdin(steps: Steps, stdin: Feed) -> None:
    stdin("\n\n#{each x in X}")
    outcome = steps.fails("render")
    assert outcome.error == "<stdin>:3:1: #{each} is never closed with #{/each}"


FILTERS = '#{Name | NoSuchFilter}\n#{Name | Substring "x"}\n#{Name | ToUpper}\n'
FILTER_PROBLEMS = [
    "#{Name | NoSuchFilter} at <stdin>:1:1 (there is no filter named 'NoSuchFilter')",
    '#{Name | Substring "x"} at <stdin>:2:1 '
    "(Substring takes a length, or a start and a length, as non-negative integers)",
]


def test_filter_problems_are_warnings_by_default(steps: Steps, stdin: Feed) -> None:
    stdin(FILTERS)
    outcome = steps("render", "-v", "Name=web")
    assert outcome.code == 0
    assert outcome.out == '#{Name | NoSuchFilter}\n#{Name | Substring "x"}\nWEB\n'
    assert outcome.warnings == [f"unresolved: {p}; left as written" for p in FILTER_PROBLEMS]


def test_filter_problems_are_errors_when_strict(steps: Steps, stdin: Feed) -> None:
    stdin(FILTERS)
    outcome = steps.fails("render", "-v", "Name=web", "--strict-variables")
    assert outcome.error == (
        "<stdin>: 2 unresolved variable references: " + "; ".join(FILTER_PROBLEMS) + "; " + HINT
    )
    assert outcome.out == ""


def test_json_valued_variables(steps: Steps, stdin: Feed) -> None:
    stdin("#{Config.db.port} [#{Config.db.missing}] #{Config.hosts[1]}\n")
    outcome = steps.ok("render", "-v", 'Config={"db": {"port": 5432}, "hosts": ["a", "b"]}')
    assert outcome.out == "5432 [] b\n"
    assert outcome.err == ""


def test_invalid_json_in_a_json_valued_variable(steps: Steps, stdin: Feed) -> None:
    stdin("port=#{Config.db.port}\n")
    outcome = steps("render", "-v", 'Config={"db": {"port": 5432}')
    assert outcome.code == 0
    assert outcome.out == "port=#{Config.db.port}\n"
    why = "(the value of 'Config' is not a JSON object or array)"
    assert outcome.warnings == [f"unresolved: #{{Config.db.port}} at <stdin>:1:6 {why}; left as written"]
    stdin("port=#{Config.db.port}\n")
    strict = steps.fails("render", "-v", 'Config={"db": {"port": 5432}', "--strict-variables")
    assert strict.error == (
        f"<stdin>: 1 unresolved variable reference: #{{Config.db.port}} at <stdin>:1:6 {why}; {HINT}"
    )
    assert strict.out == ""


@pytest.mark.parametrize(
    ("assignments", "chain"),
    [(("A=x#{A}",), "A -> A"), (("A=#{B}/", "B=#{A}"), "A -> B -> A")],
    ids=["direct", "through-another"],
)
def test_a_self_referencing_variable_is_a_one_line_error(
    steps: Steps, stdin: Feed, assignments: tuple[str, ...], chain: str
) -> None:
    stdin("value=#{A}\n")
    arguments = [part for text in assignments for part in ("-v", text)]
    outcome = steps.fails("render", *arguments, "-o", "out.txt")
    assert outcome.error == (
        '<stdin>:1:7: An attempt to parse the variable symbol "A" appears to have resulted in '
        f"a self referencing loop ({chain}). Ensure that recursive loops do not exist in the "
        "variable values."
    )
    assert "Traceback" not in outcome.err
    assert outcome.out == ""
    assert not (steps.directory / "out.txt").exists()


# --- encodings -----------------------------------------------------------------------------

# Every byte windows-1252 can hold, including the five it leaves undefined.
HIGH_BYTES = bytes(range(0x80, 0x100))


@pytest.mark.parametrize(
    ("data", "value", "expected"),
    [
        (  # a UTF-8 byte-order mark is kept
            b"\xef\xbb\xbfname=#{A}\n",
            "caf\u00e9",
            b"\xef\xbb\xbfname=caf\xc3\xa9\n",
        ),
        (  # UTF-16 LE with its mark, CRLF included
            "\ufeffname=#{A}\r\nend\r\n".encode("utf-16-le"),
            "\u00e9\u20ac\u4e2d",
            "\ufeffname=\u00e9\u20ac\u4e2d\r\nend\r\n".encode("utf-16-le"),
        ),
        (  # UTF-16 BE with its mark
            "\ufeff#{A}".encode("utf-16-be"),
            "x\u00e9",
            "\ufeffx\u00e9".encode("utf-16-be"),
        ),
        (  # not UTF-8: windows-1252, every byte kept as it was
            b"caf\xe9 " + HIGH_BYTES + b" #{A}\r\n",
            "\u00e9\u20ac",
            b"caf\xe9 " + HIGH_BYTES + b" \xe9\x80\r\n",
        ),
        (  # CRLF line endings without a byte-order mark
            b"a=#{A}\r\nb=#{A}\r\n\r\n",
            "1",
            b"a=1\r\nb=1\r\n\r\n",
        ),
        (  # a lone CR is not translated either
            b"a\rb=#{A}\n",
            "2",
            b"a\rb=2\n",
        ),
    ],
    ids=["utf-8-bom", "utf-16-le", "utf-16-be", "windows-1252", "crlf", "cr"],
)
def test_the_encoding_and_line_endings_are_kept(
    steps: Steps, data: bytes, value: str, expected: bytes
) -> None:
    write(steps, "in.txt", data)
    outcome = steps.ok("render", "in.txt", "-o", "out.txt", "-v", f"A={value}")
    assert outcome.err == ""
    assert (steps.directory / "out.txt").read_bytes() == expected


def test_output_windows_1252_cannot_hold_falls_back_to_utf8(steps: Steps) -> None:
    write(steps, "legacy.ini", b"name=caf\xe9\r\ncity=#{City}\r\n")
    outcome = steps("render", "legacy.ini", "-o", "out.ini", "-v", "City=\u6771\u4eac")
    assert outcome.code == 0
    assert outcome.warnings == [
        "legacy.ini: the result cannot be written as windows-1252; writing UTF-8 instead"
    ]
    expected = "name=caf\u00e9\r\ncity=\u6771\u4eac\r\n".encode()
    assert (steps.directory / "out.ini").read_bytes() == expected


# --- as a separate process -----------------------------------------------------------------


def test_process_renders_stdin_with_the_project_variables(project: Steps) -> None:
    (project.directory / "sub").mkdir()
    done = render_process(
        b"#{Greeting}, #{Conn} in #{Octopus.Environment.Name}\n",
        "--environment",
        "production",
        cwd=project.directory / "sub",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"hello, prod in Production\n"
    assert done.stderr == b""


def test_process_writes_windows_1252_to_stdout_byte_for_byte(tmp_path: Path) -> None:
    data = b"caf\xe9 " + HIGH_BYTES + b" #{A}\r\n"
    done = render_process(data, "-", "--no-project", "-v", "A=\u00e9", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"caf\xe9 " + HIGH_BYTES + b" \xe9\r\n"
    assert done.stderr == b""


def test_process_reports_unresolved_references_on_stderr(tmp_path: Path) -> None:
    done = render_process(
        b"\xef\xbb\xbfa=#{A}\nb=#{B}\n", "--no-project", "-v", "A=1", cwd=tmp_path
    )
    assert done.returncode == 0
    assert done.stdout == b"\xef\xbb\xbfa=1\nb=#{B}\n"
    assert done.stderr.decode() == "warning: unresolved: #{B} at <stdin>:2:3; left as written\n"
    strict = render_process(b"a=#{A}\nb=#{B}\n", "--no-project", "--strict-variables", cwd=tmp_path)
    assert strict.returncode == 2
    assert strict.stdout == b""
    assert strict.stderr.decode() == (
        "error: <stdin>: 2 unresolved variable references: #{A} at <stdin>:1:3; "
        f"#{{B}} at <stdin>:2:3; {HINT}\n"
    )


def test_process_uses_secrets_with_the_password_from_the_environment(with_secret: Steps) -> None:
    env = {"STEPS_SECRETS_PASSWORD": PASSWORD}
    done = render_process(b"key=#{Token}\n", cwd=with_secret.directory, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"key={SECRET}\n".encode()
    wrong = render_process(
        b"key=#{Token}\n", cwd=with_secret.directory, env={"STEPS_SECRETS_PASSWORD": "nope"}
    )
    assert wrong.returncode == 2
    assert wrong.stdout == b""
    lines = wrong.stderr.decode().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: wrong password for steps.secrets")
    assert "Traceback" not in wrong.stderr.decode()
