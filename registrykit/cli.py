"""The ``registrykit`` command: every workflow step from a terminal or a CI job.

Results go to stdout (an aligned table with human sizes, or csv / json /
markdown); progress bars and errors go to stderr. Exit codes: 0 success,
1 a failed operation or gate, 2 bad usage. Errors print their one-line
message with its remedy; ``--debug`` shows the traceback too.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from ._model.errors import InvalidReference, RegistryKitError
from ._model.units import human_size, parse_percent, parse_size

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input from the command line (exit 2)."""


# -- output ----------------------------------------------------------------------


def emit(result: Any, fmt: str, out: TextIO) -> None:
    """Write a DataFrame, a result object or plain data in the chosen format."""
    import pandas as pd

    from .frames._format import humanize

    if isinstance(result, pd.DataFrame):
        if fmt == "csv":
            result.to_csv(out, index=False)
        elif fmt == "json":
            out.write(result.to_json(orient="records", date_format="iso", indent=2) + "\n")
        elif fmt == "markdown":
            out.write(_markdown(humanize(result)) + "\n")
        elif result.empty:
            out.write("(no rows)\n")
        else:
            out.write(humanize(result).to_string(index=False) + "\n")
        return
    if fmt == "json" or isinstance(result, dict | list):
        # Raw documents (manifests, configs) are JSON whatever the format.
        out.write(json.dumps(_jsonable(result), indent=2, default=str) + "\n")
    else:
        out.write(f"{result}\n")


def _markdown(frame: Any) -> str:
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    rows = [
        "| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([header, rule, *rows])


def _jsonable(value: Any) -> Any:
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _jsonable(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.repr and not f.name.startswith("_")
        }
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# -- commands ----------------------------------------------------------------------


def _rk() -> Any:
    import registrykit

    return registrykit


def cmd_runtime(args: argparse.Namespace, client: Any) -> Any:
    return _rk().detect_runtime()


def cmd_registry(args: argparse.Namespace, client: Any) -> Any:
    return _rk().determine_registry(args.reference)


def cmd_login(args: argparse.Namespace, client: Any) -> Any:
    rk = _rk()
    if args.password is not None:
        sys.stderr.write(
            "WARNING! Using --password via the CLI is insecure (it stays in your "
            "shell history). Use --password-stdin.\n"
        )
        password = args.password
    elif args.password_stdin:
        password = sys.stdin.read().rstrip("\r\n")
    elif (
        rk.determine_registry(args.registry).kind in ("ecr", "gcr", "artifact-registry", "acr")
        and not args.username
    ):
        password = None  # the cloud CLI supplies a token
    else:
        if not sys.stdin.isatty():
            raise UsageError("no password: pass --password-stdin and pipe it in")
        password = getpass.getpass(f"Password for {args.username}@{args.registry}: ")
    return rk.login(args.registry, args.username, password, client=client)


def cmd_logout(args: argparse.Namespace, client: Any) -> Any:
    removed = _rk().logout(args.registry, client=client)
    return f"Removed login for {args.registry} from: {', '.join(removed) or 'nowhere (none found)'}"


def cmd_credentials(args: argparse.Namespace, client: Any) -> Any:
    return _rk().credentials(client=client)


def cmd_catalog(args: argparse.Namespace, client: Any) -> Any:
    return _rk().catalog(args.registry, pattern=args.pattern, client=client)


def cmd_search(args: argparse.Namespace, client: Any) -> Any:
    return _rk().search(args.term, registry=args.registry, client=client)


def cmd_tags(args: argparse.Namespace, client: Any) -> Any:
    return _rk().tags(args.repository, platform=args.platform, client=client)


def cmd_tag_history(args: argparse.Namespace, client: Any) -> Any:
    return _rk().tag_history(args.repository, platform=args.platform, client=client)


def cmd_history(args: argparse.Namespace, client: Any) -> Any:
    return _rk().history(args.image, platform=args.platform, client=client)


def cmd_layers(args: argparse.Namespace, client: Any) -> Any:
    return _rk().layers(args.image, platform=args.platform, client=client)


def cmd_files(args: argparse.Namespace, client: Any) -> Any:
    return _rk().files(args.image, platform=args.platform, client=client)


def cmd_waste(args: argparse.Namespace, client: Any) -> Any:
    frame = _rk().waste(args.image, platform=args.platform, client=client)
    _note(
        f"wasted {human_size(int(frame.attrs.get('wasted_bytes', 0)))}, "
        f"efficiency {frame.attrs.get('efficiency', float('nan')):.1%}"
    )
    return frame


def cmd_inspect(args: argparse.Namespace, client: Any) -> Any:
    rk = _rk()
    if args.raw:
        return rk.manifest(args.image, client=client)
    if args.config:
        return rk.config(args.image, platform=args.platform, client=client)
    return rk.inspect(args.image, platform=args.platform, client=client)


def _growth(frame: Any) -> tuple[int, int]:
    removed = int(frame.loc[frame["status"] == "removed", "size"].sum())
    added = int(frame.loc[frame["status"] == "added", "size"].sum())
    common = int(frame.loc[frame["status"] == "common", "size"].sum())
    return common + removed, common + added


def cmd_diff(args: argparse.Namespace, client: Any) -> Any:
    frame = _rk().diff(args.image_a, args.image_b, platform=args.platform, client=client)
    before, after = _growth(frame)
    change = (after - before) / before if before else 0.0
    _note(f"{human_size(before)} → {human_size(after)} ({change:+.1%})")
    if args.max_growth is not None and change > parse_percent(args.max_growth):
        args.gate_failed = (
            f"gate failed: {args.image_b} grew {change:.1%} over {args.image_a}, "
            f"more than --max-growth {args.max_growth}"
        )
    return frame


def cmd_audit(args: argparse.Namespace, client: Any) -> Any:
    target: Any = args.target[0] if len(args.target) == 1 else list(args.target)
    frame = _rk().audit(target, client=client)
    total = int(frame.attrs.get("total_stored_size", frame["stored_size"].sum()))
    _note(f"registry total, every blob counted once: {human_size(total)}")
    if args.max_size is not None and total > parse_size(args.max_size):
        args.gate_failed = (
            f"gate failed: stored size {human_size(total)} exceeds --max-size {args.max_size}"
        )
    return frame


def cmd_copy(args: argparse.Namespace, client: Any) -> Any:
    return _rk().copy(
        args.source,
        args.destination,
        all_tags=args.all_tags,
        platforms=args.platform or None,
        client=client,
    )


def cmd_sync(args: argparse.Namespace, client: Any) -> Any:
    rk = _rk()
    tags = args.tags if args.tags is None or len(args.tags) != 1 else args.tags[0]
    if args.dry_run:
        return rk.sync_plan(args.source, args.destination, tags=tags, client=client)
    return rk.sync(args.source, args.destination, tags=tags, client=client)


def cmd_pull(args: argparse.Namespace, client: Any) -> Any:
    return _rk().pull(
        args.image,
        args.path,
        format=args.format_,
        platform=args.platform,
        all_tags=args.all_tags,
        client=client,
    )


def cmd_push(args: argparse.Namespace, client: Any) -> Any:
    return _rk().push(args.path, args.image, all_tags=args.all_tags, client=client)


def cmd_tag(args: argparse.Namespace, client: Any) -> Any:
    return _rk().tag(args.image, *args.new_tags, client=client)


def cmd_delete(args: argparse.Namespace, client: Any) -> Any:
    rk = _rk()
    plan = rk.delete(args.image, dry_run=True, untag_only=args.untag_only, client=client)
    if args.dry_run:
        return plan
    if not args.yes:
        sys.stderr.write(f"{plan}\n")
        if not sys.stdin.isatty():
            raise UsageError("refusing to delete without confirmation: pass --yes")
        answer = input("Delete? Type 'yes' to confirm: ")
        if answer.strip().lower() != "yes":
            return "Nothing deleted."
    return rk.delete(args.image, untag_only=args.untag_only, client=client)


def cmd_local(args: argparse.Namespace, client: Any) -> Any:
    import time

    rk = _rk()
    with rk.LocalRegistry(port=args.port, data_dir=args.data_dir) as registry:
        if args.samples:
            for pushed in rk.samples.push(registry):
                sys.stderr.write(f"pushed {pushed}\n")
        sys.stdout.write(f"registry at {registry.url} (Ctrl-C to stop)\n")
        sys.stdout.flush()
        try:
            while registry.running:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    return "stopped"


def cmd_demo(args: argparse.Namespace, client: Any) -> Any:
    from .lab import demo

    demo.run(sys.stdout, output_dir=args.output)
    return None


def cmd_lab(args: argparse.Namespace, client: Any) -> Any:
    import subprocess

    rk = _rk()
    notebooks = args.notebooks or os.path.join(os.getcwd(), "notebooks")
    with rk.LocalRegistry() as registry:
        rk.samples.push(registry)
        env = dict(os.environ, REGISTRYKIT_LAB_REGISTRY=registry.host)
        sys.stderr.write(f"seeded registry at {registry.url}; starting JupyterLab\n")
        subprocess.run(
            [sys.executable, "-m", "jupyterlab", "--notebook-dir", notebooks], env=env, check=False
        )
    return None


def _note(text: str) -> None:
    sys.stderr.write(text + "\n")


# -- parser ------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="registrykit",
        description="Container registries from the terminal: list, inspect, audit, copy, delete.",
    )
    parser.add_argument(
        "--format",
        choices=["table", "csv", "json", "markdown"],
        default="table",
        help="output format (default: an aligned table)",
    )
    parser.add_argument(
        "--insecure",
        action="append",
        default=[],
        metavar="HOST",
        help="allow plain http / unverified TLS for HOST (repeatable)",
    )
    parser.add_argument("--ca-bundle", metavar="PEM", help="CA certificates to trust")
    parser.add_argument("--auth-file", metavar="PATH", help="credentials file to use")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--no-cache", action="store_true", help="do not use the digest cache")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, fn: Callable[..., Any], help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(handler=fn)
        return p

    def platform(p: argparse.ArgumentParser) -> None:
        p.add_argument("--platform", help="os/arch[/variant], e.g. linux/arm64")

    command("runtime", cmd_runtime, "detect docker, podman, skopeo and their auth files")
    command("registry", cmd_registry, "what kind of registry a reference points at").add_argument(
        "reference"
    )
    p = command("login", cmd_login, "log in (verified against /v2/, then stored)")
    p.add_argument("registry")
    p.add_argument("-u", "--username")
    p.add_argument("-p", "--password", help="insecure: prefer --password-stdin")
    p.add_argument("--password-stdin", action="store_true")
    command("logout", cmd_logout, "forget a stored login").add_argument("registry")
    command("credentials", cmd_credentials, "where you are logged in (never a secret)")
    p = command("catalog", cmd_catalog, "list repositories of a registry")
    p.add_argument("registry")
    p.add_argument("--pattern", help="glob, or a regex starting with ^")
    p = command("search", cmd_search, "search Docker Hub (or filter a registry's catalog)")
    p.add_argument("term")
    p.add_argument("--registry", default="docker.io")
    for name, fn, text in (
        ("tags", cmd_tags, "tags with digest, platform, size, created"),
        ("tag-history", cmd_tag_history, "tags over time with size changes and regressions"),
    ):
        p = command(name, fn, text)
        p.add_argument("repository")
        platform(p)
    for name, fn, text in (
        ("history", cmd_history, "the build history of an image"),
        ("layers", cmd_layers, "layer sizes and the commands that made them"),
        ("files", cmd_files, "every file version in the layers"),
        ("waste", cmd_waste, "bytes later layers overwrite or delete"),
    ):
        p = command(name, fn, text)
        p.add_argument("image")
        platform(p)
    p = command("inspect", cmd_inspect, "inspect an image like skopeo inspect")
    p.add_argument("image")
    platform(p)
    p.add_argument("--raw", action="store_true", help="the manifest as stored")
    p.add_argument("--config", action="store_true", help="the image config")
    p = command("diff", cmd_diff, "layers added and removed between two images")
    p.add_argument("image_a")
    p.add_argument("image_b")
    platform(p)
    p.add_argument("--max-growth", metavar="PCT", help="exit 1 if B is more than PCT larger")
    p = command("audit", cmd_audit, "storage per repository, shared layers counted once")
    p.add_argument("target", nargs="+", help="a registry host, or repositories")
    p.add_argument("--max-size", metavar="SIZE", help="exit 1 if the total stored exceeds SIZE")
    p = command("copy", cmd_copy, "copy an image between registries")
    p.add_argument("source")
    p.add_argument("destination")
    p.add_argument("--all-tags", action="store_true")
    p.add_argument("--platform", action="append", help="copy only these platforms")
    p = command("sync", cmd_sync, "copy the tags whose digests differ")
    p.add_argument("source")
    p.add_argument("destination")
    p.add_argument("--tags", nargs="+", help="a glob, a regex (^...) or tag names")
    p.add_argument("--dry-run", action="store_true", help="show the plan only")
    p = command("pull", cmd_pull, "pull into an OCI layout or a docker-archive tarball")
    p.add_argument("image")
    p.add_argument("path")
    p.add_argument("--as", dest="format_", choices=["oci", "docker-archive"], default="oci")
    platform(p)
    p.add_argument("--all-tags", action="store_true")
    p = command("push", cmd_push, "push an OCI layout or docker-archive tarball")
    p.add_argument("path")
    p.add_argument("image")
    p.add_argument("--all-tags", action="store_true")
    p = command("tag", cmd_tag, "add tags to an image in the registry (no pull)")
    p.add_argument("image")
    p.add_argument("new_tags", nargs="+")
    p = command("delete", cmd_delete, "delete an image (shows every tag that goes with it)")
    p.add_argument("image")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--untag-only", action="store_true", help="remove only this tag")
    p = command("local", cmd_local, "run a local registry until Ctrl-C")
    p.add_argument("--port", type=int)
    p.add_argument("--data-dir", help="keep images here across restarts")
    p.add_argument("--samples", action="store_true", help="push the sample images")
    p = command("demo", cmd_demo, "walk the whole workflow against a local registry")
    p.add_argument("--output", default="demo-output", help="where plots and the report go")
    command(
        "lab", cmd_lab, "JupyterLab on the notebooks with a seeded local registry"
    ).add_argument("--notebooks")
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
    args.gate_failed = None
    from ._client import Client
    from ._registry.cache import default_cache_dir

    try:
        with Client(
            auth_file=args.auth_file,
            insecure=args.insecure,
            ca_bundle=args.ca_bundle,
            concurrency=args.concurrency,
            cache_dir=None if args.no_cache else default_cache_dir(),
        ) as client:
            result = args.handler(args, client)
            if result is not None:
                emit(result, args.format, sys.stdout)
    except (UsageError, InvalidReference) as exc:
        if args.debug:
            raise
        sys.stderr.write(f"registrykit: {exc}\n")
        return EXIT_USAGE
    except (RegistryKitError, ValueError, OSError) as exc:
        if args.debug:
            raise
        sys.stderr.write(f"registrykit: {exc}\n")
        return EXIT_FAILED
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_FAILED
    if args.gate_failed:
        sys.stderr.write(f"registrykit: {args.gate_failed}\n")
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
