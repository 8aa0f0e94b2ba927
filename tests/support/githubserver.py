"""A server on 127.0.0.1 that answers like GitHub's REST API, for the GitHub source's tests.

Repositories are real git repositories made with the git CLI: their tags, commits and source
archives come from git itself. Releases and their assets are modelled here. Downloads (assets,
tarballs) answer 302 to ``StorageServer``, a second server on another port standing in for
GitHub's object storage and codeload hosts, so tests can check that the token never leaves
the API's origin.

The API answers at the root (as api.github.com) and under ``/api/v3`` (as GitHub Enterprise
Server), with the headers GitHub sends: ETags (and 304s), pagination ``Link``s with absolute
URLs, and ``x-ratelimit-*`` on every answer. Faults and the request log come from
``HttpServer``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.support.gitserver import git, git_env
from tests.support.httpserver import HttpServer, Response, file_response

ENTERPRISE_PREFIX = "/api/v3"
DOCS = "https://docs.github.com/rest"
_CREATED = 1_700_000_000
_JSON = "application/json; charset=utf-8"


@dataclass
class Asset:
    id: int
    name: str
    data: bytes
    content_type: str = "application/octet-stream"


@dataclass
class Release:
    id: int
    tag: str
    name: str
    prerelease: bool = False
    draft: bool = False
    assets: list[Asset] = field(default_factory=list)


@dataclass
class Repo:
    owner: str
    name: str
    git_path: Path
    private: bool = False
    forbidden: bool = False  # answers 403 even to the right token (no access to it)
    releases: list[Release] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class RateLimit:
    """The primary rate limit: ``remaining`` requests until ``reset_at``, then ``limit``."""

    limit: int = 5000
    remaining: int = 5000
    reset_at: float = 0.0
    window: float = 3600.0
    status: int = 403  # GitHub answers 403 or 429 when it is used up
    retry_after: int | None = None

    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-used": str(self.limit - self.remaining),
            "x-ratelimit-reset": str(math.ceil(self.reset_at)),
            "x-ratelimit-resource": "core",
        }


class StorageServer(HttpServer):
    """Serves blobs at pre-signed URLs, as an object store behind GitHub's downloads does."""

    def __init__(self) -> None:
        super().__init__()
        self._blobs: dict[str, tuple[bytes, str]] = {}
        self._key = b"storage-signing-key"

    def publish(self, data: bytes, content_type: str, name: str) -> str:
        """A signed URL answering ``data``."""
        digest = hashlib.sha256(data).hexdigest()
        with self._lock:
            self._blobs[digest] = (data, content_type)
        path = f"/blobs/{digest}/{name}"
        query = urlencode(
            {
                "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
                "X-Amz-Expires": "300",
                "X-Amz-Signature": self._sign(path),
            }
        )
        return f"{self.url}{path}?{query}"

    def respond(self, method: str, path: str, headers: dict[str, str]) -> Response:
        parts = urlsplit(path)
        signature = parse_qs(parts.query).get("X-Amz-Signature", [""])[0]
        if not hmac.compare_digest(signature, self._sign(parts.path)):
            return Response(403, {"Content-Type": "application/xml"}, b"<Error>Denied</Error>")
        pieces = parts.path.split("/")
        blob = self._blobs.get(pieces[2]) if len(pieces) == 4 else None
        if blob is None:
            return Response(404, {"Content-Type": "application/xml"}, b"<Error>NoSuchKey</Error>")
        return file_response(blob[0], headers, blob[1])

    def _sign(self, path: str) -> str:
        return hmac.new(self._key, path.encode(), hashlib.sha256).hexdigest()


class GitHubServer(HttpServer):
    """GitHub's REST API for the repositories added with ``add_repo`` and ``add_release``.

    ``token`` is the one token it accepts (``Authorization: Bearer T`` or ``token T``); any
    other token answers 401. Private repositories answer 404 without it, and drafts are
    listed only with it (as for a user with push access).
    """

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self.token = token
        self.storage = StorageServer()
        self.rate = RateLimit(reset_at=time.time() + 3600)
        self._repos: dict[str, Repo] = {}
        self._ids = iter(range(1001, 1_000_000))
        self.answers: list[tuple[str, int]] = []  # (path, status) of each answer but faults

    @property
    def api_url(self) -> str:
        return self.url

    @property
    def enterprise_url(self) -> str:
        return self.url + ENTERPRISE_PREFIX

    def __enter__(self) -> GitHubServer:
        self.storage.__enter__()
        super().__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        super().__exit__(exc_type, exc, tb)
        self.storage.stop()

    # --- the model ---

    def add_repo(self, owner: str, name: str, git_path: Path, *, private: bool = False) -> Repo:
        repo = Repo(owner, name, git_path, private)
        with self._lock:
            self._repos[repo.full_name.lower()] = repo
        return repo

    def add_release(
        self,
        owner: str,
        name: str,
        tag: str,
        *,
        prerelease: bool = False,
        draft: bool = False,
        assets: dict[str, bytes] | None = None,
    ) -> Release:
        """Publish a release of ``tag`` (newest first in listings, as GitHub orders them)."""
        repo = self._repos[f"{owner}/{name}".lower()]
        files = [Asset(next(self._ids), n, data) for n, data in (assets or {}).items()]
        release = Release(next(self._ids), tag, tag, prerelease, draft, files)
        with self._lock:
            repo.releases.insert(0, release)
        return release

    def limit_rate(
        self,
        remaining: int,
        *,
        limit: int = 60,
        reset_in: float = 3600.0,
        status: int = 403,
        retry_after: int | None = None,
    ) -> None:
        """``remaining`` requests until ``reset_in`` seconds from now, then ``limit`` an hour."""
        with self._lock:
            self.rate = RateLimit(
                limit, remaining, time.time() + reset_in, status=status, retry_after=retry_after
            )

    # --- answering ---

    def respond(self, method: str, path: str, headers: dict[str, str]) -> Response:
        parts = urlsplit(path)
        route = parts.path
        prefix = ENTERPRISE_PREFIX if route.startswith(ENTERPRISE_PREFIX + "/") else ""
        path_in_api = route.removeprefix(prefix)
        call = _Call(self, self.url + prefix, path_in_api, parse_qs(parts.query), headers)
        response = call.answer()
        with self._lock:
            self.answers.append((path, response.status))
        return response

    def clear(self) -> None:
        """Forget the requests, answers and pending faults (of the storage server too)."""
        super().clear()
        self.storage.clear()
        with self._lock:
            self.answers.clear()

    def reset(self, token: str | None = None) -> None:
        """Back to no repositories and a fresh rate limit, for the next test."""
        self.clear()
        with self._lock:
            self.token = token
            self._repos.clear()
            self.rate = RateLimit(reset_at=time.time() + 3600)

    def charge(self, authorized: bool, not_modified: bool) -> RateLimit | None:
        """Count a request against the limit; the limit's state when it is used up, else None."""
        with self._lock:
            now = time.time()
            if now >= self.rate.reset_at:
                self.rate.remaining = self.rate.limit
                self.rate.reset_at = now + self.rate.window
            if self.rate.remaining <= 0:
                return self.rate
            # GitHub does not count an authorized request answered 304.
            if not (authorized and not_modified):
                self.rate.remaining -= 1
            return None

    def rate_headers(self) -> dict[str, str]:
        with self._lock:
            return self.rate.headers()

    def repo(self, owner: str, name: str) -> Repo | None:
        with self._lock:
            return self._repos.get(f"{owner}/{name}".lower())


class _Call:
    """One request to the API: who is asking, and the answer."""

    def __init__(
        self,
        server: GitHubServer,
        base: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
    ) -> None:
        self.server = server
        self.base = base  # the API base the request came in on (root or /api/v3)
        self.path = path  # below the base
        self.query = query
        self.headers = headers

    def answer(self) -> Response:
        presented = _token(self.headers.get("authorization", ""))
        if presented is not None and presented != self.server.token:
            return self._with_limits(_error(401, "Bad credentials"), authorized=False)
        authorized = presented is not None
        response = self._route(authorized)
        return self._with_limits(response, authorized)

    def _with_limits(self, response: Response, authorized: bool) -> Response:
        used_up = self.server.charge(authorized, response.status == 304)
        if used_up is not None:
            response = _error(used_up.status, "API rate limit exceeded for 127.0.0.1.")
            if used_up.retry_after is not None:
                response.headers["retry-after"] = str(used_up.retry_after)
        response.headers.update(self.server.rate_headers())
        return response

    def _route(self, authorized: bool) -> Response:
        pieces = [unquote(p) for p in self.path.strip("/").split("/")]
        if len(pieces) < 3 or pieces[0] != "repos":
            return _error(404, "Not Found")
        repo = self.server.repo(pieces[1], pieces[2])
        if repo is None or (repo.private and not authorized):
            return _error(404, "Not Found")
        if repo.forbidden:
            return _error(403, "Resource not accessible by personal access token")
        rest = pieces[3:]
        if rest == ["releases"]:
            return self._page(self._releases(repo, authorized))
        if rest == ["tags"]:
            return self._page(self._tags(repo))
        if len(rest) == 3 and rest[:2] == ["releases", "assets"]:
            return self._asset(repo, rest[2])
        if len(rest) >= 2 and rest[0] == "commits":
            return self._commit(repo, "/".join(rest[1:]))
        if len(rest) >= 2 and rest[0] == "tarball":
            return self._tarball(repo, "/".join(rest[1:]))
        if not rest:
            return self._json({"full_name": repo.full_name, "private": repo.private})
        return _error(404, "Not Found")

    # --- endpoints ---

    def _releases(self, repo: Repo, authorized: bool) -> list[dict[str, Any]]:
        return [
            self._release_json(repo, release)
            for release in list(repo.releases)
            if authorized or not release.draft
        ]

    def _release_json(self, repo: Repo, release: Release) -> dict[str, Any]:
        at = f"{self.base}/repos/{repo.full_name}"
        created = _timestamp(_CREATED + release.id)
        return {
            "url": f"{at}/releases/{release.id}",
            "assets_url": f"{at}/releases/{release.id}/assets",
            "html_url": f"{self.server.url}/{repo.full_name}/releases/tag/{release.tag}",
            "id": release.id,
            "node_id": f"RE_{release.id}",
            "tag_name": release.tag,
            "target_commitish": "main",
            "name": release.name,
            "body": f"Release {release.tag}",
            "draft": release.draft,
            "prerelease": release.prerelease,
            "created_at": created,
            "published_at": None if release.draft else created,
            "assets": [self._asset_json(repo, release, asset) for asset in release.assets],
            "tarball_url": f"{at}/tarball/{release.tag}",
            "zipball_url": f"{at}/zipball/{release.tag}",
        }

    def _asset_json(self, repo: Repo, release: Release, asset: Asset) -> dict[str, Any]:
        download = f"{self.server.url}/{repo.full_name}/releases/download/{release.tag}"
        return {
            "url": f"{self.base}/repos/{repo.full_name}/releases/assets/{asset.id}",
            "browser_download_url": f"{download}/{asset.name}",
            "id": asset.id,
            "node_id": f"RA_{asset.id}",
            "name": asset.name,
            "label": "",
            "state": "uploaded",
            "content_type": asset.content_type,
            "size": len(asset.data),
            "download_count": 0,
            "created_at": _timestamp(_CREATED + asset.id),
            "updated_at": _timestamp(_CREATED + asset.id),
        }

    def _tags(self, repo: Repo) -> list[dict[str, Any]]:
        listing = git(
            repo.git_path,
            "for-each-ref",
            "--sort=-refname",
            "--format=%(refname:short) %(objectname) %(*objectname)",
            "refs/tags",
        )
        at = f"{self.base}/repos/{repo.full_name}"
        tags = []
        for line in listing.splitlines():
            name, target, *peeled = line.split(" ")
            commit = next((sha for sha in peeled if sha), target)  # annotated: the commit
            tags.append(
                {
                    "name": name,
                    "commit": {"sha": commit, "url": f"{at}/commits/{commit}"},
                    "zipball_url": f"{at}/zipball/refs/tags/{name}",
                    "tarball_url": f"{at}/tarball/refs/tags/{name}",
                    "node_id": f"REF_{name}",
                }
            )
        return tags

    def _asset(self, repo: Repo, asset_id: str) -> Response:
        found = next(
            (
                (release, asset)
                for release in list(repo.releases)
                for asset in release.assets
                if str(asset.id) == asset_id
            ),
            None,
        )
        if found is None:
            return _error(404, "Not Found")
        release, asset = found
        if self.headers.get("accept") != "application/octet-stream":
            return self._json(self._asset_json(repo, release, asset))
        location = self.server.storage.publish(asset.data, asset.content_type, asset.name)
        return Response(302, {"Location": location})

    def _commit(self, repo: Repo, ref: str) -> Response:
        sha = _resolve(repo.git_path, ref)
        if sha is None:
            return _error(422, f"No commit found for SHA: {ref}")
        return self._json(
            {
                "sha": sha,
                "node_id": f"C_{sha}",
                "url": f"{self.base}/repos/{repo.full_name}/commits/{sha}",
                "commit": {"message": git(repo.git_path, "log", "-1", "--format=%s", sha)},
            }
        )

    def _tarball(self, repo: Repo, ref: str) -> Response:
        sha = _resolve(repo.git_path, ref)
        if sha is None:
            return _error(404, "Not Found")
        prefix = f"{repo.owner}-{repo.name}-{sha[:7]}/"
        data = subprocess.run(
            ["git", "archive", "--format=tar.gz", f"--prefix={prefix}", sha],
            cwd=repo.git_path,
            env=git_env(),
            capture_output=True,
            check=True,
        ).stdout
        name = f"{repo.owner}-{repo.name}-{sha[:7]}.tar.gz"
        location = self.server.storage.publish(data, "application/x-gzip", name)
        return Response(302, {"Location": location})

    # --- JSON, pages and ETags ---

    def _page(self, items: list[dict[str, Any]]) -> Response:
        per_page = min(max(_number(self.query, "per_page", 30), 1), 100)
        last = max(math.ceil(len(items) / per_page), 1)
        page = min(max(_number(self.query, "page", 1), 1), last + 1)
        response = self._json(items[(page - 1) * per_page : page * per_page])
        links = {"prev": page - 1, "next": page + 1, "first": 1, "last": last}
        shown = [
            f'<{self._page_url(number)}>; rel="{rel}"'
            for rel, number in links.items()
            if (rel in ("next", "last") and page < last) or (rel in ("prev", "first") and page > 1)
        ]
        if shown and response.status == 200:
            response.headers["Link"] = ", ".join(shown)
        return response

    def _page_url(self, number: int) -> str:
        query = {key: values[-1] for key, values in self.query.items() if key != "page"}
        return f"{self.base}{self.path}?{urlencode({**query, 'page': str(number)})}"

    def _json(self, data: Any) -> Response:
        body = json.dumps(data, indent=2).encode()
        etag = 'W/"' + hashlib.sha256(body).hexdigest()[:40] + '"'
        if self.headers.get("if-none-match") == etag:
            return Response(304, {"ETag": etag})
        return Response(200, {"Content-Type": _JSON, "ETag": etag}, body)


def _resolve(git_path: Path, ref: str) -> str | None:
    done = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        cwd=git_path,
        env=git_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or None


def _token(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("bearer", "token") and value.strip():
        return value.strip()
    return None if not header else ""


def _error(status: int, message: str) -> Response:
    body = json.dumps({"message": message, "documentation_url": DOCS, "status": str(status)})
    return Response(status, {"Content-Type": _JSON}, body.encode())


def _number(query: dict[str, list[str]], key: str, default: int) -> int:
    text = query.get(key, [""])[-1]
    return int(text) if text.isdigit() else default


def _timestamp(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
