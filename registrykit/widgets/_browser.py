"""``RegistryBrowser``: registry → repository → tag, with the history and layer plot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from .._client import Client
from ..frames.listing import catalog, layers, tag_history
from ._common import ERROR, OK, friendly, set_status, show, status_line


class RegistryBrowser(w.VBox):  # type: ignore[misc]
    """Pick a registry, a repository and a tag; see its tag history and layer sizes."""

    def __init__(self, registry: str = "", *, client: Client | None = None) -> None:
        self.client = client
        self.registry = w.Text(value=registry, description="Registry", placeholder="host[:port]")
        self.load_button = w.Button(description="Load", icon="refresh")
        self.repository = w.Dropdown(options=[], description="Repository")
        self.tag = w.Dropdown(options=[], description="Tag")
        self.status = status_line()
        self.history = w.Output()
        self.layers = w.Output()
        self.load_button.on_click(lambda _b: self.load())
        self.repository.observe(lambda _c: self._repository_changed(), names="value")
        self.tag.observe(lambda _c: self._tag_changed(), names="value")
        super().__init__(
            [
                w.HBox([self.registry, self.load_button]),
                self.repository,
                self.tag,
                self.status,
                w.HTML("<b>Tag history</b>"),
                self.history,
                w.HTML("<b>Layers</b>"),
                self.layers,
            ]
        )

    def _call(self, frame: Callable[..., Any], *args: object) -> object | None:
        try:
            result: object = frame(*args, client=self.client)
        except Exception as exc:  # shown in the form, never a traceback
            set_status(self.status, friendly(exc), ERROR)
            return None
        return result

    def load(self) -> list[str]:
        host = self.registry.value.strip()
        frame = self._call(catalog, host)
        repositories = [] if frame is None else list(frame["repository"])  # type: ignore[index]
        self.repository.options = repositories
        if repositories:
            set_status(self.status, f"{len(repositories)} repositories", OK)
        return repositories

    def _repository_changed(self) -> None:
        repo = self.repository.value
        self.history.clear_output()
        if not repo:
            self.tag.options = []
            return
        name = f"{self.registry.value.strip()}/{repo}"
        history = self._call(tag_history, name)
        if history is None:
            return
        show(self.history, history)
        # One row per image; every tag of each image is a choice.
        self.tag.options = [t for tags in history["tags"] for t in tags]  # type: ignore[index]

    def _tag_changed(self) -> None:
        self.layers.clear_output()
        if not self.tag.value or not self.repository.value:
            return
        image = f"{self.registry.value.strip()}/{self.repository.value}:{self.tag.value}"
        frame = self._call(layers, image)
        if frame is None:
            return
        from .. import plots

        figure = plots.layer_sizes(frame)
        show(self.layers, frame, figure)
        import matplotlib.pyplot as plt

        plt.close(figure)
