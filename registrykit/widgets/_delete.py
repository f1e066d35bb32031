"""``DeleteForm``: preview what a delete takes with it, then delete."""

from __future__ import annotations

import ipywidgets as w

from .._client import Client
from .._ops.delete import delete as delete_operation
from ._common import (
    ERROR,
    LABELLED,
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


class DeleteForm(w.VBox):  # type: ignore[misc]
    """Image; Preview shows every tag and referrer that goes; Delete needs both.

    Deleting a manifest removes every tag that points at it, so the Delete
    button stays disabled until a preview of *this* image ran and the
    confirmation box is ticked. Changing the image or "Remove only this tag"
    removes the preview and any earlier result, so nothing shown describes
    another request. ``delete`` is the operation called (``rk.delete`` by
    default), once with ``dry_run=True`` for the preview.
    """

    def __init__(
        self, image: str = "", *, client: Client | None = None, delete: Operation | None = None
    ) -> None:
        self.image = w.Text(
            value=image, description="Image", placeholder="registry/repo:tag", layout=WIDE
        )
        self.untag_only = w.Checkbox(value=False, description="Remove only this tag", indent=False)
        self.preview_button = w.Button(description="Preview", icon="eye")
        self.confirm = w.Checkbox(
            indent=False,
            style=LABELLED,
            layout=WIDE,
            value=False,
            description="I understand these will be deleted",
            disabled=True,
        )
        self.button = w.Button(
            description="Delete", button_style="danger", icon="trash", disabled=True
        )
        self.status = status_line()
        self.output = w.Output()
        self.client = client
        self._delete = delete or delete_operation
        self.plan: object | None = None
        self.result: object | None = None
        self._previewed: tuple[str, bool] | None = None
        on_click(self.preview_button, self.preview)
        on_click(self.button, self.delete)
        for control in (self.image, self.untag_only):
            control.observe(lambda _c: self._input_changed(), names="value")
        self.confirm.observe(lambda _c: self._update_button(), names="value")
        super().__init__(
            [
                self.image,
                self.untag_only,
                self.preview_button,
                self.output,
                self.confirm,
                self.button,
                self.status,
            ]
        )

    def _key(self) -> tuple[str, bool]:
        return self.image.value.strip(), bool(self.untag_only.value)

    def _input_changed(self) -> None:
        self.plan = self.result = None
        clear(self.status, self.output)
        self._reset()

    def _reset(self) -> None:
        self._previewed = None
        self.confirm.value = False
        self.confirm.disabled = True
        self._update_button()

    def _update_button(self) -> None:
        self.button.disabled = not (self._previewed == self._key() and self.confirm.value)

    def preview(self) -> object | None:
        image, untag_only = self._key()
        self._input_changed()
        set_status(self.status, f"Previewing {image}…")
        try:
            with busy(self.preview_button):
                self.plan = self._delete(
                    image, dry_run=True, untag_only=untag_only, client=self.client
                )
        except Exception as exc:  # shown in the form, never a traceback
            set_status(self.status, friendly(exc), ERROR)
            return None
        show(self.output, self.plan)
        self._previewed = (image, untag_only)
        self.confirm.disabled = False
        self._update_button()
        set_status(self.status, "Review the preview, tick the box, then Delete.")
        return self.plan

    def delete(self) -> object | None:
        if self.button.disabled:
            set_status(self.status, "Run Preview and tick the confirmation first.", ERROR)
            return None
        image, untag_only = self._key()
        # The preview was for this one delete: it and the tick are spent either way.
        self._reset()
        clear(self.status, self.output)
        set_status(self.status, f"Deleting {image}…")
        try:
            with busy(self.preview_button):
                self.result = self._delete(image, untag_only=untag_only, client=self.client)
        except Exception as exc:  # shown in the form, never a traceback
            set_status(self.status, friendly(exc), ERROR)
            return None
        show(self.output, self.result)
        set_status(self.status, "Deleted.", OK)
        return self.result
