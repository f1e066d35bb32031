"""The demo runs end to end against a real registry and shows each workflow step."""

from __future__ import annotations

import io

from registrykit import demo, samples


def test_demo_walks_the_workflow():
    out = io.StringIO()
    demo.run(out)
    text = out.getvalue()
    hello = samples.hello()
    for heading in ("Detect the runtime", "Determine the registry", "Catalog", "Tags", "Inspect"):
        assert heading in text
    assert "samples/hello" in text
    assert hello.digest in text  # the inspect shows the full, deterministic digest
    assert "Local registry" in text
    assert "linux/amd64" in text
