"""Find internal links and asset references in built pages that lead nowhere.

Works on the files in memory (output path → bytes), so it can run before
anything is written. Links are resolved as a browser would from each page's
URL; a root-relative link must start with the site's base path.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

_LINK_ATTRS = {"a": "href", "link": "href", "img": "src", "script": "src", "source": "src",
               "iframe": "src", "video": "src", "audio": "src"}


#: what :func:`resolve` returns for a link that climbs out of the site
OUTSIDE = "\0outside"


@dataclass(frozen=True)
class BrokenLink:
    page: str  # output file of the page, e.g. "articles/x/index.html"
    target: str  # the href as written
    line: int  # line in the page

    def __str__(self) -> str:
        return f"{self.page} → {self.target}"


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, int]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        attr = _LINK_ATTRS.get(tag)
        if attr and values.get(attr) is not None:
            if tag == "link" and values.get("rel") in ("canonical", "alternate") and \
                    "://" in (values[attr] or ""):
                return
            self.links.append((values[attr] or "", self.getpos()[0]))


def page_url(output_file: str) -> str:
    """``articles/x/index.html`` → ``/articles/x/``; ``404.html`` → ``/404.html``."""
    if output_file == "index.html" or output_file.endswith("/index.html"):
        return "/" + output_file[: -len("index.html")]
    return "/" + output_file


def find_broken(files: dict[str, bytes], base_path: str = "/") -> list[BrokenLink]:
    """Every link from an HTML page to a file of the site that is not in ``files``."""
    names = set(files)
    broken = []
    for name, data in sorted(files.items()):
        if not name.endswith(".html"):
            continue
        collector = _Collector()
        collector.feed(data.decode("utf-8", "replace"))
        for href, line in collector.links:
            target = resolve(page_url(name), href, base_path)
            if target is None:
                continue
            if not _exists(target, names):
                broken.append(BrokenLink(name, href, line))
    return broken


def resolve(from_url: str, href: str, base_path: str) -> str | None:
    """The output file an internal ``href`` points at, or None for external links.

    Returns :data:`OUTSIDE` for a link that leaves the site.
    """
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith("#") or not (parts.path or parts.query):
        return None
    path = unquote(parts.path)
    if path.startswith("/"):
        if not path.startswith(base_path):
            return OUTSIDE
        site_path = "/" + path[len(base_path):]
    else:
        from_dir = from_url if from_url.endswith("/") else posixpath.dirname(from_url) + "/"
        # Resolve under a stand-in root to notice links that climb above the site.
        joined = posixpath.normpath(posixpath.join("/_site" + from_dir, path))
        if not (joined + "/").startswith("/_site/"):
            return OUTSIDE
        site_path = joined[len("/_site"):] or "/"
        if path.endswith("/") and not site_path.endswith("/"):
            site_path += "/"
    return site_path.lstrip("/")


def _exists(target: str, names: set[str]) -> bool:
    if target == OUTSIDE:
        return False
    if target in names:
        return True
    folder = target.rstrip("/")
    return (f"{folder}/index.html" if folder else "index.html") in names
