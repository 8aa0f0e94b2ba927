"""The Octopus template corpus end to end (tests/data/octopus-corpus).

Every template is added from a git repository with `steps add --template` and run in a
process, run on its own with `steps exec`, and converted to the native format and back.
"""

from __future__ import annotations

import json
import shutil
import textwrap
import tomllib
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.gitserver import GitDaemon, ServedRepo, SmartHttpServer, make_repo
from tests.support.httpserver import StaticServer
from tests.support.projects import Outcome, Steps

CORPUS = Path(__file__).resolve().parent / "data" / "octopus-corpus"
TEMPLATES = sorted(path.stem for path in (CORPUS / "step-templates").glob("*.json"))
PWSH_ONLY = {"powershell-write-greeting"}

# Secrets handed to the templates; none may show in any output, report or file steps writes.
WEBHOOK_TOKEN = "whk-51f0c9e2aa"
AZURE_PASSWORD = "az-Pa55-7781"
AWS_SECRET = "aws-s3cr3t-key-0042"
OIDC_JWT = "eyJ0eXAi.eyJzdWIi.c2lnbmF0"
LOGIN_PASSWORD = "l0gin-pw-913"
API_TOKEN = "api-tok-6d2b81"
SECRETS = (WEBHOOK_TOKEN, AZURE_PASSWORD, AWS_SECRET, OIDC_JWT, LOGIN_PASSWORD, API_TOKEN)
MASK = "********"


@dataclass(frozen=True)
class Case:
    """One `steps exec` of a corpus template and what it must give. ``{server}``, ``{work}``
    and ``{corpus}`` in the arguments and expectations stand for the test's own places."""

    template: str
    args: tuple[str, ...]
    stdout: tuple[str, ...]
    outputs: Mapping[str, str] = field(default_factory=dict)
    exit_code: int = 0
    message: str | None = None
    artifacts: Mapping[str, str] = field(default_factory=dict)


def v(name: str, value: str) -> tuple[str, str]:
    return ("-v", f"{name}={value}")


NOTIFY_MESSAGE = (
    "[URGENT] Deployed shop 1.4.2",
    "project: SHOP",
    "channel: chat",
    "to: ops@example.com",
    "to: dev@example.com",
    "(no footer)",
)

CASES: dict[str, Case] = {
    "http-check-status": Case(
        "http-check-status",
        v("Octopus.Web.ServerUri", "{server}"),
        (
            "GET {server}/health -> 200",
            "Collecting response.txt as an artifact...",
            "status is as expected",
        ),
        outputs={"StatusCode": "200"},
        artifacts={"http-response.txt": "ok\n"},
    ),
    "http-check-status/head": Case(
        "http-check-status",
        (
            *v("HttpCheck.Url", "{server}/health"),
            *v("HttpCheck.Method", "HEAD"),
            *v("HttpCheck.SaveResponse", "False"),
        ),
        ("HEAD {server}/health -> 200", "status is as expected"),
        outputs={"StatusCode": "200"},
    ),
    "http-check-status/failstep": Case(
        "http-check-status",
        (*v("HttpCheck.Url", "{server}/missing"), *v("HttpCheck.SaveResponse", "false")),
        ("GET {server}/missing -> 404",),
        outputs={"StatusCode": "404"},
        exit_code=255,
        message="{server}/missing answered 404, expected 200",
    ),
    "file-write-config": Case(
        "file-write-config",
        (
            *v("WriteConfig.Path", "{work}/conf/app.env"),
            *v("WriteConfig.Content", "A=1\nB=2"),
            *v("WriteConfig.Overwrite", "True"),
            *v("WriteConfig.Collect", "true"),
        ),
        (
            "wrote 3 lines to {work}/conf/app.env",
            "Collecting {work}/conf/app.env as an artifact...",
        ),
        outputs={"ConfigPath": "{work}/conf/app.env"},
        artifacts={"app.env": "# env file written by the step 'File - Write Config'\nA=1\nB=2\n"},
    ),
    "file-write-config/fail_step": Case(
        "file-write-config",
        (*v("WriteConfig.Path", "{work}/existing.env"), *v("WriteConfig.Format", "json")),
        (),
        exit_code=1,
        message="{work}/existing.env already exists and WriteConfig.Overwrite is not set",
    ),
    "notify-compose-message": Case(
        "notify-compose-message",
        (
            *v("Octopus.Project.Name", "shop"),
            *v("Octopus.Release.Number", "1.4.2"),
            *v("Notify.Recipients", "ops@example.com, dev@example.com"),
            *v("Notify.Urgent", "true"),
            *v("Notify.WebhookToken", WEBHOOK_TOKEN),
        ),
        (*NOTIFY_MESSAGE, f"authorising with {MASK}"),
        outputs={"Message": "\n".join(NOTIFY_MESSAGE), "AuthHeader": MASK},
    ),
    "notify-compose-message/defaults": Case(
        "notify-compose-message",
        (
            *v("Octopus.Project.Name", "shop"),
            *v("Octopus.Release.Number", "1.4.2"),
            *v("Notify.Channel", "email"),
            *v("Notify.Footer", "-- the shop team"),
        ),
        ("Deployed shop 1.4.2", "project: SHOP", "channel: email", "-- the shop team"),
        outputs={"Message": "Deployed shop 1.4.2\nproject: SHOP\nchannel: email\n-- the shop team"},
    ),
    "package-show-contents": Case(
        "package-show-contents",
        (*v("ShowContents.Package", "{work}/site.1.4.2.zip"), *v("ShowContents.Pattern", "*.json")),
        ("package site 1.4.2", "  config/app.json", "  config/db.json", "2 files match *.json"),
        outputs={"FileCount": "2"},
    ),
    "cloud-show-accounts": Case(
        "cloud-show-accounts",
        (
            *v("Cloud.Azure", "prod-azure"),
            *v("Cloud.Azure.SubscriptionNumber", "sub-0001"),
            *v("Cloud.Azure.Client", "client-0001"),
            *v("Cloud.Azure.TenantId", "tenant-0001"),
            *v("Cloud.Azure.Password", AZURE_PASSWORD),
            *v("Cloud.Aws", "prod-aws"),
            *v("Cloud.Aws.AccessKey", "AKIAEXAMPLE"),
            *v("Cloud.Aws.SecretKey", AWS_SECRET),
            *v("Cloud.Oidc", "github-oidc"),
            *v("Cloud.Oidc.Audience", "api://shop"),
            *v("Cloud.Oidc.OpenIdConnect.Jwt", OIDC_JWT),
        ),
        (
            "Azure: prod-azure",
            "  SubscriptionNumber = sub-0001",
            "  Client = client-0001",
            "  TenantId = tenant-0001",
            f"  Password: {len(AZURE_PASSWORD)} characters",
            "AWS: prod-aws",
            "  AccessKey = AKIAEXAMPLE",
            f"  SecretKey: {len(AWS_SECRET)} characters",
            "Google Cloud: not set",
            "OIDC: github-oidc",
            "  Audience = api://shop",
            f"  OpenIdConnect.Jwt: {len(OIDC_JWT)} characters",
            "worker pool: Hosted Ubuntu",
        ),
        outputs={"AwsAccessKey": "AKIAEXAMPLE"},
    ),
    "credentials-check-access": Case(
        "credentials-check-access",
        (
            *v("Access.Login", "deploy-login"),
            *v("Access.Login.Username", "deployer"),
            *v("Access.Login.Password", LOGIN_PASSWORD),
            *v("Access.ApiToken", "shop-api"),
            *v("Access.ApiToken.Token", API_TOKEN),
            *v("Access.Certificate", "site-cert"),
            *v("Access.Certificate.Subject", "CN=shop.example"),
            *v("Access.Certificate.Thumbprint", "AB12CD34"),
            *v("Access.Debug", "True"),
        ),
        (
            f"login account: deploy-login (user deployer, password of {len(LOGIN_PASSWORD)} "
            "characters)",
            f"token account: shop-api (token of {len(API_TOKEN)} characters)",
            "certificate: site-cert, subject CN=shop.example, thumbprint AB12CD34",
            f"debug: password={MASK} token={MASK}",
        ),
        outputs={"User": "deployer", "BasicAuth": MASK},
    ),
    "octopus-read-step-output": Case(
        "octopus-read-step-output",
        (
            *v("ReadOutput.Step", "Compose"),
            *v("Octopus.Action[Compose].Output.Message", "hello from compose"),
        ),
        ("Compose said:", "hello from compose"),
        outputs={"Copy": "hello from compose"},
    ),
    "octopus-read-step-output/fail_step": Case(
        "octopus-read-step-output",
        v("ReadOutput.Step", "Compose"),
        (),
        exit_code=1,
        message="step 'Compose' set no output variable 'Message'",
    ),
    "script-show-arguments": Case(
        "script-show-arguments",
        v("Args.Greeting", "hi there"),
        (
            "6 arguments",
            "  1: --greeting",
            "  2: hi there",
            "  3: --times",
            "  4: 2",
            "  5: --",
            "  6: two words",
        ),
    ),
    "shell-run-with-retry": Case(
        "shell-run-with-retry",
        (
            "--module",
            "{corpus}/modules/retry-helpers.json",
            *v("Retry.Command", "test -e marker || { touch marker; exit 1; }"),
        ),
        ("attempt 1 of 3 failed; retrying in 0s", "succeeded on attempt 2"),
    ),
    "shell-run-with-retry/gives-up": Case(
        "shell-run-with-retry",
        (
            "--module",
            "{corpus}/modules/retry-helpers.json",
            *v("Retry.Command", "echo trying; false"),
            *v("Retry.Attempts", "2"),
        ),
        ("trying", "attempt 1 of 2 failed; retrying in 0s", "trying"),
        exit_code=1,
        message="the command failed 2 times",
    ),
    "text-slugify": Case(
        "text-slugify",
        (
            "--module",
            "{corpus}/modules/text-tools.json",
            *v("Slugify.Text", "Déployer la boutique: v1.4"),
            *v("Slugify.Separator", "_"),
            *v("Slugify.MaxLength", "20"),
        ),
        ("'Déployer la boutique: v1.4' -> deployer_la_boutique",),
        outputs={"Slug": "deployer_la_boutique"},
    ),
    "text-slugify/defaults": Case(
        "text-slugify",
        (
            "--module",
            "{corpus}/modules/text-tools.json",
            *v("Octopus.Project.Name", "Shop Front"),
            *v("Octopus.Release.Number", "1.4.2"),
        ),
        ("'Shop Front 1.4.2' -> shop-front-1-4-2",),
        outputs={"Slug": "shop-front-1-4-2"},
    ),
    "release-announce": Case(
        "release-announce",
        (
            "--module",
            "{corpus}/modules/banner",
            *v("Octopus.Project.Name", "shop"),
            *v("Octopus.Release.Number", "1.4.2"),
            *v("Announce.Notes", "Faster checkout.\nFewer bugs."),
        ),
        (
            "==========",
            "shop 1.4.2",
            "==========",
            "Release notes:",
            "Faster checkout.",
            "Fewer bugs.",
        ),
    ),
}
RUNNABLE = sorted(set(TEMPLATES) - PWSH_ONLY)


def test_every_runnable_template_has_a_case() -> None:
    assert sorted({case.template for case in CASES.values()}) == RUNNABLE


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A web server with a /health page."""
    root = tmp_path_factory.mktemp("web")
    (root / "health").write_text("ok\n")
    with StaticServer(root) as server:
        yield server.url


@dataclass(frozen=True)
class Places:
    server: str
    work: Path

    def fill(self, text: str) -> str:
        return (
            text.replace("{server}", self.server)
            .replace("{work}", str(self.work))
            .replace("{corpus}", str(CORPUS))
        )


@pytest.fixture
def places(web: str, tmp_path: Path) -> Places:
    work = tmp_path / "work"
    work.mkdir()
    (work / "existing.env").write_text("KEEP=1\n")
    with zipfile.ZipFile(work / "site.1.4.2.zip", "w") as archive:
        archive.writestr("index.html", "<h1>shop</h1>\n")
        archive.writestr("config/app.json", '{"name": "shop"}\n')
        archive.writestr("config/db.json", '{"host": "db"}\n')
    return Places(web, work)


def report_of(outcome: Outcome) -> dict[str, object]:
    line = next(line for line in outcome.err.splitlines() if "; report: " in line)
    report_path = Path(line.split("; report: ")[1])
    report: dict[str, object] = json.loads(report_path.read_text())
    return report


def steps_by_name(report: dict[str, object]) -> dict[str, dict[str, object]]:
    listed = report["steps"]
    assert isinstance(listed, list)
    return {step["name"]: step for step in listed}


def artifacts_of(report: dict[str, object], step: dict[str, object]) -> dict[str, str]:
    directory = Path(str(report["artifacts_dir"]))
    listed = step["artifacts"]
    assert isinstance(listed, list)
    return {a["name"]: (directory / a["name"]).read_text() for a in listed}


def assert_no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


# --- steps exec on the JSON files -------------------------------------------------------------


def exec_case(steps: Steps, target: Path, case: Case, places: Places) -> Outcome:
    args = [places.fill(arg) for arg in case.args]
    return steps("exec", str(target), *args)


def assert_case(outcome: Outcome, case: Case, places: Places) -> dict[str, object]:
    assert outcome.code == case.exit_code, outcome.err
    assert "Traceback" not in outcome.err
    assert outcome.out.splitlines() == [places.fill(line) for line in case.stdout]
    report = report_of(outcome)
    (step,) = steps_by_name(report).values()
    assert step["output_variables"] == {k: places.fill(v) for k, v in case.outputs.items()}
    assert step["message"] == (places.fill(case.message) if case.message else None)
    assert artifacts_of(report, step) == dict(case.artifacts)
    assert_no_secrets(outcome.out, outcome.err, json.dumps(report))
    return report


@pytest.mark.parametrize("name", sorted(CASES))
def test_exec_runs_the_json(name: str, steps: Steps, places: Places) -> None:
    case = CASES[name]
    template = CORPUS / "step-templates" / f"{case.template}.json"

    outcome = exec_case(steps, template, case, places)

    report = assert_case(outcome, case, places)
    (step,) = steps_by_name(report).values()
    assert step["name"] == json.loads(template.read_text())["Name"]


@pytest.mark.skipif(shutil.which("pwsh") is not None, reason="pwsh is installed here")
def test_exec_of_the_powershell_template_says_pwsh_is_missing(steps: Steps) -> None:
    failed = steps.fails("exec", str(CORPUS / "step-templates" / "powershell-write-greeting.json"))

    assert "`pwsh`" in failed.error
    assert not (steps.directory / ".steps").exists()


@pytest.mark.skipif(shutil.which("pwsh") is None, reason="pwsh (PowerShell 7) is not installed")
def test_exec_of_the_powershell_template(steps: Steps) -> None:
    template = CORPUS / "step-templates" / "powershell-write-greeting.json"

    ran = steps.ok("exec", str(template), "-v", "Octopus.Project.Name=shop")

    assert ran.out == "Hello, world, from shop\n"
    (step,) = steps_by_name(report_of(ran)).values()
    assert step["output_variables"] == {"Greeting": "Hello, world, from shop"}


# --- import and export ---------------------------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATES)
def test_import_then_export_gives_the_same_json(
    template: str, steps: Steps, tmp_path: Path
) -> None:
    original = CORPUS / "step-templates" / f"{template}.json"
    imported = tmp_path / "imported" / template

    steps.ok("import", str(original), "--to", str(imported))
    exported = steps.ok("export", str(imported))

    assert (imported / "steptemplate.toml").is_file()
    assert json.loads(exported.out) == json.loads(original.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_imported_template_runs_like_the_json(
    name: str, steps: Steps, places: Places, tmp_path: Path
) -> None:
    case = CASES[name]
    original = CORPUS / "step-templates" / f"{case.template}.json"
    imported = tmp_path / "imported"
    steps.ok("import", str(original), "--to", str(imported))

    from_json = exec_case(steps, original, case, places)
    from_native = exec_case(steps, imported, case, places)

    assert_case(from_native, case, places)
    assert from_native.out == from_json.out
    assert from_native.code == from_json.code


# --- the corpus as a project's source ---------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_repo(
    git_served_root: Path, git_daemon: GitDaemon, git_http: SmartHttpServer
) -> ServedRepo:
    """The corpus committed to a served git repository, as a fork of the library would be."""
    path = make_repo(git_served_root / "octopus-corpus").path
    repo = ServedRepo(path, git_daemon, git_http)
    for file in sorted(CORPUS.rglob("*")):
        if file.is_file():
            repo.write(file.relative_to(CORPUS).as_posix(), file.read_bytes())
    repo.commit("step templates and script modules")
    return repo


PROCESS = """\

[[steps]]
name = "Announce"
template = "release-announce"
modules = { Banner = "*" }

[steps.parameters]
"Announce.Notes" = \"\"\"Faster checkout.
Fewer bugs.\"\"\"

[[steps]]
name = "Compose"
template = "notify-compose-message"

[steps.parameters]
"Notify.Recipients" = "ops@example.com, dev@example.com"
"Notify.Urgent" = true
"Notify.WebhookToken" = "#{WebhookToken}"
"Notify.Footer" = "Sent by step #{Octopus.Step.Name}"

[[steps]]
name = "Read"
template = "octopus-read-step-output"

[steps.parameters]
"ReadOutput.Step" = "Compose"

[[steps]]
name = "Check health"
template = "http-check-status"

[[steps]]
name = "Write config"
template = "file-write-config"

[steps.parameters]
"WriteConfig.Path" = "{work}/shop/app.env"
"WriteConfig.Content" = \"\"\"SHOP_URL=#{Octopus.Web.ServerUri}
SHOP_RELEASE=#{Octopus.Release.Number}\"\"\"
"WriteConfig.Collect" = "True"

[[steps]]
name = "Show package"
template = "package-show-contents"

[steps.parameters]
"ShowContents.Package" = "site"
"ShowContents.Pattern" = "*.json"

[[steps]]
name = "Accounts"
template = "cloud-show-accounts"

[steps.parameters]
"Cloud.Azure" = "prod-azure"
"Cloud.Azure.SubscriptionNumber" = "sub-0001"
"Cloud.Azure.Client" = "client-0001"
"Cloud.Azure.TenantId" = "tenant-0001"
"Cloud.Azure.Password" = "#{AzurePassword}"
"Cloud.WorkerPool" = "Linux workers"

[steps.parameters."Cloud.Aws"]
AccessKey = "AKIAEXAMPLE"
SecretKey = "#{AwsSecret}"

[[steps]]
name = "Access"
template = "credentials-check-access"

[steps.parameters]
"Access.Debug" = "True"

[steps.parameters."Access.Login"]
Username = "deployer"
Password = "#{LoginPassword}"

[steps.parameters."Access.ApiToken"]
Token = "#{ApiToken}"

[steps.parameters."Access.Certificate"]
Subject = "CN=shop.example"
Thumbprint = "AB12CD34"

[[steps]]
name = "Arguments"
template = "script-show-arguments"

[steps.parameters]
"Args.Greeting" = "hi from #{Octopus.Project.Name}"

[[steps]]
name = "Retry"
template = "shell-run-with-retry"
modules = { RetryHelpers = "*" }

[steps.parameters]
"Retry.Command" = "test -e marker || { touch marker; exit 1; }"

[[steps]]
name = "Slug"
template = "text-slugify"
modules = { TextTools = "*" }

[[steps]]
name = "Check missing"
template = "http-check-status"

[steps.parameters]
"HttpCheck.Url" = "#{Octopus.Web.ServerUri}/missing"
"HttpCheck.SaveResponse" = "False"

[[steps]]
name = "Write again"
template = "file-write-config"

[steps.parameters]
"WriteConfig.Path" = "{work}/shop/app.env"
"WriteConfig.Content" = "not written"

[[steps]]
name = "Greet"
template = "powershell-write-greeting"
"""

SUCCEEDING = (
    "Announce", "Compose", "Read", "Check health", "Write config", "Show package", "Accounts",
    "Access", "Arguments", "Retry", "Slug",
)  # fmt: skip
RUN_SECRETS = (
    "-v", f"WebhookToken={WEBHOOK_TOKEN}", "-v", f"AzurePassword={AZURE_PASSWORD}",
    "-v", f"AwsSecret={AWS_SECRET}", "-v", f"LoginPassword={LOGIN_PASSWORD}",
    "-v", f"ApiToken={API_TOKEN}",
)  # fmt: skip

COMPOSED = (
    "[URGENT] Deployed shop 1.4.2",
    "project: SHOP",
    "channel: chat",
    "to: ops@example.com",
    "to: dev@example.com",
    "Sent by step Compose",
)
PROCESS_STDOUT = (
    "==========", "shop 1.4.2", "==========", "Release notes:", "Faster checkout.",
    "Fewer bugs.",
    *COMPOSED, f"authorising with {MASK}",
    "Compose said:", *COMPOSED,
    "GET {server}/health -> 200", "Collecting response.txt as an artifact...",
    "status is as expected",
    "wrote 3 lines to {work}/shop/app.env", "Collecting {work}/shop/app.env as an artifact...",
    "package site 1.4.2", "  config/app.json", "  config/db.json", "2 files match *.json",
    "Azure: prod-azure", "  SubscriptionNumber = sub-0001", "  Client = client-0001",
    "  TenantId = tenant-0001", f"  Password: {len(AZURE_PASSWORD)} characters",
    "AWS: Cloud.Aws", "  AccessKey = AKIAEXAMPLE", f"  SecretKey: {len(AWS_SECRET)} characters",
    "Google Cloud: not set", "OIDC: not set", "worker pool: Linux workers",
    f"login account: Access.Login (user deployer, password of {len(LOGIN_PASSWORD)} "
    "characters)",
    f"token account: Access.ApiToken (token of {len(API_TOKEN)} characters)",
    "certificate: Access.Certificate, subject CN=shop.example, thumbprint AB12CD34",
    f"debug: password={MASK} token={MASK}",
    "6 arguments", "  1: --greeting", "  2: hi from shop", "  3: --times", "  4: 2", "  5: --",
    "  6: two words",
    "attempt 1 of 3 failed; retrying in 0s", "succeeded on attempt 2",
    "'shop 1.4.2' -> shop-1-4-2",
)  # fmt: skip


def build_project(steps: Steps, url: str, places: Places) -> None:
    """steps.toml with every corpus template added with `steps add --template`, the corpus's
    script modules, a package, and a process using them all."""
    shutil.copy2(places.work / "site.1.4.2.zip", steps.directory / "site.1.4.2.zip")
    modules = "".join(
        f'\n[modules.{name}]\ngit = "{url}"\nbranch = "main"\n{where}\n'
        for name, where in (
            ("RetryHelpers", 'template = "modules/retry-helpers.json"'),
            ("TextTools", 'template = "modules/text-tools.json"'),
            ("Banner", 'subdir = "modules/banner"'),
        )
    )
    steps.write(
        textwrap.dedent(
            f"""\
            [project]
            name = "shop"
            server-uri = "{places.server}"

            [packages.site]
            path = "site.1.4.2.zip"
            """
        )
        + modules
    )
    for template in TEMPLATES:
        path = f"step-templates/{template}.json"
        steps.ok("add", url, "--template", path, "--name", template)
    with steps.manifest.open("a", encoding="utf-8") as manifest:
        manifest.write(places.fill(PROCESS))


def test_the_corpus_as_a_project_process(
    steps: Steps, corpus_repo: ServedRepo, places: Places
) -> None:
    build_project(steps, corpus_repo.file_url, places)

    ran = steps("run", *SUCCEEDING, "--release-number", "1.4.2", *RUN_SECRETS)

    assert ran.code == 0, ran.err
    assert ran.out.splitlines() == [places.fill(line) for line in PROCESS_STDOUT]
    report = report_of(ran)
    by_name = steps_by_name(report)
    assert {name: step["status"] for name, step in by_name.items()} == dict.fromkeys(
        SUCCEEDING, "succeeded"
    )
    outputs = {name: step["output_variables"] for name, step in by_name.items()}
    assert outputs == {
        "Announce": {},
        "Compose": {"Message": "\n".join(COMPOSED), "AuthHeader": MASK},
        "Read": {"Copy": "\n".join(COMPOSED)},
        "Check health": {"StatusCode": "200"},
        "Write config": {"ConfigPath": f"{places.work}/shop/app.env"},
        "Show package": {"FileCount": "2"},
        "Accounts": {"AwsAccessKey": "AKIAEXAMPLE"},
        "Access": {"User": "deployer", "BasicAuth": MASK},
        "Arguments": {},
        "Retry": {},
        "Slug": {"Slug": "shop-1-4-2"},
    }
    assert artifacts_of(report, by_name["Check health"]) == {"http-response.txt": "ok\n"}
    assert artifacts_of(report, by_name["Write config"]) == {
        "app.env": f"# env file written by the step 'Write config'\n"
        f"SHOP_URL={places.server}\nSHOP_RELEASE=1.4.2\n"
    }
    written = [steps.manifest, steps.lock_path, *steps.directory.joinpath(".steps").rglob("*")]
    files = [path.read_text(errors="replace") for path in written if path.is_file()]
    assert_no_secrets(ran.out, ran.err, *files)


def test_the_corpus_is_locked_by_file_and_version(
    steps: Steps, corpus_repo: ServedRepo, places: Places
) -> None:
    build_project(steps, corpus_repo.file_url, places)

    locked = tomllib.loads(steps.lock_path.read_text(encoding="utf-8"))

    templates = {entry["name"]: entry for entry in locked["template"]}
    assert sorted(templates) == TEMPLATES
    for name, entry in templates.items():
        exported = json.loads((CORPUS / "step-templates" / f"{name}.json").read_text())
        assert entry["template"] == f"step-templates/{name}.json"
        assert entry["template-version"] == str(exported["Version"])
    modules = {entry["name"]: entry for entry in locked["module"]}
    assert sorted(modules) == ["Banner", "RetryHelpers", "TextTools"]
    assert modules["RetryHelpers"]["template"] == "modules/retry-helpers.json"


@pytest.mark.parametrize(
    ("step", "code", "message"),
    [
        ("Check missing", 255, "{server}/missing answered 404, expected 200"),
        ("Write again", 1, "{work}/shop/app.env already exists and WriteConfig.Overwrite is "
         "not set"),
    ],
)  # fmt: skip
def test_failing_steps_exit_with_the_scripts_code(
    step: str,
    code: int,
    message: str,
    steps: Steps,
    corpus_repo: ServedRepo,
    places: Places,
) -> None:
    build_project(steps, corpus_repo.file_url, places)
    (places.work / "shop").mkdir()
    (places.work / "shop" / "app.env").write_text("KEEP=1\n")

    ran = steps("run", step)

    assert ran.code == code, ran.err
    failed = steps_by_name(report_of(ran))[step]
    assert (failed["status"], failed["exit_code"]) == ("failed", code)
    assert failed["message"] == places.fill(message)
    assert (places.work / "shop" / "app.env").read_text() == "KEEP=1\n"


@pytest.mark.skipif(shutil.which("pwsh") is not None, reason="pwsh is installed here")
def test_a_powershell_step_fails_the_run_before_anything_runs(
    steps: Steps, corpus_repo: ServedRepo, places: Places
) -> None:
    build_project(steps, corpus_repo.file_url, places)

    ran = steps("run", "Announce", "Greet")

    assert ran.code == 2
    assert "`pwsh`" in ran.error
    assert ran.out == ""


def test_a_template_and_module_added_over_smart_http(steps: Steps, corpus_repo: ServedRepo) -> None:
    url = corpus_repo.http_url
    steps.write(
        f'[modules.TextTools]\ngit = "{url}"\nbranch = "main"\n'
        'template = "modules/text-tools.json"\n'
    )
    steps.ok("add", url, "--template", "step-templates/text-slugify.json", "--name", "slug")
    with steps.manifest.open("a", encoding="utf-8") as manifest:
        manifest.write(
            '\n[[steps]]\nname = "Slug"\ntemplate = "slug"\n'
            '[steps.parameters]\n"Slugify.Text" = "Über Straße 9"\n'
        )

    ran = steps.ok("run")

    assert ran.out == "'Über Straße 9' -> uber-strae-9\n"
    assert steps_by_name(report_of(ran))["Slug"]["output_variables"] == {"Slug": "uber-strae-9"}
