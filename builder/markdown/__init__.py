"""Markdown → HTML with markdown-it-py.

Syntax extensions are small markdown-it rule plugins, each in its own module
of this package; :data:`SYNTAX_PLUGINS` lists the ones every article gets.
"""

from __future__ import annotations

from builder.markdown.renderer import SYNTAX_PLUGINS, Rendered, render

__all__ = ["SYNTAX_PLUGINS", "Rendered", "render"]
