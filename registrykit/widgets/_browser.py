"""``RegistryBrowser``: registry → repository → tag, with the history and layer plot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from .._client import Client
from ..frames.listing import catalog, layers, tag_history, tags
from ._common import (
    ERROR,
    OK,
    busy,
    clear,
    empty,
    friendly,
    on_click,
    set_status,
    show,
    status_line,
)


class RegistryBrowser(w.VBox):  # type: ignore[misc]
    """Pick a registry, a repository and a tag; see its tag history and layer sizes.

    Given a registry, it loads at once (as if Load were clicked); Load selects
    the first repository. A repository of artifacts only (a Helm chart,
    signatures) has no image history, so its tags are shown instead.
    """

    def __init__(self, registry: str = "", *, client: Client | None = None) -> None:
        self.client = client
        self.registry = w.Text(value=registry, description="Registry", placeholder="host[:port]")
        self.load_button = w.Button(description="Load", icon="refresh")
        self.repository = w.Dropdown(options=[], description="Repository")
        self.tag = w.Dropdown(options=[], description="Tag")
        self.status = status_line()
        self.history = w.Output()
        self.layers = w.Output()
        on_click(self.load_button, self.load)
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
        if registry:
            self.load()

    def _call(self, frame: Callable[..., Any], *args: object) -> object | None:
        try:
            result: object = frame(*args, client=self.client)
        except Exception as exc:  # shown in the form, never a traceback
            set_status(self.status, friendly(exc), ERROR)
            return None
        return result

    def load(self) -> list[str]:
        host = self.registry.value.strip()
        clear(self.status, self.history)
        empty(self.layers)
        self.repository.options = []
        with busy(self.load_button):
            frame = self._call(catalog, host)
        repositories = [] if frame is None else list(frame["repository"])  # type: ignore[index]
        self.repository.options = repositories
        if repositories:
            set_status(self.status, f"{len(repositories)} repositories", OK)
            self.repository.value = repositories[0]
        return repositories

    def _repository_changed(self) -> None:
        repo = self.repository.value
        empty(self.history)
        self.tag.options = []
        if not repo:
            return
        name = f"{self.registry.value.strip()}/{repo}"
        history = self._call(tag_history, name)
        if history is None:
            return
        if len(history):  # type: ignore[arg-type]
            show(self.history, history)
            self.tag.options = _tag_names(history)
            return
        listing = self._call(tags, name)  # artifacts only: no history, but tags
        if listing is not None:
            show(self.history, listing)
            self.tag.options = _tag_names(listing)

    def _tag_changed(self) -> None:
        empty(self.layers)
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


def _tag_names(frame: Any) -> list[str]:
    """Every tag once, in frame order: a ``tags`` column (one row per image) or ``tag``."""
    if "tags" not in frame.columns:
        return list(dict.fromkeys(str(t) for t in frame["tag"]))
    from ..plots import tag_names

    return list(dict.fromkeys(t for value in frame["tags"] for t in tag_names(value)))
