"""Split a Markdown file into YAML front matter and body, keeping line numbers.

Errors carry the line inside the *file*, not inside the front matter, so an
editor can jump straight to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from builder.problems import Problem, line_of_offset
from builder.sanitize import clean_meta

try:  # the C loader is several times faster; fall back where it is missing
    _SafeLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _SafeLoader = yaml.SafeLoader


class _BaseLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """Safe loading, but an impossible date (``2024-02-30``) stays a string.

    PyYAML raises a bare ValueError with no position for those; as a string
    the date check reports it with its key's line.
    """

    def construct_yaml_timestamp(self, node):  # noqa: ANN001, ANN201
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_BaseLoader.add_constructor("tag:yaml.org,2002:timestamp", _BaseLoader.construct_yaml_timestamp)


class YamlError(Exception):
    def __init__(self, line: int, message: str):
        self.line = line
        self.message = message
        super().__init__(f"{line}: {message}")


@dataclass
class Document:
    meta: dict[str, Any]
    body: str
    body_line: int  # 1-based line of the body's first line in the file
    key_lines: dict[str, int] = field(default_factory=dict)  # key → 1-based file line

    def line(self, key: str) -> int:
        return self.key_lines.get(key, 1)


def load_yaml(text: str, first_line: int = 1) -> tuple[Any, dict[str, int]]:
    """Parse YAML; return the value and the file line of each top-level key.

    ``first_line`` is the file line on which ``text`` starts.
    """
    loader = _BaseLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        value = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + (mark.line if mark else 0)
        message = f"invalid YAML: {exc.problem or exc.context}"
        if exc.context and exc.context_mark and exc.problem_mark:
            start = first_line + exc.context_mark.line
            if start != line:
                message += f" ({exc.context} that starts on line {start})"
        raise YamlError(line, message) from None
    except yaml.YAMLError as exc:
        raise YamlError(first_line, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    key_lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            if isinstance(key_node.value, str):
                key_lines.setdefault(key_node.value, first_line + key_node.start_mark.line)
    return value, key_lines


def split(text: str) -> Document:
    """Split ``text`` into front matter and body. Raises :class:`YamlError`."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not (text.startswith("---\n") or text.startswith("---\r\n")):
        raise YamlError(1, "missing front matter: the file must start with a '---' line")
    lines = text.splitlines(keepends=True)
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            break
    else:
        raise YamlError(1, "front matter is not closed: add a '---' line after it")
    yaml_text = "".join(lines[1:index])
    value, key_lines = load_yaml(yaml_text, first_line=2)
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise YamlError(2, "front matter must be a mapping of keys to values")
    body = "".join(lines[index + 1 :])
    return Document(meta=value, body=body, body_line=index + 2, key_lines=key_lines)


def load(path: str, raw: bytes) -> tuple[Document | None, list[Problem]]:
    """Decode and split a Markdown file; a problem (with its line) instead of an exception."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(path, line_of_offset(raw, exc.start),
                              f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); "
                              "save the file as UTF-8")]
    try:
        return split(text), []
    except YamlError as exc:
        return None, [Problem(path, exc.line, exc.message)]


class Fields:
    """Typed access to front matter values; a value of the wrong shape becomes a problem."""

    def __init__(self, path: str, doc: Document):
        self.path = path
        # Characters HTML and XML forbid go here, once, for every output (a warning each).
        doc.meta, found = clean_meta(doc.meta, doc.line)
        self.meta = doc.meta
        self.doc = doc
        self.problems: list[Problem] = [Problem(path, line, message, warning=True)
                                        for line, message in found]

    def problem(self, key: str, message: str, warning: bool = False) -> None:
        self.problems.append(Problem(self.path, self.doc.line(key), message, warning))

    def text(self, key: str) -> str:
        value = self.meta.get(key)
        if value is None:
            return ""
        if isinstance(value, (dict, list)):
            self.problem(key, f"{key} must be text, not a {type(value).__name__}")
            return ""
        return str(value).strip()

    def names(self, key: str, split_commas: bool = True) -> list[str]:
        """A list of names; a single string is one name, or several separated by commas."""
        value = self.meta.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            value = value.split(",") if split_commas else [value]
        if not isinstance(value, list):
            self.problem(key, f"{key} must be a list (or a comma-separated string)")
            return []
        items = []
        for item in value:
            if isinstance(item, (dict, list)) or item is None:
                self.problem(key, f"each item of {key} must be text")
                continue
            items.append(str(item).strip())
        return [item for item in items if item]
