"""ipywidgets forms for the registry workflow: log in, copy, delete, browse.

Each form gathers input, calls the same ``registrykit`` function a notebook
would, and shows the result (or the error's message and remedy) in place.
"""

from ._browser import RegistryBrowser
from ._copy import CopyForm
from ._delete import DeleteForm
from ._login import LoginForm

__all__ = ["CopyForm", "DeleteForm", "LoginForm", "RegistryBrowser"]
