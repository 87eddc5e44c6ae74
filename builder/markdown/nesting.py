"""Nesting deeper than markdown-it's cap: leave out only the deep block, and say so.

markdown-it bounds recursion with the ``maxNesting`` option (20 in the
CommonMark preset Postil starts from: a list nested 10 deep, a block quote
20 deep), which keeps a list nested 10,000 deep linear. Past the cap its
block parser skips to the end of the enclosing range without a word; inside
a list item that range is the rest of the document, so one list nested too
deep would silently drop every paragraph after it. This wraps the block
tokenizer: past the cap it skips only the lines of the deep block (those
indented as far as the block, and blank lines between them) and records the
first of them as a warning.

Inline nesting needs no such check: a link cannot hold a link, and Postil's
inline forms nest a few levels at most, far below the cap.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock


def nesting_plugin(md: MarkdownIt) -> None:
    """Past ``maxNesting``, skip only the deep block and add ``(line, message)`` to
    ``env["warnings"]`` (``line`` in the file, counting from ``env["first_line"]``)."""
    tokenize = md.block.tokenize

    def tokenize_checked(state: StateBlock, start_line: int, end_line: int) -> None:
        limit = state.md.options.maxNesting
        if state.level < limit:
            tokenize(state, start_line, end_line)
            return
        line = state.skipEmptyLines(start_line)
        # The test markdown-it's loop makes before it skips to end_line.
        if line >= end_line or state.sCount[line] < state.blkIndent:
            tokenize(state, start_line, end_line)
            return
        first_line = state.env.get("first_line", 1)
        state.env.setdefault("warnings", []).append(
            (first_line + line, f"nested more than {limit} levels deep (lists, block quotes, "
             "notes): this block is left out"))
        while line < end_line and (state.isEmpty(line) or state.sCount[line] >= state.blkIndent):
            line += 1
        state.line = line

    # Nested blocks (list items, quotes, containers) call md.block.tokenize, so
    # the instance attribute catches every level.
    md.block.tokenize = tokenize_checked  # type: ignore[method-assign]
