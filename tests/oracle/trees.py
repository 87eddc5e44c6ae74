"""Output folders read, compared and checked for broken links."""

from __future__ import annotations

import difflib
import html
import os
import posixpath
import re
from pathlib import Path

#: the output folder's own files, never compared (contract 1 of issue 8)
MANIFEST = ".postil-manifest.json"
LOCK = ".postil-lock"
IGNORED = (MANIFEST, LOCK)
#: the one-line message of a build refused by the output folder's lock
BUSY = "in use by another postil build"
#: exit status of a build killed by ``POSTIL_FAULT=crash-…`` (contract 1)
CRASH_STATUS = 70
FAULTS = ("crash-write", "crash-rename", "enospc")


# --------------------------------------------------------------------------
# Reading and comparing output folders
# --------------------------------------------------------------------------


def _walk(root: Path) -> list[tuple[str, Path]]:
    """Every file under ``root`` but the manifest and the lock, in a stable order."""
    found: list[tuple[str, Path]] = []
    if not root.is_dir():
        return found
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            if rel not in IGNORED:
                found.append((rel, path))
    return found


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (path relative to it → bytes), but the manifest and lock."""
    return {rel: path.read_bytes() for rel, path in _walk(root)}


def mtimes(root: Path) -> dict[str, int]:
    return {rel: path.stat().st_mtime_ns for rel, path in _walk(root)}


def folders(root: Path) -> list[str]:
    """Every folder under ``root`` (relative), sorted."""
    if not root.is_dir():
        return []
    return sorted(Path(folder).relative_to(root).as_posix() for folder, _, _ in os.walk(root)
                  if Path(folder) != root)


def empty_folders(root: Path) -> list[str]:
    """Folders under ``root`` with no file at any depth (leftovers of a removal)."""
    holds: dict[str, bool] = {}
    for folder, dirs, names in os.walk(root, topdown=False):
        rel = Path(folder).relative_to(root).as_posix()
        holds[rel] = bool(names) or any(holds.get(d if rel == "." else f"{rel}/{d}", False)
                                        for d in dirs)
    return sorted(rel for rel, full in holds.items() if rel != "." and not full)


def visible(files: dict[str, bytes]) -> dict[str, bytes]:
    """The files outside hidden top-level entries (where a killed build may leave staging)."""
    return {name: data for name, data in files.items() if not name.startswith(".")}


def hidden_entries(files: dict[str, bytes]) -> list[str]:
    return sorted({name.split("/", 1)[0] for name in files if name.startswith(".")})


def compare(expected: dict[str, bytes], actual: dict[str, bytes], label: str,
            expected_label: str = "cold build") -> list[str]:
    """Every difference between two sets of files, with a short diff of the first one."""
    missing = [name for name in expected if name not in actual]
    extra = [name for name in actual if name not in expected]
    differ = [name for name in expected if name in actual and expected[name] != actual[name]]
    if not (missing or extra or differ):
        return []
    lines = [f"{label} differs from the {expected_label}: {len(differ)} files differ, "
             f"{len(missing)} missing, {len(extra)} extra"]
    for title, names in (("differ", differ), ("missing", missing), ("extra", extra)):
        if names:
            shown = ", ".join(sorted(names)[:12]) + (" …" if len(names) > 12 else "")
            lines.append(f"    {title}: {shown}")
    if differ:
        name = sorted(differ)[0]
        lines += ["    " + line for line in short_diff(expected[name], actual[name], name,
                                                         expected_label, label)]
    return ["\n".join(lines)]


def short_diff(old: bytes, new: bytes, name: str, old_label: str, new_label: str,
               limit: int = 24) -> list[str]:
    """The first lines of a unified diff of two files; long lines are cut to a window around
    the first differing character."""
    old_lines = old.decode("utf-8", "replace").splitlines()
    new_lines = new.decode("utf-8", "replace").splitlines()
    column = 0
    for a, b in zip(old_lines, new_lines, strict=False):
        if a != b:
            column = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                          min(len(a), len(b)))
            break
    start = max(0, column - 60)

    def clip(line: str) -> str:
        if len(line) <= 150:
            return line
        head = line[0] if line[:1] in "+- " else ""
        body = line[len(head):]
        return head + ("…" if start else "") + body[start:start + 140] + \
            ("…" if len(body) > start + 140 else "")

    diff = difflib.unified_diff(old_lines, new_lines, f"{old_label}/{name}",
                                f"{new_label}/{name}", n=1, lineterm="")
    lines = [clip(line) for line in diff]
    return lines[:limit] + ([f"... ({len(lines) - limit} more diff lines)"]
                            if len(lines) > limit else [])


_LINK = re.compile(r"""<(a|link|img|script)\b[^>]*?\s(?:href|src)="([^"]*)\"""")


def broken_links(files: dict[str, bytes], base_path: str = "/") -> list[str]:
    """Internal links of HTML pages that lead to no file of the site (as a browser resolves
    them; a folder link opens its ``index.html``), and unresolved ``postil-ref:`` targets."""
    broken: list[str] = []
    for name, data in files.items():
        text = data.decode("utf-8", "replace")
        if "postil-ref:" in text:
            broken.append(f"{name}: an unresolved postil-ref: placeholder reached the output")
        if not name.endswith(".html"):
            continue
        for _tag, raw in _LINK.findall(text):
            href = html.unescape(raw)
            if not href or href.startswith(("#", "//", "mailto:", "data:", "javascript:")) or \
                    re.match(r"[a-z][a-z0-9+.-]*://", href):
                continue
            path = href.split("#", 1)[0].split("?", 1)[0]
            if not path:
                continue
            if path.startswith("/"):
                if not path.startswith(base_path):
                    broken.append(f"{name} -> {href}")
                    continue
                target = path[len(base_path):]
            else:
                target = posixpath.normpath(posixpath.join(posixpath.dirname(name), path))
                if path.endswith("/") and target != ".":
                    target += "/"
            if target in (".", ""):
                target = "index.html"
            elif target.endswith("/"):
                target += "index.html"
            if target.startswith("../") or (target not in files and
                                            f"{target}/index.html" not in files):
                broken.append(f"{name} -> {href}")
    return broken
