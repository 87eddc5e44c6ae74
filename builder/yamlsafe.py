"""YAML from untrusted files, with the limits PyYAML lacks, and errors with file lines.

PyYAML (and libyaml under it) has no limit on aliases or nesting, and its
constructors let Python exceptions through. Front matter is clipped from the
open web and ``site.yml`` is typed by hand, so both go through :func:`load_yaml`:

- **Aliases.** An alias is a reference, so loading a "billion laughs" document
  is quick; it is whatever walks the value afterwards (hashing the settings,
  rendering ``config.params``) that never ends. The composed node graph is
  measured with every alias expanded: at most :data:`MAX_ALIASES` aliases, at
  most :data:`MAX_EXPANSION` values and characters beyond four times the
  document's own length, and no alias inside its own anchor (a cycle).
- **Nesting** deeper than :data:`MAX_DEPTH` is refused. libyaml's composer is
  recursive C: about 100,000 levels crash the interpreter (a segmentation
  fault, not an exception). A cheap upper bound on the depth, worked out from
  the text, decides whether the fast C composer is safe; above it, the
  document is composed by PyYAML's Python composer, which counts levels.
- **Values** that Python cannot hold (``!!int "abc"``, ``!!float "x"``, an
  integer of more than 4,300 digits) become errors at their line.
- A **character YAML forbids** (a control character) is reported at its line
  and named, not by libyaml's byte offset.
- **YAML 1.2 booleans.** Only ``true`` and ``false`` (also ``True``, ``TRUE``,
  ``False``, ``FALSE``) are booleans; YAML 1.1's ``yes``, ``no``, ``on``,
  ``off``, ``y`` and ``n`` stay text (``title: yes``, ``tags: [NO, off]``).
- A **duplicate key** in any mapping is an error naming both lines: with
  PyYAML the last one wins silently (``draft: true`` … ``draft: false``).
- A plain **value cut short by a comment** (``title: Issue #42 fixed`` is
  "Issue") is a warning at its line, when the caller asks for warnings.

Lines are 1-based lines of the *file*: ``first_line`` says where the YAML
text starts in it (front matter starts on line 2).

Hand-written rather than a library: no maintained Python YAML library offers
alias and depth limits (PyYAML issue #235), and a slower pure-Python parser
would cost every article of every cold build.
"""

from __future__ import annotations

import functools
import re
import sys
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

try:  # the C loader is several times faster; fall back where it is missing
    _SafeLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _SafeLoader = yaml.SafeLoader

#: deepest nesting of lists and mappings accepted
MAX_DEPTH = 100
#: most alias uses (``*name``) in one document
MAX_ALIASES = 1000
#: most values and characters that aliases may add when expanded
MAX_EXPANSION = 100_000
#: nesting bound under which libyaml's recursive composer is surely safe
_C_SAFE_DEPTH = 1000


class YamlError(Exception):
    """A YAML problem: ``line`` is 1-based in the file, ``message`` says what is wrong."""

    def __init__(self, line: int, message: str):
        self.line = line
        self.message = message
        super().__init__(f"{line}: {message}")


class _Refused(yaml.MarkedYAMLError):
    """A limit of this module, raised at a node's mark."""

    def __init__(self, message: str, mark: yaml.Mark | None):
        super().__init__(problem=message, problem_mark=mark)


_BOOL = "tag:yaml.org,2002:bool"
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"


class _Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """Safe loading; a value Python cannot hold is an error at its node's line; YAML
    1.2 booleans; a duplicate key is an error."""

    # YAML 1.2's core schema: only true/false are booleans (and `!!bool yes` is an
    # error). Resolving stays PyYAML's Python resolver, which the C parser calls.
    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL]
        for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()}
    bool_values = {"true": True, "false": False}
    first_line = 1  # of the YAML text in its file, for messages naming two lines

    def __init__(self, stream: str):
        super().__init__(stream)
        self._own_keys: dict[int, list[Node]] = {}  # mapping with a merge → its own keys
        self._merges = "<<" in stream or "merge" in stream  # (else no mapping holds one)

    def flatten_mapping(self, node):  # noqa: ANN001, ANN201
        # A merge (`<<: *base`) brings in pairs ahead of the mapping's own, which may
        # repeat its keys: only its own keys must be unique. Recorded at the first
        # flattening (a merged mapping is flattened in place, once).
        if self._merges and id(node) not in self._own_keys and \
                any(key.tag == _MERGE for key, _ in node.value):
            self._own_keys[id(node)] = [key for key, _ in node.value if key.tag != _MERGE]
        super().flatten_mapping(node)

    def construct_mapping(self, node, deep=False):  # noqa: ANN001, ANN201
        mapping = super().construct_mapping(node, deep=deep)
        own = self._own_keys.get(id(node))
        # Without a merge, a mapping with fewer entries than pairs had a key twice.
        if own is not None or len(mapping) != len(node.value):
            self._check_duplicates(own if own is not None else [k for k, _ in node.value])
        return mapping

    def _check_duplicates(self, keys: list[Node]) -> None:
        seen: dict[Any, Node] = {}
        for key_node in keys:
            key = self.construct_object(key_node)  # made already: from the memo
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:  # an unhashable key: PyYAML refuses it already
                continue
            if first is not key_node:
                shown = str(key) if len(str(key)) <= 40 else str(key)[:40] + "…"
                line, again = (self.first_line + first.start_mark.line,
                               self.first_line + key_node.start_mark.line)
                where = f"twice on line {line}" if line == again else \
                    f"on lines {line} and {again}"
                raise _Refused(f'duplicate key "{shown}" {where}: keep one',
                               key_node.start_mark)

    def construct_yaml_timestamp(self, node):  # noqa: ANN001, ANN201
        # An impossible date (2024-02-30) stays a string: the date check then
        # reports it, with its key's line, in the reader's words.
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


def _checked(construct):  # noqa: ANN001, ANN202
    """A scalar constructor whose Python errors (``int("abc")``, more than 4,300
    digits, ``bool_values["abc"]``) become errors at the node. Only the scalar
    types that parse their text can fail that way (the others raise PyYAML's
    own errors); wrapping every node instead would slow loading by a third."""

    def construct_checked(loader, node):  # noqa: ANN001, ANN202
        try:
            return construct(loader, node)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
            raise _Refused(_bad_value(node), node.start_mark) from None

    return construct_checked


_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))

for _tag, _construct in (("int", _Loader.construct_yaml_int),
                         ("float", _Loader.construct_yaml_float),
                         ("bool", _Loader.construct_yaml_bool),
                         ("timestamp", _Loader.construct_yaml_timestamp)):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _checked(_construct))


class _DeepLoader(Composer, _Loader):
    """libyaml's parser with PyYAML's Python composer, which stops at :data:`MAX_DEPTH`."""

    def __init__(self, stream: str):
        _Loader.__init__(self, stream)
        Composer.__init__(self)
        self._depth = 0

    def compose_node(self, parent, index):  # noqa: ANN001, ANN201
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(_too_deep(), self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_yaml(text: str, first_line: int = 1, warnings: list[tuple[int, str]] | None = None
              ) -> tuple[Any, dict[Any, int]]:
    """Parse one YAML document (PyYAML's safe schema, with YAML 1.2's booleans).

    Returns the value (None for an empty document) and, if it is a mapping,
    the file line of each top-level key. ``first_line`` is the file line on
    which ``text`` starts. Each warning (a plain value cut short by a comment)
    is added to ``warnings`` as (file line, message), if given.
    Raises :class:`YamlError` for any syntax error, a forbidden character, a
    value Python cannot hold, a duplicate key, or a limit above (aliases,
    expansion, depth).
    """
    bound = _depth_bound(text)
    loader = (_Loader if bound <= _C_SAFE_DEPTH else _DeepLoader)(text)
    loader.first_line = first_line
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        if bound > MAX_DEPTH or "&" in text and _ANCHOR.search(text):
            _measure(node, MAX_EXPANSION + 4 * len(text))
        value = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise _marked_error(exc, first_line) from None
    except yaml.reader.ReaderError as exc:
        raise _reader_error(text, exc, first_line) from None
    except (yaml.YAMLError, UnicodeError) as exc:
        raise YamlError(first_line, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    key_lines: dict[Any, int] = {}
    if isinstance(node, MappingNode):
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode):
                key_lines[key_node.value] = first_line + key_node.start_mark.line
    if warnings is not None and "#" in text and _COMMENT_AFTER.search(text):
        warnings += _cut_by_comments(node, text.split("\n"), first_line)
    return value, key_lines


#: a `` #``: a comment, which may end a plain value (searched for only where a ``#`` is:
#: most front matter has none)
_COMMENT_AFTER = re.compile(r"[ \t]#")


def _cut_by_comments(root: Node, lines: list[str], first_line: int) -> list[tuple[int, str]]:
    """(line, warning) for each plain text value followed by a comment on its last line:
    ``title: Issue #42 fixed`` is "Issue", the rest a comment. Booleans, numbers and
    dates with a comment after them are what they look like, and are left alone."""
    found = []
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:  # an alias: its anchor's node, met before
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            stack += [value for _, value in reversed(node.value)]
        elif isinstance(node, SequenceNode):
            stack += reversed(node.value)
        elif not node.style and node.tag == _STR and node.value:
            end = node.end_mark
            rest = lines[end.line][end.column:] if end.line < len(lines) else ""
            if rest[:1] in (" ", "\t") and rest.lstrip(" \t").startswith("#"):
                value = node.value if len(node.value) <= 40 else node.value[:40] + "…"
                comment = rest.strip()
                comment = comment if len(comment) <= 40 else comment[:40] + "…"
                found.append((first_line + end.line,
                              f'the value "{value}" ends where " #" starts a YAML comment '
                              f'("{comment}" is left out): put the value in quotes to keep '
                              "it all, or the comment on a line of its own"))
    return sorted(found)


#: an ``&`` that could start an anchor (``&name``): any not inside a word or a
#: URL ("AT&T", "?a=1&b=2"). No anchor, no alias: nothing to expand, and the
#: node graph need not be walked.
_ANCHOR = re.compile(r"(?<![\w=;%/.#+])&")


def _depth_bound(text: str) -> int:
    """An upper bound on the nesting depth of ``text``, in linear time.

    A flow collection needs a ``[`` or ``{``. A block collection starts on a
    new line, indented at least as far as its parent (a list under a key may
    sit at the key's column: two levels per column), or on the same line
    after ``- ``, ``? `` or ``: ``. So the depth is at most twice the longest
    run of spaces and indicators that opens a line, plus three, plus the
    brackets.
    """
    brackets = text.count("[") + text.count("{")
    if brackets > _C_SAFE_DEPTH:
        return brackets
    # Lines whose opening run could take the bound above MAX_DEPTH: usually none.
    run = (MAX_DEPTH - 3 - brackets) // 2  # the longest opening run within MAX_DEPTH
    if run >= 0 and len(text) - len(text.lstrip(_OPENERS)) <= run and \
            _opening_run(run).search(text) is None:
        return 2 * run + 3 + brackets
    longest = max(len(line) - len(line.lstrip(_OPENERS)) for line in text.split("\n"))
    return 2 * longest + 3 + brackets


_OPENERS = " \t?:-"


@functools.lru_cache(maxsize=128)
def _opening_run(length: int) -> re.Pattern[str]:
    """A line (not the first) opening with more than ``length`` spaces, tabs and
    indicators. A literal newline first: much faster than ``^`` with re.M."""
    return re.compile(rf"\n[ \t?:-]{{{length + 1},}}")


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return node.value
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _measure(root: Node, limit: int) -> None:
    """Walk the composed graph once, each shared node once; refuse a cycle, more
    than MAX_ALIASES aliases, nesting deeper than MAX_DEPTH, or an expanded size
    (values plus scalar characters, every alias counted in full) above ``limit``.

    Iterative (the depth is what is being checked), and scalars are measured
    without a frame of their own: most nodes are scalars.
    """
    done: dict[int, tuple[int, int]] = {}  # id(node) → (expanded size, height)
    on_path = {id(root)}
    stack: list[list] = [[root, _children(root), 0, 1, 0]]  # node, kids, next, size, height
    aliases = 0
    while stack:
        frame = stack[-1]
        node, kids, index = frame[0], frame[1], frame[2]
        if index == len(kids):  # every child measured: the node is
            stack.pop()
            on_path.discard(id(node))
            size, height = done[id(node)] = frame[3] + _own_size(node), frame[4] + 1
            if size > limit:
                raise _Refused(f"aliases expand this value to more than {limit:,} values "
                               "and characters; write it out, or use fewer aliases",
                               node.start_mark)
            if stack:
                parent = stack[-1]
                parent[3] += size
                parent[4] = max(parent[4], height)
            continue
        frame[2] = index + 1
        child = kids[index]
        measured = done.get(id(child))
        if measured is not None:  # a node seen before: an alias
            aliases += 1
            # An alias is its anchor's node, marked where the anchor is: blame the
            # collection that holds the alias instead.
            if aliases > MAX_ALIASES:
                raise _Refused(f"more than {MAX_ALIASES:,} aliases", node.start_mark)
        elif id(child) in on_path:
            raise _Refused("an alias refers to a value that contains it (a cycle)",
                           child.start_mark)
        elif isinstance(child, ScalarNode):
            measured = done[id(child)] = (1 + len(child.value), 1)
        else:
            if len(stack) >= MAX_DEPTH:
                raise _Refused(_too_deep(), child.start_mark)
            on_path.add(id(child))
            stack.append([child, _children(child), 0, 1, 0])
            continue
        if len(stack) + measured[1] > MAX_DEPTH:
            raise _Refused(_too_deep(), node.start_mark)
        frame[3] += measured[0]
        frame[4] = max(frame[4], measured[1])


def _own_size(node: Node) -> int:
    return len(node.value) if isinstance(node, ScalarNode) else 0


def _too_deep() -> str:
    return f"lists and mappings nested more than {MAX_DEPTH} deep"


def _bad_value(node: Node) -> str:
    """Why a scalar's value cannot be made, in a user's words."""
    tag = node.tag.rsplit(":", 1)[-1]
    text = str(node.value)
    digits = sum(char.isdigit() for char in text)
    if tag == "int" and digits > sys.get_int_max_str_digits() > 0:
        return (f"a number of {digits:,} digits is too long (at most "
                f"{sys.get_int_max_str_digits():,}); put it in quotes to keep it as text")
    shown = text if len(text) <= 40 else text[:40] + "…"
    return f'"{shown}" is not a valid !!{tag} value'


def _marked_error(exc: yaml.MarkedYAMLError, first_line: int) -> YamlError:
    mark = exc.problem_mark or exc.context_mark
    line = first_line + (mark.line if mark else 0)
    if isinstance(exc, _Refused):
        return YamlError(line, str(exc.problem))
    if exc.problem == "exceeded maximum nesting depth":  # libyaml's own limit (PyYAML 6.0.4)
        return YamlError(line, _too_deep())
    if exc.problem == "but found another document":
        return YamlError(line, "a second YAML document starts here (a '---' line): keep one")
    message = f"invalid YAML: {exc.problem or exc.context}"
    if exc.context and exc.context_mark and exc.problem_mark:
        start = first_line + exc.context_mark.line
        if start != line:
            message += f" ({exc.context} that starts on line {start})"
    return YamlError(line, message)


def _reader_error(text: str, exc: yaml.reader.ReaderError, first_line: int) -> YamlError:
    """A character YAML does not allow: libyaml gives a byte offset; find the character."""
    char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
    offset = text.find(char)
    line = first_line + (text.count("\n", 0, offset) if offset >= 0 else 0)
    code = ord(char) if len(char) == 1 else 0
    kind = "control character" if code < 0x20 or 0x7F <= code <= 0x9F else "character"
    return YamlError(line, f"{kind} U+{code:04X} is not allowed in YAML (delete it, or write "
                           f'it as "\\u{code:04X}" inside double quotes)')
