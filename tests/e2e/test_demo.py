"""The demo runs end to end against real registries and shows each workflow step."""

from __future__ import annotations

import io

from registrykit.lab import demo, samples


def test_demo_walks_the_workflow(tmp_path):
    out = io.StringIO()
    page = demo.run(out, tmp_path / "demo-output")
    text = out.getvalue()
    for heading in (
        "1. Detect the runtime",
        "2. Determine the registry",
        "3. Authenticate",
        "4. Operate: tags",
        "4. Operate: layer sizes",
        "4. Operate: storage audit",
        "4. Operate: copy",
        "4. Operate: delete preview",
        "5. Verify",
    ):
        assert heading in text
    webapp = samples.webapp()[-1]
    assert webapp.digest in text  # copied and verified with the deterministic digest
    assert "Login succeeded: demo @ 127.0.0.1:" in text
    assert "skopeo inspect --tls-verify=false docker://" in text  # plain http: runnable
    assert "3f2a9c1" in text and "stable" in text  # the delete preview lists sibling tags
    for plot in ("tag_history", "layer_sizes", "largest_files", "audit"):
        assert (tmp_path / "demo-output" / f"{plot}.png").stat().st_size > 5_000
    html = page.read_text()
    assert "<table" in html and "tag_history.png" in html
