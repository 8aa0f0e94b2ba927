"""Templates and packages from GitHub: versions from releases (or, as Octopus's GitHub feed
has them, from SemVer tags); the artifact is a release asset chosen by glob, or the source
archive at the tag's commit.

An asset is pinned by the sha256 of its bytes. A source archive is not: GitHub builds it on
demand and does not promise the same bytes twice, so its commit and the integrity of the
unpacked files pin it instead, and it is never kept in the cache's downloads.

Asset globs match case-insensitively, the way target-file globs do (``steptemplates.globs``:
``*``, ``?``, ``[...]`` and ``{a,b}``).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from steptemplates import globs, netrc_file, source_config
from steptemplates.errors import StepsError
from steptemplates.http_client import Auth, Downloaded, HttpStatusError, JsonResponse, origin_of
from steptemplates.lockfile import LockedTemplate
from steptemplates.manifest import GitHubRequirement, TemplateRef, github_api_url
from steptemplates.sources import NoVersionInRange
from steptemplates.sources.archives import ArchiveSource, Unpacked, Unpacking
from steptemplates.versions import Version, VersionRange, parse_range, version_from_tag

API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
# Without this Accept header the asset endpoint answers the asset's JSON, not its bytes.
ASSET_HEADERS = {**API_HEADERS, "Accept": "application/octet-stream"}
TOKEN_VARIABLES = ("STEPS_GITHUB_TOKEN", "GITHUB_TOKEN")
PAGE_SIZE = 100


@dataclass(frozen=True)
class _Asset:
    name: str
    url: str  # the API URL that answers the bytes (with ASSET_HEADERS)


@dataclass(frozen=True)
class _Offer:
    """A version on offer: a release, or a tag when versions come from tags."""

    tag: str
    flagged_prerelease: bool = False  # GitHub's "pre-release" checkbox (releases only)
    commit: str | None = None  # known up front when it came from the tags listing
    assets: tuple[_Asset, ...] = ()
    published: datetime | None = None  # the release's published_at (tags have none)
    notes: str | None = None  # the release's body


@dataclass(frozen=True)
class OfferedVersion:
    """A release (or tag) of a repository as `steps outdated` lists it: when it was
    published (releases only: the tags listing carries no dates) and its notes."""

    tag: str
    version: Version | None  # None for a tag that is not a version
    published: datetime | None
    flagged_prerelease: bool  # GitHub's "pre-release" checkbox (releases only)
    commit: str | None
    notes: str | None


@dataclass(frozen=True)
class _Chosen:
    offer: _Offer
    version: Version | None  # None for a pinned tag that is not a version


@dataclass(frozen=True)
class _Repo:
    """One repository on one GitHub (API base), as a lock entry or requirement names it."""

    api_url: str
    name: str  # owner/name

    @property
    def url(self) -> str:
        return f"{self.api_url}/repos/{self.name}"

    @property
    def short_name(self) -> str:
        return self.name.split("/", 1)[1]


class GitHubSource(ArchiveSource):
    # --- lock ---

    def lock(self, ref: TemplateRef) -> LockedTemplate:
        requirement = ref.source
        assert isinstance(requirement, GitHubRequirement)
        api = _Api(self, self.label(ref.name), _Repo(requirement.api_url, requirement.repo))
        offers = api.tags() if requirement.from_tags else api.releases()
        chosen = _choose(api.label, requirement, offers)
        commit = None
        if requirement.asset is not None:
            asset = _pick_asset(api.label, chosen.offer, requirement.asset)
            artifact, file = asset.url, asset.name
        else:
            commit = chosen.offer.commit or api.commit_of(chosen.offer.tag)
            artifact, file = f"{api.repo.url}/tarball/{commit}", _archive_name(api.repo, chosen)
        unpacked = self.recall(artifact, requirement.subdir) or self._fetch(
            api, requirement, chosen.offer.tag, artifact, file, ref.template
        )
        return LockedTemplate(
            name=ref.name,
            source="github",
            requested=requirement.requested,
            url=requirement.api_url,
            id=requirement.repo,
            subdir=requirement.subdir,
            asset=requirement.asset,
            version=str(chosen.version) if chosen.version is not None else None,
            tag=chosen.offer.tag,
            commit=commit,
            artifact=artifact,
            file=file,
            sha256=unpacked.sha256,
            integrity=unpacked.integrity,
            template=ref.template,
        )

    def _fetch(
        self,
        api: _Api,
        requirement: GitHubRequirement,
        tag: str,
        artifact: str,
        file: str,
        template: str | None,
    ) -> Unpacked:
        """Download and unpack an artifact into the cache (an asset's bytes are kept too)."""
        is_asset = requirement.asset is not None
        downloaded = api.download(
            lambda: self.fetch_archive(
                api.label,
                artifact,
                file,
                auth=api.auth,
                headers=ASSET_HEADERS if is_asset else API_HEADERS,
                auth_hint=api.auth_hint(),
                store=False,
            )
        )
        where = _where(requirement, tag)
        unpacking = Unpacking(requirement.subdir, template=template)
        # A source archive is dropped once unpacked: without a stable sha256 it could never
        # be found in downloads/ again.
        found = self.unpack_download(
            downloaded, file, api.label, where, unpacking, keep=is_asset
        )
        unpacked = Unpacked(downloaded.sha256 if is_asset else None, found)
        self.remember(artifact, requirement.subdir, unpacked)
        return unpacked

    # --- what the repository offers ---

    def offered(self, name: str, requirement: GitHubRequirement) -> list[OfferedVersion]:
        """Every release (or, with versions from tags, every tag) of the repository, as
        listed for ``name``; drafts are left out as the lock leaves them out."""
        api = _Api(self, self.label(name), _Repo(requirement.api_url, requirement.repo))
        offers = api.tags() if requirement.from_tags else api.releases()
        return [
            OfferedVersion(
                offer.tag,
                version_from_tag(offer.tag),
                offer.published,
                offer.flagged_prerelease,
                offer.commit,
                offer.notes,
            )
            for offer in offers
        ]

    # --- what the base class asks ---

    def auth_for(self, entry: LockedTemplate) -> Auth | None:
        assert entry.url is not None
        return _credentials(self, self.label(entry.name), entry.url)

    def download_headers(self, entry: LockedTemplate) -> Mapping[str, str]:
        return ASSET_HEADERS if entry.asset is not None else API_HEADERS

    def auth_hint(self, entry: LockedTemplate) -> str | None:
        assert entry.url is not None
        return _auth_hint(self.auth_for(entry), entry.url)

    def rate_limit_hint(self, entry: LockedTemplate) -> str | None:
        assert entry.url is not None
        return _rate_limit_hint(self.auth_for(entry), entry.url)


# --- the API ---


class _Api:
    """One repository's REST endpoints, with the credentials and error wording they share."""

    def __init__(self, source: GitHubSource, label: str, repo: _Repo) -> None:
        self.source = source
        self.label = label
        self.repo = repo
        self.auth = _credentials(source, label, repo.api_url)

    def releases(self) -> list[_Offer]:
        offers = []
        for item in self._listing("releases"):
            if isinstance(item, dict) and item.get("draft"):
                continue  # unpublished work, never a version
            release = _release(item)
            if release is None:
                raise self._malformed(f"{self.repo.url}/releases", "a release without tag_name")
            offers.append(release)
        return offers

    def tags(self) -> list[_Offer]:
        offers = []
        for item in self._listing("tags"):
            tag = _tag(item)
            if tag is None:
                raise self._malformed(f"{self.repo.url}/tags", "a tag without name or commit")
            offers.append(tag)
        return offers

    def commit_of(self, tag: str) -> str:
        url = f"{self.repo.url}/commits/{quote(tag, safe='')}"
        try:
            data = self._get(url).data
        except HttpStatusError as error:
            if error.status != 422:  # GitHub's answer for a ref it cannot find
                raise
            raise StepsError(
                f"{self.label}: tag '{tag}' of GitHub repository {self.repo.name} points to "
                "no commit",
                hint="the tag was probably deleted after the release was made; pick another "
                "version",
            ) from None
        sha = data.get("sha") if isinstance(data, dict) else None
        if not isinstance(sha, str) or len(sha) != 40:
            raise self._malformed(url, "no commit sha")
        return sha.lower()

    def download(self, fetch: Callable[[], Downloaded]) -> Downloaded:
        """Run a download, in GitHub's terms when it fails with an error status."""
        try:
            return fetch()
        except HttpStatusError as error:
            raise self.explain(error, downloading=True) from None

    def auth_hint(self) -> str:
        return _auth_hint(self.auth, self.repo.api_url)

    # --- plumbing ---

    def _listing(self, what: str) -> list[Any]:
        url: str | None = f"{self.repo.url}/{what}?per_page={PAGE_SIZE}"
        items: list[Any] = []
        seen: set[str] = set()
        while url is not None and url not in seen:  # a Link loop must not spin forever
            seen.add(url)
            response = self._get(url)
            if not isinstance(response.data, list):
                raise self._malformed(url, "not a list")
            items.extend(response.data)
            url = response.next_url
        return items

    def _get(self, url: str) -> JsonResponse:
        try:
            return self.source.context.http().get_json(
                url,
                label=self.label,
                auth=self.auth,
                headers=API_HEADERS,
                auth_hint=self.auth_hint(),
                rate_limit_hint=_rate_limit_hint(self.auth, self.repo.api_url),
            )
        except HttpStatusError as error:
            raise self.explain(error) from None

    def explain(self, error: HttpStatusError, *, downloading: bool = False) -> StepsError:
        """The client's error in GitHub's terms (the label stays first)."""
        repo, api = self.repo.name, self.repo.api_url
        if error.status == 404 and not downloading:
            return StepsError(
                f"{self.label}: GitHub repository {repo} not found at {api} (or it is private)",
                hint=_not_found_hint(self.auth, api),
            )
        if error.status == 401 and self.auth is None:
            return StepsError(
                f"{self.label}: {api} requires a token (401)",
                hint=f"{_token_advice(api)} that can read {repo}",
            )
        if error.status == 401:
            source = self.auth.description if self.auth else ""
            return StepsError(
                f"{self.label}: {api} rejected the token from {source} (401)",
                hint="replace it with a valid token, or unset it for public repositories",
            )
        if error.status == 403:
            return StepsError(
                f"{self.label}: no access to GitHub repository {repo} at {api} (403)",
                hint=_auth_hint(self.auth, api),
            )
        return error

    def _malformed(self, url: str, what: str) -> StepsError:
        return StepsError(
            f"{self.label}: {url} did not answer like the GitHub API ({what})",
            hint="check that api-url (or the source's github URL) is a GitHub API base, "
            "such as https://HOST/api/v3",
        )


def _release(item: Any) -> _Offer | None:
    if not isinstance(item, dict) or not isinstance(item.get("tag_name"), str):
        return None
    assets = tuple(
        _Asset(asset["name"], asset["url"])
        for asset in item.get("assets") or ()
        if isinstance(asset, dict)
        and isinstance(asset.get("name"), str)
        and isinstance(asset.get("url"), str)
    )
    body = item.get("body")
    return _Offer(
        item["tag_name"],
        bool(item.get("prerelease")),
        assets=assets,
        published=_timestamp(item.get("published_at")),
        notes=body if isinstance(body, str) and body.strip() else None,
    )


def _timestamp(value: Any) -> datetime | None:
    """GitHub's ``2024-01-02T03:04:05Z`` in UTC; None when absent or not a timestamp."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _tag(item: Any) -> _Offer | None:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        return None
    commit = item.get("commit")
    sha = commit.get("sha") if isinstance(commit, dict) else None
    if not isinstance(sha, str) or len(sha) != 40:
        return None
    return _Offer(item["name"], commit=sha.lower())


# --- credentials ---


def _credentials(source: ArchiveSource, label: str, api_url: str) -> Auth | None:
    """The token for ``api_url``: a named source's token-env, else (for the default API)
    $STEPS_GITHUB_TOKEN or $GITHUB_TOKEN, else ~/.netrc for the API's host."""
    # Looked up offline too: the client keeps answers apart by whether a token went with them.
    named = source_config.for_url(source.context.named_sources, api_url)
    if named is not None and named.token_env:
        token = os.environ.get(named.token_env, "")
        if not token:
            raise StepsError(
                f"{label}: environment variable {named.token_env} (token-env of source "
                f"'{named.name}') is not set or empty",
                hint=f"set {named.token_env} to a GitHub token that can read the repository",
            )
        return _bearer(api_url, token, f"${named.token_env}")
    if api_url.rstrip("/") == github_api_url():
        for variable in TOKEN_VARIABLES:
            token = os.environ.get(variable, "")
            if token:
                return _bearer(api_url, token, f"${variable}")
    entry = netrc_file.lookup(urlsplit(api_url).hostname or "")
    if entry is not None:
        return _bearer(api_url, entry.password, entry.path)
    return None


def _bearer(api_url: str, token: str, description: str) -> Auth:
    return Auth(origin_of(api_url), {"Authorization": f"Bearer {token}"}, description)


def _token_advice(api_url: str) -> str:
    if api_url.rstrip("/") == github_api_url():
        return "set GITHUB_TOKEN or STEPS_GITHUB_TOKEN to a GitHub token"
    return f'declare a source with github = "{api_url}" and token-env, or add the host to ~/.netrc'


def _not_found_hint(auth: Auth | None, api_url: str) -> str:
    if auth is None:
        return f"check the name; if the repository is private, {_token_advice(api_url)}"
    return f"check the name; the token from {auth.description} may not be able to read it"


def _auth_hint(auth: Auth | None, api_url: str) -> str:
    if auth is None:
        return f"{_token_advice(api_url)} that can read the repository"
    return f"check that the token from {auth.description} can read the repository"


def _rate_limit_hint(auth: Auth | None, api_url: str) -> str:
    if auth is None:
        return f"authenticate ({_token_advice(api_url)}) for 5,000 requests an hour"
    return "wait for the reset, or use another token"


# --- choosing a version and an asset ---


def _choose(label: str, requirement: GitHubRequirement, offers: list[_Offer]) -> _Chosen:
    what = "tag" if requirement.from_tags else "release"
    if requirement.tag is not None:
        found = next((offer for offer in offers if offer.tag == requirement.tag), None)
        if found is None:
            raise StepsError(
                f"{label}: GitHub repository {requirement.repo} has no {what} '{requirement.tag}'",
                hint=_suggest(f"{what}s", requirement.tag, [offer.tag for offer in offers]),
            )
        return _Chosen(found, version_from_tag(found.tag))
    try:
        wanted = parse_range(requirement.version or "*")
    except ValueError as exc:
        raise StepsError(f"{label}: {exc}", hint="fix 'version' in steps.toml") from None
    return _select_version(label, requirement, wanted, _by_version(offers))


def _by_version(offers: Iterable[_Offer]) -> dict[Version, _Offer]:
    by_version: dict[Version, _Offer] = {}
    # Sorted so that when `v1.0.0` and `1.0.0` both exist, the choice is stable.
    for offer in sorted(offers, key=lambda o: o.tag):
        version = version_from_tag(offer.tag)
        if version is not None:
            by_version.setdefault(version, offer)
    return by_version


def _select_version(
    label: str,
    requirement: GitHubRequirement,
    wanted: VersionRange,
    by_version: dict[Version, _Offer],
) -> _Chosen:
    prereleases = requirement.prereleases
    # A release GitHub flags as a prerelease counts as one whatever its tag says.
    flagged = {v for v, offer in by_version.items() if offer.flagged_prerelease}
    allowed = [v for v in by_version if prereleases or v.is_prerelease or v not in flagged]
    chosen = wanted.select(allowed, prereleases=prereleases)
    if chosen is not None:
        return _Chosen(by_version[chosen], chosen)
    held_back = sorted(v for v in flagged if v not in allowed and wanted.matches(v))
    if held_back:
        listed = ", ".join(map(str, held_back[-5:]))
        reason = (
            f"only prereleases match {wanted.text!r}: {listed} (allow them with prerelease = true)"
        )
        hint = None
    else:
        reason = wanted.describe_no_match(allowed, prereleases=prereleases)
        hint = _no_match_hint(requirement, wanted, allowed)
    raise NoVersionInRange(
        f"{label} (GitHub {requirement.repo}): {reason}",
        hint=hint,
        available=allowed,
        prereleases=prereleases,
    )


def _no_match_hint(
    requirement: GitHubRequirement, wanted: VersionRange, allowed: list[Version]
) -> str | None:
    if not allowed:
        if requirement.from_tags:
            return "push a tag that is a version (such as v1.0.0), or pin one with 'tag'"
        return "publish a release whose tag is a version (such as v1.0.0), or pin one with 'tag'"
    if wanted.select(allowed, prereleases=True) is not None:
        return None  # the reason says how to allow prereleases
    return "change 'version' in steps.toml to a range one of them is in"


def _pick_asset(label: str, offer: _Offer, pattern: str) -> _Asset:
    matching = [asset for asset in offer.assets if globs.matches(asset.name, pattern)]
    if len(matching) == 1:
        return _checked_asset_name(label, matching[0])
    if not matching:
        names = ", ".join(asset.name for asset in offer.assets) or "none"
        raise StepsError(
            f"{label}: no asset of release {offer.tag} matches '{pattern}' (its assets: {names})",
            hint="fix 'asset' in steps.toml, or remove it to use the source archive",
        )
    names = ", ".join(asset.name for asset in matching)
    raise StepsError(
        f"{label}: {len(matching)} assets of release {offer.tag} match '{pattern}': {names}",
        hint="narrow 'asset' in steps.toml so that it matches exactly one",
    )


def _checked_asset_name(label: str, asset: _Asset) -> _Asset:
    # The name becomes a file name in the cache: it must not lead anywhere else.
    if "/" in asset.name or "\\" in asset.name or asset.name in ("", ".", ".."):
        raise StepsError(
            f"{label}: release asset name {asset.name!r} is not a plain file name",
            hint="rename the asset on GitHub",
        )
    return asset


def _suggest(kind: str, wanted: str, available: list[str]) -> str:
    if not available:
        return f"the repository has no {kind}"
    close = difflib.get_close_matches(wanted, available, n=3, cutoff=0.5)
    if close:
        return "did you mean " + ", ".join(close) + "?"
    shown = sorted(available)[-5:]
    return f"available {kind}: " + ", ".join(shown) + (" ..." if len(available) > 5 else "")


# --- the lock entry ---


def _where(requirement: GitHubRequirement, tag: str) -> str:
    subdir = f"//{requirement.subdir}" if requirement.subdir else ""
    return f"github:{requirement.repo}{subdir}@{tag}"


def _archive_name(repo: _Repo, chosen: _Chosen) -> str:
    at = str(chosen.version) if chosen.version is not None else chosen.offer.tag
    # A tag may hold slashes; the name becomes a file in the cache's staging directory.
    plain = re.sub(r"[/\\]", "-", at)
    return f"{repo.short_name}-{plain}.tar.gz"
