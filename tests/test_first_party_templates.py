"""The templates shipped in templates/, and the quickstart that uses them, run for real."""

from __future__ import annotations

import http.server
import json
import shutil
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from steptemplates.cli import main

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "templates"


def run_step(
    project: Path, template: str, parameters: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, dict[str, object]]:
    """Run one step of a first-party template; returns exit code, output and the step report."""
    lines = [f'[templates.{template}]\npath = "{TEMPLATES / template}"\n']
    lines.append(f'[[steps]]\nname = "Step"\ntemplate = "{template}"\n[steps.parameters]\n')
    lines += [f"{name} = {json.dumps(value)}\n" for name, value in parameters.items()]
    (project / "steps.toml").write_text("".join(lines))
    capsys.readouterr()
    code = main(["run", "--report", str(project / "report.json")])
    captured = capsys.readouterr()
    report = json.loads((project / "report.json").read_text())
    return code, captured.out + captured.err, report["steps"][0]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "project"
    directory.mkdir()
    monkeypatch.chdir(directory)
    return directory


class _Handler(http.server.BaseHTTPRequestHandler):
    statuses: ClassVar[list[int]] = []  # each test's server gets its own list

    def do_GET(self) -> None:
        status = self.statuses.pop(0) if self.statuses else 200
        body = f"status {status}; header {self.headers.get('X-Probe', '-')}".encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def web() -> Iterator[tuple[str, list[int]]]:
    """A web server on 127.0.0.1; append statuses to the list to script its answers."""
    statuses: ClassVar[list[int]] = []  # each test's server gets its own list
    handler = type("Handler", (_Handler,), {"statuses": statuses})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/health", statuses
    server.shutdown()
    server.server_close()


def test_health_check_passes_after_retries(
    project: Path, web: tuple[str, list[int]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, statuses = web
    statuses += [503, 503]
    code, output, step = run_step(
        project,
        "http-health-check",
        {
            "Url": url,
            "ExpectedContent": "header yes",
            "Headers": "X-Probe: yes",
            "Attempts": "3",
            "DelaySeconds": "0",
        },
        capsys,
    )
    assert code == 0, output
    assert output.count("is not one of the expected statuses") == 2
    assert step["output_variables"]["StatusCode"] == "200"  # type: ignore[index]
    assert int(step["output_variables"]["ResponseTimeMs"]) >= 0  # type: ignore[index]


def test_health_check_fails_with_the_last_problem(
    project: Path, web: tuple[str, list[int]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, statuses = web
    statuses += [500, 500]
    code, _, step = run_step(
        project,
        "http-health-check",
        {"Url": url, "Attempts": "2", "DelaySeconds": "0", "ExpectedStatus": "200-299,301"},
        capsys,
    )
    assert code == 255  # failstep, as in Calamari
    assert step["message"] == (
        f"{url} was not healthy after 2 attempts: status 500 is not one of the expected statuses"
    )


def test_health_check_rejects_a_bad_status_list(
    project: Path, web: tuple[str, list[int]], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, step = run_step(
        project, "http-health-check", {"Url": web[0], "ExpectedStatus": "2xx"}, capsys
    )
    assert code == 255
    assert step["message"] == ("ExpectedStatus: '2xx' is not a status code or a range like 200-299")


def test_wait_for_port_sees_a_listener(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        code, output, step = run_step(
            project, "wait-for-tcp-port", {"Host": "127.0.0.1", "Port": str(port)}, capsys
        )
    assert code == 0, output
    assert f"127.0.0.1:{port} accepts connections" in output
    assert step["output_variables"] == {"WaitedSeconds": "0"}


def test_wait_for_port_gives_up(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]  # closed again when the block ends
    code, _, step = run_step(
        project,
        "wait-for-tcp-port",
        {"Host": "127.0.0.1", "Port": str(port), "TimeoutSeconds": "1", "IntervalSeconds": "0.2"},
        capsys,
    )
    assert code == 1
    assert step["message"] == f"127.0.0.1:{port} did not accept connections within 1s"


@pytest.mark.parametrize(
    ("port", "message"),
    [("http", "Port: 'http' is not a port number"), ("70000", "Port: 70000 is outside 1-65535")],
)
def test_wait_for_port_rejects_bad_ports(
    project: Path, capsys: pytest.CaptureFixture[str], port: str, message: str
) -> None:
    code, _, step = run_step(project, "wait-for-tcp-port", {"Port": port}, capsys)
    assert (code, step["message"]) == (1, message)


def test_render_config_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "steps.toml").touch()
    code, output, step = run_step(
        project,
        "render-config-file",
        {
            "Content": "host = #{Octopus.Project.Name}\nport = 8080\n",
            "Destination": "out/app.conf",
            "FileMode": "0640",
            "KeepAsArtifact": "true",
        },
        capsys,
    )
    assert code == 0, output
    written = project / "out" / "app.conf"
    assert written.read_text() == "host = project\nport = 8080\n"
    assert stat.S_IMODE(written.stat().st_mode) == 0o640
    assert step["output_variables"]["Path"] == str(written)  # type: ignore[index]
    artifact = step["artifacts"][0]  # type: ignore[index]
    assert Path(artifact["path"]).read_text() == written.read_text()


def test_the_quickstart_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Same layout as the repository, so its ../../templates paths resolve.
    shutil.copytree(TEMPLATES, tmp_path / "templates")
    quickstart = tmp_path / "examples" / "quickstart"
    shutil.copytree(
        REPO / "examples" / "quickstart",
        quickstart,
        ignore=shutil.ignore_patterns(".steps", "build"),
    )
    lock_before = (quickstart / "steps.lock").read_text()
    monkeypatch.chdir(quickstart)

    assert main(["run", "--locked", "--offline", "--report", "report.json"]) == 0

    report = json.loads((quickstart / "report.json").read_text())
    assert [s["status"] for s in report["steps"]] == ["succeeded"] * 6
    site = quickstart / "build" / "site"
    assert "Hello from steps" in (site / "index.html").read_text()
    # The site package, deployed with its structured variables, copied to the site folder.
    assert json.loads((site / "config.json").read_text()) == {
        "Site": {"Environment": "none", "Greeting": "Hello from steps"}
    }
    assert (site / "style.css").is_file()
    assert not (site / "PostDeploy.sh").exists()  # deployment scripts are removed after use
    assert (quickstart / "steps.lock").read_text() == lock_before
