"""``postil build --explain URL``: why a page was rendered again, or that it was reused.

A page is rendered again when its signature changed (:mod:`builder.outputs`):
its templates, the code or configuration, or something in its context. This
module names those inputs by comparing them with what the last recorded build
read (:func:`builder.state.sources_of`): each article or entity record the
page's context reaches stands for its source file, so an edit is named by path.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from builder.model import ArticleRecord, EntityRecord, Page

#: What :func:`explain` compares: source → record key, plus the versions of the
#: templates and of the settings under the keys below (never source paths: a path
#: always holds a "/" or ends in ".md").
TEMPLATES_KEY, SETTINGS_KEY = "templates", "settings"


def reached_records(value: Any) -> dict[str, str]:
    """Source path → record key of every article and entity record in ``value`` (a
    page's context: dataclasses, lists, tuples, dicts), each object visited once."""
    found: dict[str, str] = {}
    seen: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if id(item) in seen or item is None or isinstance(item, (str, bytes, int, float)):
            continue
        seen.add(id(item))
        if isinstance(item, (ArticleRecord, EntityRecord)):
            found[item.source] = item.key
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
    return found


def explain(page: Page, rendered: bool, before: dict[str, str] | None,
            now: dict[str, str], reads_site: bool) -> list[str]:
    """Lines saying why ``page`` was rendered again (``rendered``) or that it was reused.

    ``before``/``now``: source → record key (and the two version keys) as the last
    recorded build and this one read them; ``before`` is None when no build was recorded.
    """
    if not rendered:
        return [f"{page.url}: reused (its signature is unchanged: none of its inputs changed)"]
    if before is None:
        return [f"{page.url}: rendered: no earlier build of this output is recorded"]
    lines = [f"{page.url}: rendered again because:"]
    if before.get(TEMPLATES_KEY) != now.get(TEMPLATES_KEY):
        lines.append("  a template changed (the theme's or the site's templates/)")
    elif before.get(SETTINGS_KEY) != now.get(SETTINGS_KEY):
        lines.append("  site.yml, a command-line option or Postil's code changed")
    for source, key in sorted(reached_records(page.context).items()):
        if source not in before:
            lines.append(f"  {source} is new to the site")
        elif before[source] != key:
            lines.append(f"  {source} changed")
    if reads_site:
        lines.append("  its templates read the whole site (the global `site`), and the site "
                     "changed")
    if len(lines) == 1:
        removed = sorted(s for s in before.keys() - now.keys()
                         if s not in (TEMPLATES_KEY, SETTINGS_KEY))
        lines.append("  what it lists changed (which articles or entities, their order, "
                     "counts or addresses)" + (f"; removed since: {', '.join(removed[:5])}"
                                               if removed else ""))
    return lines


def find_page(pages: list[Page], wanted: str, base_url: str, base_path: str) -> Page | None:
    """The page ``wanted`` names: a site path (``/tags/x/``), the same under the base path
    or the full URL, or its output file (``tags/x/index.html``)."""
    for prefix in (base_url, base_path):
        if wanted.startswith(prefix):
            wanted = "/" + wanted[len(prefix):]
            break
    wanted = "/" + wanted.lstrip("/")
    if wanted.endswith("/index.html"):
        wanted = wanted[:-len("index.html")]
    by_url = {page.url: page for page in pages}
    return by_url.get(wanted) or by_url.get(wanted.rstrip("/") + "/")
