"""Root pytest settings shared by the tests and the notebooks (run by nbval)."""

import os

# Progress bars are drawn only for people; in stored notebook outputs and test
# logs they are noise (and their widget ids change every run).
os.environ.setdefault("TQDM_DISABLE", "1")
