"""Templates and packages in NuGet v3 feeds: versions from the flat container, pinned by hash.

Only the ``PackageBaseAddress/3.0.0`` resource of the service index is used (all a restore
needs): ``{base}/{id}/index.json`` lists the versions, and the chosen one is downloaded from
``{base}/{id}/{version}/{id}.{version}.nupkg``, ids and versions lowercased in URLs. When
the feed offers a ``.nupkg.sha512`` next to the package, the download is checked against it.

Credentials come from a named source whose URL is the feed (``password-env`` for Basic auth,
``api-key-env`` for ``X-NuGet-ApiKey``), else from ``~/.netrc`` for the feed's host.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from steptemplates.errors import NetworkError, StepsError
from steptemplates.http_client import Auth, Downloaded, HttpStatusError, origin_of
from steptemplates.lockfile import LockedTemplate
from steptemplates.manifest import NuGetRequirement, TemplateRef
from steptemplates.packages.identity import identify
from steptemplates.source_config import NamedSource, for_url
from steptemplates.sources import NoVersionInRange
from steptemplates.sources.archives import (
    ArchiveSource,
    Unpacked,
    Unpacking,
    basic_auth,
    netrc_auth,
)
from steptemplates.versions import Version, parse_range, parse_version

PACKAGE_BASE_ADDRESS = "PackageBaseAddress/3.0.0"
# Where publication dates come from, best first: 3.6.0 lists SemVer 2.0.0 versions too,
# 3.4.0 leaves them out.
REGISTRATIONS = (
    "RegistrationsBaseUrl/3.6.0",
    "RegistrationsBaseUrl/3.0.0-rc",
    "RegistrationsBaseUrl/3.0.0-beta",
    "RegistrationsBaseUrl",
    "RegistrationsBaseUrl/3.4.0",
)
API_KEY_HEADER = "X-NuGet-ApiKey"
_NOT_AN_INDEX_HINT = (
    "check the feed URL: it names the feed's service index, such as "
    "https://api.nuget.org/v3/index.json"
)


@dataclass(frozen=True)
class _Release:
    """A version of a package, and where the feed's flat container keeps it."""

    package_id: str  # as the manifest spells it
    chosen: Version
    base: str  # the PackageBaseAddress, ending in /

    @property
    def version(self) -> str:
        # NuGet's URLs use the normalised version, lowercased, whatever the list says.
        return str(self.chosen).lower()

    @property
    def file_name(self) -> str:
        return f"{self.package_id.lower()}.{self.version}.nupkg"

    @property
    def artifact(self) -> str:
        return f"{self.base}{self.package_id.lower()}/{self.version}/{self.file_name}"


@dataclass(frozen=True)
class FeedVersion:
    """A version a feed lists, and when it was published (None when the feed does not say)."""

    version: Version
    published: datetime | None


class NuGetSource(ArchiveSource):
    # --- lock ---

    def lock(self, ref: TemplateRef) -> LockedTemplate:
        requirement = ref.source
        assert isinstance(requirement, NuGetRequirement)
        label = self.label(ref.name)
        feed = requirement.feed
        auth = self._auth(label, feed)
        with self._refusals(label, feed):
            # Once per feed and run: every template from this feed shares its service index.
            base = self.context.once(
                ("nuget-base", feed), lambda: self._package_base(label, feed, auth)
            )
            chosen = select_version(
                label, requirement, self._versions(label, requirement, base, auth)
            )
            release = _Release(requirement.package_id, chosen, base)
            # A version's package does not change, so what it unpacked to is reused: relocking
            # an unchanged feed costs only its listings (answered 304).
            unpacked = self.recall(release.artifact, requirement.subdir)
            if unpacked is None:
                sha512 = self._offered_sha512(label, release.artifact + ".sha512", auth)
                downloaded = self._download(label, feed, release, auth, sha512)
        if unpacked is None:
            found = self.unpack_download(
                downloaded,
                release.file_name,
                label,
                f"{requirement.package_id} {release.version}"
                + (f"//{requirement.subdir}" if requirement.subdir else ""),
                self._unpacking(requirement.subdir, ref.template),
                check=self._identity_check(label, release),
            )
            unpacked = Unpacked(downloaded.sha256, found)
            self.remember(release.artifact, requirement.subdir, unpacked)
        return LockedTemplate(
            name=ref.name,
            source="nuget",
            requested=requirement.requested,
            url=feed,
            id=requirement.package_id,
            subdir=requirement.subdir,
            version=release.version,
            artifact=release.artifact,
            file=release.file_name,
            sha256=unpacked.sha256,
            integrity=unpacked.integrity,
            template=ref.template,
        )

    # --- what the feed offers ---

    def offered(self, name: str, requirement: NuGetRequirement) -> list[FeedVersion]:
        """Every version the flat container lists for ``name``'s package, newest first, each
        with its date from the feed's registration resource when it has one."""
        label = self.label(name)
        feed = requirement.feed
        auth = self._auth(label, feed)
        with self._refusals(label, feed):
            base = self.context.once(
                ("nuget-base", feed), lambda: self._package_base(label, feed, auth)
            )
            listed = self._versions(label, requirement, base, auth)
            dates = self._publication_dates(label, requirement, auth)
        return [FeedVersion(v, dates.get(v)) for v in sorted(listed, reverse=True)]

    def _publication_dates(
        self, label: str, requirement: NuGetRequirement, auth: Auth | None
    ) -> dict[Version, datetime]:
        """Dates from the registration resource. They only inform, so a feed without one
        (a restore needs only the flat container), or one that fails, gives none."""
        feed = requirement.feed
        try:
            registrations = self.context.once(
                ("nuget-registrations", feed), lambda: self._registrations_base(label, feed, auth)
            )
            if registrations is None:
                return {}
            index = f"{registrations}{requirement.package_id.lower()}/index.json"
            return self._registration_dates(label, index, auth)
        except StepsError as error:
            self._note(f"{label}: {feed} gives no publication dates ({error})")
            return {}

    def _registrations_base(self, label: str, feed: str, auth: Auth | None) -> str | None:
        response = self.context.http().get_json(
            feed, label=label, auth=auth, auth_hint=self._hint(feed)
        )
        return registrations_base(feed, response.data)

    def _registration_dates(
        self, label: str, index: str, auth: Auth | None
    ) -> dict[Version, datetime]:
        http = self.context.http()
        pages = http.get_json(index, label=label, auth=auth).data
        dates: dict[Version, datetime] = {}
        for page in _items(pages):
            leaves = page.get("items")
            if not isinstance(leaves, list) and isinstance(page.get("@id"), str):
                # Large packages keep their leaves in pages of their own.
                leaves = _items(http.get_json(page["@id"], label=label, auth=auth).data)
            for leaf in leaves if isinstance(leaves, list) else ():
                found = _leaf_date(leaf)
                if found is not None:
                    dates[found[0]] = found[1]
        return dates

    def _package_base(self, label: str, feed: str, auth: Auth | None) -> str:
        try:
            response = self.context.http().get_json(
                feed, label=label, auth=auth, auth_hint=self._hint(feed)
            )
        except HttpStatusError as error:
            if error.status != 404:
                raise
            raise StepsError(
                f"{label}: there is no NuGet service index at {feed} (404 Not Found)",
                hint=_NOT_AN_INDEX_HINT,
            ) from None
        return package_base_address(label, feed, response.data)

    def _versions(
        self, label: str, requirement: NuGetRequirement, base: str, auth: Auth | None
    ) -> set[Version]:
        url = f"{base}{requirement.package_id.lower()}/index.json"
        try:
            response = self.context.http().get_json(
                url, label=label, auth=auth, auth_hint=self._hint(requirement.feed)
            )
        except HttpStatusError as error:
            if error.status != 404:
                raise
            raise StepsError(
                f"{label}: package {requirement.package_id} not found in {requirement.feed}",
                hint="check 'id' in steps.toml, and that this feed is the one that holds it",
            ) from None
        return listed_versions(label, url, response.data)

    def _offered_sha512(self, label: str, url: str, auth: Auth | None) -> str | None:
        """The package's SHA-512 (base64) from the feed's ``.sha512`` file, if it has one."""
        try:
            downloaded = self.context.http().download(
                url, self.cache.staging_dir, label=label, auth=auth
            )
        except HttpStatusError as error:
            if error.status == 404:  # the feed does not offer hashes: nothing to check against
                return None
            raise
        try:
            text = downloaded.path.read_bytes()[:512].decode("ascii", "replace").strip()
        finally:
            downloaded.path.unlink(missing_ok=True)
        if not _is_sha512(text):
            self._note(f"{label}: ignoring {url}: it does not hold a base64 SHA-512")
            return None
        return text

    def _download(
        self, label: str, feed: str, release: _Release, auth: Auth | None, sha512: str | None
    ) -> Downloaded:
        try:
            return self.fetch_archive(
                label,
                release.artifact,
                release.file_name,
                auth=auth,
                auth_hint=self._hint(feed),
                expected_sha512=sha512,
                store=False,
            )
        except HttpStatusError as error:
            if error.status != 404:
                raise
            raise StepsError(
                f"{label}: {feed} lists {release.package_id} {release.version}, but its package "
                f"file is missing ({release.artifact} answered 404)",
                hint="the feed is inconsistent: tell its owner, or pin another version",
            ) from None

    def _identity_check(self, label: str, release: _Release) -> Callable[[Path], None]:
        """What makes sure the feed served the package it listed."""
        artifact, wanted = release.artifact, release.package_id

        def check(package: Path) -> None:
            try:
                identity = identify(package)
            except StepsError as error:
                raise StepsError(f"{label}: {artifact}: {error.message}", hint=error.hint) from None
            if identity.id.lower() != wanted.lower():
                raise StepsError(
                    f"{label}: {artifact} holds package {identity.id}, not {wanted}",
                    hint="the feed served another package than it listed: tell its owner",
                )
            if _parsed(identity.version) not in (None, release.chosen):
                raise StepsError(
                    f"{label}: {artifact} holds {identity.id} {identity.version}, "
                    f"not version {release.version}",
                    hint="the feed served another version than it listed: tell its owner",
                )
            if identity.id != wanted:
                # NuGet ids ignore case; the feed's spelling is as good as the manifest's.
                self._note(f"{label}: the package calls itself {identity.id}")

        return check

    # --- materialize ---

    def materialize(self, entry: LockedTemplate) -> Path:
        assert entry.url is not None
        label = self.label(entry.name)
        with self._refusals(label, entry.url):
            return super().materialize(entry)

    # --- what the base class asks ---

    def auth_for(self, entry: LockedTemplate) -> Auth | None:
        assert entry.url is not None
        return self._auth(self.label(entry.name), entry.url)

    def auth_hint(self, entry: LockedTemplate) -> str | None:
        assert entry.url is not None
        return self._hint(entry.url)

    def unpacking(self, entry: LockedTemplate) -> Unpacking:
        return self._unpacking(entry.subdir, entry.template)

    @staticmethod
    def _unpacking(subdir: str, template: str | None) -> Unpacking:
        # A package's files sit at its root; a lone folder there is content, not a wrapper.
        return Unpacking(subdir=subdir, strip_single_top=False, template=template)

    # --- credentials ---

    def _auth(self, label: str, feed: str) -> Auth | None:
        named = _named_source(self.context.named_sources, feed)
        if named is None:
            return netrc_auth(feed, self.context)
        headers: dict[str, str] = {}
        described = []
        if named.password_env:
            password = _variable(label, named, named.password_env, "password-env")
            basic = basic_auth(feed, named.username or "", password, "", self.context)
            headers.update(basic.headers)
            described.append(f"${named.password_env}")
        if named.api_key_env:
            key = _variable(label, named, named.api_key_env, "api-key-env")
            self.context.console.masker.add(key)
            headers[API_KEY_HEADER] = key
            described.append(f"${named.api_key_env}")
        description = f"{' and '.join(described)} (source '{named.name}')"
        return Auth(origin_of(feed), headers, description)

    def _hint(self, feed: str) -> str:
        named = _named_source(self.context.named_sources, feed)
        if named is not None:
            variables = " and ".join(
                v for v in (named.password_env, named.api_key_env) if v is not None
            )
            user = (
                f"username '{named.username}' and " if named.password_env and named.username else ""
            )
            return f"check {user}{variables} of source '{named.name}' ({named.origin})"
        host = urlsplit(feed).hostname or feed
        return (
            f"add a 'machine {host}' entry to ~/.netrc, or declare the feed under "
            "[sources.NAME] with username and password-env (or api-key-env)"
        )

    @contextlib.contextmanager
    def _refusals(self, label: str, feed: str) -> Iterator[None]:
        """Say which feed refused access and how to authenticate, whatever URL it refused."""
        try:
            yield
        except HttpStatusError as error:
            if error.status not in (401, 403):
                raise
            auth = self._auth(label, feed)  # what was sent: the lookup is repeatable and cheap
            if auth is None and error.status == 403:
                what = "denied access (403 Forbidden)"
            elif auth is None:
                what = "requires credentials (401 Unauthorized)"
            else:
                code = "401 Unauthorized" if error.status == 401 else "403 Forbidden"
                what = f"refused the credentials from {auth.description} ({code})"
            raise NetworkError(
                f"{label}: the NuGet feed {feed} {what}", hint=self._hint(feed)
            ) from None

    def _note(self, text: str) -> None:
        if self.context.console.verbose:
            self.context.console.status(text)


# --- reading the feed's documents ---------------------------------------------------------


def package_base_address(label: str, feed: str, data: object) -> str:
    """The flat container's URL (ending in ``/``) from a service index document."""
    resources = data.get("resources") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(resources, list):
        raise StepsError(
            f"{label}: {feed} is not a NuGet v3 service index (it has no 'resources' list)",
            hint=_NOT_AN_INDEX_HINT,
        )
    version = data.get("version")
    if not isinstance(version, str) or not version.startswith("3."):
        raise StepsError(
            f"{label}: {feed} is not a NuGet v3 service index (its version is {version!r})",
            hint=_NOT_AN_INDEX_HINT,
        )
    for resource in resources:
        if not isinstance(resource, dict) or not isinstance(resource.get("@id"), str):
            continue
        types = resource.get("@type")
        if PACKAGE_BASE_ADDRESS in (types if isinstance(types, list) else [types]):
            return urljoin(feed, resource["@id"]).rstrip("/") + "/"
    raise StepsError(
        f"{label}: {feed} is not a NuGet v3 service index: no PackageBaseAddress resource",
        hint=f"steps reads packages through {PACKAGE_BASE_ADDRESS}; check the feed URL",
    )


def registrations_base(feed: str, data: object) -> str | None:
    """The registration resource's URL (ending in ``/``) from a service index, if it has one."""
    resources = data.get("resources") if isinstance(data, dict) else None
    found: dict[str, str] = {}
    for resource in resources if isinstance(resources, list) else ():
        if not isinstance(resource, dict) or not isinstance(resource.get("@id"), str):
            continue
        types = resource.get("@type")
        for kind in types if isinstance(types, list) else [types]:
            if kind in REGISTRATIONS:
                found.setdefault(kind, urljoin(feed, resource["@id"]).rstrip("/") + "/")
    return next((found[kind] for kind in REGISTRATIONS if kind in found), None)


def _items(data: object) -> list[dict[str, Any]]:
    items = data.get("items") if isinstance(data, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _leaf_date(leaf: dict[str, Any]) -> tuple[Version, datetime] | None:
    """A registration leaf's version and publication date; None for an unlisted version
    (NuGet dates those in 1900) or a leaf without them."""
    entry = leaf.get("catalogEntry")
    if not isinstance(entry, dict):
        return None
    version, published = entry.get("version"), entry.get("published")
    if not isinstance(version, str) or not isinstance(published, str):
        return None
    parsed = _parsed(version)
    try:
        when = datetime.fromisoformat(published)
    except ValueError:
        return None
    when = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    if parsed is None or when.year <= 1900:
        return None
    return parsed, when


def listed_versions(label: str, url: str, data: object) -> set[Version]:
    """The versions a flat container lists; entries that are not versions are skipped."""
    listed = data.get("versions") if isinstance(data, dict) else None
    if not isinstance(listed, list):
        raise StepsError(
            f"{label}: {url} is not a NuGet versions list (it has no 'versions' list)",
            hint="the feed's flat container is broken: tell its owner",
        )
    versions = {_parsed(text) for text in listed if isinstance(text, str)}
    return {version for version in versions if version is not None}


def select_version(label: str, requirement: NuGetRequirement, listed: set[Version]) -> Version:
    """The highest listed version the requirement's range allows."""
    try:
        wanted = parse_range(requirement.version or "*")
    except ValueError as exc:
        raise StepsError(f"{label}: {exc}", hint="fix 'version' in steps.toml") from None
    chosen = wanted.select(listed, prereleases=requirement.prereleases)
    if chosen is not None:
        return chosen
    reason = wanted.describe_no_match(listed, prereleases=requirement.prereleases)
    if not listed:
        hint: str | None = "publish a version of the package to the feed"
    elif wanted.select(listed, prereleases=True) is not None:
        hint = None  # the reason says how to allow prereleases
    else:
        hint = "change 'version' in steps.toml to a range one of them is in"
    where = f"{requirement.package_id} in {requirement.feed}"
    raise NoVersionInRange(
        f"{label} ({where}): {reason}",
        hint=hint,
        available=listed,
        prereleases=requirement.prereleases,
    )


def _parsed(text: str) -> Version | None:
    try:
        return parse_version(text.strip())
    except ValueError:
        return None


def _is_sha512(text: str) -> bool:
    try:
        return len(base64.b64decode(text, validate=True)) == 64
    except (binascii.Error, ValueError):
        return False


# --- credentials ----------------------------------------------------------------------------


def _named_source(sources: Mapping[str, NamedSource], feed: str) -> NamedSource | None:
    """The named NuGet source for ``feed`` when it says how to authenticate."""
    named = for_url(sources, feed)
    if named is None or named.kind != "nuget":
        return None
    return named if named.password_env or named.api_key_env else None


def _variable(label: str, named: NamedSource, variable: str, key: str) -> str:
    value = os.environ.get(variable, "")
    if not value:
        secret = "API key" if key == "api-key-env" else "password"
        raise StepsError(
            f"{label}: environment variable {variable} ({key} of source '{named.name}') "
            "is not set or empty",
            hint=f"set {variable} to the feed's {secret}",
        )
    return value
