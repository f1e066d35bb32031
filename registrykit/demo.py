"""The demo: ``python -m registrykit.demo`` (what ``make demo`` runs).

It starts a real local registry, pushes a sample image and walks the
workflow: detect the runtime, determine the registry, list and inspect,
then stops the registry. Output goes to stdout because that is the demo's
product; the library itself never prints.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from . import samples
from ._client import Client
from ._images import tag_records
from ._inspect import inspect
from ._local import LocalRegistry
from ._registries import determine_registry
from ._runtime import detect_runtime
from ._units import human_size


def run(out: TextIO = sys.stdout) -> None:
    def say(text: object = "") -> None:
        out.write(f"{text}\n")

    def step(title: str, body: Callable[[], None]) -> None:
        say(f"\n== {title} " + "=" * max(0, 66 - len(title)))
        body()

    with LocalRegistry() as registry, Client(cache_dir=None) as client:
        say(f"Started a local registry at {registry.url} (pid {registry.pid})")
        pushed = samples.push(registry, client=client)
        for sample in pushed:
            say(f"pushed {sample}")
        image = f"{pushed[0].reference}:{pushed[0].tags[0]}"

        step("1. Detect the runtime", lambda: say(detect_runtime()))
        step("2. Determine the registry", lambda: say(determine_registry(image)))

        def catalog() -> None:
            for repository in client.registry(registry.host).catalog():
                say(f"  {registry.host}/{repository}")
            say(f"  (docker and podman have no catalog command: curl {registry.url}/v2/_catalog)")

        step("3. Catalog", catalog)

        def tags() -> None:
            say(f"  {'tag':<10} {'platform':<14} {'size':>9}  digest")
            for rec in tag_records(client, pushed[0].reference):
                say(
                    f"  {rec.tag or '':<10} {rec.platform or '-':<14} "
                    f"{human_size(rec.size):>9}  {rec.digest[:19]}…"
                )
            say(f"  (skopeo list-tags docker://{pushed[0].reference})")

        step("4. Tags", tags)
        step("5. Inspect", lambda: say(inspect(image, client=client)))
        say(f"\nStopping the registry (pid {registry.pid}).")


if __name__ == "__main__":
    run()
