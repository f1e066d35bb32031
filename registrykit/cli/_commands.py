"""The command handlers: each takes the parsed arguments and a Client, returns what to print."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import frames
from .._client import Client
from .._model.registries import determine_registry
from .._model.units import human_size, parse_percent, parse_size
from .._ops.copy import copy, pull, push
from .._ops.delete import delete
from .._ops.inspect import config, inspect, manifest
from .._ops.login import login, logout
from .._ops.runtime import detect_runtime
from .._ops.sync import sync
from .._ops.tagging import tag
from ..lab import samples
from ..lab.local import LocalRegistry
from ._output import terminal_text

# Registries whose cloud CLI mints the password, so login needs none.
_CLOUD_KINDS = ("ecr", "gcr", "artifact-registry", "acr")


class UsageError(Exception):
    """Bad input from the command line (exit 2)."""


# -- commands ----------------------------------------------------------------------


@dataclass(frozen=True)
class Gated:
    """A command's output and, when its gate (``--max-growth``, ``--max-size``) failed, why."""

    output: Any
    failure: str | None = None


def cmd_runtime(args: argparse.Namespace, client: Client) -> Any:
    return detect_runtime()


def cmd_registry(args: argparse.Namespace, client: Client) -> Any:
    return determine_registry(args.reference)


def cmd_login(args: argparse.Namespace, client: Client) -> Any:
    if args.password is not None:
        sys.stderr.write(
            "WARNING! Using --password via the CLI is insecure (it stays in your "
            "shell history). Use --password-stdin.\n"
        )
        password = args.password
    elif args.password_stdin:
        password = sys.stdin.read().rstrip("\r\n")
    elif determine_registry(args.registry).kind in _CLOUD_KINDS and not args.username:
        password = None  # the cloud CLI supplies a token
    else:
        if not sys.stdin.isatty():
            raise UsageError("no password: pass --password-stdin and pipe it in")
        password = getpass.getpass(f"Password for {args.username}@{args.registry}: ")
    return login(args.registry, args.username, password, client=client)


def cmd_logout(args: argparse.Namespace, client: Client) -> Any:
    removed = logout(args.registry, client=client)
    return f"Removed login for {args.registry} from: {', '.join(removed) or 'nowhere (none found)'}"


Handler = Callable[[argparse.Namespace, Client], Any]


def _reader(name: str, positional: tuple[str, ...] = (), keywords: tuple[str, ...] = ()) -> Handler:
    """A command that returns ``frames.<name>`` of its arguments: the plain listings."""

    def handler(args: argparse.Namespace, client: Client) -> Any:
        values = [getattr(args, p) for p in positional]
        options = {k: getattr(args, k) for k in keywords}
        return getattr(frames, name)(*values, **options, client=client)

    return handler


def cmd_waste(args: argparse.Namespace, client: Client) -> Any:
    frame = frames.waste(args.image, platform=args.platform, client=client)
    _note(
        f"wasted {human_size(int(frame.attrs.get('wasted_bytes', 0)))}, "
        f"efficiency {frame.attrs.get('efficiency', float('nan')):.1%}"
    )
    return frame


def cmd_inspect(args: argparse.Namespace, client: Client) -> Any:
    if args.raw:
        return manifest(args.image, client=client)
    if args.config:
        return config(args.image, platform=args.platform, client=client)
    return inspect(args.image, platform=args.platform, client=client)


def _growth(frame: Any) -> tuple[int, int]:
    removed = int(frame.loc[frame["status"] == "removed", "size"].sum())
    added = int(frame.loc[frame["status"] == "added", "size"].sum())
    common = int(frame.loc[frame["status"] == "common", "size"].sum())
    return common + removed, common + added


def cmd_diff(args: argparse.Namespace, client: Client) -> Gated:
    if args.files:
        return Gated(_diff_files(args, client))
    frame = frames.diff(args.image_a, args.image_b, platform=args.platform, client=client)
    before, after = _growth(frame)
    change = (after - before) / before if before else 0.0
    _note(f"{human_size(before)} → {human_size(after)} ({change:+.1%})")
    if args.max_growth is not None and change > parse_percent(args.max_growth):
        return Gated(
            frame,
            f"gate failed: {args.image_b} grew {change:.1%} over {args.image_a}, "
            f"more than --max-growth {args.max_growth}",
        )
    return Gated(frame)


def _diff_files(args: argparse.Namespace, client: Client) -> Any:
    if args.max_growth is not None:
        # The gate compares compressed layer bytes, which the file diff does not read.
        raise UsageError("--max-growth gates on layer sizes: run it without --files")
    frame = frames.diff_files(args.image_a, args.image_b, platform=args.platform, client=client)
    net = int(frame.attrs["size_change"])
    _note(
        f"{len(frame)} paths differ: +{human_size(frame.attrs['added_bytes'])}, "
        f"-{human_size(frame.attrs['removed_bytes'])}, net {'+' if net > 0 else ''}"
        f"{human_size(net)} (uncompressed)"
    )
    return frame


def cmd_audit(args: argparse.Namespace, client: Client) -> Gated:
    target: Any = args.target[0] if len(args.target) == 1 else list(args.target)
    frame = frames.audit(target, client=client)
    total = int(frame.attrs.get("total_stored_size", frame["stored_size"].sum()))
    _note(f"registry total, every blob counted once: {human_size(total)}")
    if args.max_size is not None and total > parse_size(args.max_size):
        return Gated(
            frame,
            f"gate failed: stored size {human_size(total)} exceeds --max-size {args.max_size}",
        )
    return Gated(frame)


def cmd_copy(args: argparse.Namespace, client: Client) -> Any:
    return copy(
        args.source,
        args.destination,
        all_tags=args.all_tags,
        platforms=args.platforms or None,
        preserve_digests=args.preserve_digests,
        client=client,
    )


def cmd_sync(args: argparse.Namespace, client: Client) -> Any:
    tags = args.tags if args.tags is None or len(args.tags) != 1 else args.tags[0]
    if args.dry_run:
        return frames.sync_plan(args.source, args.destination, tags=tags, client=client)
    return sync(args.source, args.destination, tags=tags, client=client)


def cmd_pull(args: argparse.Namespace, client: Client) -> Any:
    if (args.path is None) == (args.into is None):
        raise UsageError(
            "pull needs a PATH to write, or --into podman|docker to load into a runtime (not both)"
        )
    return pull(
        args.image,
        args.path,
        format=args.format_,
        platform=args.platform,
        all_tags=args.all_tags,
        into=args.into,
        preserve_digests=args.preserve_digests,
        client=client,
    )


def cmd_push(args: argparse.Namespace, client: Client) -> Any:
    return push(args.path, args.image, all_tags=args.all_tags, client=client)


def cmd_tag(args: argparse.Namespace, client: Client) -> Any:
    return tag(args.image, *args.new_tags, client=client)


def cmd_delete(args: argparse.Namespace, client: Client) -> Any:
    plan = delete(args.image, dry_run=True, untag_only=args.untag_only, client=client)
    if args.dry_run:
        return plan
    if not args.yes:
        _note(str(plan))
        if not sys.stdin.isatty():
            raise UsageError("refusing to delete without confirmation: pass --yes")
        answer = input("Delete? Type 'yes' to confirm: ")
        if answer.strip().lower() != "yes":
            return "Nothing deleted."
    # Exactly what was previewed: if the tag moved since, delete() stops.
    return delete(args.image, untag_only=args.untag_only, expect_digest=plan.digest, client=client)


def cmd_local(args: argparse.Namespace, client: Client) -> Any:
    import time

    with LocalRegistry(port=args.port, data_dir=args.data_dir) as registry:
        if args.samples:
            for pushed in samples.push(registry):
                sys.stderr.write(f"pushed {pushed}\n")
        sys.stdout.write(f"registry at {registry.url} (Ctrl-C to stop)\n")
        sys.stdout.flush()
        try:
            while registry.running:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    return "stopped"


def cmd_demo(args: argparse.Namespace, client: Client) -> Any:
    from ..lab import demo

    demo.run(sys.stdout, output_dir=args.output)
    return None


def cmd_lab(args: argparse.Namespace, client: Client) -> Any:
    import subprocess

    notebooks = args.notebooks or os.path.join(os.getcwd(), "notebooks")
    with LocalRegistry() as registry:
        samples.push(registry)
        env = dict(os.environ, REGISTRYKIT_LAB_REGISTRY=registry.host)
        sys.stderr.write(f"seeded registry at {registry.url}; starting JupyterLab\n")
        subprocess.run(
            [sys.executable, "-m", "jupyterlab", "--notebook-dir", notebooks], env=env, check=False
        )
    return None


def _note(text: str) -> None:
    sys.stderr.write(terminal_text(text) + "\n")
