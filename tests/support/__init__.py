"""Test infrastructure shared by the tiers: helper servers, skopeo, fixture images.

Tests import these as ``from support.<module> import ...``; the tests folder is
on ``sys.path`` because ``tests/conftest.py`` lives there (pytest's default
``prepend`` import mode).
"""
