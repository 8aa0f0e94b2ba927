"""Templates and packages in an archive at a plain URL, pinned by the archive's sha256.

The URL names one file whose extension says its format (``tool-1.2.0.tar.gz``). A sha256
written in steps.toml is checked before anything is kept; without one, the hash of the
first download is recorded in the lock and every later download must match it. The only
credentials are those ``~/.netrc`` holds for the host.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from steptemplates.errors import StepsError
from steptemplates.http_client import Auth
from steptemplates.lockfile import LockedTemplate
from steptemplates.manifest import HttpRequirement, TemplateRef
from steptemplates.packages.identity import ACCEPTED_EXTENSIONS, archive_format
from steptemplates.sources.archives import ArchiveSource, Unpacking, netrc_auth


class UrlSource(ArchiveSource):
    immutable_artifacts = False  # the same URL may serve new bytes tomorrow

    def lock(self, ref: TemplateRef) -> LockedTemplate:
        requirement = ref.source
        assert isinstance(requirement, HttpRequirement)
        label = self.label(ref.name)
        url = requirement.url
        file_name = archive_file_name(label, url)
        downloaded = self.fetch_archive(
            label,
            url,
            file_name,
            auth=netrc_auth(url, self.context),
            auth_hint=_netrc_hint(url),
            expected_sha256=requirement.sha256,
            expected_by="steps.toml gives",
            store=False,
        )
        where = url + (f"//{requirement.subdir}" if requirement.subdir else "")
        unpacking = Unpacking(requirement.subdir, template=ref.template)
        found = self.unpack_download(downloaded, file_name, label, where, unpacking)
        return LockedTemplate(
            name=ref.name,
            source="http",
            requested=requirement.requested,
            url=url,
            subdir=requirement.subdir,
            artifact=url,
            file=file_name,
            sha256=downloaded.sha256,
            integrity=found,
            template=ref.template,
        )

    def auth_for(self, entry: LockedTemplate) -> Auth | None:
        assert entry.artifact is not None
        return netrc_auth(entry.artifact, self.context)

    def auth_hint(self, entry: LockedTemplate) -> str | None:
        assert entry.artifact is not None
        return _netrc_hint(entry.artifact)


def archive_file_name(label: str, url: str) -> str:
    """The archive's file name: the last segment of the URL's path, with a known extension."""
    segment = PurePosixPath(urlsplit(url).path).name
    name = unquote(segment)
    if "/" in name or "\\" in name or name in (".", ".."):
        name = segment  # an encoded separator must not make a path of the cache's file name
    if not name or archive_format(Path(name)) is None:
        raise StepsError(
            f"{label}: {url} does not name an archive file (its name must end in an "
            "archive extension)",
            hint=f"use a URL whose file name ends in one of {ACCEPTED_EXTENSIONS}",
        )
    return name


def _netrc_hint(url: str) -> str:
    host = urlsplit(url).hostname or url
    return f"add a 'machine {host}' entry with login and password to ~/.netrc"
