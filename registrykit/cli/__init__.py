"""The ``registrykit`` command: every workflow step from a terminal or a CI job.

Results go to stdout (an aligned table with human sizes, or csv / json /
markdown); progress bars and errors go to stderr. Exit codes: 0 success,
1 a failed operation or gate, 2 bad usage. Errors print their one-line
message with its remedy; ``--debug`` shows the traceback too. Global options
go before or after the command (``registrykit tags REPO --format json``), as
with docker, skopeo and crane. Readers take one ``--platform``; ``copy``
takes it repeated (writers take one or many platforms).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._client import Client
from .._model.errors import InvalidReference, RegistryKitError
from .._model.manifest import Platform
from .._model.units import parse_percent, parse_size
from .._registry.cache import default_cache_dir
from ._commands import (
    Gated,
    Handler,
    UsageError,
    _reader,
    cmd_audit,
    cmd_copy,
    cmd_delete,
    cmd_demo,
    cmd_diff,
    cmd_inspect,
    cmd_lab,
    cmd_local,
    cmd_login,
    cmd_logout,
    cmd_pull,
    cmd_push,
    cmd_registry,
    cmd_runtime,
    cmd_sync,
    cmd_tag,
    cmd_waste,
)
from ._output import emit, error

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# -- parser ------------------------------------------------------------------------

Option = tuple[tuple[str, ...], dict[str, Any]]


def opt(*flags: str, **kwargs: Any) -> Option:
    return flags, kwargs


def _checked(parse: Callable[[str], object]) -> Callable[[str], str]:
    """An argparse ``type``: the text, once ``parse`` accepts it (else a usage error, exit 2)."""

    def check(text: str) -> str:
        try:
            parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text

    return check


def _positive(text: str) -> int:
    if not text.strip().lstrip("+-").isdigit():
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}")
    if int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {int(text)}")
    return int(text)


def _concurrency(text: str) -> int | str:
    return "auto" if text.strip().lower() == "auto" else _positive(text)


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    help: str
    options: tuple[Option, ...] = field(default=())


GLOBAL_OPTIONS: tuple[Option, ...] = (
    opt(
        "--format",
        choices=["table", "csv", "json", "markdown"],
        default="table",
        help="output format (default: an aligned table)",
    ),
    opt(
        "--insecure",
        action="append",
        default=[],
        metavar="HOST",
        help="allow plain http / unverified TLS for HOST (repeatable)",
    ),
    opt("--ca-bundle", metavar="PEM", help="a PEM file of CA certificates to trust"),
    opt(
        "--cert-dir",
        metavar="DIR",
        help="as skopeo: *.crt CA files and *.cert/*.key client pairs, for every host",
    ),
    opt("--auth-file", metavar="PATH", help="credentials file to use"),
    opt(
        "--concurrency",
        type=_concurrency,
        default="auto",
        help="parallel requests: auto (adapts to the latency) or a number",
    ),
    opt("--no-cache", action="store_true", help="do not use the digest cache"),
    opt("--debug", action="store_true", help="show tracebacks and debug logs"),
)
# fmt: off
# Readers read one platform of a multi-arch tag; copy (a writer) takes one or many.
PLATFORM = opt("--platform", type=_checked(Platform.parse),
               help="os/arch[/variant], e.g. linux/arm64")
PLATFORMS = opt("--platform", dest="platforms", action="append", type=_checked(Platform.parse),
                help="copy only these platforms (repeatable)")
IMAGE, REPOSITORY = opt("image"), opt("repository")
SOURCE, DESTINATION = opt("source"), opt("destination")
ALL_TAGS = opt("--all-tags", action="store_true")
PRESERVE = opt("--preserve-digests", action="store_true",
               help="keep Docker-format manifests byte for byte in an OCI layout")
LOCATIONS = ("a registry reference, oci:DIR[:TAG], docker-archive:PATH[:TAG], "
             "podman:NAME[:TAG] or docker-daemon:NAME[:TAG]")

# One row per command: name, handler, help, arguments. Kept one row a line to read as a table.
COMMANDS: tuple[Command, ...] = (
    Command("runtime", cmd_runtime, "detect docker, podman, skopeo and their auth files"),
    Command("registry", cmd_registry, "what kind of registry a reference points at",
            (opt("reference"),)),
    Command("login", cmd_login, "log in (verified against /v2/, then stored)", (
        opt("registry"), opt("-u", "--username"),
        opt("-p", "--password", help="insecure: prefer --password-stdin"),
        opt("--password-stdin", action="store_true"))),
    Command("logout", cmd_logout, "forget a stored login", (opt("registry"),)),
    Command("credentials", _reader("credentials"), "where you are logged in (never a secret)"),
    Command("catalog", _reader("catalog", ("registry",), ("pattern",)),
            "list repositories of a registry",
            (opt("registry"), opt("--pattern", help="glob, or a regex starting with ^"))),
    Command("search", _reader("search", ("term",), ("registry",)),
            "search Docker Hub (or filter a registry's catalog)",
            (opt("term"), opt("--registry", default="docker.io"))),
    Command("tags", _reader("tags", ("repository",), ("platform",)),
            "tags with digest, platform, size, created", (REPOSITORY, PLATFORM)),
    Command("tag-history", _reader("tag_history", ("repository",), ("platform",)),
            "tags over time with size changes and regressions", (REPOSITORY, PLATFORM)),
    Command("history", _reader("history", ("image",), ("platform",)),
            "the build history of an image", (IMAGE, PLATFORM)),
    Command("layers", _reader("layers", ("image",), ("platform",)),
            "layer sizes and the commands that made them", (IMAGE, PLATFORM)),
    Command("files", _reader("files", ("image",), ("platform",)),
            "every file version in the layers", (IMAGE, PLATFORM)),
    Command("waste", cmd_waste, "bytes later layers overwrite or delete", (IMAGE, PLATFORM)),
    Command("inspect", cmd_inspect, "inspect an image like skopeo inspect", (
        IMAGE, PLATFORM, opt("--raw", action="store_true", help="the manifest as stored"),
        opt("--config", action="store_true", help="the image config"))),
    Command("diff", cmd_diff, "layers added and removed between two images", (
        opt("image_a"), opt("image_b"), PLATFORM,
        opt("--files", action="store_true",
            help="compare the merged filesystems path by path (tar headers only)"),
        opt("--max-growth", metavar="PCT", type=_checked(parse_percent),
            help="exit 1 if B is more than PCT larger"))),
    Command("audit", cmd_audit, "storage per repository, shared layers counted once", (
        opt("target", nargs="+", help="a registry host, or repositories"),
        opt("--max-size", metavar="SIZE", type=_checked(parse_size),
            help="exit 1 if the total stored exceeds SIZE"))),
    Command("copy", cmd_copy, "copy an image between registries, layouts, archives and runtimes",
            (opt("source", help=LOCATIONS), opt("destination", help=LOCATIONS),
             ALL_TAGS, PLATFORMS, PRESERVE)),
    Command("sync", cmd_sync, "copy the tags whose digests differ", (
        SOURCE, DESTINATION, opt("--tags", nargs="+", help="a glob, a regex (^...) or tag names"),
        opt("--dry-run", action="store_true", help="show the plan only"))),
    Command("pull", cmd_pull, "pull into an OCI layout, a docker-archive or a runtime", (
        IMAGE, opt("path", nargs="?", help="the layout directory or archive file to write"),
        PLATFORM, ALL_TAGS, PRESERVE,
        opt("--as", dest="format_", choices=["oci", "docker-archive"], default="oci"),
        opt("--into", choices=["podman", "docker"],
            help="load into this runtime's store under the image's name (no PATH)"))),
    Command("push", cmd_push, "push a layout, an archive or a podman/docker image",
            (opt("path", metavar="SOURCE",
                 help="a layout directory, an archive file, or a local image (myapp:latest, "
                      "podman:NAME[:TAG], docker-daemon:NAME[:TAG])"),
             IMAGE, ALL_TAGS)),
    Command("tag", cmd_tag, "add tags to an image in the registry (no pull)",
            (IMAGE, opt("new_tags", nargs="+"))),
    Command("delete", cmd_delete, "delete an image (shows every tag that goes with it)", (
        IMAGE, opt("--dry-run", action="store_true"),
        opt("--yes", action="store_true", help="do not ask for confirmation"),
        opt("--untag-only", action="store_true", help="remove only this tag"))),
    Command("local", cmd_local, "run a local registry until Ctrl-C", (
        opt("--port", type=int), opt("--data-dir", help="keep images here across restarts"),
        opt("--samples", action="store_true", help="push the sample images"))),
    Command("demo", cmd_demo, "walk the whole workflow against a local registry",
            (opt("--output", default="demo-output", help="where plots and the report go"),)),
    Command("lab", cmd_lab, "JupyterLab on the notebooks with a seeded local registry",
            (opt("--notebooks"),)),
)
# fmt: on


def _after_command(flags: tuple[str, ...], kwargs: dict[str, Any]) -> Option:
    """A global option as a command accepts it: set only when given, so a value
    before the command survives; repeated ones collect in ``<dest>_after``."""
    late = {**kwargs, "default": argparse.SUPPRESS}
    if kwargs.get("action") == "append":
        late["dest"] = flags[0].lstrip("-").replace("-", "_") + "_after"
    return flags, late


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="registrykit",
        description="Container registries from the terminal: list, inspect, audit, copy, delete.",
    )
    late = argparse.ArgumentParser(add_help=False)  # the same options, after the command
    for flags, kwargs in GLOBAL_OPTIONS:
        parser.add_argument(*flags, **kwargs)
        late_flags, late_kwargs = _after_command(flags, kwargs)
        late.add_argument(*late_flags, **late_kwargs)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        p = sub.add_parser(
            command.name, help=command.help, description=command.help, parents=[late]
        )
        p.set_defaults(handler=command.handler)
        for flags, kwargs in command.options:
            p.add_argument(*flags, **kwargs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    args.insecure += getattr(args, "insecure_after", [])
    failure: str | None = None
    try:
        with Client(
            auth_file=args.auth_file,
            insecure=args.insecure,
            ca_bundle=args.ca_bundle,
            cert_dir=args.cert_dir,
            concurrency=args.concurrency,
            cache_dir=None if args.no_cache else default_cache_dir(),
        ) as client:
            result = args.handler(args, client)
            if isinstance(result, Gated):
                result, failure = result.output, result.failure
            if result is not None:
                emit(result, args.format, sys.stdout)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_FAILED
    except Exception as exc:
        if args.debug:
            raise
        return _failed(exc)
    if failure:
        error(failure)
        return EXIT_FAILED
    return EXIT_OK


def _failed(exc: Exception) -> int:
    """Report ``exc`` in one line; the exit code: 2 for bad usage, else 1."""
    if isinstance(exc, UsageError | RegistryKitError | ValueError | OSError):
        error(str(exc))
    else:  # a bug, not the user's: still one line, the traceback with --debug
        error(f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)")
    return EXIT_USAGE if isinstance(exc, UsageError | InvalidReference) else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
