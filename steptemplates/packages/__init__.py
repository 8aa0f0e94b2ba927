"""Packages: archives of an application and its deployment scripts, named and extracted."""

from steptemplates.packages.archive import ExtractResult, extract
from steptemplates.packages.identity import PackageIdentity, archive_format, identify

__all__ = ["ExtractResult", "PackageIdentity", "archive_format", "extract", "identify"]
