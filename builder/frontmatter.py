"""Split a Markdown file into front matter and body, keeping line numbers.

Three forms, told apart by the file's first line:

- ``---``: YAML (:mod:`builder.yamlsafe`), up to a ``---`` or ``...`` line;
- ``+++``: TOML (Zola, Hugo), up to a ``+++`` line, read by the standard
  library's :mod:`tomllib`;
- ``Title: …``: Pelican's header, ``Key: value`` lines up to the first blank
  line (keys in any case; ``Tags`` and ``Authors`` separated by commas).

Errors carry the line inside the *file*, not inside the front matter, so an
editor can jump straight to them.
"""

from __future__ import annotations

import re
import tomllib
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
    warnings: list[tuple[int, str]] = field(default_factory=list)  # (file line, message)

    def line(self, key: str) -> int:
        return self.key_lines.get(key, 1)


# `title: x` on line 1 without the '---' above it: front matter forgotten, most likely.
_LOOKS_LIKE_KEY = re.compile(r"[A-Za-z_][\w-]*:[ \t]+\S[^\n]*\n(?:[A-Za-z_][\w-]*:|---)")


# Hugo's JSON front matter: `{` alone on line 1, then `"key":`.
_JSON_FRONT_MATTER = re.compile(r'\{[ \t]*\r?\n[ \t]*"[^"\n]+"[ \t]*:')


def split(text: str) -> Document:
    """Split ``text`` into front matter and body. Raises :class:`YamlError`.

    Front matter is YAML between ``---`` lines, TOML between ``+++`` lines, or a Pelican
    header (line 1 starts with ``Title:``). A text that starts otherwise has none: it
    is all body (with a warning if line 1 looks like front matter missing its ``---``).

    Lines end with LF or CRLF. A file with old Mac line endings (CR alone) is
    refused by name: YAML and Markdown would read it, but every line number
    reported for it (counted in LFs, as editors and the rest of Postil do)
    would be 1.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    fence = text[:3]
    if fence in ("---", "+++") and text[3:4] == "\r" and text[4:5] != "\n":
        raise YamlError(1, "the file has old Mac line endings (CR alone): save it with "
                           "LF (Unix) or CRLF (Windows) line endings")
    if text.startswith("Title:"):
        return _pelican(text)
    if fence not in ("---", "+++") or text[3:4] != "\n" and text[3:5] != "\r\n":
        # A note with no front matter (most of an Obsidian vault): its title comes from its
        # file name, its date from the name, git or the file (builder.reader).
        if _JSON_FRONT_MATTER.match(text):
            raise YamlError(1, "JSON front matter is not read: write it as YAML between "
                               "'---' lines (or TOML between '+++' lines)")
        warnings = []
        if _LOOKS_LIKE_KEY.match(text):
            warnings.append((1, "line 1 looks like front matter but has no '---' line above "
                                "it: it is read as text (put '---' lines around front matter)"))
        return Document(meta={}, body=text, body_line=1, warnings=warnings)
    # LF alone ends a line, as for every line number Postil reports; not
    # str.splitlines, which also splits at form feeds and U+2028 in a value.
    lines = text.split("\n")
    ends = ("---", "...") if fence == "---" else ("+++",)
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ends:
            break
    else:
        raise YamlError(1, f"front matter is not closed: add a '{fence}' line after it")
    body = "\n".join(lines[index + 1 :])
    if fence == "+++":
        value, key_lines = _toml(lines[1:index], first_line=2)
        return Document(meta=value, body=body, body_line=index + 2, key_lines=key_lines)
    warnings: list[tuple[int, str]] = []
    value, key_lines = load_yaml("\n".join(lines[1:index]) + "\n", first_line=2,
                                 warnings=warnings)
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise YamlError(2, "front matter must be a mapping of keys to values")
    return Document(meta=value, body=body, body_line=index + 2, key_lines=key_lines,
                    warnings=warnings)


#: a TOML key (bare or quoted, perhaps dotted) at the start of a line, or a table header
_TOML_KEY = re.compile(r"""[ \t]*(?:\[\[?[ \t]*)?([A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')""")
_TOML_PLACE = re.compile(r"\(at line (\d+), column \d+\)$|\(at end of document\)$")


def _toml(lines: list[str], first_line: int) -> tuple[dict[str, Any], dict[str, int]]:
    """TOML front matter (``lines`` between the ``+++`` lines) and the file line of
    each top-level key. Raises :class:`YamlError` at the line of a TOML error.

    Zola files tags and categories under ``[taxonomies]``: they are read as
    top-level ``tags`` and ``categories`` unless those are given too."""
    lines = [line.removesuffix("\r") for line in lines]  # CRLF: tomllib wants "\r\n" whole
    text = "\n".join(lines)
    # The line of each key that starts a line: top-level keys before the first table,
    # each table's name at its header (Zola's [taxonomies], [extra]), and the keys of
    # [taxonomies].
    key_lines: dict[str, int] = {}
    taxonomy_lines: dict[str, int] = {}
    table = ""
    for number, line in enumerate(lines):
        stripped = line.lstrip()
        match = _TOML_KEY.match(line)
        if not match or stripped.startswith("#"):
            continue
        key = match.group(1).strip("\"'")
        if stripped.startswith("["):
            table = key
            key_lines.setdefault(key, first_line + number)
        elif not table:
            key_lines.setdefault(key, first_line + number)
        elif table == "taxonomies":
            taxonomy_lines.setdefault(key, first_line + number)
    try:
        value = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        place = _TOML_PLACE.search(message)
        line = first_line + (int(place.group(1)) - 1 if place and place.group(1) else
                             max(len(lines) - 1, 0))
        reason = message[:place.start()].strip() if place else message
        if reason.startswith(("Cannot overwrite a value", "Cannot declare")):
            match = _TOML_KEY.match(lines[line - first_line]) if line - first_line < \
                len(lines) else None
            key = match.group(1).strip("\"'") if match else ""
            if key in key_lines and key_lines[key] != line:
                raise YamlError(line, f'duplicate key "{key}" on lines {key_lines[key]} '
                                      f"and {line}: keep one") from None
        raise YamlError(line, f"invalid TOML: {reason[:1].lower()}{reason[1:]}") from None
    taxonomies = value.get("taxonomies")
    if isinstance(taxonomies, dict):
        for name in ("tags", "categories"):
            if name in taxonomies and name not in value:
                value[name] = taxonomies[name]
                key_lines[name] = taxonomy_lines.get(name, key_lines.get("taxonomies", 1))
    return value, key_lines


#: Pelican's metadata keys (any case) → Postil's (or main's synonyms: ``modified``)
PELICAN_KEYS = {"title": "title", "date": "date", "modified": "modified", "tags": "tags",
                "category": "category", "slug": "slug", "author": "author",
                "authors": "authors", "summary": "summary", "status": "status",
                "lang": "lang"}
_PELICAN_LINE = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)[ \t]*:(.*)")


def _pelican(text: str) -> Document:
    """Pelican's Markdown header: ``Key: value`` lines from line 1 up to the first blank
    line (an indented line continues the value before it; a line of another form ends
    the header and starts the body, as Python-Markdown's meta extension reads it).
    ``Tags`` and ``Authors`` are lists separated by commas; other values are text.
    A key given twice is an error naming both lines."""
    lines = text.split("\n")
    parts: dict[str, list[str]] = {}  # key → its value's lines (joined once: linear)
    key_lines: dict[str, int] = {}
    index, last = 0, ""
    while index < len(lines):
        line = lines[index].rstrip("\r")
        if not line.strip():
            index += 1  # the blank line ends the header
            break
        match = _PELICAN_LINE.fullmatch(line)
        if match:
            name = match.group(1).lower()
            key = PELICAN_KEYS.get(name, name)
            if key in parts:
                raise YamlError(index + 1, f'duplicate key "{match.group(1)}" on lines '
                                           f"{key_lines[key]} and {index + 1}: keep one")
            parts[key], key_lines[key], last = [match.group(2).strip()], index + 1, key
        elif last and line[:1] in (" ", "\t"):
            parts[last].append(line.strip())
        else:
            break
        index += 1
    meta: dict[str, Any] = {key: " ".join(p for p in value if p) for key, value in parts.items()}
    for key in ("tags", "authors"):
        if key in meta:
            meta[key] = [item.strip() for item in meta[key].split(",") if item.strip()]
    return Document(meta=meta, body="\n".join(lines[index:]), body_line=index + 1,
                    key_lines=key_lines)


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
                                        for line, message in doc.warnings + found]

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
