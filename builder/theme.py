"""Themes: folders of Jinja2 templates and static files.

A site's own ``templates/`` and ``static/`` override the theme file by file.
The default theme ships inside the package (``builder/themes`` is the
repository's ``themes/`` folder).
"""

from __future__ import annotations

import os
from pathlib import Path

from builder.config import SiteConfig

BUILTIN_THEMES = Path(__file__).resolve().parent / "themes"


def find_theme(config: SiteConfig) -> Path | None:
    for root in (config.site_dir / "themes", BUILTIN_THEMES):
        candidate = root / config.theme
        if (candidate / "templates").is_dir():
            return candidate
    return None


def template_dirs(config: SiteConfig, theme: Path) -> list[Path]:
    own = config.site_dir / "templates"
    return [own, theme / "templates"] if own.is_dir() else [theme / "templates"]


def static_files(config: SiteConfig, theme: Path) -> dict[str, Path]:
    """Output path → source file; the site's ``static/`` wins over the theme's."""
    files: dict[str, Path] = {}
    for root in (theme / "static", config.site_dir / "static"):
        if not root.is_dir():
            continue
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in names:
                if name.startswith(".") or name.endswith("~"):
                    continue
                path = Path(folder) / name
                files[path.relative_to(root).as_posix()] = path
    return files
