"""Named sources: feeds and GitHub hosts declared once and referred to by name.

They live in ``[sources.NAME]`` tables of ``steps.toml`` or of the user configuration file
(``config.toml`` in the platform's user config directory, or ``$STEPS_CONFIG_DIR``); the
manifest wins when both name the same source. A source holds a URL and *references* to
credentials (the names of environment variables), never a secret itself, so steps.toml can
be committed and steps.lock never holds one.

    [sources.acme]
    nuget = "https://feeds.acme.example/v3/index.json"
    username = "deploy"
    password-env = "ACME_FEED_PASSWORD"

    [sources.ghe]
    github = "https://ghe.acme.example/api/v3"
    token-env = "GHE_TOKEN"
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

from steptemplates import tomlfile

CONFIG_FILE = "config.toml"
KINDS = ("nuget", "github")
_KEYS = (*KINDS, "username", "password-env", "token-env", "api-key-env")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class NamedSource:
    name: str
    kind: str  # "nuget" (a service index URL) or "github" (an API base URL)
    url: str
    username: str | None = None
    password_env: str | None = None  # basic-auth password (NuGet) or token as password
    token_env: str | None = None  # bearer token (GitHub)
    api_key_env: str | None = None  # sent as X-NuGet-ApiKey
    origin: str = ""  # the file that declared it, for messages


def config_dir() -> Path:
    override = os.environ.get("STEPS_CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir("steps", appauthor=False))


def user_config_path() -> Path:
    return config_dir() / CONFIG_FILE


def from_table(table: tomlfile.Table | None, origin: str) -> dict[str, NamedSource]:
    """The ``[sources.NAME]`` tables of one file."""
    if table is None:
        return {}
    found = {}
    for name, entry in table.subtables():
        found[name] = _source(name, entry, origin)
    return found


def _source(name: str, entry: tomlfile.Table, origin: str) -> NamedSource:
    kinds = [kind for kind in KINDS if entry.raw(kind) is not None]
    if len(kinds) != 1:
        raise entry.error(
            None,
            f"source '{name}' needs exactly one of 'nuget' (a service index URL) "
            "or 'github' (an API base URL)",
        )
    kind = kinds[0]
    url = entry.required_string(kind)
    if "://" not in url:
        raise entry.error(kind, f"source '{name}': '{url}' is not a URL")
    if has_user_info(url):
        raise entry.error(
            kind,
            f"source '{name}': the URL has credentials written into it",
            hint="remove them; name an environment variable in password-env or token-env, "
            "or add the host to ~/.netrc",
        )
    envs = {}
    for key in ("password-env", "token-env", "api-key-env"):
        value = entry.string(key)
        if value is not None and not _ENV_NAME.fullmatch(value):
            raise entry.error(
                key,
                f"source '{name}': {key} names an environment variable, not a value",
                hint="write the variable's name (such as FEED_TOKEN) and set it in the environment",
            )
        envs[key] = value
    entry.reject_unknown(_KEYS)
    return NamedSource(
        name=name,
        kind=kind,
        url=url,
        username=entry.string("username"),
        password_env=envs["password-env"],
        token_env=envs["token-env"],
        api_key_env=envs["api-key-env"],
        origin=origin,
    )


def has_user_info(url: str) -> bool:
    """Whether a URL has a user name or password written into it."""
    return "@" in urlsplit(url).netloc


# The tables the user configuration file may hold: named sources, and the registries
# `steps search` reads (read by ``registries.config``).
USER_TABLES = ("sources", "registries")


def user_config() -> tomlfile.TomlDocument | None:
    """The user configuration file, parsed; None when it does not exist."""
    path = user_config_path()
    if not path.is_file():
        return None
    doc = tomlfile.load(path, display=str(path))
    doc.root().reject_unknown(USER_TABLES)
    return doc


def user_sources() -> dict[str, NamedSource]:
    """The sources in the user configuration file; none when it does not exist."""
    doc = user_config()
    if doc is None:
        return {}
    return from_table(doc.root().table("sources"), str(doc.path))


def merged(project: Mapping[str, NamedSource]) -> dict[str, NamedSource]:
    """The user's sources overlaid by the project's (the manifest wins on a shared name)."""
    return {**user_sources(), **project}


def for_url(sources: Mapping[str, NamedSource], url: str) -> NamedSource | None:
    """The declared source whose URL is ``url`` (how a lock entry finds its credentials)."""
    wanted = url.rstrip("/")
    return next((s for s in sources.values() if s.url.rstrip("/") == wanted), None)
