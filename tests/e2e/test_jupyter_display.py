"""In a fresh Jupyter kernel, with no magic: plots show as PNGs, errors as a few lines.

The cells run through nbclient exactly as JupyterLab would run them, so what
is checked is the output a person sees in the notebook.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[2]

FRAMES = """
import pandas as pd
import registrykit as rk
from registrykit.frames import listing
from registrykit.frames._dtypes import typed_frame

MiB = 1024**2
history = typed_frame(
    [
        {"tag": t, "created": pd.Timestamp(d, tz="UTC"), "digest": g, "size": s,
         "size_change": c, "layers": 2, "layers_added": 1, "layers_removed": 0}
        for t, d, g, s, c in [
            ("v1.2.0", "2024-03-11", "sha256:2", int(1.5 * MiB), None),
            ("v1.3.0", "2024-04-08", "sha256:3", int(7.3 * MiB), int(5.8 * MiB)),
            ("v1.4.0", "2024-05-13", "sha256:4", int(7.34 * MiB), 40 * 1024),
        ]
    ],
    listing.TAG_HISTORY,
)
files = typed_frame(
    [
        {"path": "data/model.bin", "size": 2 * MiB, "layer": 1, "layer_digest": "sha256:0",
         "kind": "file", "visible": False},
        {"path": "lib/libc.so", "size": MiB, "layer": 0, "layer_digest": "sha256:0",
         "kind": "file", "visible": True},
    ],
    listing.FILES,
)
"""

PLOT_CELLS = {
    "tag_history": "rk.plots.tag_history(history)",
    "largest_files": "rk.plots.largest_files(files)",
    "waste": "rk.plots.waste(files)",
}

ERROR_CELL = "rk.tags('127.0.0.1:1/none')"
FULL_TRACEBACK_CELL = "import traceback; traceback.print_last()"


@pytest.fixture(scope="module")
def executed() -> nbformat.NotebookNode:
    cells = [FRAMES, *PLOT_CELLS.values(), ERROR_CELL, FULL_TRACEBACK_CELL]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=120,
        allow_errors=True,
        resources={"metadata": {"path": str(ROOT)}},
    )
    with pytest.MonkeyPatch.context() as patch:
        # The kernel inherits PYTHONPATH, so it imports this checkout.
        paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
        patch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
        client.execute()
    return notebook


@pytest.mark.parametrize("index,name", list(enumerate(PLOT_CELLS, start=1)))
def test_plot_is_a_png_as_last_expression(executed, index: int, name: str) -> None:
    outputs = executed.cells[index].outputs
    assert [o.output_type for o in outputs] == ["execute_result"], outputs
    assert "image/png" in outputs[0].data, f"{name} shows no chart: {outputs[0].data}"


def test_registrykit_error_is_a_few_lines(executed) -> None:
    (error,) = [o for o in executed.cells[len(PLOT_CELLS) + 1].outputs if o.output_type == "error"]
    assert error.ename == "RegistryUnavailable"
    assert 1 <= len(error.traceback) <= 3, "\n".join(error.traceback)
    shown = "\n".join(error.traceback)
    assert "127.0.0.1:1" in shown and "File " not in shown  # the message, not library frames
    assert "traceback.print_last()" in shown


def test_full_traceback_is_one_call_away(executed) -> None:
    outputs = executed.cells[len(PLOT_CELLS) + 2].outputs
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "Traceback (most recent call last)" in text and "RegistryUnavailable" in text
