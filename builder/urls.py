"""Site paths (``/tags/x/``), the files they become, and links between pages.

A site path always starts with ``/`` and is relative to the site root, never
including the base path; links in pages are made relative, so the site works
under any sub-path and from the file system.
"""

from __future__ import annotations

from builder.model import Article


def article_path(pattern: str, article: Article) -> str:
    return pattern.format(slug=article.slug, year=f"{article.date.year:04d}",
                          month=f"{article.date.month:02d}", day=f"{article.date.day:02d}")


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


def absolute(base_url: str, path: str) -> str:
    """``https://example.org/archive/`` + ``/tags/`` → ``https://example.org/archive/tags/``."""
    if "://" in path:
        return path
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def annotations_path(page_path: str) -> str:
    """Where an article's ``annotations.json`` goes: beside its page."""
    if page_path.endswith("/"):
        return page_path + "annotations.json"
    return page_path.rsplit(".", 1)[0] + ".annotations.json"
