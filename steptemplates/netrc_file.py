"""Credentials from ``~/.netrc`` (or ``$NETRC``), shared by the git and HTTP sources."""

from __future__ import annotations

import netrc
import os
from dataclasses import dataclass, field

from steptemplates.errors import StepsError


@dataclass(frozen=True)
class NetrcEntry:
    login: str
    password: str = field(repr=False)
    path: str = ""  # the file it came from, for messages


def lookup(host: str) -> NetrcEntry | None:
    """The entry for ``host`` (or the default entry), if it has a password."""
    path = os.environ.get("NETRC") or os.path.expanduser("~/.netrc")
    if not os.path.isfile(path):
        return None
    try:
        entry = netrc.netrc(path).authenticators(host)
    except netrc.NetrcParseError as exc:
        # Not str(exc): it quotes the offending token, which may well be a password.
        raise StepsError(
            f"{path}:{exc.lineno}: malformed netrc file", hint="fix or remove that line"
        ) from None
    except OSError as exc:
        message = f"cannot read {path}: {exc.strerror}"
        raise StepsError(message, hint="check its permissions") from None
    if entry is None or not entry[2]:
        return None
    login, _account, password = entry
    return NetrcEntry(login or "", password, path)
