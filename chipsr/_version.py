"""The chipsr version, kept in a module with no imports so `chipsr --version` stays fast."""

__version__ = "0.1.0"
