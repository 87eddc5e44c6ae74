"""What a page's templates read of the articles in its context.

Lektor's rule, "record a page's dependencies where they are used": while a
page renders, every attribute a template reads of an article
(:class:`~builder.model.Article` or its record) is noted by name. A delta
build (:mod:`builder.delta`) then renders a page again only when a field it
read changed: saving an article's body leaves the archive page, which shows
only titles and dates, as it is.

Jinja reads an attribute through ``Environment.getattr`` (``a.b``) or
``Environment.getitem`` (``a['b']``); the names read are recorded there.
Everything else that could read an article without naming a field counts as
reading all of it (:data:`EVERYTHING`): an article, or anything else that is
not a plain value, handed to a function, filter or test (unless the filter
is known to read no field of what it is given), printed whole, or made a
string by ``~`` or ``%`` (which print its every field); and a name starting
with ``_`` (``__dict__``, ``__getattribute__``, ``__repr__``), through which
a template reaches fields without naming them.

Tracking is on in every build, so its hot paths (``a.b``, ``f(x)``, ``{{ x }}``)
are written out for speed: they cost a few per cent of rendering time, and the
pages' bytes are the same as without (tests/test_reads_fast.py checks both what
each path records and the bytes).

Hand-written: Jinja has no hook for this beyond the methods overridden here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection
from datetime import date, datetime
from types import FunctionType
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.utils import internalcode
from markupsafe import Markup

from builder.model import Article, ArticleRecord

#: the name recorded when a template may have read any field of an article
EVERYTHING = "*"
_TRACKED = frozenset((Article, ArticleRecord))
_PLAIN = (str, int, float, bool, type(None), date, datetime, Markup, jinja2.Undefined)
_PLAIN_TYPES = frozenset(_PLAIN[:-1])  # exact types: the common case, checked first
#: filters and tests that read no field of what they are given (they count, pick or pass it on)
_BLIND_FILTERS = {"length", "count", "first", "last", "reverse", "batch", "slice", "list",
                  "default", "d"}
_BLIND_TESTS = {"defined", "undefined", "none", "sameas", "true", "false", "boolean", "string",
                "number", "mapping", "iterable", "sequence"}
#: a local variable of the templates' code (Jinja names its own l_*, t_*)
_PRINTED = "_postil_printed"
#: what Jinja adds to a call's keywords for its own use
_JINJA_KEYWORDS = ("_loop_vars", "_block_vars")


# What the page being rendered read (one page renders at a time, see :func:`start_page`): the
# names as read, made exact by :func:`finish_page`. One set for the life of the process, so
# that the hot paths below add to it through a bound method held in a global.
_NAMES: set[Any] = set()
_note = _NAMES.add


def start_page() -> None:
    """Forget what the previous page read: a page starts rendering."""
    _NAMES.clear()


def finish_page() -> frozenset[str]:
    """What the page rendered since :func:`start_page` read of its articles: field names, and
    :data:`EVERYTHING` if it may have read any field (a name starting with ``_``, which
    the hot path records as it is)."""
    return frozenset(_name(name) for name in _NAMES)


def _plain(value: Any) -> bool:
    """Whether ``value`` holds no article: plain values, or lists, tuples and dicts of
    them (up to a few hundred, such as a JSON-LD dict made for ``tojson``)."""
    if type(value) in _PLAIN_TYPES:
        return True
    stack, budget = [value], 512
    while stack:
        item = stack.pop()
        if type(item) in _PLAIN_TYPES or isinstance(item, _PLAIN):
            continue
        budget -= 1
        if budget < 0:
            return False
        if type(item) in (list, tuple):
            stack += item
        elif type(item) is dict:
            stack += item.keys()
            stack += item.values()
        else:
            return False
    return True


def note_call(args: tuple, kwargs: dict) -> None:
    """Record :data:`EVERYTHING` if a call hands on anything but plain values (Jinja's
    own keywords aside)."""
    for arg in args:  # a loop, not all(): most calls pass one string (the url function)
        if type(arg) not in _PLAIN_TYPES and not _plain(arg):
            _note(EVERYTHING)
            return
    for key, value in kwargs.items():
        if type(value) not in _PLAIN_TYPES and key not in _JINJA_KEYWORDS \
                and not _plain(value):
            _note(EVERYTHING)
            return


def _watched(function: Callable) -> Callable:
    """``function`` (a filter or test) noting what it is handed; Jinja's ``pass_*``
    markers are kept, and the argument they add is not counted."""
    skip = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        for arg in args[skip:] if skip else args:  # note_call, written out: a hot path
            if type(arg) not in _PLAIN_TYPES and not _plain(arg):
                _note(EVERYTHING)
                break
        if kwargs:
            note_call((), kwargs)
        return function(*args, **kwargs)

    return run


def _name(name: Any) -> str:
    """What reading ``name`` of an article records: the name, or :data:`EVERYTHING`."""
    return name if isinstance(name, str) and not name.startswith("_") else EVERYTHING


class _TrackingCodeGenerator(CodeGenerator):
    """Jinja's code generator, but ``a ~ b`` and ``a % b`` hand each operand to
    ``environment.whole`` first: both make a string of it, so of every field an
    article's ``repr`` shows. A constant operand is left as it is: it holds no article.
    (Not folded as constants: these templates are few.)"""

    def _whole(self, node: nodes.Expr, frame: Frame) -> None:
        if isinstance(node, (nodes.Const, nodes.TemplateData)):
            self.visit(node, frame)
            return
        self.write("environment.whole(")
        self.visit(node, frame)
        self.write(")")

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        join = "markup_join" if frame.eval_ctx.autoescape else "str_join"
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        self.write(f"{join}((")
        for arg in node.nodes:
            self._whole(arg, frame)
            self.write(", ")
        self.write("))")

    def visit_Mod(self, node: nodes.Mod, frame: Frame) -> None:
        self.write("(")
        self._whole(node.left, frame)
        self.write(" % ")
        self._whole(node.right, frame)
        self.write(")")

    # What {{ x }} prints goes through the environment's ``finalize`` (see there), but only
    # when its type is not a plain one: the test is written into the template's code,
    # since a call per printed value would cost more than the rest of the tracking.
    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        super()._output_child_pre(node, frame, finalize._replace(src=None))
        self.write(f"({_PRINTED} if type({_PRINTED} := ")

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        self.write(f") in environment.plain_types else {finalize.src}{_PRINTED}))")
        super()._output_child_post(node, frame, finalize._replace(src=None))


class TrackingEnvironment(jinja2.Environment):
    """A Jinja environment that notes (see :func:`start_page`) what templates read of articles.

    Set the filters and tests before loading templates, then call :meth:`watch`.
    """

    code_generator_class = _TrackingCodeGenerator
    plain_types = _PLAIN_TYPES  # (for the templates' code)

    @staticmethod
    def whole(value: Any) -> Any:
        """``value``, noted as read whole unless plain (see :class:`_TrackingCodeGenerator`)."""
        if type(value) not in _PLAIN_TYPES and not _plain(value):
            _note(EVERYTHING)
        return value

    def watch(self, blind: Collection[str] = ()) -> None:
        """Have every filter and test note what it is handed, but those known to read no
        field of what they are given: Jinja's that count, pick or pass it on, and the
        filters named in ``blind``."""
        self.filters = {name: f if name in _BLIND_FILTERS or name in blind else _watched(f)
                        for name, f in self.filters.items()}
        self.tests = {name: f if name in _BLIND_TESTS else _watched(f)
                      for name, f in self.tests.items()}

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) in _TRACKED:
            _note(attribute)  # made exact (a name starting with "_") by finish_page()
        # jinja2.Environment.getattr, written out: this runs for every a.b of a template
        try:
            return getattr(obj, attribute)
        except AttributeError:
            pass
        try:
            return obj[attribute]
        except (TypeError, LookupError, AttributeError):
            return self.undefined(obj=obj, name=attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if type(obj) in _TRACKED:
            _note(_name(argument))  # (which may be unhashable: a[[1]])
        return super().getitem(obj, argument)


class WatchingContext(jinja2.runtime.Context):
    """A template context noting what calls (``f(x)``) are handed: a function that
    declares the fields it reads (``article_reads``) reads those; a macro's reads are its
    own; any other call handed anything but plain values reads :data:`EVERYTHING`."""

    @internalcode  # left out of template tracebacks, as Jinja's own Context.call is
    def call(__self, __obj, *args, **kwargs):  # noqa: ANN001, ANN201, N805 - Jinja's own
        if type(__obj) is FunctionType and not __obj.__dict__:
            # A plain function (url, abs_url): no pass_* marker, nothing declared, so all
            # jinja2.runtime.Context.call would do is drop its keywords and call it. Done
            # here in one step: most calls of a page are these.
            for arg in args:  # note_call, written out
                if type(arg) not in _PLAIN_TYPES and not _plain(arg):
                    _note(EVERYTHING)
                    break
            if kwargs:
                kwargs.pop("_loop_vars", None)
                kwargs.pop("_block_vars", None)
                if kwargs:
                    note_call((), kwargs)
            try:
                return __obj(*args, **kwargs)
            except StopIteration:
                return __self.environment.undefined(
                    "value was undefined because a callable raised a StopIteration exception")
        declared = getattr(__obj, "article_reads", None)  # Postil's own functions say
        if declared is not None:
            _NAMES.update(declared)
        elif (args or kwargs) and type(__obj) is not jinja2.runtime.Macro:
            note_call(args, kwargs)
        return super().call(__obj, *args, **kwargs)


def finalize(value: Any) -> Any:
    """Jinja's ``finalize`` hook: a value printed whole (``{{ article }}``) is read whole."""
    if type(value) not in _PLAIN_TYPES and not isinstance(value, _PLAIN) and not _plain(value):
        _note(EVERYTHING)
    return value


def must_render(read: frozenset[str] | None, changed: set[str]) -> bool:
    """Whether a page that read ``read`` (None: not known) must render again when the
    fields ``changed`` of articles it shows changed."""
    return read is None or EVERYTHING in read or not read.isdisjoint(changed)
