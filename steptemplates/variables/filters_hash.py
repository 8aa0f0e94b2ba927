"""The hash filters (``Md5``, ``Sha1``, ``Sha256``, ``Sha384``, ``Sha512``): hex digests of the
text in a chosen encoding, optionally cut to a number of bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from steptemplates.variables.dotnet.numbers import parse_int32
from steptemplates.variables.dotnet.strings import well_formed
from steptemplates.variables.filters_arguments import Filter, FilterRejected, needs_argument
from steptemplates.variables.filters_encoding import decode_base64


@dataclass(frozen=True)
class _HashOptions:
    to_bytes: Callable[[str], bytes]
    digest_bytes: int | None  # None: the whole digest


def _utf8(text: str) -> bytes:
    return well_formed(text).encode("utf-8")


def _hash_encoding(name: str, option: str) -> Callable[[str], bytes] | None:
    encoding = option.lower()
    if encoding == "base64":
        return lambda text: decode_base64(name, text)
    if encoding in ("utf8", "utf-8"):
        return _utf8
    if encoding == "unicode":
        return lambda text: well_formed(text).encode("utf-16-le")
    return None


def _hash_options(name: str, options: Sequence[str]) -> _HashOptions:
    """An encoding and a digest size in bytes, each optional, in either order."""
    rejected = FilterRejected(
        f"{name} takes an encoding (utf8, unicode or base64) and a size in bytes, each at most once"
    )
    if len(options) > 2:
        raise rejected
    to_bytes: Callable[[str], bytes] | None = None
    size: int | None = None
    for option in options:
        number = parse_int32(option)
        if number is not None and number > 0 and size is None:
            size = number
            continue
        encoding = _hash_encoding(name, option)
        if encoding is None or to_bytes is not None:
            raise rejected
        to_bytes = encoding
    return _HashOptions(to_bytes or _utf8, size)


def _hash_filter(name: str, algorithm: str) -> Filter:
    def digest(argument: str | None, options: Sequence[str]) -> str | None:
        text = needs_argument(name, argument)
        settings = _hash_options(name, options)
        hashed = hashlib.new(algorithm, settings.to_bytes(text)).digest()
        return hashed[: settings.digest_bytes].hex()

    return digest


md5 = _hash_filter("Md5", "md5")
sha1 = _hash_filter("Sha1", "sha1")
sha256 = _hash_filter("Sha256", "sha256")
sha384 = _hash_filter("Sha384", "sha384")
sha512 = _hash_filter("Sha512", "sha512")
