"""Split a Markdown file into YAML front matter and body, keeping line numbers.

Errors carry the line inside the *file*, not inside the front matter, so an
editor can jump straight to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from builder.problems import Problem, line_of_offset
from builder.sanitize import clean_meta
from builder.yamlsafe import YamlError, load_yaml

__all__ = ["Document", "Fields", "YamlError", "load", "load_yaml", "split"]


@dataclass
class Document:
    meta: dict[str, Any]
    body: str
    body_line: int  # 1-based line of the body's first line in the file
    key_lines: dict[str, int] = field(default_factory=dict)  # key → 1-based file line

    def line(self, key: str) -> int:
        return self.key_lines.get(key, 1)


def split(text: str) -> Document:
    """Split ``text`` into front matter and body. Raises :class:`YamlError`.

    Lines end with LF or CRLF. A file with old Mac line endings (CR alone) is
    refused by name: YAML and Markdown would read it, but every line number
    reported for it (counted in LFs, as editors and the rest of Postil do)
    would be 1.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    if not (text.startswith("---\n") or text.startswith("---\r\n")):
        if text.startswith("---\r"):
            raise YamlError(1, "the file has old Mac line endings (CR alone): save it with "
                               "LF (Unix) or CRLF (Windows) line endings")
        raise YamlError(1, "missing front matter: the file must start with a '---' line")
    # LF alone ends a line, as for every line number Postil reports; not
    # str.splitlines, which also splits at form feeds and U+2028 in a value.
    lines = text.split("\n")
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            break
    else:
        raise YamlError(1, "front matter is not closed: add a '---' line after it")
    yaml_text = "\n".join(lines[1:index]) + "\n"
    value, key_lines = load_yaml(yaml_text, first_line=2)
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise YamlError(2, "front matter must be a mapping of keys to values")
    body = "\n".join(lines[index + 1 :])
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
