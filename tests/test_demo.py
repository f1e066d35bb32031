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


def test_sample_digests_are_fixed():
    # Same bytes on every machine: notebooks' stored outputs depend on it.
    assert samples.hello().digest == (
        "sha256:9bd53b83d6b372d8379eaccdde428982603588711a681458e66d0a1d5b190221"
    )
