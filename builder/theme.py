"""Themes: folders of Jinja2 templates and static files.

A site's own ``templates/`` and ``static/`` override the theme file by file.
The default theme ships inside the package (``builder/themes`` is the
repository's ``themes/`` folder).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from builder.config import SiteConfig
from builder.problems import Problem

BUILTIN_THEMES = Path(__file__).resolve().parent / "themes"


def find_theme(config: SiteConfig) -> Path | None:
    for root in (config.site_dir / "themes", BUILTIN_THEMES):
        candidate = root / config.theme
        if (candidate / "templates").is_dir():
            return candidate
    return None


# A backslash is a "/" to browsers (WHATWG URL), control characters are dropped from or
# refused in URLs, and a name that is not UTF-8 has no URL: no host serves such a file.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_UNSERVABLE = re.compile(r"[\\\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def template_dirs(config: SiteConfig, theme: Path,
                  problems: list[Problem] | None = None) -> list[Path]:
    """The template folders, the site's own first. With ``problems``, a warning is added
    to it for each special file (FIFO, socket, device) in them: Jinja2 never opens one
    (its loader takes only regular files), so it is as if missing; and for each block of
    a site's template that the templates it extends do not have (never shown)."""
    from builder.template_checks import block_problems  # (it imports jinja2)

    own = config.site_dir / "templates"
    folders = [own, theme / "templates"] if own.is_dir() else [theme / "templates"]
    if problems is not None:
        for folder in folders:
            for path, kind in _special_files(folder):
                problems.append(_skipped(config, path, f"{kind}, not a regular file"))
        problems += block_problems(folders, lambda path: _shown(config, path),
                                   skip=BUILTIN_THEMES)
    return folders


def static_files(config: SiteConfig, theme: Path,
                 problems: list[Problem] | None = None) -> dict[str, Path]:
    """Output path → source file; the site's ``static/`` wins over the theme's.

    Left out, with a warning added to ``problems`` if given: special files (FIFO, socket,
    device: reading one could wait for ever), files no web host can serve by their
    name (a backslash, a control character, not UTF-8), and symbolic links to files
    outside the site folder (or, for the theme's, outside the theme).
    """
    from builder.sources import OUTSIDE, leaves, special_kind  # (it imports config readers)

    files: dict[str, Path] = {}
    for root, within in ((theme / "static", theme), (config.site_dir / "static",
                                                      config.site_dir)):
        if not root.is_dir():
            continue
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                if name.startswith(".") or name.endswith("~"):
                    continue
                path = Path(folder) / name
                output = path.relative_to(root).as_posix()
                bad = _UNSERVABLE.search(output)
                try:
                    kind = special_kind(path.stat().st_mode)
                    kind = kind and f"{kind}, not a regular file"
                except OSError:  # a dangling link: left to the build to report
                    kind = None
                if kind is None and leaves(path, within):  # never publish what lies outside
                    kind = OUTSIDE
                if bad is None and kind is None:
                    files[output] = path
                elif problems is not None:
                    problems.append(_skipped(config, path, kind or _unservable(bad.group())))
    return files


def _unservable(char: str) -> str:
    what = ("a backslash, which browsers read as /" if char == "\\" else
            "bytes that are not UTF-8" if "\ud800" <= char <= "\udfff" else
            "a control character")
    return f"no web host can serve a file of this name: it has {what}"


def _special_files(folder: Path) -> list[tuple[Path, str]]:
    """(path, kind) of every special file under ``folder`` (links followed to their file)."""
    from builder.sources import special_kind

    found = []
    for parent, _, names in os.walk(folder):
        for name in names:
            path = Path(parent) / name
            try:
                kind = special_kind(path.stat().st_mode)
            except OSError:
                continue
            if kind is not None:
                found.append((path, kind))
    return found


def _skipped(config: SiteConfig, path: Path, why: str) -> Problem:
    return Problem(_shown(config, path), 1, f"skipped: {why}", warning=True)


def _shown(config: SiteConfig, path: Path) -> str:
    """``path`` as a problem names it: relative to the site folder where inside it."""
    try:
        shown = path.relative_to(config.site_dir).as_posix()
    except ValueError:  # a built-in theme's file
        shown = str(path)
    # Printable, always: bytes that are not UTF-8 and control characters as \\xNN.
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}",
                        os.fsencode(shown).decode("utf-8", "backslashreplace"))
