"""Real HTTP servers on 127.0.0.1 for the feed tests, with faults injected on demand.

``HttpServer`` answers through ``respond`` (overridden by the GitHub-compatible server) and
records every request. ``StaticServer`` serves a directory, as any static web host serving a
published feed would: ETags with 304s, byte ranges, and nothing else.

Faults are queued per path glob and consumed in order, each for ``times`` requests:

- ``Fault.status(500)`` answers that status (with ``headers``);
- ``Fault.reset()`` closes the connection without answering;
- ``Fault.stall(seconds)`` waits before answering (past a client's read timeout);
- ``Fault.truncate(fraction)`` announces the full Content-Length, sends part, and closes;
- ``Fault.corrupt()`` answers the right length with one byte changed.
"""

from __future__ import annotations

import email.utils
import fnmatch
import hashlib
import mimetypes
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit


@dataclass
class Fault:
    kind: str
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    fraction: float = 0.5
    times: int = 1

    @classmethod
    def of_status(cls, status: int, headers: dict[str, str] | None = None, times: int = 1) -> Fault:
        return cls("status", status=status, headers=headers or {}, times=times)

    @classmethod
    def reset(cls, times: int = 1) -> Fault:
        return cls("reset", times=times)

    @classmethod
    def stall(cls, seconds: float, times: int = 1) -> Fault:
        return cls("stall", seconds=seconds, times=times)

    @classmethod
    def truncate(cls, fraction: float = 0.5, times: int = 1) -> Fault:
        return cls("truncate", fraction=fraction, times=times)

    @classmethod
    def corrupt(cls, times: int = 1) -> Fault:
        return cls("corrupt", times=times)


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str  # with the query string
    headers: dict[str, str]  # names lowercased


@dataclass
class Response:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class HttpServer:
    """A threading HTTP server on a free port of 127.0.0.1; use as a context manager."""

    def __init__(self) -> None:
        self._faults: list[tuple[str, Fault]] = []
        self._lock = threading.Lock()
        self.requests: list[Recorded] = []
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        # A short poll: stopping a server waits for it, and tests start and stop many.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HttpServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- faults and the request log ---

    def fail(self, path_glob: str, fault: Fault) -> None:
        """Inject ``fault`` for the next ``fault.times`` requests whose path matches."""
        with self._lock:
            self._faults.append((path_glob, fault))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.requests.clear()

    def requests_to(self, path_glob: str) -> list[Recorded]:
        return [
            r for r in list(self.requests) if fnmatch.fnmatchcase(_path_only(r.path), path_glob)
        ]

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for index, (glob, fault) in enumerate(self._faults):
                if fnmatch.fnmatchcase(path, glob):
                    fault.times -= 1
                    if fault.times <= 0:
                        del self._faults[index]
                    return fault
        return None

    def _record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    # --- answering ---

    def respond(self, method: str, path: str, headers: dict[str, str]) -> Response:
        return Response(404, {"Content-Type": "text/plain"}, b"not found\n")


class StaticServer(HttpServer):
    """Serves the files under ``root`` (GET and HEAD), with ETags, 304s and byte ranges."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root

    def respond(self, method: str, path: str, headers: dict[str, str]) -> Response:
        relative = unquote(_path_only(path)).lstrip("/")
        file = (self.root / relative).resolve()
        if self.root.resolve() not in (file, *file.parents) or not file.is_file():
            return Response(404, {"Content-Type": "text/plain"}, b"not found\n")
        return file_response(file.read_bytes(), headers, mimetypes.guess_type(file.name)[0])


def file_response(body: bytes, headers: dict[str, str], content_type: str | None) -> Response:
    """A static file's answer: 304 for a matching If-None-Match, 206 for a Range."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    common = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Content-Type": content_type or "application/octet-stream",
        "Last-Modified": email.utils.formatdate(usegmt=True),
    }
    if headers.get("if-none-match") == etag:
        return Response(304, {"ETag": etag})
    wanted = headers.get("range", "")
    if wanted.startswith("bytes=") and headers.get("if-range", etag) == etag:
        start_text, _, end_text = wanted[6:].partition("-")
        if start_text.isdigit():
            start = int(start_text)
            end = int(end_text) if end_text.isdigit() else len(body) - 1
            if start >= len(body):
                return Response(416, {"Content-Range": f"bytes */{len(body)}"})
            common["Content-Range"] = f"bytes {start}-{end}/{len(body)}"
            return Response(206, common, body[start : end + 1])
    return Response(200, common, body)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timed out, reset) is what the fault tests are about.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _path_only(path: str) -> str:
    return urlsplit(path).path


def _handler_for(server: HttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve("GET")

        def do_HEAD(self) -> None:
            self._serve("HEAD")

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _serve(self, method: str) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            server._record(Recorded(method, self.path, headers))
            fault = server._take_fault(_path_only(self.path))
            if fault is not None and fault.kind == "reset":
                self._reset()
                return
            if fault is not None and fault.kind == "stall":
                time.sleep(fault.seconds)
            if fault is not None and fault.kind == "status":
                body = f"injected {fault.status}\n".encode()
                reply = Response(
                    fault.status, {"Content-Type": "text/plain", **fault.headers}, body
                )
            else:
                reply = server.respond(method, self.path, headers)
            body = reply.body
            if fault is not None and fault.kind == "corrupt" and body:
                body = body[:-1] + bytes([body[-1] ^ 0xFF])
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if method == "HEAD" or reply.status == 304:
                return
            if fault is not None and fault.kind == "truncate":
                self.wfile.write(body[: int(len(body) * fault.fraction)])
                self.wfile.flush()
                # A clean close before the announced length: the body is simply short.
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_WR)
                return
            self.wfile.write(body)

        def _reset(self) -> None:
            # SO_LINGER 0: the close sends RST, as a dropped connection would.
            linger = struct.pack("ii", 1, 0)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            self.close_connection = True
            self.connection.close()

    return Handler
