"""`steps init` and `steps add`."""

from __future__ import annotations

import argparse
from pathlib import Path

from steptemplates import project
from steptemplates.cli.common import Command, find_project
from steptemplates.console import Console
from steptemplates.manifest import ref_fields


def _configure_init(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", nargs="?", default=".", help="where to create steps.toml")
    parser.add_argument("--name", help="project name (default: the directory's name)")


def _init(args: argparse.Namespace, console: Console) -> int:
    path = project.init(Path(args.directory), args.name)
    console.status(f"Created {path}")
    return 0


INIT = Command(
    "init",
    "create a steps.toml (in DIR, default the current directory)",
    "Create a commented steps.toml to start a project.",
    _configure_init,
    _init,
)


def _configure_add(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source",
        metavar="SOURCE",
        help="a git URL (https://, git://, ssh://, file://, user@host:path), a local "
        "directory or template file (x.json, steptemplate.toml), github:OWNER/REPO, "
        "nuget:FEED#PackageId (FEED a service index URL or a named source), the URL of "
        "an archive (.zip, .tar.gz, .nupkg, ...), or a template's name in the configured "
        "registries: NAME, REGISTRY/NAME, optionally @RANGE (http-check@^1.2)",
    )
    parser.add_argument(
        "--registry",
        metavar="NAME",
        help="look the template's name up in this registry only (see `steps registry list`)",
    )
    parser.add_argument("--name", help="the name steps refer to it by (default: from the source)")
    pin = parser.add_mutually_exclusive_group()
    pin.add_argument("--version", help="version range, e.g. ^1.2, ~1.2.3, >=1.0,<2, 1.*")
    pin.add_argument("--tag", help="an exact tag")
    pin.add_argument("--branch", help="follow a branch (locked to its current commit)")
    pin.add_argument("--rev", help="a commit SHA")
    parser.add_argument("--subdir", help="the template's directory inside the repository")
    parser.add_argument(
        "--template",
        metavar="PATH",
        help="the template (or module) file inside the source, after --subdir, such as "
        "step-templates/slack-notify.json (needed when a folder holds several)",
    )
    modules = parser.add_argument_group("script modules")
    modules.add_argument(
        "--module",
        action="store_true",
        help="add a script module to [modules] (default name: the module's own)",
    )
    modules.add_argument(
        "--autoload",
        action="store_true",
        help="bash steps source the module before their script",
    )
    parser.add_argument(
        "--prerelease", action="store_true", help="allow prerelease versions in the range"
    )
    parser.add_argument(
        "--token-env",
        metavar="VAR",
        help="environment variable holding an HTTPS token for the repository (its name is "
        "saved in steps.toml, never the token)",
    )
    parser.add_argument(
        "--username",
        help="user name to send with the token (default: x-access-token, which GitHub expects)",
    )
    feeds = parser.add_argument_group("github:, nuget: and archive URL sources")
    feeds.add_argument(
        "--asset", metavar="GLOB", help="github: the release asset to use, by name glob"
    )
    feeds.add_argument(
        "--tags",
        dest="from_tags",
        action="store_true",
        help="github: versions from SemVer tags (source archives) instead of releases",
    )
    feeds.add_argument(
        "--api-url", metavar="URL", help="github: the API base, e.g. https://HOST/api/v3"
    )
    feeds.add_argument(
        "--source",
        dest="source_name",
        metavar="NAME",
        help="github: a named GitHub source from [sources] (API URL and credentials)",
    )
    feeds.add_argument("--sha256", metavar="HEX", help="archive URL: its expected SHA-256")
    parser.add_argument(
        "--offline", action="store_true", help="never use the network; work from the cache"
    )


def _add(args: argparse.Namespace, console: Console) -> int:
    request = project.AddRequest(
        source=args.source,
        name=args.name,
        version=args.version,
        tag=args.tag,
        branch=args.branch,
        rev=args.rev,
        subdir=args.subdir,
        prerelease=args.prerelease,
        token_env=args.token_env,
        username=args.username,
        asset=args.asset,
        from_tags=args.from_tags,
        api_url=args.api_url,
        source_name=args.source_name,
        sha256=args.sha256,
        template=args.template,
        module=args.module,
        autoload=args.autoload,
        registry=args.registry,
    )
    result = project.add(find_project(), request, console, offline=args.offline)
    fields = ", ".join(f"{k} = {v!r}" for k, v in ref_fields(result.ref).items())
    verb = "Replaced" if result.replaced else "Added"
    what = "script module" if result.ref.kind == "module" else "template"
    console.status(f"{verb} {what} '{result.name}' ({fields}); locked {result.entry.shown}")
    return 0


ADD = Command(
    "add",
    "add a template or script module to steps.toml and lock it",
    "Add a template (or with --module a script module) from a git repository, a GitHub\n"
    "release, a NuGet feed, an archive URL, a local directory or a local template file to\n"
    "steps.toml, resolve it, and record the exact version, commit or archive hash and the\n"
    "content hash in steps.lock.\n"
    "Without a pin, the newest version is used with a caret range (^1.2.3).\n"
    "A template's short name is looked up in the configured registries (`steps search`);\n"
    "steps.toml and steps.lock then record its real source, not the name.",
    _configure_add,
    _add,
)
