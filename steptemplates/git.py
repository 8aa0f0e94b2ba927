"""The git source: list a remote's tags and branches, fetch just the wanted commits into a bare
mirror, and read template files straight from its object store.

Every network call has a timeout and is retried when the failure is transient. Failures become
one-line ``StepsError``s that name the URL, never with credentials in it.
"""

from __future__ import annotations

import json
import os
import select
import socket
import stat
import string
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar
from urllib.parse import unquote, urlsplit

import urllib3.exceptions
from dulwich.client import (
    GitClient,
    HTTPProxyUnauthorized,
    HTTPUnauthorized,
    LocalGitClient,
    TCPGitClient,
    Urllib3HttpGitClient,
    default_urllib3_manager,
    get_transport_and_path,
)
from dulwich.errors import GitProtocolError, HangupException, NotGitRepository, NotTreeError
from dulwich.object_store import (
    BaseObjectStore,
    ObjectStoreGraphWalker,
    iter_tree_contents,
    peel_sha,
    tree_lookup_path,
)
from dulwich.objects import S_ISGITLINK, Commit, ObjectID, SubmoduleEncountered, Tag
from dulwich.protocol import DEFAULT_GIT_PROTOCOL_VERSION_FETCH, PEELED_TAG_SUFFIX, Protocol
from dulwich.refs import Ref
from dulwich.repo import Repo

from steptemplates import netrc_file
from steptemplates.errors import NetworkError, StepsError
from steptemplates.fsutil import write_text_atomic
from steptemplates.network import network_timeout, with_retries

if TYPE_CHECKING:
    from dulwich.client import HTTPResponse

T = TypeVar("T")

TOKEN_USERNAME = "x-access-token"
"""User name sent with a token when none is configured (GitHub needs it; others accept any)."""

SNAPSHOT_FILE = "steps-refs.json"
"""The last ls-remote result, kept in the mirror so ``--offline`` can resolve versions."""

_HEADS = "refs/heads/"
_TAGS = "refs/tags/"
_KEEP = "refs/steps/"
# Anything deeper than any real history: the "deepen" git itself sends for --unshallow.
_FULL_DEPTH = 0x7FFFFFFF
_NO_SHALLOW = "does not support shallow"
_REMOTE_ERRORS = (
    GitProtocolError,
    NotGitRepository,
    HTTPUnauthorized,
    HTTPProxyUnauthorized,
    OSError,
)


# --- credentials -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GitCredentials:
    """Basic-auth credentials for an http(s) remote; ``source`` says where they came from."""

    username: str
    password: str = field(repr=False)
    source: str = ""


def redact_url(url: str) -> str:
    """``url`` without any user name or password in it, fit for messages and lockfiles."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def credentials_for(
    url: str, *, token_env: str | None = None, username: str | None = None
) -> GitCredentials | None:
    """The credentials for an http(s) URL: a token from ``token_env``, else a ~/.netrc entry."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        if token_env:
            raise StepsError(
                f"token-env {token_env} is set for {url}, but tokens only work with http(s) URLs",
                hint="remove token-env or use the https:// URL of the repository",
            )
        return None
    if "@" in parts.netloc:
        raise StepsError(
            f"the URL {redact_url(url)} has credentials written into it",
            hint="remove them and set token-env to the name of an environment variable holding "
            "the token, or add the host to ~/.netrc",
        )
    if token_env:
        token = os.environ.get(token_env, "")
        if not token:
            raise StepsError(
                f"environment variable {token_env} (token-env for {url}) is not set or empty",
                hint=f"set {token_env} to an access token that can read the repository",
            )
        return GitCredentials(username or TOKEN_USERNAME, token, source=f"${token_env}")
    return netrc_credentials(parts.hostname or "", username)


def netrc_credentials(host: str, username: str | None) -> GitCredentials | None:
    entry = netrc_file.lookup(host)
    if entry is None:
        return None
    return GitCredentials(entry.login or username or TOKEN_USERNAME, entry.password, entry.path)


# --- refs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteRef:
    """A tag or branch of a remote; ``object_sha`` is the tag object for annotated tags."""

    name: str
    object_sha: str
    commit_sha: str


@dataclass(frozen=True)
class RemoteRefs:
    """The tags and branches of a remote, and the branch its HEAD names."""

    refs: Mapping[str, RemoteRef]
    head: str | None

    def tags(self) -> dict[str, RemoteRef]:
        """Tags keyed by their name without ``refs/tags/``."""
        return {
            name.removeprefix(_TAGS): ref
            for name, ref in self.refs.items()
            if name.startswith(_TAGS)
        }

    def branch(self, name: str) -> RemoteRef | None:
        """The branch called ``name`` (without ``refs/heads/``), if the remote has it."""
        return self.refs.get(_HEADS + name)


def list_remote_refs(url: str, credentials: GitCredentials | None = None) -> RemoteRefs:
    """The tags and branches of ``url``, annotated tags peeled, from one ls-remote."""

    def ls_remote() -> RemoteRefs:
        with _client(url, credentials) as (client, path):
            if isinstance(client, LocalGitClient):
                return _local_refs(path)
            result = client.get_refs(
                path.encode(), ref_prefix=[b"HEAD", _HEADS.encode(), _TAGS.encode()]
            )
        return _remote_refs(result.refs, result.symrefs.get(Ref(b"HEAD")))

    refs = _remote(url, credentials, "listing refs of", ls_remote)
    if not refs.refs and urlsplit(url).scheme in ("http", "https"):
        # Some HTTP servers answer 200 with nothing for a repository that does not exist.
        raise NetworkError(f"git repository {redact_url(url)} was not found (no refs)")
    return refs


def _remote_refs(raw: Mapping[Ref, ObjectID | None], head: Ref | None) -> RemoteRefs:
    """Build ``RemoteRefs`` from a wire listing, where ``X^{}`` entries hold peeled tags."""
    listing = {name.decode(): sha.decode() for name, sha in raw.items() if sha is not None}
    suffix = PEELED_TAG_SUFFIX.decode()
    refs = {
        name: RemoteRef(name, sha, listing.get(name + suffix, sha))
        for name, sha in listing.items()
        if name.startswith((_HEADS, _TAGS)) and not name.endswith(suffix)
    }
    return RemoteRefs(refs, head.decode() if head else None)


def _local_refs(path: str) -> RemoteRefs:
    # The local client lists no peeled entries, so peel by reading the repository itself.
    with closing(Repo(path)) as repo:
        refs = {}
        for raw_name, sha in repo.get_refs().items():
            name = raw_name.decode()
            if name.startswith((_HEADS, _TAGS)):
                peeled = peel_sha(repo.object_store, sha)[1].id
                refs[name] = RemoteRef(name, sha.decode(), peeled.decode())
        head = repo.refs.get_symrefs().get(Ref(b"HEAD"))
    return RemoteRefs(refs, head.decode() if head else None)


def write_ref_snapshot(mirror: Path, refs: RemoteRefs) -> None:
    """Save an ls-remote result in the mirror, atomically, for later offline resolves."""
    data = {
        "head": refs.head,
        "refs": {
            ref.name: {"object": ref.object_sha, "commit": ref.commit_sha}
            for ref in sorted(refs.refs.values(), key=lambda ref: ref.name)
        },
    }
    write_text_atomic(mirror / SNAPSHOT_FILE, json.dumps(data, indent=1))


def read_ref_snapshot(mirror: Path) -> RemoteRefs | None:
    """The ls-remote result saved by ``write_ref_snapshot``, or None if there is none usable."""
    try:
        data = json.loads((mirror / SNAPSHOT_FILE).read_text(encoding="utf-8"))
        refs = {
            name: RemoteRef(name, entry["object"], entry["commit"])
            for name, entry in data["refs"].items()
        }
        return RemoteRefs(refs, data["head"])
    except (OSError, ValueError, KeyError, TypeError):
        # A missing or damaged snapshot only means the cache cannot answer on its own.
        return None


# --- fetching ----------------------------------------------------------------------------------


def fetch(
    mirror: Path,
    url: str,
    wants: Sequence[str],
    credentials: GitCredentials | None = None,
    *,
    depth: int | None = 1,
) -> None:
    """Fetch the objects ``wants`` (commit or tag object shas) need into the bare ``mirror``.

    Shallow (``depth``) where the server allows it; a no-op when the mirror already has them all.
    """
    wanted = [_oid(sha) for sha in dict.fromkeys(wants)]
    with _open_mirror(mirror) as repo:
        missing = [sha for sha in wanted if sha not in repo.object_store]
        if not missing:
            return
        listed = ", ".join(sha.decode()[:12] for sha in missing)
        _fetch_into(repo, url, credentials, lambda _refs: missing, depth, [b"HEAD"], listed)
        _keep(repo, missing)


def fetch_all(mirror: Path, url: str, credentials: GitCredentials | None = None) -> None:
    """Fetch every branch and tag with full history (deepening a shallow mirror)."""
    with _open_mirror(mirror) as repo:
        shallow = bool(repo.get_shallow())
        tips: list[ObjectID] = []

        def determine_wants(refs: Mapping[Ref, ObjectID]) -> list[ObjectID]:
            tips[:] = dict.fromkeys(
                sha
                for name, sha in refs.items()
                if name.startswith((_HEADS.encode(), _TAGS.encode()))
                and not name.endswith(PEELED_TAG_SUFFIX)
            )
            # Unshallowing needs the tips we already have too, so their history comes along.
            return tips if shallow else [sha for sha in tips if sha not in repo.object_store]

        depth = _FULL_DEPTH if shallow else None
        prefixes = [_HEADS.encode(), _TAGS.encode()]
        _fetch_into(repo, url, credentials, determine_wants, depth, prefixes, "its history")
        _keep(repo, tips)


def _fetch_into(
    repo: Repo,
    url: str,
    credentials: GitCredentials | None,
    wants: Callable[[Mapping[Ref, ObjectID]], list[ObjectID]],
    depth: int | None,
    ref_prefix: list[bytes],
    wanted: str,
) -> None:
    """Fetch into ``repo``; ``wanted`` names what ``wants`` asks for, for the refusal message."""

    def determine_wants(refs: Mapping[Ref, ObjectID], depth: int | None = None) -> list[ObjectID]:
        return wants(refs)

    def attempt(depth: int | None) -> None:
        with _client(url, credentials) as (client, path):
            try:
                client.fetch(path, repo, determine_wants, depth=depth, ref_prefix=ref_prefix)
            except KeyError as exc:
                # The local client's way of saying the source lacks a wanted object.
                raise _refused(url, wanted) from exc

    def operation() -> None:
        try:
            attempt(depth)
        except GitProtocolError as exc:
            if depth is None or _NO_SHALLOW not in str(exc):
                raise
            # Dumb HTTP and some servers cannot fetch shallow; a full fetch still does the job.
            attempt(None)

    _remote(url, credentials, "fetching from", operation, wanted=wanted)


def _refused(url: str, wanted: str) -> NetworkError:
    return NetworkError(
        f"git repository {redact_url(url)} did not send {wanted}",
        hint="it may no longer have them (a moved tag or a force-pushed branch?) or the "
        "connection dropped: resolve the version again",
    )


def _keep(repo: Repo, shas: Sequence[ObjectID]) -> None:
    """Point a ref at each fetched tip, so a gc keeps it and later fetches can offer it."""
    repo.refs.add_packed_refs({Ref(_KEEP.encode() + sha): sha for sha in shas})


class _Mirror(Repo):
    """A bare mirror whose fetches offer the tips earlier fetches kept, so only new objects come."""

    def get_graph_walker(self, heads: list[ObjectID] | None = None) -> ObjectStoreGraphWalker:
        if heads is None:
            kept = self.refs.as_dict(Ref(_KEEP.encode())).values()
            heads = [
                peel_sha(self.object_store, sha)[1].id for sha in kept if sha in self.object_store
            ]
        return super().get_graph_walker(heads)


@contextmanager
def _open_mirror(mirror: Path) -> Iterator[_Mirror]:
    if not (mirror / "HEAD").is_file():
        mirror.mkdir(parents=True, exist_ok=True)
        Repo.init_bare(str(mirror)).close()
    with closing(_Mirror(str(mirror))) as repo:
        yield repo


# --- reading the mirror ------------------------------------------------------------------------


def _is_hex(text: str) -> bool:
    """Whether ``text`` can be (a prefix of) an object sha."""
    return 0 < len(text) <= 40 and all(c in string.hexdigits for c in text)


def _oid(sha: str) -> ObjectID:
    """A full object sha as dulwich takes it; StepsError if ``sha`` is not one."""
    if len(sha) != 40 or not _is_hex(sha):
        raise StepsError(f"'{sha}' is not a full git object sha (40 hex digits)")
    return ObjectID(sha.lower().encode())


@contextmanager
def _read_mirror(mirror: Path) -> Iterator[Repo]:
    try:
        repo = Repo(str(mirror))
    except NotGitRepository:
        raise StepsError(
            f"the cached mirror {mirror} is missing or damaged",
            hint="run again without --offline to fetch it",
        ) from None
    with closing(repo):
        yield repo


def has_commit(mirror: Path, sha: str) -> bool:
    """Whether the mirror holds the commit ``sha`` (a full sha)."""
    if not (mirror / "HEAD").is_file() or len(sha) != 40 or not _is_hex(sha):
        return False
    with _read_mirror(mirror) as repo:
        try:
            return isinstance(repo.object_store[_oid(sha)], Commit)
        except KeyError:
            return False


def find_commit(mirror: Path, prefix: str) -> str | None:
    """The full sha of the one commit in the mirror starting with ``prefix``, None if none does."""
    if not (mirror / "HEAD").is_file() or not _is_hex(prefix):
        return None
    with _read_mirror(mirror) as repo:
        store = repo.object_store
        matches = sorted(
            sha.decode()
            for sha in store.iter_prefix(prefix.lower().encode())
            if isinstance(store[sha], Commit)
        )
    if len(matches) > 1:
        raise StepsError(
            f"the abbreviated commit {prefix} is ambiguous: it matches {', '.join(matches)}",
            hint="give more characters of the commit sha",
        )
    return matches[0] if matches else None


@dataclass(frozen=True)
class ObjectFacts:
    """A tag or commit as stored: when it was made, and its signature with what was signed.

    ``payload`` is the raw object without the signature, the bytes a verifier checks the
    signature against (for a tag, the signature is its message's tail; for a commit, the
    ``gpgsig`` header). ``message`` is a tag's or commit's message without the signature."""

    sha: str
    kind: str  # "tag" or "commit"
    date: datetime  # tagger time for a tag, committer time for a commit (UTC)
    message: str
    signature: bytes | None
    payload: bytes


def read_object(mirror: Path, sha: str) -> ObjectFacts:
    """What the mirror holds for the tag or commit ``sha``; StepsError when it lacks it."""
    with _read_mirror(mirror) as repo:
        try:
            obj = repo.object_store[_oid(sha)]
        except KeyError:
            raise StepsError(f"the git mirror {mirror} lacks object {sha}") from None
        if isinstance(obj, Tag):
            payload, signature = obj.raw_without_sig(), obj.signature
            when, offset = obj.tag_time, obj.tag_timezone
        elif isinstance(obj, Commit):
            payload, signature = obj.raw_without_sig(), obj.gpgsig
            when, offset = obj.commit_time, obj.commit_timezone
        else:
            raise StepsError(f"git object {sha} is a {obj.type_name.decode()}, not a tag or commit")
        message = obj.message.decode("utf-8", "replace")
        if signature and isinstance(obj, Tag):
            message = message.split(signature.decode("utf-8", "replace"), 1)[0]
    date = datetime.fromtimestamp(when, tz=timezone(timedelta(seconds=offset))).astimezone(UTC)
    kind = "tag" if isinstance(obj, Tag) else "commit"
    return ObjectFacts(sha, kind, date, message.strip(), signature or None, payload)


class MissingSubdirError(StepsError):
    """The template directory is not in the commit: absent, or not a directory.

    ``describe()`` is the bare fact, for callers that add the URL and version themselves.
    """

    def __init__(self, subdir: str, commit: str, *, is_file: bool = False) -> None:
        self.subdir = subdir
        self.is_file = is_file
        super().__init__(f"{self.describe()} at commit {commit[:12]}")

    def describe(self) -> str:
        """The bare fact, e.g. "'templates/x' does not exist"."""
        problem = "is not a directory" if self.is_file else "does not exist"
        return f"'{self.subdir}' {problem}"


def extract_tree(mirror: Path, commit: str, subdir: str, dest: Path) -> None:
    """Write the files under ``subdir`` ("" for the root) of ``commit`` into the empty ``dest``.

    Symlinks must stay inside ``dest``; submodules are skipped. On error ``dest`` is left partly
    written, for the caller to discard.
    """
    with _read_mirror(mirror) as repo:
        store = repo.object_store
        tree = _subtree(store, _commit(store, mirror, commit).tree, subdir, commit)
        links: list[tuple[Path, bytes]] = []
        for entry in iter_tree_contents(store, tree):
            assert entry.path is not None and entry.mode is not None and entry.sha is not None
            if S_ISGITLINK(entry.mode):
                continue
            target = dest / _safe_relpath(entry.path, commit)
            data = store[entry.sha].as_raw_string()
            if stat.S_ISLNK(entry.mode):
                links.append((target, data))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            target.chmod(0o755 if entry.mode & 0o111 else 0o644)
    # Links last, so no file is ever written through one, and checked once they all exist
    # (a link may lead out through another).
    for target, link in links:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(os.fsdecode(link))
    inside = os.path.realpath(dest)
    for target, link in links:
        if os.path.commonpath([inside, os.path.realpath(target)]) != inside:
            shown = _join(subdir, target.relative_to(dest).as_posix())
            raise StepsError(
                f"symlink '{shown}' at commit {commit[:12]} points outside the template "
                f"directory (to {os.fsdecode(link)})",
                hint="a template may only link to files inside its own directory",
            )


class MissingFileError(StepsError):
    """The named file is not in the commit: absent, a directory, a link or a submodule."""

    ABSENT = "does not exist"

    def __init__(self, path: str, commit: str, problem: str = ABSENT) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{self.describe()} at commit {commit[:12]}")

    def describe(self) -> str:
        return f"'{self.path}' {self.problem}"


def extract_file(mirror: Path, commit: str, path: str, dest: Path) -> None:
    """Write the one regular file at ``path`` of ``commit`` to ``dest`` (parents created).

    For a source with hundreds of templates in one repository, an entry then holds just
    the template it is for, not a copy of the whole tree.
    """
    wanted = path.strip("/")
    with _read_mirror(mirror) as repo:
        store = repo.object_store
        root = _commit(store, mirror, commit).tree
        try:
            mode, sha = tree_lookup_path(store.__getitem__, root, wanted.encode())
        except (KeyError, NotTreeError, SubmoduleEncountered):
            raise MissingFileError(wanted, commit) from None
        if stat.S_ISDIR(mode):
            raise MissingFileError(wanted, commit, "is a directory, not a file")
        if stat.S_ISLNK(mode) or S_ISGITLINK(mode):
            raise MissingFileError(wanted, commit, "is a link, not a file; name its target")
        data = store[sha].as_raw_string()
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    dest.chmod(0o755 if mode & 0o111 else 0o644)


def _commit(store: BaseObjectStore, mirror: Path, sha: str) -> Commit:
    try:
        obj = store[_oid(sha)]
    except KeyError:
        raise StepsError(f"commit {sha} is not in the cached mirror {mirror}") from None
    if not isinstance(obj, Commit):
        raise StepsError(f"{sha} is a {obj.type_name.decode()}, not a commit")
    return obj


def _subtree(store: BaseObjectStore, root: ObjectID, subdir: str, commit: str) -> ObjectID:
    path = subdir.strip("/")
    if not path:
        return root
    try:
        mode, sha = tree_lookup_path(store.__getitem__, root, path.encode())
    except (KeyError, NotTreeError, SubmoduleEncountered):
        raise MissingSubdirError(path, commit) from None
    if not stat.S_ISDIR(mode):
        raise MissingSubdirError(path, commit, is_file=True)
    return sha


def _safe_relpath(raw: bytes, commit: str) -> str:
    try:
        relpath = raw.decode("utf-8")
    except UnicodeDecodeError:
        # The integrity hash is defined over UTF-8 paths (docs/lockfile.md).
        shown = raw.decode("utf-8", "backslashreplace")
        raise StepsError(
            f"the file name '{shown}' at commit {commit[:12]} is not UTF-8",
            hint="rename the file; template file names must be UTF-8",
        ) from None
    # Trees written by git never hold these names, but a crafted one could.
    if any(part in ("", ".", "..", ".git") for part in relpath.split("/")):
        raise StepsError(f"refusing the unsafe path '{relpath}' at commit {commit[:12]}")
    return relpath


def _join(subdir: str, relpath: str) -> str:
    return f"{subdir.strip('/')}/{relpath}" if subdir.strip("/") else relpath


# --- transports and errors ---------------------------------------------------------------------


class _TimeoutTCPGitClient(TCPGitClient):
    """git:// with a socket timeout: dulwich sets none, so a stalled daemon would hang us."""

    def __init__(self, host: str, port: int | None, *, timeout: float) -> None:
        super().__init__(host, port)
        self._timeout = timeout
        self._connections: list[Protocol] = []

    def close(self) -> None:
        # dulwich leaves a connection open when it fails before its own "with proto:".
        for proto in self._connections:
            proto.close()

    def _connect(
        self, cmd: bytes, path: str | bytes, protocol_version: int | None = None
    ) -> tuple[Protocol, Callable[[], bool], IO[bytes] | None]:
        if isinstance(path, str):
            path = path.encode()
        sock = socket.create_connection((self._host, self._port), timeout=self._timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rfile = sock.makefile("rb", -1)
        wfile = sock.makefile("wb", 0)

        def read(size: int) -> bytes:
            # git daemon writes small packets without TCP_NODELAY; with our delayed ACKs each
            # waits ~40 ms (Nagle against delayed ACK), which made shallow fetches 7x slower.
            if hasattr(socket, "TCP_QUICKACK"):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            return rfile.read(size)

        def close() -> None:
            rfile.close()
            wfile.close()
            sock.close()

        def shutdown_write() -> None:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_WR)

        proto = Protocol(read, wfile.write, close, self._report_activity, shutdown_write)
        self._connections.append(proto)
        self.protocol_version = protocol_version or DEFAULT_GIT_PROTOCOL_VERSION_FETCH
        # As in dulwich: the version hides behind two NULs so old daemons ignore it.
        version = b"\0\0version=2\0" if self.protocol_version == 2 else b""
        host = b"host=" + self._host.encode("ascii") + version
        # As in dulwich: "/~user/repo" is sent as "~user/repo" for the daemon to expand.
        proto.send_cmd(b"git-" + cmd, path[1:] if path.startswith(b"/~") else path, host)
        return proto, lambda: bool(select.select([sock], [], [], 0)[0]), None


class _HttpStatusError(GitProtocolError):
    """An HTTP answer that is neither success nor one dulwich has its own exception for."""

    def __init__(self, status: int, url: str) -> None:
        super().__init__(f"unexpected http resp {status} for {url}")
        self.status = status


class _HttpGitClient(Urllib3HttpGitClient):
    """Closes error responses (dulwich leaves them holding a connection) and keeps the status."""

    def _http_request(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        data: bytes | Iterator[bytes] | None = None,
        raise_for_status: bool = True,
    ) -> tuple[HTTPResponse, Callable[[int], bytes]]:
        resp, read = super()._http_request(url, headers, data, raise_for_status=False)
        if not raise_for_status or resp.status == 200:
            return resp, read
        resp.close()
        if resp.status == 404:
            raise NotGitRepository(url)
        if resp.status == 401:
            raise HTTPUnauthorized(resp.headers.get("WWW-Authenticate"), url)
        if resp.status == 407:
            raise HTTPProxyUnauthorized(resp.headers.get("Proxy-Authenticate"), url)
        raise _HttpStatusError(resp.status, url)


@contextmanager
def _client(url: str, credentials: GitCredentials | None) -> Iterator[tuple[GitClient, str]]:
    """A fresh client for one call (clients are not thread-safe) and the path to ask it for."""
    parts = urlsplit(url)
    timeout = network_timeout()
    client: GitClient
    if parts.scheme == "git":
        if not parts.hostname:
            raise StepsError(f"the git URL {url} has no host")
        client = _TimeoutTCPGitClient(parts.hostname, parts.port, timeout=timeout)
        with closing(client):
            yield client, parts.path
    elif parts.scheme in ("http", "https"):
        manager = default_urllib3_manager(None, base_url=url, timeout=timeout)
        # One retry policy, ours with backoff: not urllib3's silent immediate ones on top.
        manager.connection_pool_kw["retries"] = False
        client = _HttpGitClient(
            redact_url(url),
            pool_manager=manager,
            timeout=timeout,
            username=credentials.username if credentials else None,
            password=credentials.password if credentials else None,
        )
        try:
            yield client, parts.path
        finally:
            manager.clear()
    elif parts.scheme == "file":
        # dulwich takes the path of a file:// URL as is; it may be percent-encoded.
        with closing(LocalGitClient()) as client:
            yield client, unquote(parts.path)
    else:
        try:
            client, path = get_transport_and_path(url, ssh_command=_ssh_command(timeout))
        except ValueError:
            raise StepsError(
                f"{url} is not a git URL steps can fetch from",
                hint="use an https://, git://, ssh:// or file:// URL, or a local path",
            ) from None
        with closing(client):
            yield client, path


def _ssh_command(timeout: float) -> str:
    """OpenSSH bounded by the network timeout, unless the user chose their own command."""
    chosen = os.environ.get("GIT_SSH_COMMAND") or os.environ.get("GIT_SSH")
    if chosen:
        return chosen  # theirs, used as git itself would use it
    seconds = max(1, round(timeout))
    # ConnectTimeout bounds connecting; the keep-alive drops a server that stops answering.
    return (
        f"ssh -o ConnectTimeout={seconds} -o ServerAliveInterval={seconds} "
        "-o ServerAliveCountMax=1"
    )


def _remote(
    url: str,
    credentials: GitCredentials | None,
    what: str,
    operation: Callable[[], T],
    *,
    wanted: str | None = None,
) -> T:
    """Run a network operation with retries, turning its failures into one-line errors.

    ``wanted`` names what a fetch asks for: a server hangs up on a want it does not have.
    """
    try:
        return with_retries(operation, what=f"{what} {redact_url(url)}", is_transient=_is_transient)
    except _REMOTE_ERRORS as exc:
        raise _failure(exc, url, credentials, wanted) from exc


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and its explicit causes: dulwich wraps socket and urllib3 errors in its own."""
    current: BaseException | None = exc
    while current is not None:
        yield current
        current = current.__cause__


def _is_transient(exc: BaseException) -> bool:
    """Timeouts, refused or reset connections and 5xx answers are worth another try."""
    chain = list(_chain(exc))
    if any(isinstance(e, (urllib3.exceptions.NameResolutionError, socket.gaierror)) for e in chain):
        return False
    transient = (
        TimeoutError,
        ConnectionError,
        urllib3.exceptions.TimeoutError,
        urllib3.exceptions.ProtocolError,
    )
    if any(isinstance(e, transient) for e in chain):
        return True
    return isinstance(exc, _HttpStatusError) and (exc.status >= 500 or exc.status in (408, 429))


def _failure(
    exc: BaseException, url: str, credentials: GitCredentials | None, wanted: str | None
) -> StepsError:
    """The one-line message for a failed remote call."""
    shown = redact_url(url)
    chain = list(_chain(exc))
    root = chain[-1]
    if isinstance(exc, HTTPUnauthorized):
        if credentials is not None:
            return NetworkError(
                f"authentication failed for {shown} (401) with the credentials from "
                f"{credentials.source}",
                hint="check that the token is valid and can read the repository",
            )
        return NetworkError(
            f"authentication failed for {shown} (401)",
            hint="set token-env in steps.toml to the name of an environment variable holding a "
            "token, or add the host to ~/.netrc",
        )
    if isinstance(exc, HTTPProxyUnauthorized):
        return NetworkError(f"the HTTP proxy refused to connect to {shown} (407)")
    if isinstance(exc, NotGitRepository):
        if urlsplit(url).scheme in ("http", "https"):
            return NetworkError(f"git repository {shown} was not found (404)")
        return StepsError(f"{shown} is not a git repository")
    if isinstance(exc, _HttpStatusError) and exc.status == 403:
        return NetworkError(
            f"access to {shown} was refused (403)",
            hint="check that the token can read the repository",
        )
    if isinstance(exc, _HttpStatusError):
        return NetworkError(f"git repository {shown} answered with HTTP {exc.status}")
    # upload-pack dies on a want it lacks; we see its end of file, or a reset or broken pipe
    # when we were still writing.
    hung_up = isinstance(exc, HangupException) and not exc.stderr_lines
    dropped = isinstance(root, ConnectionError) and not isinstance(root, ConnectionRefusedError)
    if wanted and (hung_up or dropped):
        return _refused(url, wanted)
    if isinstance(root, (TimeoutError, urllib3.exceptions.TimeoutError)):
        return NetworkError(
            f"git repository {shown} did not answer within {network_timeout():g} s",
            hint="set STEPS_NETWORK_TIMEOUT to wait longer",
        )
    if isinstance(root, (OSError, urllib3.exceptions.HTTPError)):
        return NetworkError(
            f"cannot reach git repository {shown}: {_reason(root)} "
            "(is the URL right and the server up?)"
        )
    message = str(exc).strip() or type(exc).__name__
    if "not exported" in message or "no such repository" in message:
        return NetworkError(f"git repository {shown} was not found ({message})")
    return NetworkError(f"git repository {shown} failed: {message}")


def _reason(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError):
        return "connection reset"
    if isinstance(error, socket.gaierror):
        return "unknown host"
    return str(error) or type(error).__name__
