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
from .._model.render import render_table_html
from .._model.units import human_size
from .._ops.copy import copy
from .._ops.delete import delete
from .._ops.inspect import inspect
from .._ops.login import login
from .._ops.runtime import detect_runtime
from . import samples
from .local import LocalRegistry

_PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1200px;margin:1em auto;padding:0 1em;"
    "color:#1f2328}"
    "h1{margin-bottom:0.2em}h2{border-bottom:1px solid #d0d7de;padding-bottom:0.2em;"
    "margin-top:1.6em}"
    ".findings{background:#fff8c5;border:1px solid #d4a72c;padding:0.6em 1.2em;"
    "border-radius:6px}"
    "table{border-collapse:collapse;margin:0.5em 0}"
    "td,th{border:1px solid #d0d7de;padding:2px 8px;text-align:left;vertical-align:top}"
    "th{background:#f6f8fa}"
    "pre{background:#f6f8fa;padding:8px;white-space:pre-wrap;overflow-wrap:anywhere}"
    ".equivalent{color:#57606a}img{max-width:100%;height:auto}"
)


class _Report:
    """Collects each step's text, tables and figures for the terminal and the HTML page.

    ``finding`` adds a line to the summary at the top of the page: what a
    reader needs without reading the steps.
    """

    def __init__(self, out: TextIO, directory: Path) -> None:
        self.out = out
        self.directory = directory
        self.sections: list[str] = []
        self.findings: list[str] = []

    def step(self, title: str, equivalent: str = "") -> None:
        self.out.write(f"\n== {title} {'=' * max(0, 70 - len(title))}\n")
        self.sections.append(f"<h2>{html.escape(title)}</h2>")
        if equivalent:
            self.out.write(f"same step by hand: {equivalent}\n")
            code = html.escape(equivalent)
            self.sections.append(
                f"<p class='equivalent'>Same step by hand: <code>{code}</code></p>"
            )

    def finding(self, text: str) -> None:
        self.out.write(f"finding: {text}\n")
        self.findings.append(text)

    def note(self, value: object) -> None:
        """A result: its text on the terminal, its HTML table (if it has one) on the page."""
        self.out.write(f"{value}\n")
        rich = getattr(value, "_repr_html_", None)
        self.sections.append(rich() if rich else f"<pre>{html.escape(str(value))}</pre>")

    def table(self, frame: Any, columns: list[str] | None = None) -> None:
        from ..frames._format import readable

        shown = readable(frame[[c for c in columns if c in frame]] if columns else frame)
        shown = shown.map(_cell_text)
        self.out.write(shown.to_string(index=False) + "\n")
        self.sections.append(render_table_html("", list(shown.columns), shown.values.tolist()))

    def figure(self, figure: Any, name: str) -> None:
        path = self.directory / f"{name}.png"
        figure.savefig(path, dpi=100, bbox_inches="tight")
        self.out.write(f"(plot written to {path})\n")
        self.sections.append(f"<img src='{path.name}' alt='{html.escape(name)}'>")

    def write(self) -> Path:
        page = self.directory / "report.html"
        findings = "".join(f"<li>{html.escape(f)}</li>" for f in self.findings)
        summary = f"<div class='findings'><h2>Findings</h2><ul>{findings}</ul></div>"
        body = "\n".join(self.sections)
        page.write_text(
            "<!doctype html><meta charset='utf-8'><title>registrykit demo report</title>"
            f"<style>{_PAGE_STYLE}</style><h1>registrykit demo report</h1>"
            f"<p>{time.strftime('%Y-%m-%d %H:%M')} · what registrykit found in the sample "
            f"registry, step by step below.</p>{summary}{body}\n"
        )
        return page


def _cell_text(value: object) -> str:
    """A table cell as text: lists joined, missing values empty."""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


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
    pushed = samples.push(lab, client=client)
    report.note(pushed)
    report.finding(
        f"{len(pushed)} sample images pushed, "
        f"{human_size(sum(p.size for p in pushed))} in all (each image's blobs counted once)"
    )
    report.table(frames.catalog(lab.host, client=client))


def _list_and_analyse(report: _Report, webapp: str, client: Client) -> None:
    from .. import frames, plots

    report.step("4. Operate: tags and their history", f"skopeo list-tags docker://{webapp}")
    report.table(
        frames.tags(webapp, client=client), ["tag", "tag_kind", "platform", "size", "created"]
    )
    history = frames.tag_history(webapp, client=client)
    report.table(history, ["tags", "tag", "created", "size", "size_change", "layers_added"])
    report.figure(plots.tag_history(history), "tag_history")
    growth = _largest_growth(history)
    if growth is not None:
        tag, change, before = growth
        report.finding(
            f"{_short(webapp)} {tag} grew {human_size(change)} "
            f"({change / before:+.0%} on the release before it)"
        )

    regression = f"{webapp}:v1.3.0"
    report.step("4. Operate: layer sizes", f"skopeo inspect {_PLAIN} docker://{regression}")
    layers = frames.layers(regression, client=client)
    report.table(layers, ["size", "percent", "created_by"])  # the layer number is the index
    report.figure(plots.layer_sizes(layers), "layer_sizes")
    report.table(frames.diff(f"{webapp}:v1.2.0", regression, client=client))


def _waste_and_audit(report: _Report, lab: LocalRegistry, client: Client) -> None:
    from .. import frames, plots

    bloated = f"{lab.host}/samples/bloated:1.0"
    report.step("4. Operate: wasted space", f"dive {bloated}")
    waste = frames.waste(bloated, client=client)
    wasted = human_size(int(waste.attrs["wasted_bytes"]))
    share = 1 - float(waste.attrs["efficiency"])
    report.note(f"wasted {wasted}, efficiency {waste.attrs['efficiency']:.1%}")
    report.finding(
        f"{_short(bloated)} wastes {share:.0%} of its file bytes ({wasted} that later "
        "layers overwrite or delete, yet every pull downloads)"
    )
    report.table(waste, ["path", "size", "layer"])
    report.figure(plots.waste(waste), "waste")
    report.figure(plots.largest_files(frames.files(bloated, client=client)), "largest_files")

    report.step("4. Operate: storage audit", "(no docker/podman/skopeo equivalent)")
    audit = frames.audit(lab.host, client=client)
    report.table(audit.sort_values("stored_size", ascending=False))
    total = human_size(int(audit.attrs["total_stored_size"]))
    report.note(f"registry total, every blob once: {total}")
    report.finding(f"the registry stores {total} in {len(audit)} repositories")
    report.figure(plots.audit(audit), "audit")


def _copy_delete_verify(
    report: _Report, webapp: str, mirror: LocalRegistry, client: Client
) -> None:
    target = f"{mirror.host}/mirror/webapp:v1.4.0"
    report.step(
        "4. Operate: copy",
        f"skopeo copy --src-tls-verify=false --dest-tls-verify=false "
        f"docker://{webapp}:v1.4.0 docker://{target}",
    )
    copied = copy(f"{webapp}:v1.4.0", target, client=client)
    report.note(copied)

    report.step("4. Operate: delete preview", "(docker/podman delete only local images)")
    plan = delete(f"{webapp}:stable", dry_run=True, client=client)
    report.note(plan)
    report.finding(
        f"deleting {_short(webapp)}:stable would also remove the tags "
        f"{', '.join(t for t in plan.tags if t != 'stable')} (one image)"
    )

    report.step("5. Verify", f"skopeo inspect {_PLAIN} docker://{target}")
    info = inspect(target, client=client)
    report.note(info)
    same = "same digest" if info.digest == copied.digest else "DIGEST DIFFERS"
    report.finding(f"{_short(webapp)}:v1.4.0 copied to the mirror and verified ({same})")


# The demo's registries speak plain http, so the commands it prints say so (and run).
_PLAIN = "--tls-verify=false"


def _short(reference: str) -> str:
    """``samples/webapp`` for ``127.0.0.1:PORT/samples/webapp``: the port says nothing."""
    return reference.split("/", 1)[-1]


def _largest_growth(history: Any) -> tuple[str, int, int] | None:
    """The release that grew most: its best tag, the growth and the size before it."""
    from ..plots import best_tag, tag_names

    if history.empty or history["size_change"].isna().all():
        return None
    row = history.loc[history["size_change"].fillna(0).idxmax()]
    change = int(row["size_change"])
    if change <= 0:
        return None
    if "tags" in history:
        names = tag_names(row["tags"])
    else:  # one row per tag: every tag of that image
        names = [str(t) for t in history.loc[history["digest"] == row["digest"], "tag"]]
    return best_tag(names), change, int(row["size"]) - change


if __name__ == "__main__":
    run(sys.stdout, sys.argv[1] if len(sys.argv) > 1 else "demo-output")
