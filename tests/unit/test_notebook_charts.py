"""The committed notebooks carry their charts: every cell that ends in a plot holds a PNG.

nbval checks that the cells still run and print the same text; it does not notice a
chart that silently became ``<Figure size 900x400 with 1 Axes>``. This reads the
stored outputs (no kernel), so it is a unit test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def _plot_cells(path: Path) -> list[dict]:  # type: ignore[type-arg]
    cells = json.loads(path.read_text())["cells"]
    return [c for c in cells if c["cell_type"] == "code" and "rk.plots." in "".join(c["source"])]


def test_some_notebooks_draw_charts():
    assert sum(len(_plot_cells(p)) for p in NOTEBOOKS) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_plot_cell_holds_a_png(path: Path):
    for cell in _plot_cells(path):
        kinds = [kind for out in cell.get("outputs", []) for kind in out.get("data", {})]
        source = "".join(cell["source"])
        assert "image/png" in kinds, f"{path.name}: no chart stored for {source!r}"
        texts = [
            "".join(out.get("data", {}).get("text/plain", "")) for out in cell.get("outputs", [])
        ]
        assert not any(t.startswith("<Figure size") for t in texts if "image/png" not in t)
