"""Integration tier: see tests/conftest.py."""
