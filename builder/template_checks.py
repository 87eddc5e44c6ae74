"""Mistakes in templates that Jinja lets pass: a misspelt name, a block no parent shows.

**Undefined values.** Jinja's default prints a misspelt ``{{ article.titel }}`` as
nothing. Here (:class:`PostilUndefined`, the environment's ``undefined``):

- an attribute that one of Postil's own objects (an article, entity, term, page,
  paginator…, the classes of ``builder``) does not have is Jinja's *strict*
  undefined: printing it, testing it, looping over it or reading from it is an
  error, ``template:line: Article has no attribute "titel" (did you mean "title"?)``;
- a name the page's context does not hold (``{{ artcle.title }}``) is an error when
  printed, looped over or read from; testing it (``{% if term %}``) is false, since
  templates are shared by pages given different names;
- anything else stays lenient, as documented for optional keys: a key missing from
  ``article.extra``, ``config`` (``config.params``), a front matter dict or a loop
  is undefined, prints as nothing, is false, and chains (``article.extra.a.b``).

``is defined`` and ``default`` work on all three, as in Jinja.

**Blocks.** A template that extends another shows only the blocks its parents
have: ``{% block content %}`` in a site's ``article.html`` is silently dropped when
``base.html`` has no block ``content``. :func:`block_problems` warns of each, with
the blocks that exist.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import jinja2
import jinja2.nodes
from jinja2.utils import missing

from builder.config import SiteConfig
from builder.problems import Problem


def _strict(obj: Any) -> bool:
    """Whether ``obj`` is one of Postil's own objects (not the settings: see above)."""
    kind = type(obj)
    return kind.__module__.startswith("builder.") and kind is not SiteConfig


def _suggestion(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, [c for c in candidates if not c.startswith("_")],
                                      n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


class PostilUndefined(jinja2.ChainableUndefined):
    """The environment's ``undefined``: lenient, but made as :class:`_UnknownAttribute` or
    :class:`_UnknownName` for the two kinds of mistake the module's notes describe."""

    __slots__ = ()
    #: what the page being rendered was given (names), for "did you mean"; set per page
    scope: tuple[Mapping[str, Any], ...] = ()

    def __new__(cls, hint: str | None = None, obj: Any = missing, name: str | None = None,
                exc: type[jinja2.exceptions.TemplateRuntimeError] = jinja2.UndefinedError,
                ) -> PostilUndefined:
        if cls is PostilUndefined and hint is None and name is not None:
            # Jinja's own hints (an empty sequence's first item, a macro argument not
            # given) stay lenient, as before.
            if obj is missing:
                cls = _UnknownName
            elif _strict(obj):
                cls = _UnknownAttribute
        return object.__new__(cls)


_fail = jinja2.Undefined._fail_with_undefined_error


class _UnknownName(PostilUndefined):
    """A name the context does not hold: false when tested, an error when used."""

    __slots__ = ()
    __iter__ = __str__ = __len__ = __contains__ = __getitem__ = _fail
    __getattr__ = jinja2.Undefined.__getattr__  # (an error, but for Python's __dunders__)

    @property
    def _undefined_message(self) -> str:
        known = {key for names in PostilUndefined.scope for key in names}
        return f'"{self._undefined_name}" is undefined' + _suggestion(
            str(self._undefined_name), known)


class _UnknownAttribute(PostilUndefined):
    """An attribute one of Postil's objects does not have: Jinja's strict undefined."""

    __slots__ = ()
    __iter__ = __str__ = __len__ = __eq__ = __ne__ = __bool__ = __hash__ = _fail
    __contains__ = __getitem__ = _fail
    __getattr__ = jinja2.Undefined.__getattr__

    @property
    def _undefined_message(self) -> str:
        owner = self._undefined_obj
        return (f'{type(owner).__name__} has no attribute "{self._undefined_name}"'
                + _suggestion(str(self._undefined_name), dir(owner)))


# --- blocks -------------------------------------------------------------------------

#: template source → (the constant name it extends or None, [(block, line)] at its top
#: level, every block name in it): parsed once per process (``postil serve`` rebuilds)
_PARSED: dict[str, tuple[str | None, list[tuple[str, int]], frozenset[str]]] = {}
_PARSER = jinja2.Environment()  # parsing only: no loader, no filters needed


def _outline(source: str) -> tuple[str | None, list[tuple[str, int]], frozenset[str]]:
    found = _PARSED.get(source)
    if found is None:
        tree = _PARSER.parse(source)
        parent = None
        for node in tree.find_all(jinja2.nodes.Extends):
            value = getattr(node.template, "value", None)
            parent = value if isinstance(value, str) else None
            break
        top: list[tuple[str, int]] = []
        stack: list[jinja2.nodes.Node] = [tree]
        while stack:  # blocks not inside another block (an inner one is the outer's own)
            for child in stack.pop().iter_child_nodes():
                if isinstance(child, jinja2.nodes.Block):
                    top.append((child.name, child.lineno))
                else:
                    stack.append(child)
        every = frozenset(b.name for b in tree.find_all(jinja2.nodes.Block))
        found = _PARSED[source] = (parent, sorted(top, key=lambda b: b[1]), every)
    return found


def block_problems(folders: list[Path], shown: Callable[[Path], str],
                   skip: Path | None = None) -> list[Problem]:
    """A warning for each block of a template in ``folders`` (the template folders in
    the order the build searches them) that none of the templates it extends has: a
    block the page never shows. Templates under ``skip`` (the built-in themes, checked
    by the tests) are not checked, but are read as parents. A template that cannot be
    read or parsed is left to rendering, which reports it."""
    loader = jinja2.FileSystemLoader([str(f) for f in folders])
    problems: list[Problem] = []
    skip = skip.resolve() if skip is not None else None  # (builder/themes is a link)
    for folder in folders:
        if skip is not None and folder.resolve().is_relative_to(skip):
            continue
        for path in _templates(folder):
            try:
                source = path.read_text(encoding="utf-8")
                if "extends" not in source:
                    continue
                parent, top, _ = _outline(source)
                if parent is None:
                    continue
                blocks, chain = _inherited(loader, parent)
            except (OSError, UnicodeDecodeError, jinja2.TemplateError):
                continue
            for name, line in top:
                if name not in blocks:
                    have = ", ".join(sorted(blocks)) or "none"
                    problems.append(Problem(
                        shown(path), line,
                        f'block "{name}" is never shown: {" and ".join(chain)} '
                        f"{'has' if len(chain) == 1 else 'have'} no block of that name "
                        f"(blocks: {have})" + _suggestion(name, blocks), warning=True))
    return problems


def _templates(folder: Path) -> list[Path]:
    """The ``.html`` and ``.xml`` regular files under ``folder`` (links to folders not
    followed, as :func:`builder.theme.template_dirs` walks them)."""
    found = []
    for parent, _, names in os.walk(folder):
        for name in names:
            path = Path(parent) / name
            if path.suffix in (".html", ".xml") and path.is_file():
                found.append(path)
    return sorted(found)


def _inherited(loader: jinja2.FileSystemLoader, name: str) -> tuple[set[str], list[str]]:
    """Every block name in template ``name`` and the templates it extends, and their
    names. Raises TemplateNotFound, TemplateSyntaxError."""
    blocks: set[str] = set()
    chain: list[str] = []
    current: str | None = name
    while current is not None and current not in chain:
        source, _, _ = loader.get_source(_PARSER, current)
        chain.append(current)
        current, _, every = _outline(source)
        blocks |= every
    return blocks, chain
