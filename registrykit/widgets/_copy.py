"""``CopyForm``: copy an image (or every tag) between registries, layouts, archives and runtimes."""

from __future__ import annotations

import ipywidgets as w

from .._client import Client
from .._ops.copy import copy as copy_operation
from .._ops.inspect import inspect as inspect_operation
from ._common import (
    ERROR,
    OK,
    WIDE,
    Operation,
    busy,
    clear,
    friendly,
    on_click,
    set_status,
    show,
    status_line,
)
from ._location import is_runtime, location, placeholder, split_prefix, transport_choice


class CopyForm(w.VBox):  # type: ignore[misc]
    """Source, destination (each a transport and a name), all tags, platforms; Copy.

    Each end is a registry reference, an OCI layout, a docker-archive, or an
    image in podman's or docker's store, as ``rk.copy`` takes them; typing a
    prefix (``podman:myapp``) selects the transport. A podman or docker
    destination left empty takes the source's name: ``rk.pull(src,
    into="podman")``. ``copy`` and ``inspect`` are the operations called
    (``rk.copy`` and ``rk.inspect`` by default); ``inspect`` reads the
    source's platforms. Changing the source empties the platform list
    (another image has other platforms); changing any input removes the last
    result. Buttons are disabled while a copy or a read runs.
    """

    def __init__(
        self,
        source: str = "",
        destination: str = "",
        *,
        client: Client | None = None,
        copy: Operation | None = None,
        inspect: Operation | None = None,
    ) -> None:
        self.client = client
        self._copy = copy or copy_operation
        self._inspect = inspect or inspect_operation
        self.source_transport = transport_choice("Source")
        self.source = w.Text(layout=WIDE)
        self.destination_transport = transport_choice("Destination")
        self.destination = w.Text(layout=WIDE)
        self.all_tags = w.Checkbox(
            indent=False, value=False, description="All tags (repositories, no tag)"
        )
        self.platforms = w.SelectMultiple(options=[], description="Platforms", rows=4)
        self.inspect_button = w.Button(description="Read platforms", icon="search")
        self.button = w.Button(description="Copy", button_style="primary", icon="copy")
        self.status = status_line()
        self.output = w.Output()
        self.result: object | None = None
        on_click(self.inspect_button, self.load_platforms)
        on_click(self.button, self.copy)
        for text, choice in (
            (self.source, self.source_transport),
            (self.destination, self.destination_transport),
        ):
            text.observe(lambda _c, t=text, c=choice: self._take_prefix(t, c), names="value")
        for control in (self.source, self.source_transport):
            control.observe(lambda _c: self._source_changed(), names="value")
        for control in (self.destination, self.destination_transport, self.all_tags):
            control.observe(lambda _c: self._input_changed(), names="value")
        self.source.value, self.destination.value = source, destination
        self._update_placeholders()
        super().__init__(
            [
                w.HBox([self.source_transport, self.source]),
                w.HBox([self.destination_transport, self.destination]),
                self.all_tags,
                w.HBox([self.platforms, self.inspect_button]),
                self.button,
                self.status,
                self.output,
            ]
        )

    @property
    def source_location(self) -> str:
        """The source as ``rk.copy`` reads it (``podman:myapp:latest``, a reference…)."""
        return location(self.source_transport.value, self.source.value.strip())

    @property
    def destination_location(self) -> str:
        return location(self.destination_transport.value, self.destination.value.strip())

    @staticmethod
    def _take_prefix(text: w.Text, choice: w.Dropdown) -> None:
        # A pasted skopeo location picks its transport; the text keeps the rest.
        split = split_prefix(text.value)
        if split is not None:
            choice.value, text.value = split

    def _update_placeholders(self) -> None:
        self.source.placeholder = placeholder(self.source_transport.value)
        self.destination.placeholder = placeholder(
            self.destination_transport.value, destination=True
        )

    def _input_changed(self) -> None:
        self.result = None
        self._update_placeholders()
        clear(self.status, self.output)

    def _source_changed(self) -> None:
        # A selection made for the previous image must not narrow this one's copy.
        self.platforms.options = []
        self._input_changed()

    def load_platforms(self) -> list[str]:
        """Fill the platform choice from the source: an index's platforms, else none."""
        self._source_changed()
        try:
            with busy(self.inspect_button, self.button):
                info = self._inspect(self.source_location, client=self.client)
        except Exception as exc:  # shown in the form, never a traceback
            set_status(self.status, friendly(exc), ERROR)
            return []
        options = [str(p) for p in info.platforms]
        if options:
            set_status(self.status, f"{len(options)} platforms; none selected copies all.", OK)
        else:
            set_status(self.status, f"single-platform image ({info.platform or None}).", OK)
        self.platforms.options = options
        return options

    def copy(self) -> object | None:
        src, dst = self.source_location, self.destination_location
        named = self.destination.value.strip() or is_runtime(self.destination_transport.value)
        if not self.source.value.strip() or not named:
            set_status(self.status, "Enter a source and a destination.", ERROR)
            return None
        self._input_changed()
        set_status(self.status, f"Copying {src} → {dst}…")
        platforms = list(self.platforms.value) or None
        failure: Exception | None = None
        # tqdm.auto draws its bar in the output. The try sits inside the
        # ``with``: an Output widget swallows exceptions raised through it.
        with self.output, busy(self.inspect_button, self.button):
            try:
                self.result = self._copy(
                    src, dst, all_tags=self.all_tags.value, platforms=platforms, client=self.client
                )
            except Exception as exc:  # shown in the form, never a traceback
                failure = exc
        if failure is not None:
            set_status(self.status, friendly(failure), ERROR)
            return None
        show(self.output, self.result)
        set_status(self.status, "Copied.", OK)
        return self.result
