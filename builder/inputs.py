"""What a build reads besides Postil's own code: the roots of its input snapshot."""

from __future__ import annotations

from pathlib import Path

from builder.config import CONFIG_NAME, SiteConfig
from builder.filedates import date_inputs
from builder.snapshots import SOURCES_DIR


def input_roots(config: SiteConfig, theme: Path) -> list[str]:
    """Every file or folder a build of this site reads (absolute paths), besides
    Postil's own code: see :func:`builder.state.snapshot`."""
    site = config.site_dir
    return [str(p) for p in (site / CONFIG_NAME, config.content_path, site / "templates",
                             site / "static", site / "themes" / config.theme, theme,
                             site / SOURCES_DIR)] + \
        date_inputs(config.content_path.parent)  # commits date undated files
