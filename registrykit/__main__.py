"""``python -m registrykit``: the same as the ``registrykit`` command."""

import sys

from .cli import main

sys.exit(main())
