"""``System.Uri``: an address as .NET reads it (``UriPart``), and its escaping functions
(``UriEscape``, ``UriDataEscape``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import unquote


class UriOperationError(Exception):
    """The part does not exist for this address (.NET throws InvalidOperationException)."""


_DEFAULT_PORTS = {
    "http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21, "gopher": 70, "nntp": 119,
    "news": 119, "telnet": 23, "ldap": 389, "mailto": 25, "net.tcp": 808,
}  # fmt: skip
# Schemes .NET parses as host-based paths: it needs a host and reads '\' as '/'.
_HOST_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp"})
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]+):(.*)", re.DOTALL)
_DRIVE_PATH = re.compile(r"[A-Za-z]:[\\/].*", re.DOTALL)
_UNC_PATH = re.compile(r"\\\\([^\\/]+)(.*)", re.DOTALL)
_IPV4 = re.compile(
    r"(?:(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])"
)
_DNS_NAME = re.compile(
    r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?"
)
_IPV6 = re.compile(r"\[[0-9A-Fa-f:.]+(?:%[\w.]+)?\]")
_HOST_CHARACTERS = re.compile(r"[\w.\-~%!$&'()*+,;=]*")
# What System.Uri percent-encodes in a path, query or fragment.
_URI_UNSAFE = re.compile(r"[\x00-\x20\"<>\\^`{|}\x7f-\U0010ffff]|%(?![0-9A-Fa-f]{2})")


@dataclass(frozen=True)
class DotnetUri:
    """An address as ``new Uri(text, UriKind.RelativeOrAbsolute)`` sees it."""

    scheme: str = ""  # empty for a relative address
    user_info: str = ""
    host: str = ""
    port: int = -1
    path: str = ""
    query: str = ""
    fragment: str = ""
    has_authority: bool = False

    def part(self, name: str) -> str:
        """A ``Uri`` property by name (case-insensitive), booleans in lower case.

        Raises KeyError for a name that is not a supported part, and UriOperationError
        for any part but IsAbsoluteUri of a relative address."""
        lowered = name.lower()
        if lowered == "isabsoluteuri":
            return "true" if self.scheme else "false"
        read = _URI_PARTS[lowered]
        if not self.scheme:
            raise UriOperationError("This operation is not supported for a relative URI.")
        result = read(self)
        return ("true" if result else "false") if isinstance(result, bool) else str(result)

    @property
    def is_default_port(self) -> bool:
        return self.port == _DEFAULT_PORTS.get(self.scheme, -1)

    @property
    def port_suffix(self) -> str:
        return "" if self.is_default_port or self.port < 0 else f":{self.port}"

    @property
    def authority(self) -> str:
        return self.host + self.port_suffix

    @property
    def absolute_uri(self) -> str:
        tail = f"{self.path}{self.query}{self.fragment}"
        if self.has_authority or self.scheme == "mailto":
            user = f"{self.user_info}@" if self.user_info else ""
            slashes = "//" if self.has_authority else ""
            return f"{self.scheme}:{slashes}{user}{self.authority}{tail}"
        return f"{self.scheme}:{tail}"

    @property
    def host_name_type(self) -> str:
        if self.host.startswith("["):
            return "IPv6"
        if _IPV4.fullmatch(self.host):
            return "IPv4"
        if self.host and _DNS_NAME.fullmatch(self.host):
            return "Dns"
        return "Basic"

    @property
    def is_loopback(self) -> bool:
        if self.scheme == "file" and not self.host:
            return True
        return self.host in ("localhost", "[::1]") or self.host.startswith("127.")

    @property
    def local_path(self) -> str:
        path = unquote(self.path)
        if self.scheme != "file":
            return path
        if self.host:
            return "\\\\" + self.host + path.replace("/", "\\")
        if _DRIVE_PATH.fullmatch(path[1:]):
            return path[1:].replace("/", "\\")
        return path


_URI_PARTS: dict[str, Callable[[DotnetUri], object]] = {
    "absolutepath": lambda uri: uri.path,
    "absoluteuri": lambda uri: uri.absolute_uri,
    "authority": lambda uri: uri.authority,
    "dnssafehost": lambda uri: uri.host.strip("[]"),
    "fragment": lambda uri: uri.fragment,
    "host": lambda uri: uri.host,
    "hostandport": lambda uri: uri.authority,
    "hostnametype": lambda uri: uri.host_name_type,
    "isdefaultport": lambda uri: uri.is_default_port,
    "isfile": lambda uri: uri.scheme == "file",
    "isloopback": lambda uri: uri.is_loopback,
    "isunc": lambda uri: uri.scheme == "file" and bool(uri.host),
    "path": lambda uri: uri.local_path,
    "pathandquery": lambda uri: uri.path + uri.query,
    "port": lambda uri: uri.port,
    "query": lambda uri: uri.query,
    "scheme": lambda uri: uri.scheme,
    "schemeandserver": lambda uri: f"{uri.scheme}://{uri.authority}",
    "userinfo": lambda uri: uri.user_info,
}


def parse_uri(text: str) -> DotnetUri | None:
    """``Uri.TryCreate(text, UriKind.RelativeOrAbsolute)``: None when .NET refuses it."""
    stripped = text.strip(" \t\r\n")
    if _DRIVE_PATH.fullmatch(stripped):  # a Windows path is a file: address
        return _hierarchical("file", "", "/" + stripped)
    unc = _UNC_PATH.fullmatch(stripped)
    if unc is not None:
        return _hierarchical("file", unc.group(1), unc.group(2) or "/")
    scheme_match = _SCHEME.fullmatch(stripped)
    if scheme_match is None:
        return DotnetUri()  # relative
    scheme, rest = scheme_match.group(1).lower(), scheme_match.group(2)
    if rest.startswith("//") or (scheme in _HOST_SCHEMES and rest.startswith("\\\\")):
        return _with_authority(scheme, rest[2:])
    if scheme in _HOST_SCHEMES:
        return None  # "http:example.com" has no host
    if scheme == "mailto":
        return _mail_address(rest)
    path, query, fragment = _split_path(rest)
    return DotnetUri(scheme=scheme, path=_escape(path), query=query, fragment=fragment)


def _with_authority(scheme: str, rest: str) -> DotnetUri | None:
    stops = "/?#\\" if scheme in _HOST_SCHEMES or scheme == "file" else "/?#"
    end = next((i for i, char in enumerate(rest) if char in stops), len(rest))
    authority, remainder = rest[:end], rest[end:]
    user_info, _, host_and_port = authority.rpartition("@")
    if host_and_port.startswith("["):
        close = host_and_port.find("]")
        host, port_text = host_and_port[: close + 1], host_and_port[close + 1 :]
        if close < 0 or (port_text and not port_text.startswith(":")):
            return None
        port_text = port_text[1:]
    else:
        host, _, port_text = host_and_port.partition(":")
    if port_text and not (port_text.isascii() and port_text.isdigit() and int(port_text) <= 65535):
        return None
    valid_host = _IPV6.fullmatch(host) if host.startswith("[") else _HOST_CHARACTERS.fullmatch(host)
    if not valid_host or (not host and scheme in _HOST_SCHEMES):
        return None
    uri = _hierarchical(scheme, host.lower(), remainder)
    port = int(port_text) if port_text else _DEFAULT_PORTS.get(scheme, -1)
    return replace(uri, user_info=user_info, port=port)


def _hierarchical(scheme: str, host: str, remainder: str) -> DotnetUri:
    if scheme in _HOST_SCHEMES or scheme == "file":
        remainder = remainder.replace("\\", "/")
    path, query, fragment = _split_path(remainder)
    return DotnetUri(
        scheme=scheme,
        host=host,
        port=_DEFAULT_PORTS.get(scheme, -1),
        path=_escape(_remove_dot_segments(path) or "/"),
        query=query,
        fragment=fragment,
        has_authority=True,
    )


def _mail_address(rest: str) -> DotnetUri:
    address, query, fragment = _split_path(rest)
    user_info, _, host = address.rpartition("@")
    return DotnetUri("mailto", user_info, host.lower(), 25, "", query, fragment)


def _split_path(text: str) -> tuple[str, str, str]:
    """Path, "?query" and "#fragment" (each escaped as .NET shows them)."""
    before_fragment, hash_mark, fragment = text.partition("#")
    path, question_mark, query = before_fragment.partition("?")
    return path, _escape(question_mark + query), _escape(hash_mark + fragment)


def _escape(text: str) -> str:
    return _URI_UNSAFE.sub(
        lambda unsafe: "".join(f"%{b:02X}" for b in unsafe.group().encode("utf-8", "replace")),
        text,
    )


def _remove_dot_segments(path: str) -> str:
    output: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if len(output) > 1:
                output.pop()
        elif segment != ".":
            output.append(segment)
    if path.endswith(("/.", "/..")):
        output.append("")
    return "/".join(output)


# ---------------------------------------------------------------------------------------------
# Uri.EscapeUriString and Uri.EscapeDataString

_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
_RESERVED = ":/?#[]@!$&'()*+,;="


def escape_uri_string(text: str) -> str:
    """``Uri.EscapeUriString``: percent-encode all but unreserved and reserved characters.

    Raises UnicodeEncodeError for text with a lone surrogate."""
    return _percent_encode(text, _UNRESERVED + _RESERVED)


def escape_data_string(text: str) -> str:
    """``Uri.EscapeDataString``: percent-encode all but unreserved characters.

    Raises UnicodeEncodeError for text with a lone surrogate."""
    return _percent_encode(text, _UNRESERVED)


def _percent_encode(text: str, keep: str) -> str:
    return "".join(chr(b) if chr(b) in keep else f"%{b:02X}" for b in text.encode("utf-8"))
