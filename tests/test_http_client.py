"""The shared HTTP client against real servers on 127.0.0.1: retries, timeouts, resumed
downloads, redirects and credentials, conditional requests, rate limits, offline, progress."""

from __future__ import annotations

import base64
import email.utils
import hashlib
import io
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from steptemplates.console import Console
from steptemplates.errors import NetworkError, OfflineError
from steptemplates.http_client import (
    Auth,
    HttpClient,
    HttpStatusError,
    RateLimitError,
    origin_of,
    shown_url,
)
from tests.support.httpserver import Fault, HttpServer, Response, StaticServer, file_response

DOC = {"name": "web", "versions": ["1.0.0", "1.1.0"]}
TOKEN = "ghp_secret_token_value"


class TtyStream(io.StringIO):
    """A stand-in for a terminal: the progress line is only for people watching one."""

    def isatty(self) -> bool:
        return True


class RoutedServer(HttpServer):
    """Answers each path with a fixed ``Response`` or a function of the request headers."""

    def __init__(self) -> None:
        super().__init__()
        self.routes: dict[str, Response | Callable[[dict[str, str]], Response]] = {}

    def respond(self, method: str, path: str, headers: dict[str, str]) -> Response:
        route = self.routes.get(path.partition("?")[0])
        if route is None:
            return Response(404, {"Content-Type": "text/plain"}, b"not found\n")
        return route(headers) if callable(route) else route


class NoRangesServer(StaticServer):
    """A static host that does not take byte ranges."""

    def respond(self, method: str, path: str, headers: dict[str, str]) -> Response:
        headers = {k: v for k, v in headers.items() if k not in ("range", "if-range")}
        reply = super().respond(method, path, headers)
        reply.headers.pop("Accept-Ranges", None)
        return reply


@pytest.fixture
def files(tmp_path: Path) -> Path:
    root = tmp_path / "served"
    root.mkdir()
    (root / "doc.json").write_text(json.dumps(DOC))
    (root / "blob.bin").write_bytes(os.urandom(200_000))
    (root / "big.bin").write_bytes(os.urandom(1_500_000))
    return root


@pytest.fixture
def server(files: Path) -> Iterator[StaticServer]:
    with StaticServer(files) as running:
        yield running


@pytest.fixture
def routed() -> Iterator[RoutedServer]:
    with RoutedServer() as running:
        yield running


@pytest.fixture
def err() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def make_client(tmp_path: Path, err: io.StringIO) -> Iterator[Callable[..., HttpClient]]:
    made: list[HttpClient] = []

    def make(*, offline: bool = False, console: Console | None = None) -> HttpClient:
        client = HttpClient(
            console or Console(io.StringIO(), err),
            offline=offline,
            metadata_dir=tmp_path / "http",
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., HttpClient]) -> HttpClient:
    return make_client()


@pytest.fixture
def staging(tmp_path: Path) -> Path:
    return tmp_path / "staging"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(staging: Path) -> list[str]:
    return sorted(p.name for p in staging.iterdir()) if staging.exists() else []


# --- JSON and retries ---


def test_get_json_returns_the_document(client: HttpClient, server: StaticServer) -> None:
    response = client.get_json(f"{server.url}/doc.json", label="feed 'x'")
    assert response.data == DOC
    assert response.url == f"{server.url}/doc.json"
    assert response.headers["content-type"] == "application/json"
    assert not response.not_modified
    assert client.requests_made == 1


def test_a_500_is_retried(client: HttpClient, server: StaticServer) -> None:
    server.fail("/doc.json", Fault.of_status(500))
    assert client.get_json(f"{server.url}/doc.json", label="feed 'x'").data == DOC
    assert len(server.requests_to("/doc.json")) == 2
    assert client.requests_made == 2


def test_a_persistent_503_is_reported_after_four_attempts(
    client: HttpClient, server: StaticServer
) -> None:
    server.fail("/doc.json", Fault.of_status(503, times=10))
    with pytest.raises(NetworkError) as caught:
        client.get_json(f"{server.url}/doc.json", label="feed 'x'")
    assert caught.value.message == (
        f"feed 'x': {server.url}/doc.json answered 503 Service Unavailable after 4 attempts"
    )
    assert not isinstance(caught.value, HttpStatusError)
    assert len(server.requests_to("/doc.json")) == 4


def test_a_reset_connection_is_retried(
    client: HttpClient, server: StaticServer, files: Path, staging: Path
) -> None:
    server.fail("/blob.bin", Fault.reset())
    downloaded = client.download(f"{server.url}/blob.bin", staging, label="template 'web'")
    assert downloaded.sha256 == sha256_of(files / "blob.bin")
    assert len(server.requests_to("/blob.bin")) == 2


def test_a_connection_reset_every_time_is_reported(
    client: HttpClient, server: StaticServer, staging: Path
) -> None:
    server.fail("/blob.bin", Fault.reset(times=10))
    with pytest.raises(NetworkError) as caught:
        client.download(f"{server.url}/blob.bin", staging, label="template 'web'")
    assert caught.value.message == (
        f"template 'web': {server.url}/blob.bin: connection reset (4 attempts)"
    )
    assert leftovers(staging) == []


def test_a_refused_connection_is_reported(client: HttpClient) -> None:
    with HttpServer() as gone:
        url = f"{gone.url}/doc.json"
    with pytest.raises(NetworkError) as caught:
        client.get_json(url, label="feed 'x'")
    assert caught.value.message == f"feed 'x': {url}: connection refused (4 attempts)"


def test_a_stall_past_the_timeout_is_retried(
    make_client: Callable[..., HttpClient], server: StaticServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEPS_NETWORK_TIMEOUT", "0.5")
    server.fail("/doc.json", Fault.stall(1.0))
    assert make_client().get_json(f"{server.url}/doc.json", label="feed 'x'").data == DOC
    assert len(server.requests_to("/doc.json")) == 2


def test_a_server_that_never_answers_times_out(
    make_client: Callable[..., HttpClient], server: StaticServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEPS_NETWORK_TIMEOUT", "0.5")
    server.fail("/doc.json", Fault.stall(1.0, times=10))
    started = time.monotonic()
    with pytest.raises(NetworkError) as caught:
        make_client().get_json(f"{server.url}/doc.json", label="feed 'x'")
    assert caught.value.message == (
        f"feed 'x': {server.url}/doc.json: timed out after 0.5 s (4 attempts)"
    )
    assert time.monotonic() - started < 5


def test_malformed_json_is_named_without_the_whole_body(
    client: HttpClient, routed: RoutedServer
) -> None:
    page = b"<!DOCTYPE html>\n<html>" + b"x" * 500_000
    routed.routes["/index.json"] = Response(200, {"Content-Type": "text/html"}, page)
    with pytest.raises(NetworkError) as caught:
        client.get_json(f"{routed.url}/index.json", label="feed 'x'")
    message = str(caught.value)
    assert message.startswith(
        f"feed 'x': {routed.url}/index.json did not answer with valid JSON "
        "(it starts with '<!DOCTYPE html> <html>xxx"
    )
    assert len(message) < 400
    assert len(routed.requests_to("/index.json")) == 1  # not transient


def test_an_unsupported_scheme_is_refused_at_once(client: HttpClient) -> None:
    with pytest.raises(NetworkError, match="only http, https and file URLs work"):
        client.get_json("ftp://example.invalid/doc.json", label="feed 'x'")


# --- error statuses ---


@pytest.mark.parametrize(
    ("status", "reason"), [(401, "Unauthorized"), (403, "Forbidden"), (404, "Not Found")]
)
def test_client_errors_are_reported_at_once(
    client: HttpClient, server: StaticServer, status: int, reason: str
) -> None:
    server.fail("/doc.json", Fault.of_status(status))
    with pytest.raises(HttpStatusError) as caught:
        client.get_json(
            f"{server.url}/doc.json", label="feed 'x'", auth_hint="set token-env for feed 'x'"
        )
    error = caught.value
    assert error.status == status
    assert error.message.startswith(f"feed 'x': {server.url}/doc.json answered {status} {reason}")
    if status == 404:
        assert error.hint == "check the URL and the name"
    else:
        assert error.message.endswith("(no credentials were sent)")
        assert error.hint == "set token-env for feed 'x'"
    assert len(server.requests_to("/doc.json")) == 1


def test_an_auth_failure_without_a_hint_gets_a_generic_one(
    client: HttpClient, server: StaticServer
) -> None:
    server.fail("/doc.json", Fault.of_status(401))
    auth = Auth(origin_of(server.url), {"Authorization": f"Bearer {TOKEN}"}, "$FEED_TOKEN")
    with pytest.raises(HttpStatusError) as caught:
        client.get_json(f"{server.url}/doc.json", label="feed 'x'", auth=auth)
    assert caught.value.message.endswith("(credentials from $FEED_TOKEN were sent)")
    assert caught.value.hint is not None and "credentials" in caught.value.hint
    assert TOKEN not in str(caught.value)


def test_credentials_in_urls_never_reach_messages(client: HttpClient, server: StaticServer) -> None:
    url = f"http://user:{TOKEN}@127.0.0.1:{server.port}/missing.json?access_token={TOKEN}&page=2"
    with pytest.raises(HttpStatusError) as caught:
        client.get_json(url, label="feed 'x'")
    assert TOKEN not in str(caught.value)
    assert f"http://127.0.0.1:{server.port}/missing.json?access_token=***&page=2" in str(
        caught.value
    )


def test_shown_url_leaves_ordinary_urls_alone() -> None:
    assert shown_url("https://example.com/a/b.json?page=2") == "https://example.com/a/b.json?page=2"
    assert shown_url("https://u:p@example.com/x?sig=abc") == "https://example.com/x?sig=***"


# --- rate limits ---


def test_a_rate_limit_that_resets_soon_is_waited_for(
    client: HttpClient, server: StaticServer, err: io.StringIO
) -> None:
    reset = str(int(time.time()) + 1)
    server.fail(
        "/doc.json",
        Fault.of_status(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}),
    )
    assert client.get_json(f"{server.url}/doc.json", label="template 'web'").data == DOC
    assert time.time() >= int(reset)  # it slept until the reset before trying again
    assert len(server.requests_to("/doc.json")) == 2
    warning = err.getvalue()
    assert warning.startswith(
        f"warning: template 'web': the rate limit of 127.0.0.1:{server.port} is used up; waiting "
    )
    assert warning.rstrip().endswith("s for it to reset")


def test_a_429_with_retry_after_is_waited_for(
    client: HttpClient, server: StaticServer, err: io.StringIO
) -> None:
    server.fail("/doc.json", Fault.of_status(429, {"Retry-After": "1"}))
    started = time.monotonic()
    assert client.get_json(f"{server.url}/doc.json", label="feed 'x'").data == DOC
    assert time.monotonic() - started >= 0.9
    assert "waiting 1 s for it to reset" in err.getvalue()


def test_a_rate_limit_that_resets_late_is_an_error_at_once(
    client: HttpClient, server: StaticServer
) -> None:
    reset = int(time.time()) + 3600
    server.fail(
        "/doc.json",
        Fault.of_status(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}),
    )
    started = time.monotonic()
    with pytest.raises(RateLimitError) as caught:
        client.get_json(
            f"{server.url}/doc.json",
            label="template 'web'",
            rate_limit_hint="set GITHUB_TOKEN to authenticate",
        )
    assert time.monotonic() - started < 1
    clock = time.strftime("%H:%M:%S", time.gmtime(reset))
    assert caught.value.message == (
        f"template 'web': the rate limit of 127.0.0.1:{server.port} is used up; "
        f"it resets at {clock} UTC (in about 60 minutes)"
    )
    assert caught.value.hint == "set GITHUB_TOKEN to authenticate"
    assert len(server.requests_to("/doc.json")) == 1


def test_no_rate_limit_wait_when_the_limit_is_zero(
    client: HttpClient, server: StaticServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEPS_RATE_LIMIT_WAIT", "0")
    server.fail("/doc.json", Fault.of_status(429, {"Retry-After": "1"}))
    with pytest.raises(RateLimitError, match=r"in about 1 minute\)"):
        client.get_json(f"{server.url}/doc.json", label="feed 'x'")


def test_a_429_that_never_says_when_is_retried_then_reported(
    client: HttpClient, server: StaticServer
) -> None:
    server.fail("/doc.json", Fault.of_status(429, times=10))
    with pytest.raises(RateLimitError, match="did not say when it resets"):
        client.get_json(f"{server.url}/doc.json", label="feed 'x'")
    assert len(server.requests_to("/doc.json")) == 4


def test_a_plain_403_is_not_a_rate_limit(client: HttpClient, server: StaticServer) -> None:
    server.fail("/doc.json", Fault.of_status(403, {"x-ratelimit-remaining": "12"}))
    with pytest.raises(HttpStatusError) as caught:
        client.get_json(f"{server.url}/doc.json", label="feed 'x'")
    assert not isinstance(caught.value, RateLimitError)


# --- redirects and credentials ---


def test_credentials_never_follow_a_redirect_to_another_origin(
    client: HttpClient, routed: RoutedServer, staging: Path
) -> None:
    with RoutedServer() as storage:
        routed.routes["/asset"] = Response(302, {"Location": f"{storage.url}/signed"})
        storage.routes["/signed"] = Response(302, {"Location": f"{routed.url}/final"})
        routed.routes["/final"] = Response(200, {}, b"archive bytes")
        auth = Auth(origin_of(routed.url), {"Authorization": f"Bearer {TOKEN}"}, "$GITHUB_TOKEN")
        downloaded = client.download(
            f"{routed.url}/asset", staging, label="template 'web'", auth=auth
        )
        assert downloaded.path.read_bytes() == b"archive bytes"
        [signed] = storage.requests_to("/signed")
    [asset] = routed.requests_to("/asset")
    [final] = routed.requests_to("/final")
    assert asset.headers["authorization"] == f"Bearer {TOKEN}"
    assert "authorization" not in signed.headers
    assert "authorization" not in final.headers  # back on the origin, but it left once
    assert client.requests_made == 3


def test_credentials_follow_a_redirect_within_their_origin(
    client: HttpClient, routed: RoutedServer
) -> None:
    routed.routes["/old.json"] = Response(301, {"Location": "/new.json"})
    routed.routes["/new.json"] = Response(200, {"Content-Type": "application/json"}, b"[1]")
    auth = Auth(origin_of(routed.url), {"Authorization": f"Bearer {TOKEN}"})
    response = client.get_json(f"{routed.url}/old.json", label="feed 'x'", auth=auth)
    assert response.data == [1]
    assert response.url == f"{routed.url}/new.json"
    assert routed.requests_to("/new.json")[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_credentials_for_another_origin_are_not_sent(
    client: HttpClient, server: StaticServer
) -> None:
    auth = Auth("https://api.github.com:443", {"Authorization": f"Bearer {TOKEN}"})
    client.get_json(f"{server.url}/doc.json", label="feed 'x'", auth=auth)
    assert "authorization" not in server.requests_to("/doc.json")[0].headers


def test_a_redirect_loop_is_cut_short(client: HttpClient, routed: RoutedServer) -> None:
    routed.routes["/loop"] = Response(302, {"Location": "/loop"})
    with pytest.raises(NetworkError) as caught:
        client.get_json(f"{routed.url}/loop", label="feed 'x'")
    assert caught.value.message == f"feed 'x': {routed.url}/loop redirected more than 10 times"
    assert len(routed.requests_to("/loop")) == 11


def test_a_redirect_to_a_local_file_is_not_followed(
    client: HttpClient, routed: RoutedServer, files: Path
) -> None:
    routed.routes["/doc.json"] = Response(302, {"Location": (files / "doc.json").as_uri()})
    with pytest.raises(NetworkError, match="redirected to a file URL, which is not followed"):
        client.get_json(f"{routed.url}/doc.json", label="feed 'x'")


# --- conditional requests and offline ---


def test_an_unchanged_document_is_answered_from_the_cache(
    client: HttpClient, server: StaticServer, tmp_path: Path
) -> None:
    url = f"{server.url}/doc.json"
    client.get_json(url, label="feed 'x'")
    [stored] = list((tmp_path / "http").iterdir())
    etag = json.loads(stored.read_text())["headers"]["etag"]

    again = client.get_json(url, label="feed 'x'")
    assert again.not_modified
    assert again.data == DOC
    assert again.url == url
    second = server.requests_to("/doc.json")[1]
    assert second.headers["if-none-match"] == etag
    assert "if-modified-since" in second.headers


def test_a_cached_answer_keeps_its_next_page(client: HttpClient, routed: RoutedServer) -> None:
    def page(headers: dict[str, str]) -> Response:
        reply = file_response(b'[{"tag_name": "v1.0.0"}]', headers, "application/json")
        reply.headers["Link"] = f'<{routed.url}/releases?page=2>; rel="next"'
        return reply

    routed.routes["/releases"] = page
    first = client.get_json(f"{routed.url}/releases", label="template 'web'")
    again = client.get_json(f"{routed.url}/releases", label="template 'web'")
    assert first.next_url == again.next_url == f"{routed.url}/releases?page=2"
    assert (first.not_modified, again.not_modified) == (False, True)


def test_a_changed_document_replaces_the_cached_one(
    client: HttpClient, server: StaticServer, files: Path
) -> None:
    url = f"{server.url}/doc.json"
    client.get_json(url, label="feed 'x'")
    (files / "doc.json").write_text('{"name": "changed"}')
    fresh = client.get_json(url, label="feed 'x'")
    assert (fresh.data, fresh.not_modified) == ({"name": "changed"}, False)
    assert client.get_json(url, label="feed 'x'").not_modified


def test_a_damaged_metadata_file_is_ignored(
    client: HttpClient, server: StaticServer, tmp_path: Path
) -> None:
    url = f"{server.url}/doc.json"
    client.get_json(url, label="feed 'x'")
    [stored] = list((tmp_path / "http").iterdir())
    stored.write_text('{"request": ')
    response = client.get_json(url, label="feed 'x'")
    assert (response.data, response.not_modified) == (DOC, False)
    assert "if-none-match" not in server.requests_to("/doc.json")[1].headers
    assert json.loads(stored.read_text())["data"] == DOC  # written afresh


def test_answers_with_and_without_credentials_are_kept_apart(
    client: HttpClient, server: StaticServer
) -> None:
    url = f"{server.url}/doc.json"
    client.get_json(url, label="feed 'x'")
    auth = Auth(origin_of(server.url), {"Authorization": f"Bearer {TOKEN}"})
    assert not client.get_json(url, label="feed 'x'", auth=auth).not_modified
    assert "if-none-match" not in server.requests_to("/doc.json")[1].headers


def test_offline_answers_from_the_cache_without_a_connection(
    make_client: Callable[..., HttpClient], server: StaticServer
) -> None:
    url = f"{server.url}/doc.json"
    make_client().get_json(url, label="feed 'x'")
    assert len(server.requests) == 1
    offline = make_client(offline=True)
    response = offline.get_json(url, label="feed 'x'")
    assert (response.data, response.not_modified) == (DOC, True)
    assert len(server.requests) == 1
    assert offline.requests_made == 0


def test_offline_without_a_cached_answer_fails_without_a_connection(
    make_client: Callable[..., HttpClient], server: StaticServer, staging: Path
) -> None:
    offline = make_client(offline=True)
    with pytest.raises(OfflineError, match=r"^feed 'x': .*/doc.json is not in the cache"):
        offline.get_json(f"{server.url}/doc.json", label="feed 'x'")
    with pytest.raises(OfflineError, match="--offline forbids network access"):
        offline.download(f"{server.url}/blob.bin", staging, label="template 'web'")
    assert server.requests == []
    assert offline.requests_made == 0
    assert leftovers(staging) == []


def test_the_cache_never_holds_credentials(
    client: HttpClient, server: StaticServer, tmp_path: Path
) -> None:
    auth = Auth(origin_of(server.url), {"Authorization": f"Bearer {TOKEN}"})
    client.get_json(f"{server.url}/doc.json", label="feed 'x'", auth=auth)
    for stored in (tmp_path / "http").iterdir():
        assert TOKEN not in stored.read_text()


# --- downloads ---


def test_a_download_is_hashed_while_written(
    client: HttpClient, server: StaticServer, files: Path, staging: Path
) -> None:
    downloaded = client.download(f"{server.url}/blob.bin", staging, label="template 'web'")
    data = (files / "blob.bin").read_bytes()
    assert downloaded.path.parent == staging
    assert downloaded.path.read_bytes() == data
    assert downloaded.size == len(data)
    assert downloaded.sha256 == hashlib.sha256(data).hexdigest()
    assert downloaded.sha512 == base64.b64encode(hashlib.sha512(data).digest()).decode()


def test_a_truncated_download_resumes_with_a_range(
    client: HttpClient, server: StaticServer, files: Path, staging: Path
) -> None:
    server.fail("/blob.bin", Fault.truncate(0.5))
    downloaded = client.download(f"{server.url}/blob.bin", staging, label="template 'web'")
    assert downloaded.sha256 == sha256_of(files / "blob.bin")
    assert downloaded.size == 200_000
    first, second = server.requests_to("/blob.bin")
    assert "range" not in first.headers
    assert second.headers["range"] == "bytes=100000-"
    assert second.headers["if-range"].startswith('"')
    assert leftovers(staging) == [downloaded.path.name]


def test_a_truncated_download_starts_over_without_ranges(
    client: HttpClient, files: Path, staging: Path
) -> None:
    with NoRangesServer(files) as server:
        server.fail("/blob.bin", Fault.truncate(0.5))
        downloaded = client.download(f"{server.url}/blob.bin", staging, label="template 'web'")
        assert [r.headers.get("range") for r in server.requests_to("/blob.bin")] == [None, None]
    assert downloaded.sha256 == sha256_of(files / "blob.bin")


def test_a_file_replaced_between_attempts_is_fetched_whole(
    client: HttpClient, routed: RoutedServer, staging: Path
) -> None:
    versions = [b"a" * 100_000, b"b" * 100_000]

    def serve(headers: dict[str, str]) -> Response:
        # The first answer is cut short below; by the retry the file has been replaced.
        body = versions[0] if len(routed.requests_to("/x.tgz")) == 1 else versions[1]
        return file_response(body, headers, None)

    routed.routes["/x.tgz"] = serve
    routed.fail("/x.tgz", Fault.truncate(0.5))
    downloaded = client.download(f"{routed.url}/x.tgz", staging, label="template 'web'")
    assert downloaded.path.read_bytes() == versions[1]
    assert downloaded.sha256 == hashlib.sha256(versions[1]).hexdigest()
    assert "if-range" in routed.requests_to("/x.tgz")[1].headers


def test_a_corrupt_body_is_left_for_the_caller_to_detect(
    client: HttpClient, server: StaticServer, files: Path, staging: Path
) -> None:
    server.fail("/blob.bin", Fault.corrupt())
    downloaded = client.download(f"{server.url}/blob.bin", staging, label="template 'web'")
    assert downloaded.size == 200_000
    assert downloaded.sha256 != sha256_of(files / "blob.bin")


@pytest.mark.parametrize(
    "fault",
    [Fault.of_status(500, times=10), Fault.of_status(404), Fault.reset(times=10)],
    ids=["500", "404", "reset"],
)
def test_a_failed_download_leaves_nothing_in_staging(
    client: HttpClient, server: StaticServer, staging: Path, fault: Fault
) -> None:
    server.fail("/blob.bin", fault)
    with pytest.raises(NetworkError):
        client.download(f"{server.url}/blob.bin", staging, label="template 'web'")
    assert leftovers(staging) == []


def test_a_download_truncated_every_time_leaves_nothing_in_staging(
    client: HttpClient, files: Path, staging: Path
) -> None:
    with NoRangesServer(files) as server:
        server.fail("/blob.bin", Fault.truncate(0.5, times=10))
        with pytest.raises(NetworkError) as caught:
            client.download(f"{server.url}/blob.bin", staging, label="template 'web'")
    assert "the connection closed before the whole answer arrived (4 attempts)" in str(caught.value)
    assert leftovers(staging) == []


def test_downloads_from_many_threads(
    client: HttpClient, server: StaticServer, files: Path, staging: Path
) -> None:
    names = [f"file-{n}.bin" for n in range(8)]
    for name in names:
        (files / name).write_bytes(os.urandom(150_000))
    server.fail("/file-1.bin", Fault.truncate(0.3))
    server.fail("/file-2.bin", Fault.reset())
    server.fail("/file-3.bin", Fault.of_status(502))
    results: dict[str, str] = {}
    failures: list[BaseException] = []

    def fetch(name: str) -> None:
        try:
            downloaded = client.download(f"{server.url}/{name}", staging, label=name)
            results[name] = sha256_of(downloaded.path)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=fetch, args=(name,)) for name in names * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert results == {name: sha256_of(files / name) for name in names}
    assert len(leftovers(staging)) == 16  # one file per download, none shared
    assert client.requests_made == len(server.requests) == 19


# --- progress ---


def test_a_big_download_shows_progress_on_a_terminal(
    make_client: Callable[..., HttpClient], server: StaticServer, staging: Path
) -> None:
    terminal = TtyStream()
    client = make_client(console=Console(io.StringIO(), terminal))
    client.download(f"{server.url}/big.bin", staging, label="template 'web'")
    shown = terminal.getvalue()
    assert "\rdownloading template 'web': " in shown
    assert "of 1.5 MB" in shown
    assert shown.endswith("\r") and shown.rstrip("\r").endswith(" ")  # erased at the end


def test_a_small_download_shows_no_progress(
    make_client: Callable[..., HttpClient], server: StaticServer, staging: Path
) -> None:
    terminal = TtyStream()
    client = make_client(console=Console(io.StringIO(), terminal))
    client.download(f"{server.url}/blob.bin", staging, label="template 'web'")
    assert terminal.getvalue() == ""


@pytest.mark.parametrize("quiet", [False, True])
def test_no_progress_off_a_terminal_or_when_quiet(
    make_client: Callable[..., HttpClient], server: StaticServer, staging: Path, quiet: bool
) -> None:
    stream = TtyStream() if quiet else io.StringIO()
    client = make_client(console=Console(io.StringIO(), stream, quiet=quiet))
    client.download(f"{server.url}/big.bin", staging, label="template 'web'")
    assert stream.getvalue() == ""


# --- file:// URLs ---


def test_file_urls_work_without_a_server(client: HttpClient, files: Path, staging: Path) -> None:
    doc_url = (files / "doc.json").as_uri()
    response = client.get_json(doc_url, label="feed 'local'")
    assert response.data == DOC
    assert response.url == doc_url
    downloaded = client.download((files / "blob.bin").as_uri(), staging, label="template 'web'")
    assert downloaded.sha256 == sha256_of(files / "blob.bin")


def test_a_missing_file_url_is_a_404(client: HttpClient, files: Path) -> None:
    url = (files / "no such.json").as_uri()
    with pytest.raises(HttpStatusError) as caught:
        client.get_json(url, label="feed 'local'")
    assert caught.value.status == 404
    assert caught.value.message == f"feed 'local': {url} answered 404 Not Found"


def test_cookies_are_never_kept(client: HttpClient, routed: RoutedServer) -> None:
    routed.routes["/a.json"] = Response(200, {"Set-Cookie": "session=abc; Path=/"}, b"{}")
    client.get_json(f"{routed.url}/a.json", label="feed 'x'")
    client.get_json(f"{routed.url}/a.json", label="feed 'x'")
    assert ["cookie" in r.headers for r in routed.requests_to("/a.json")] == [False, False]


def test_a_refusal_after_leaving_the_origin_says_no_credentials_went(
    client: HttpClient, routed: RoutedServer, staging: Path
) -> None:
    with RoutedServer() as storage:
        routed.routes["/asset"] = Response(302, {"Location": f"{storage.url}/expired"})
        storage.routes["/expired"] = Response(403, {}, b"<Error>Request has expired</Error>")
        auth = Auth(origin_of(routed.url), {"Authorization": f"Bearer {TOKEN}"}, "$GITHUB_TOKEN")
        with pytest.raises(HttpStatusError) as caught:
            client.download(f"{routed.url}/asset", staging, label="template 'web'", auth=auth)
    assert caught.value.message == (
        f"template 'web': {routed.url}/asset answered 403 Forbidden (no credentials were sent)"
    )
    assert leftovers(staging) == []


def test_a_retry_after_date_is_understood(client: HttpClient, server: StaticServer) -> None:
    later = email.utils.formatdate(time.time() + 7200, usegmt=True)
    server.fail("/doc.json", Fault.of_status(429, {"Retry-After": later}))
    with pytest.raises(RateLimitError, match=r"\(in about 120 minutes\)"):
        client.get_json(f"{server.url}/doc.json", label="feed 'x'")
