"""Postil: a static-site generator for annotated reading archives."""

__version__ = "0.1.0"
