"""Plots drawn from a reference in a real registry (Agg)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")


import registrykit as rk
from registrykit import plots

matplotlib.use("Agg")


def test_plots_from_a_reference(registry, fixture_images) -> None:
    ref, _ = fixture_images.push_fixtures(registry, "plots")["single"]
    with rk.Client(cache_dir=None) as c:
        fig = plots.layer_sizes(ref, client=c)
        files_fig = plots.largest_files(ref, client=c)
    # The title names the repository, not the registry's random port (issue 11).
    title = fig.axes[0].get_title()
    assert ref.split("/", 1)[1] in title and registry.host not in title
    assert len(fig.axes[0].patches) == 3
    labels = [t.get_text() for t in files_fig.axes[0].get_yticklabels()]
    assert "/app/data.bin" not in labels and "/bin/hello" in labels


def test_audit_plot_from_a_repository(registry, fixture_images, client) -> None:
    ref, _ = fixture_images.push_fixtures(registry, "plots-audit")["single"]
    image = rk.parse_reference(ref)
    fig = plots.audit([f"{image.registry}/{image.repository}"], client=client)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert any(image.repository in label for label in labels)
