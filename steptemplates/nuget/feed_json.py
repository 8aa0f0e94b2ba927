"""The JSON documents of a static NuGet v3 feed, built from plain records (no I/O here).

Resources (protocols.md section 3): the service index names a PackageBaseAddress (version
lists and .nupkg downloads, all restore needs) and RegistrationsBaseUrl (per-package
metadata: one index with a single inline page, and one leaf per version).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from steptemplates.nuget.ids import PackageVersion, parse_package_version

PACKAGE_BASE_ADDRESS = "PackageBaseAddress/3.0.0"
REGISTRATION_TYPES = (
    "RegistrationsBaseUrl",
    "RegistrationsBaseUrl/3.0.0",
    "RegistrationsBaseUrl/3.0.0-rc",
    "RegistrationsBaseUrl/3.0.0-beta",
)
_WRITER = "a static feed written by steps publish"

Json = dict[str, Any]


@dataclass(frozen=True)
class FeedUrls:
    """Every absolute URL in the feed, from its base (no trailing slash)."""

    base: str

    @property
    def service_index(self) -> str:
        return f"{self.base}/index.json"

    @property
    def flat_container(self) -> str:
        return f"{self.base}/flatcontainer/"

    @property
    def registrations(self) -> str:
        return f"{self.base}/registration/"

    def package_content(self, lower_id: str, lower_version: str) -> str:
        return f"{self.flat_container}{lower_id}/{lower_version}/{lower_id}.{lower_version}.nupkg"

    def registration_index(self, lower_id: str) -> str:
        return f"{self.registrations}{lower_id}/index.json"

    def registration_leaf(self, lower_id: str, lower_version: str) -> str:
        return f"{self.registrations}{lower_id}/{lower_version}.json"


@dataclass(frozen=True)
class FeedEntry:
    """One published version, as the registration describes it."""

    id: str  # the id as the feed registers it: the first published casing
    version: PackageVersion
    description: str
    authors: str
    tags: str
    sha512: str  # base64, as NuGet's packageHash


def service_index(urls: FeedUrls) -> Json:
    resources = [
        {
            "@id": urls.flat_container,
            "@type": PACKAGE_BASE_ADDRESS,
            "comment": f"Package versions and .nupkg downloads; {_WRITER}",
        },
        *(
            {
                "@id": urls.registrations,
                "@type": kind,
                "comment": f"Package metadata; {_WRITER}",
            }
            for kind in REGISTRATION_TYPES
        ),
    ]
    return {
        "version": "3.0.0",
        "resources": resources,
        "@context": {
            "@vocab": "http://schema.nuget.org/services#",
            "comment": "http://www.w3.org/2000/01/rdf-schema#comment",
        },
    }


def base_url_of(index: object) -> str | None:
    """The base URL a service index written by ``service_index`` was made for, else None."""
    resources = index.get("resources") if isinstance(index, dict) else None
    for resource in resources if isinstance(resources, list) else []:
        if not isinstance(resource, dict) or resource.get("@type") != PACKAGE_BASE_ADDRESS:
            continue
        address = resource.get("@id")
        if isinstance(address, str) and address.endswith("/flatcontainer/"):
            return address.removesuffix("/flatcontainer/")
    return None


def versions_index(versions: Sequence[PackageVersion]) -> Json:
    """The flat container's version list: lowercased, normalised, in version order."""
    return {"versions": [v.lower for v in sorted(versions, key=lambda v: v.version)]}


def registration_index(urls: FeedUrls, lower_id: str, entries: Sequence[FeedEntry]) -> Json:
    """The registration index: one inline page holding every version, lowest first."""
    ordered = sorted(entries, key=lambda entry: entry.version.version)
    index_url = urls.registration_index(lower_id)
    lower, upper = ordered[0].version.lower, ordered[-1].version.lower
    page = {
        "@id": f"{index_url}#page/{lower}/{upper}",
        "@type": "catalog:CatalogPage",
        "count": len(ordered),
        "lower": lower,
        "upper": upper,
        "parent": index_url,
        "items": [_registration_item(urls, lower_id, entry) for entry in ordered],
    }
    return {
        "@id": index_url,
        "@type": ["catalog:CatalogRoot", "PackageRegistration", "catalog:Permalink"],
        "count": 1,
        "items": [page],
    }


def registration_leaf(urls: FeedUrls, lower_id: str, entry: FeedEntry) -> Json:
    lower_version = entry.version.lower
    leaf_url = urls.registration_leaf(lower_id, lower_version)
    return {
        "@id": leaf_url,
        "@type": ["Package", "http://schema.nuget.org/catalog#Permalink"],
        "catalogEntry": _catalog_entry_url(leaf_url),
        "listed": True,
        "packageContent": urls.package_content(lower_id, lower_version),
        "registration": urls.registration_index(lower_id),
    }


def entries_from_registration(index: object) -> list[FeedEntry]:
    """The versions a registration index written by ``registration_index`` holds.

    Raises ValueError when it is not in that shape.
    """
    if not isinstance(index, dict):
        raise ValueError("not a JSON object")
    return [
        _entry_from_catalog(item.get("catalogEntry") if isinstance(item, dict) else None)
        for page in _list(index, "items")
        for item in _list(page, "items")
    ]


def _registration_item(urls: FeedUrls, lower_id: str, entry: FeedEntry) -> Json:
    lower_version = entry.version.lower
    leaf_url = urls.registration_leaf(lower_id, lower_version)
    content = urls.package_content(lower_id, lower_version)
    catalog_entry = {
        "@id": _catalog_entry_url(leaf_url),
        "@type": "PackageDetails",
        "id": entry.id,
        "version": entry.version.full,
        "description": entry.description,
        "authors": entry.authors,
        "tags": entry.tags.split(),
        "listed": True,
        "packageContent": content,
        "packageHash": entry.sha512,
        "packageHashAlgorithm": "SHA512",
    }
    return {
        "@id": leaf_url,
        "@type": "Package",
        "catalogEntry": catalog_entry,
        "packageContent": content,
        "registration": urls.registration_index(lower_id),
    }


def _catalog_entry_url(leaf_url: str) -> str:
    # A static feed has no catalog; the entry lives inside the registration, under the leaf.
    return f"{leaf_url}#catalogEntry"


def _entry_from_catalog(entry: object) -> FeedEntry:
    if not isinstance(entry, dict):
        raise ValueError("an item has no catalogEntry")
    fields = {key: entry.get(key) for key in ("id", "version", "packageHash")}
    if not all(isinstance(value, str) and value for value in fields.values()):
        raise ValueError("a catalogEntry lacks its id, version or packageHash")
    tags = entry.get("tags")
    return FeedEntry(
        id=str(fields["id"]),
        version=parse_package_version(str(fields["version"])),
        description=str(entry.get("description") or ""),
        authors=str(entry.get("authors") or ""),
        tags=" ".join(map(str, tags)) if isinstance(tags, list) else str(tags or ""),
        sha512=str(fields["packageHash"]),
    )


def _list(container: object, key: str) -> list[object]:
    value = container.get(key) if isinstance(container, dict) else None
    if not isinstance(value, list):
        raise ValueError(f"'{key}' is not a list")
    return value
