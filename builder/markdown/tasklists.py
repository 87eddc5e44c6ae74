"""``- [ ] item`` / ``- [x] item`` → a disabled checkbox at the start of the item.

Follows ``mdit_py_plugins.tasklists`` (0.7.0, a port of markdown-it-task-lists)
with the options Postil uses, the defaults: checkboxes disabled, no ``<label>``.
The output is the same token for token, so the same HTML byte for byte
(tests/test_pathological.py compares the two).

Hand-written because the library's rule is quadratic: for every task item its
``parent_token`` walks back from the item, token by token, to the nearest token
one level up (the list that holds it), which for a flat list is the list's
first token. 15,600 items (125 KB) took 44 s; 1 MB did not finish. Here one
pass keeps the index of the last token seen at each level, so the parent is
looked up rather than searched for: the same answer (the nearest earlier token
at that level, or ``-1`` when there is none, as in the library), in linear time.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

# As the library: ``[ ]``, ``[x]`` or ``[X]`` and then GFM whitespace
# (https://github.github.com/gfm/#whitespace-character).
_TODO = re.compile(r"\[[ xX]][ \t\n\v\f\r]+")

_UNCHECKED = '<input class="task-list-item-checkbox" disabled="disabled" type="checkbox">'
_CHECKED = ('<input class="task-list-item-checkbox" checked="checked" '
            'disabled="disabled" type="checkbox">')


def tasklists_plugin(md: MarkdownIt) -> None:
    """Register the rule where the library does, under the library's name."""
    md.core.ruler.after("inline", "github-tasklists", _tasklists)


def _tasklists(state: StateCore) -> None:
    """The library's ``fcn``: each ``inline`` token at index ``i`` (``2 <= i <
    len - 1``) after ``paragraph_open`` after ``list_item_open``, whose content
    starts with a box, gets a checkbox; the item gets ``class="task-list-item"``
    and its parent (nearest earlier token one level up) ``class="contains-task-list"``."""
    tokens = state.tokens
    last_at_level: dict[int, int] = {}  # level → index of the last token seen at it
    item = parent = -1  # the last list_item_open seen, and its parent
    for index in range(len(tokens) - 1):
        token = tokens[index]
        kind = token.type
        if kind == "list_item_open":
            item, parent = index, last_at_level.get(token.level - 1, -1)
        elif (kind == "inline" and index >= 2 and item == index - 2
              and tokens[index - 1].type == "paragraph_open"
              and _TODO.match(token.content) is not None):
            _todoify(token)
            tokens[item].attrSet("class", "task-list-item")
            tokens[parent].attrSet("class", "contains-task-list")
        last_at_level[token.level] = index


def _todoify(token: Token) -> None:
    """The library's ``todoify`` and ``make_checkbox`` without a label: the
    checkbox first, then three characters off the first child and the content.
    (A box followed by other whitespace than a space, ``[x]\\t``, gets an empty
    ``html_inline`` token, as in the library.)"""
    assert token.children is not None
    checkbox = Token("html_inline", "", 0)
    content = token.content
    if content.startswith("[ ] "):
        checkbox.content = _UNCHECKED
    elif content.startswith(("[x] ", "[X] ")):
        checkbox.content = _CHECKED
    token.children.insert(0, checkbox)
    token.children[1].content = token.children[1].content[3:]
    token.content = content[3:]
