"""Unit tier: see tests/conftest.py."""
