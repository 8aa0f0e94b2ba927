"""Git repositories built with the git CLI, and real servers for them: git daemon and smart HTTP.

Shared by the test suite (through ``tests/conftest.py``) and the benchmark scripts.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

GIT_HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"

# The credentials the suite's authenticating HTTP server accepts.
HTTP_USER = "steps-user"
HTTP_TOKEN = "s3cret-t0ken"

# Fixed identity and an isolated configuration, so commit shas only depend on content and order.
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Steps Test",
    "GIT_AUTHOR_EMAIL": "steps-test@example.invalid",
    "GIT_COMMITTER_NAME": "Steps Test",
    "GIT_COMMITTER_EMAIL": "steps-test@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
}
_EPOCH = 1_700_000_000


def git_env() -> dict[str, str]:
    """The environment for git commands run by the helpers: no user or system configuration."""
    return {**os.environ, **_GIT_ENV}


def git(cwd: Path, *args: str, date: int | None = None) -> str:
    """Run ``git args`` in ``cwd`` and return its stripped standard output.

    ``date`` (seconds since the epoch) fixes the author and committer dates of what it creates.
    """
    env = git_env()
    if date is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{date} +0000"
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {cwd}: {done.stderr.strip()}")
    return done.stdout.strip()


class GitRepo:
    """A non-bare repository built through the git CLI; every server here can serve it as is."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._gitlinks: dict[str, str] = {}
        self._commits = 0

    def git(self, *args: str) -> str:
        """Run a git command in this repository."""
        return git(self.path, *args)

    def write(self, relpath: str, content: str | bytes = "", *, mode: int = 0o644) -> Path:
        """Create or replace a file (parents included) with the given content and mode."""
        target = self.path / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        data = content.encode() if isinstance(content, str) else content
        target.write_bytes(data)
        target.chmod(mode)
        return target

    def symlink(self, relpath: str, link_target: str) -> None:
        """Create a symbolic link at ``relpath`` pointing to ``link_target`` (not checked)."""
        target = self.path / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.exists():
            target.unlink()
        target.symlink_to(link_target)

    def submodule(self, relpath: str, commit: str) -> None:
        """Record a gitlink (submodule entry) at ``relpath``; no submodule repository is needed."""
        self._gitlinks[relpath] = commit

    def remove(self, relpath: str) -> None:
        """Delete a file or symlink from the work tree; the next commit records the removal."""
        (self.path / relpath).unlink()

    def commit(self, message: str = "change") -> str:
        """Commit everything in the work tree (plus recorded gitlinks); return the commit sha."""
        self.git("add", "--all")
        for relpath, sha in self._gitlinks.items():
            self.git("update-index", "--add", "--cacheinfo", f"160000,{sha},{relpath}")
        self._commits += 1
        # One second apart, so that history order and dates are stable and realistic.
        git(self.path, "commit", "--quiet", "--allow-empty", "-m", message, date=self._date())
        return self.rev_parse("HEAD")

    def tag(
        self, name: str, commit: str = "HEAD", *, message: str | None = None, force: bool = False
    ) -> str:
        """Create a tag (annotated when ``message`` is given); return what the tag ref points to."""
        options = ["--force"] if force else []
        if message is not None:
            options += ["--annotate", "-m", message]
        git(self.path, "tag", *options, name, commit, date=self._date())
        return self.rev_parse(f"refs/tags/{name}")

    def move_tag(self, name: str, commit: str = "HEAD", *, message: str | None = None) -> str:
        """Point an existing tag at another commit, as ``git tag -f`` does."""
        return self.tag(name, commit, message=message, force=True)

    def branch(self, name: str, commit: str = "HEAD") -> str:
        """Create or reset a branch at ``commit`` without checking it out; return its sha."""
        self.git("branch", "--force", name, commit)
        return self.rev_parse(f"refs/heads/{name}")

    def checkout(self, name: str) -> None:
        """Switch the work tree (and HEAD) to a branch, creating it at HEAD if it does not exist."""
        exists = subprocess.run(
            ["git", "show-ref", "--verify", "--quiet", f"refs/heads/{name}"],
            cwd=self.path,
            env=git_env(),
            check=False,
        )
        self.git("checkout", "--quiet", *([] if exists.returncode == 0 else ["-b"]), name)

    def rev_parse(self, rev: str) -> str:
        """The full sha of ``rev``."""
        return self.git("rev-parse", rev)

    def _date(self) -> int:
        return _EPOCH + self._commits


def make_repo(path: Path, *, branch: str = "main") -> GitRepo:
    """Create an empty repository at ``path`` whose HEAD is ``branch``."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "--quiet", f"--initial-branch={branch}")
    return GitRepo(path)


class ServedRepo(GitRepo):
    """A repository under the root that the test servers serve, with its URL on each."""

    def __init__(self, path: Path, daemon: GitDaemon, http: SmartHttpServer) -> None:
        super().__init__(path)
        self.name = path.name
        self.file_url = path.as_uri()
        self.git_url = daemon.url(self.name)
        self.http_url = http.url(self.name)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited during start-up")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing accepted connections on port {port} within {timeout} s")


class GitDaemon:
    """``git daemon`` exporting every repository under ``base_path`` on 127.0.0.1.

    With ``log_path``, the daemon logs verbosely there, and ``connections()`` counts the
    connections it accepted, so a benchmark can prove that a command used no network.
    """

    def __init__(self, base_path: Path, log_path: Path | None = None) -> None:
        self.base_path = base_path
        self.log_path = log_path
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, name: str) -> str:
        """The git:// URL of the repository ``base_path / name``."""
        return f"git://127.0.0.1:{self.port}/{name}"

    def connections(self) -> int:
        """Connections accepted so far (each logs one line before it is served)."""
        assert self.log_path is not None, "start the daemon with a log_path to count"
        time.sleep(0.05)  # the daemon's children write the line; let one in flight land
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return text.count("Connection from ")

    def __enter__(self) -> GitDaemon:
        # The port is picked before git binds it, so another process may win the race: retry.
        for _attempt in range(5):
            self.port = free_port()
            if self._start():
                return self
        raise RuntimeError("could not start git daemon")

    def _start(self) -> bool:
        logging = ["--verbose", "--log-destination=stderr"] if self.log_path else []
        with open(self.log_path or os.devnull, "ab") as log:
            process = subprocess.Popen(
                [
                    "git",
                    "daemon",
                    "--reuseaddr",
                    "--export-all",
                    "--enable=upload-pack",
                    *logging,
                    f"--base-path={self.base_path}",
                    "--listen=127.0.0.1",
                    f"--port={self.port}",
                    str(self.base_path),
                ],
                env=git_env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        try:
            if self.log_path:
                # A probe connection would be counted; wait for the daemon to say it is ready.
                _wait_for_log(self.log_path, "Ready to rumble", process)
            else:
                _wait_for_port(self.port, process)
        except RuntimeError:
            process.kill()
            process.wait()
            return False
        self._process = process
        return True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None


def _wait_for_log(path: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("git daemon exited")
        if text in path.read_text(encoding="utf-8", errors="replace"):
            return
        time.sleep(0.02)
    raise RuntimeError("git daemon did not start")


class SmartHttpServer:
    """Smart HTTP over real ``git http-backend`` (run as CGI per request) on 127.0.0.1.

    ``auth=(user, token)`` requires Basic authentication; ``shallow=False`` makes it an older
    server: protocol v0 only, without shallow fetches. ``stall_seconds`` delays each response
    (only requests for the protocol v2 command ``stall_command`` when that is set, e.g. "fetch").
    ``fail_with`` lists statuses to answer the next requests with, one each, as a flaky proxy
    would. ``requests`` counts the requests served, so tests can assert that no network was used.
    """

    def __init__(
        self, base_path: Path, *, auth: tuple[str, str] | None = None, shallow: bool = True
    ) -> None:
        self.base_path = base_path
        self.auth = auth
        self.shallow = shallow
        self.stall_seconds = 0.0
        self.stall_command: str | None = None
        self.fail_with: list[int] = []
        self.requests = 0
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port the server listens on."""
        assert self._server is not None, "server not started"
        return self._server.server_address[1]

    def url(self, name: str) -> str:
        """The http:// URL of the repository ``base_path / name``."""
        return f"http://127.0.0.1:{self.port}/{name}"

    def __enter__(self) -> SmartHttpServer:
        self._server = _QuietHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="git-http", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def count_request(self) -> int | None:
        """Record one request; return the status to fail it with, if one is queued."""
        with self._lock:
            self.requests += 1
            return self.fail_with.pop(0) if self.fail_with else None

    def maybe_stall(self, command: str | None) -> None:
        """Delay the response as configured; returns early when the server shuts down."""
        if self.stall_seconds and self.stall_command in (None, command):
            self._closing.wait(self.stall_seconds)

    def authorized(self, header: str | None) -> bool:
        """Whether an ``Authorization`` header satisfies the configured credentials."""
        if self.auth is None:
            return True
        expected = base64.b64encode(f"{self.auth[0]}:{self.auth[1]}".encode()).decode()
        return header == f"Basic {expected}"


class _QuietHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that give up (timeouts, interrupted fetches) close the socket under a stalled
        # handler; that is what those tests do on purpose, so it is not worth a traceback.
        pass


def _v2_command(body: bytes) -> str | None:
    """The command of a protocol v2 request body ("ls-refs", "fetch"), read from its first line."""
    try:
        length = int(body[:4], 16)
    except ValueError:
        return None
    line = body[4:length].decode("ascii", "replace").strip()
    return line.removeprefix("command=") if line.startswith("command=") else None


def _handler_for(server: SmartHttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _serve(self) -> None:
            failure = server.count_request()
            # Read the body first so a keep-alive connection stays in sync whatever we answer.
            body = self._read_body()
            if failure is not None:
                self._reply(failure, [], b"injected failure\n")
                return
            if not server.authorized(self.headers.get("Authorization")):
                self._reply(401, [("WWW-Authenticate", 'Basic realm="steps-test"')], b"")
                return
            server.maybe_stall(_v2_command(body))
            status, headers, payload = self._run_backend(body)
            if not server.shallow and self.path.split("?")[0].endswith("/info/refs"):
                payload = _without_shallow(payload)
            self._reply(status, headers, payload)

        def _read_body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0], 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _run_backend(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
            parts = urlsplit(self.path)
            env = {
                **git_env(),
                "GIT_PROJECT_ROOT": str(server.base_path),
                "GIT_HTTP_EXPORT_ALL": "1",
                "GATEWAY_INTERFACE": "CGI/1.1",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "REQUEST_METHOD": self.command,
                "PATH_INFO": unquote(parts.path),
                "QUERY_STRING": parts.query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "REMOTE_ADDR": self.client_address[0],
            }
            # http-backend inflates gzip bodies itself and hands Git-Protocol on to upload-pack.
            if encoding := self.headers.get("Content-Encoding"):
                env["HTTP_CONTENT_ENCODING"] = encoding
            if (protocol := self.headers.get("Git-Protocol")) and server.shallow:
                env["GIT_PROTOCOL"] = protocol
            if server.auth is not None:
                env["REMOTE_USER"] = server.auth[0]
            done = subprocess.run(
                [GIT_HTTP_BACKEND], input=body, env=env, capture_output=True, check=False
            )
            return _parse_cgi(done.stdout)

        def _reply(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


def _without_shallow(advertisement: bytes) -> bytes:
    """A protocol v0 ref advertisement with "shallow" dropped from the capabilities it lists."""
    lines = []
    rest = advertisement
    while len(rest) >= 4:
        size = int(rest[:4], 16)
        if size < 4:  # flush packet
            lines.append(rest[:4])
            rest = rest[4:]
            continue
        line, rest = rest[4:size], rest[size:]
        ref, nul, capabilities = line.rstrip(b"\n").partition(b"\0")
        if nul:
            kept = [c for c in capabilities.split() if c != b"shallow"]
            line = ref + nul + b" ".join(kept) + b"\n"
        lines.append(b"%04x" % (len(line) + 4) + line)
    return b"".join(lines) + rest


def _parse_cgi(output: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """Split CGI output into status, headers and body, honouring the ``Status:`` header."""
    head, separator, body = output.partition(b"\r\n\r\n")
    if not separator:
        head, _, body = output.partition(b"\n\n")
    status = 200
    headers = []
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.split()[0])
        elif name.lower() not in ("content-length", "transfer-encoding"):
            headers.append((name, value.strip()))
    return status, headers, body
