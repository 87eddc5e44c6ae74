"""Where a build may write: checks of the output folder made before anything is read.

Two rules, both checked before a build starts, so that breaking one costs nothing:

* The output folder is not the site folder and does not hold it, and it is not,
  does not hold and does not lie inside ``content/``, ``templates/``, ``static/``,
  ``themes/``, the theme in use or the cache (``.postil-cache/``): stale-file
  removal works in the output folder, and the cache's cleanup in the cache.
* ``postil build`` writes into an existing folder only if it is empty or Postil
  made it (it holds Postil's manifest, :data:`builder.manifest.MANIFEST`), unless
  told ``--force``: anything else is someone's own files, which a build would
  overwrite where a page has the same name (``index.html``, ``css/style.css``).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from builder.cache import CACHE_DIR
from builder.config import CONFIG_NAME, SiteConfig
from builder.manifest import MANIFEST
from builder.problems import Problem

# Postil's own names in an output folder: a first build killed half-way leaves them, and
# they make no folder anybody else's.
_OWN = re.compile(r"\.postil-(lock|staging-.*)\Z")
_OUTPUT_KEY = re.compile(r"^output_dir[ \t]*:", re.MULTILINE)


def source_overlap(config: SiteConfig, output: Path, theme: Path,
                   from_option: bool) -> list[Problem]:
    """A problem (on ``output_dir``'s line of ``site.yml``, or its line 1 for ``-o``) if
    ``output`` (absolute, resolved) is or holds the site folder, or is, holds or lies
    inside one of its sources or its cache; else []."""
    site = config.site_dir
    where = None
    if output == site:
        where = "is the site folder"
    elif site.is_relative_to(output):
        where = "holds the site folder"
    else:
        sources = [(config.content_path, f"{config.content_dir}/"),
                   (site / "templates", "templates/"), (site / "static", "static/"),
                   (site / "themes", "themes/"), (theme, f"the theme {theme}"),
                   (site / CACHE_DIR, f"{CACHE_DIR}/")]
        for folder, name in sources:
            folder = folder.resolve()
            name = f"the site's {name}" if name.endswith("/") else name
            if output == folder:
                where = f"is {name}"
            elif folder.is_relative_to(output):
                where = f"holds {name}"
            elif output.is_relative_to(folder):
                where = f"lies inside {name}"
            if where:
                break
    if where is None:
        return []
    given = "-o" if from_option else "output_dir"
    return [Problem(CONFIG_NAME, 1 if from_option else _output_line(site),
                    f"output folder {output} ({given}) {where}: a build there "
                    "would overwrite the site's own files; choose a folder such as public/")]


def foreign_folder(output: Path) -> str | None:
    """Why Postil must not write into ``output`` without ``--force``, or None if it may:
    it does not exist, is not a folder (the writer says so), is empty but for Postil's
    own leftovers, or holds Postil's manifest (a regular file, never a link)."""
    try:
        if os.path.lexists(output / MANIFEST) and \
                stat.S_ISREG(os.lstat(output / MANIFEST).st_mode):
            return None
        with os.scandir(output) as entries:
            others = sorted(entry.name for entry in entries if not _OWN.match(entry.name))
    except OSError:  # missing, not a folder, unreadable: left to the writer to report
        return None
    if not others:
        return None
    shown = ", ".join(others[:3]) + (", …" if len(others) > 3 else "")
    return (f"output folder {output} holds files Postil did not write ({shown}) and no "
            f"{MANIFEST}: a build would overwrite those of the same name as its own. "
            "Choose an empty or new folder, or build with --force to write into it anyway "
            "(Postil then removes only files it wrote)")


def _output_line(site: Path) -> int:
    try:
        text = (site / CONFIG_NAME).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return 1
    found = _OUTPUT_KEY.search(text)
    return text.count("\n", 0, found.start()) + 1 if found else 1
