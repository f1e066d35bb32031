"""The demo: ``registrykit demo`` / ``python -m registrykit.demo`` (what ``make demo`` runs).

It starts two real local registries (a "lab" one with a login and a
"mirror"), pushes the sample images and walks the five workflow steps:
detect the runtime, determine the registry, log in, operate (list, tag
history, layer sizes, waste, audit, copy, delete preview) and verify. Each
step prints its result beside the docker / podman / skopeo command for the
same step; plots and an HTML report go to ``demo-output/``. Output goes to
stdout because that is the demo's product; the library itself never prints.
"""

from __future__ import annotations

import html
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from .._client import Client
from .._model.registries import determine_registry
from .._model.units import human_size
from .._ops.copy import copy
from .._ops.delete import delete
from .._ops.inspect import inspect
from .._ops.login import login
from .._ops.runtime import detect_runtime
from . import samples
from .local import LocalRegistry


class _Report:
    """Collects each step's text, tables and figures for the terminal and the HTML page."""

    def __init__(self, out: TextIO, directory: Path) -> None:
        self.out = out
        self.directory = directory
        self.sections: list[str] = []

    def step(self, title: str, equivalent: str = "") -> None:
        self.out.write(f"\n== {title} {'=' * max(0, 70 - len(title))}\n")
        self.sections.append(f"<h2>{html.escape(title)}</h2>")
        if equivalent:
            self.note(f"same step by hand: {equivalent}")

    def note(self, text: object) -> None:
        self.out.write(f"{text}\n")
        self.sections.append(f"<pre>{html.escape(str(text))}</pre>")

    def table(self, frame: Any, columns: list[str] | None = None) -> None:
        from ..frames._format import readable

        shown = readable(frame[columns] if columns else frame)
        self.out.write(shown.to_string(index=False) + "\n")
        self.sections.append(shown.to_html(index=False, border=0))

    def figure(self, figure: Any, name: str) -> None:
        path = self.directory / f"{name}.png"
        figure.savefig(path, dpi=110, bbox_inches="tight")
        self.out.write(f"(plot written to {path})\n")
        self.sections.append(f"<img src='{path.name}' alt='{html.escape(name)}'>")

    def write(self) -> Path:
        page = self.directory / "report.html"
        body = "\n".join(self.sections)
        page.write_text(
            "<!doctype html><meta charset='utf-8'><title>registrykit demo</title>"
            "<style>body{font-family:sans-serif;max-width:70em;margin:auto}"
            "table{border-collapse:collapse}td,th{padding:2px 8px;text-align:right}"
            "pre{background:#f6f8fa;padding:8px}</style>"
            f"<h1>registrykit demo</h1>{body}\n"
        )
        return page


def run(out: TextIO = sys.stdout, output_dir: str | os.PathLike[str] = "demo-output") -> Path:
    """Walk the workflow against fresh local registries; returns the HTML report's path."""
    started = time.monotonic()
    directory = Path(output_dir)
    directory.mkdir(parents=True, exist_ok=True)
    report = _Report(out, directory)
    with (
        tempfile.TemporaryDirectory(prefix="registrykit-demo-") as tmp,
        LocalRegistry(auth="htpasswd", username="demo") as lab,
        LocalRegistry() as mirror,
        Client(auth_file=Path(tmp) / "auth.json", cache_dir=None) as client,
    ):
        report.note(f"lab registry {lab.url} (login required), mirror registry {mirror.url}")
        _detect_and_determine(report, lab)
        _authenticate_and_push(report, lab, client)
        _list_and_analyse(report, f"{lab.host}/samples/webapp", client)
        _waste_and_audit(report, lab, client)
        _copy_delete_verify(report, f"{lab.host}/samples/webapp", mirror, client)
    page = report.write()
    report.out.write(f"\nreport: {page}  ({time.monotonic() - started:.1f} s)\n")
    return page


def _detect_and_determine(report: _Report, lab: LocalRegistry) -> None:
    report.step("1. Detect the runtime", "docker version; podman version; skopeo --version")
    report.note(detect_runtime())

    report.step("2. Determine the registry", "(read the host part of the reference)")
    refs = [
        "nginx",
        "ghcr.io/acme/app:v1",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app",
        f"{lab.host}/samples/webapp:v1.4.0",
    ]
    for ref in refs:
        info = determine_registry(ref)
        report.note(f"{ref}\n  -> {info.kind} ({info.api_host})\n  login: {info.login_hint}")


def _authenticate_and_push(report: _Report, lab: LocalRegistry, client: Client) -> None:
    from .. import frames

    report.step("3. Authenticate", f"docker login {lab.host} / podman login {lab.host}")
    assert lab.password is not None
    report.note(login(lab.host, "demo", lab.password, client=client))
    report.table(frames.credentials(client=client))

    report.step("4. Operate: push the samples", f"skopeo copy oci:DIR docker://{lab.host}/...")
    for pushed in samples.push(lab, client=client):
        report.note(pushed)
    report.table(frames.catalog(lab.host, client=client))


def _list_and_analyse(report: _Report, webapp: str, client: Client) -> None:
    from .. import frames, plots

    report.step("4. Operate: tags and their history", f"skopeo list-tags docker://{webapp}")
    report.table(
        frames.tags(webapp, client=client), ["tag", "tag_kind", "platform", "size", "created"]
    )
    history = frames.tag_history(webapp, client=client)
    report.table(history, ["tag", "created", "size", "size_change", "layers_added"])
    report.figure(plots.tag_history(history), "tag_history")

    regression = f"{webapp}:v1.3.0"
    report.step("4. Operate: layer sizes", f"skopeo inspect docker://{regression}")
    layers = frames.layers(regression, client=client)
    report.table(layers, ["size", "percent", "created_by"])  # the layer number is the index
    report.figure(plots.layer_sizes(layers), "layer_sizes")
    report.table(frames.diff(f"{webapp}:v1.2.0", regression, client=client))


def _waste_and_audit(report: _Report, lab: LocalRegistry, client: Client) -> None:
    from .. import frames, plots

    bloated = f"{lab.host}/samples/bloated:1.0"
    report.step("4. Operate: wasted space", f"dive {bloated}")
    waste = frames.waste(bloated, client=client)
    report.note(
        f"wasted {human_size(int(waste.attrs['wasted_bytes']))}, "
        f"efficiency {waste.attrs['efficiency']:.1%}"
    )
    report.table(waste, ["path", "size", "layer"])
    report.figure(plots.largest_files(frames.files(bloated, client=client)), "largest_files")

    report.step("4. Operate: storage audit", "(no docker/podman/skopeo equivalent)")
    audit = frames.audit(lab.host, client=client)
    report.table(audit)
    report.note(
        f"registry total, every blob once: {human_size(int(audit.attrs['total_stored_size']))}"
    )
    report.figure(plots.audit(audit), "audit")


def _copy_delete_verify(
    report: _Report, webapp: str, mirror: LocalRegistry, client: Client
) -> None:
    target = f"{mirror.host}/mirror/webapp:v1.4.0"
    report.step("4. Operate: copy", f"skopeo copy docker://{webapp}:v1.4.0 docker://{target}")
    report.note(copy(f"{webapp}:v1.4.0", target, client=client))

    report.step("4. Operate: delete preview", "(docker/podman delete only local images)")
    report.note(delete(f"{webapp}:stable", dry_run=True, client=client))

    report.step("5. Verify", f"skopeo inspect docker://{target}")
    report.note(inspect(target, client=client))


if __name__ == "__main__":
    run(sys.stdout, sys.argv[1] if len(sys.argv) > 1 else "demo-output")
