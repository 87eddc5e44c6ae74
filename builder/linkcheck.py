"""Find internal links and asset references in built pages that lead nowhere.

Works on the files in memory (output path → bytes), so it can run before
anything is written. Links are resolved as a browser would from each page's
URL; a root-relative link must start with the site's base path.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from builder.urls import output_file

_LINK_ATTRS = {"a": "href", "link": "href", "img": "src", "script": "src", "source": "src",
               "iframe": "src", "video": "src", "audio": "src", "embed": "src", "track": "src"}
# Asset references beyond the main attribute: responsive images and video posters.
_SRCSET_TAGS = frozenset({"img", "source"})
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]*)\1\s*\)|@import\s+(['"])([^'"]+)\3""")


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
        if tag == "video" and values.get("poster"):
            self.links.append((values["poster"] or "", self.getpos()[0]))
        if tag in _SRCSET_TAGS and values.get("srcset"):
            for candidate in (values["srcset"] or "").split(","):
                if candidate.strip():
                    self.links.append((candidate.split()[0], self.getpos()[0]))


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
        if name.endswith(".html"):
            collector = _Collector()
            collector.feed(data.decode("utf-8", "replace"))
            links = collector.links
        elif name.endswith(".css"):
            links = _css_links(data.decode("utf-8", "replace"))
        else:
            continue
        for href, line in links:
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


def _css_links(css: str) -> list[tuple[str, int]]:
    """``url(...)`` and ``@import`` references in a stylesheet, with their lines."""
    found = []
    for match in _CSS_URL.finditer(css):
        href = (match[2] if match[2] is not None else match[4]).strip()
        if href and not href.startswith("data:"):
            found.append((href, css.count("\n", 0, match.start()) + 1))
    return found


@dataclass(frozen=True)
class LocatedLink:
    """A broken link and, when it came from Markdown, where: ``content/x.md:12``."""

    link: BrokenLink
    source: str | None = None

    def __str__(self) -> str:
        return f"{self.link} ({self.source})" if self.source else str(self.link)


def locate_sources(broken: list[BrokenLink], pages: list, site_dir: Path,
                   base_path: str = "/") -> list[LocatedLink]:
    """Map each broken link on a page made from a Markdown file back to its line there.

    The rendered href is not always the text written (a root-relative link
    is made relative to its page, markdown-it percent-encodes), so the search tries each
    form and prefers a match in link syntax (``](x``, ``]: x``, ``="x"``) to
    plain text. A link not found in the source came from a template.
    """
    sources = {output_file(page.url): page.source for page in pages if page.source}
    texts: dict[str, list[str] | None] = {}
    seen: dict[tuple[str, str], int] = {}
    located = []
    for link in broken:
        source = sources.get(link.page)
        if source is None:
            located.append(LocatedLink(link))
            continue
        if source not in texts:
            try:
                texts[source] = (site_dir / source).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                texts[source] = None
        # A root-relative link in Markdown is rendered relative to its page.
        target = resolve(page_url(link.page), link.target, base_path)
        site_path = "/" + target if target and target != OUTSIDE else None
        lines = _source_lines(texts[source] or [], link.target, base_path, site_path)
        # The same href twice on a page: the second report points at the second use.
        nth = seen.get((link.page, link.target), 0)
        seen[(link.page, link.target)] = nth + 1
        where = f"{source}:{lines[min(nth, len(lines) - 1)]}" if lines else None
        located.append(LocatedLink(link, where))
    return located


def _source_lines(lines: list[str], href: str, base_path: str,
                  site_path: str | None = None) -> list[int]:
    forms = {href, unquote(href)} | ({site_path, quote(site_path)} if site_path else set())
    if base_path != "/" and href.startswith(base_path):
        forms |= {"/" + href[len(base_path):], "/" + unquote(href)[len(base_path):]}
    pattern = re.compile(r"(?:\]\(\s*<?|\]:\s*<?|=\s*[\"']|<)(?:"
                         + "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
                         + ")")
    found = [number for number, line in enumerate(lines, start=1) if pattern.search(line)]
    if not found:
        found = [number for number, line in enumerate(lines, start=1)
                 if any(form in line for form in forms)]
    return found
