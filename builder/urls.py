"""Site paths (``/tags/x/``), the files they become, and links between pages.

A site path always starts with ``/`` and is relative to the site root, never
including the base path; links in pages are made relative, so the site works
under any sub-path and from the file system.
"""

from __future__ import annotations

import html
import posixpath
from collections.abc import Callable
from urllib.parse import quote

from builder.model import Article, ArticleRecord
from builder.slugs import slugify

#: Prefix of a link in body HTML to a site path (``postil-site:/entities/x/#m-x-1``):
#: bodies hold site paths, not links, because one body is shown on pages at different
#: depths (its article, embeds in other articles, feeds). Each page's links are made
#: relative to it when the page is rendered (:func:`resolve_site_links`), feeds' absolute.
SITE_LINK = "postil-site:"
#: such a link starting an attribute value (the parser and the sanitizer quote with ``"``)
_QUOTED = '"' + SITE_LINK


def resolve_site_links(text: str, link: Callable[[str], str]) -> str:
    """``text`` (HTML) with every ``postil-site:/path`` attribute value replaced by
    ``link(/path)``: a function of a site path (as :func:`linker`, or one giving absolute
    URLs for feeds). Values are HTML-escaped and stay so; ``text`` without one is
    returned as it is."""
    if _QUOTED not in text:
        return text
    # str.split and find, not a regular expression: twice as fast on a page of links,
    # and this runs on every page.
    parts = text.split(_QUOTED)
    out = [parts[0]]
    for part in parts[1:]:
        end = part.find('"')
        if end < 0:  # not an attribute value after all: left as it was
            out += (_QUOTED, part)
            continue
        path = part[:end]
        made = link(path) if "&" not in path else \
            html.escape(link(html.unescape(path)), quote=True)
        out += ('"', made, part[end:])
    return "".join(out)


def article_path(pattern: str, article: Article | ArticleRecord) -> str:
    """The article's site path: its front matter's ``permalink``/``url`` if it gave one
    ("/about" is taken as "/about/"), else ``pattern`` filled in (``{path}``: see
    :func:`folder_path`)."""
    if article.permalink:
        chosen = article.permalink
        return chosen if "." in chosen.rsplit("/", 1)[1] or chosen.endswith("/") else chosen + "/"
    return pattern.format(slug=article.slug, path=folder_path(article.source, article.slug),
                          year=f"{article.date.year:04d}", month=f"{article.date.month:02d}",
                          day=f"{article.date.day:02d}")


def folder_path(source: str, slug: str) -> str:
    """The ``{path}`` of a permalink: the folders of ``source`` (a site-relative path,
    "content/guides/setup.md") under the content folder, each slugified, then ``slug``:
    "guides/setup". A page bundle's own folder is its slug ("content/guides/setup/index.md"
    → "guides/setup"), and Jekyll's ``_posts`` folders are left out."""
    folders = source.split("/")[1:-1]
    if folders and posixpath.splitext(source)[0].endswith("/index"):  # a page bundle
        folders.pop()
    return "/".join([*(slugify(name) or name for name in folders if name != "_posts"), slug])


def output_file(path: str) -> str:
    """``/x/`` → ``x/index.html``; ``/404.html`` → ``404.html``."""
    name = path.lstrip("/")
    if not name or name.endswith("/"):
        name += "index.html"
    return name


def relative(from_path: str, to_path: str) -> str:
    """A link from the page at ``from_path`` to ``to_path``, both site paths.

    Called for every link of every page, so it works on path segments
    directly rather than through ``posixpath.relpath``.
    """
    if "://" in to_path or to_path.startswith(("#", "mailto:", "//")):
        return to_path
    path, hash_mark, fragment = to_path.partition("#")
    from_dirs = from_path[1:from_path.rfind("/")].split("/") if from_path.count("/") > 1 else []
    target = path[1:].split("/")  # a folder path ends with an empty segment
    common = 0
    limit = min(len(from_dirs), len(target) - 1)
    while common < limit and from_dirs[common] == target[common]:
        common += 1
    link = "../" * (len(from_dirs) - common) + "/".join(target[common:])
    return (link or "./") + hash_mark + fragment


def linker(from_path: str) -> Callable[[str], str]:
    """``relative`` with ``from_path`` fixed: a function of a site path to a link.

    The same results as :func:`relative`, for every link of one page. The
    page's folder and its ``../`` prefix are worked out once; the common
    links (to another section of the site, or below the page's own folder)
    are then a prefix test and a concatenation. Anything else goes through
    :func:`relative`.
    """
    folder = from_path[:from_path.rfind("/") + 1]  # "/articles/x/"; "/" for the home page
    depth = folder.count("/") - 1
    root = "../" * depth
    section = folder[:folder.find("/", 1) + 1] if depth else ""  # "/articles/"

    def link(to_path: str) -> str:
        if to_path[:1] != "/" or to_path[:2] == "//" or "://" in to_path:
            return relative(from_path, to_path)
        if depth == 0 or not to_path.startswith(section):
            # No folder in common with the page: up to the root, then down.
            rest = to_path[1:]
            return root + rest if depth or rest[:1] not in ("", "#") else "./" + rest
        if to_path.startswith(folder):
            rest = to_path[len(folder):]
            return "./" + rest if not rest or rest[0] == "#" else rest
        return relative(from_path, to_path)

    return link


def absolute(base_url: str, path: str) -> str:
    """``https://example.org/archive/`` + ``/tags/`` → ``https://example.org/archive/tags/``;
    a path in another script is percent-encoded (:func:`encode`)."""
    if "://" in path:
        return path
    return base_url.rstrip("/") + "/" + encode(path.lstrip("/"))


# Characters a URL may hold as they are (RFC 3986's reserved and unreserved, and "%").
_URL_SAFE = "/:@!$&'()*+,;=?#[]~%"


def encode(link: str) -> str:
    """``link`` with every non-ASCII character percent-encoded as UTF-8
    (``/tags/наука/`` → ``/tags/%D0%BD%D0%B0%D1%83%D0%BA%D0%B0/``), for slugs kept in
    their native script (``slugs: unicode``). An ASCII link is returned as it is, so
    encoding twice changes nothing."""
    return link if link.isascii() else quote(link, safe=_URL_SAFE)


def annotations_path(page_path: str) -> str:
    """Where an article's ``annotations.json`` goes: beside its page."""
    if page_path.endswith("/"):
        return page_path + "annotations.json"
    return page_path.rsplit(".", 1)[0] + ".annotations.json"
