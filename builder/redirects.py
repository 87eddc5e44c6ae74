"""Redirect pages: an article's old URLs (``aliases: [/old/]``, Jekyll's ``redirect_from``)
send readers and search engines to where it is now.

A static site cannot answer with a 301, so each old path gets a small HTML page, as
Hugo's aliases and jekyll-redirect-from make it: a ``<meta http-equiv="refresh">`` to
the new page, ``<link rel="canonical">`` to its absolute URL (search engines move
their index there), ``noindex``, and a visible link for a reader whose browser does
not follow the refresh. Links are relative, so the page works under any sub-path of
the host. An old path with no suffix is a folder (``/old`` → ``old/index.html``).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from builder.model import ArticleRecord, Asset, Page, Redirect, Site
from builder.problems import Problem
from builder.urls import absolute, output_file, relative

if TYPE_CHECKING:
    from builder.outputs import Files, Signer


def plan_redirects(shown: list[ArticleRecord], urls: dict[str, str], pages: list[Page],
                   assets: list[Asset], problems: list[Problem]) -> list[Redirect]:
    """The redirect of each old path of the built articles (``shown``, at ``urls``); an
    old path that is a page's, a published file's or another article's old path is an
    error naming both. One equal to the article's own URL is left out."""
    owners = {output_file(page.url): f"the page of {page.source}" if page.source
              else "a page Postil makes" for page in pages}
    owners.update((output_file(asset.url), asset.source) for asset in assets)
    redirects = []
    for record in sorted(shown, key=lambda r: r.source):
        line = record.line("aliases" if "aliases" in record.lines else "redirect_from")
        mine = f"an old URL of {record.source}"
        for old in record.redirects:
            path = old if old.endswith("/") or "." in old.rsplit("/", 1)[1] else old + "/"
            name = output_file(path)
            if name == output_file(urls[record.source]):
                continue
            other = owners.setdefault(name, mine)
            if other != mine:
                problems.append(Problem(record.source, line, f"old URL {path} would replace "
                                        f"{other}"))
                continue
            redirects.append(Redirect(path=path, url=urls[record.source], title=record.title,
                                      source=record.source, line=line))
    return redirects


def redirect_page(base_url: str, language: str, redirect: Redirect) -> bytes:
    """The HTML page at ``redirect.path`` sending the reader to ``redirect.url``."""
    link = html.escape(relative(redirect.path, redirect.url), quote=True)
    canonical = html.escape(absolute(base_url, redirect.url), quote=True)
    title = html.escape(redirect.title)
    return (f'<!DOCTYPE html>\n<html lang="{html.escape(language, quote=True)}">\n<head>\n'
            f'<meta charset="utf-8">\n<title>Moved: {title}</title>\n'
            f'<meta name="robots" content="noindex">\n'
            f'<link rel="canonical" href="{canonical}">\n'
            f'<meta http-equiv="refresh" content="0; url={link}">\n</head>\n<body>\n'
            f'<p>This page has moved to <a href="{link}">{title}</a>.</p>\n'
            f"</body>\n</html>\n").encode()


def add_redirects(site: Site, signer: Signer, files: Files, signatures: dict[str, str]
                  ) -> list[Problem]:
    """Put each redirect page into ``files``; a name already there (a static file) is an
    error. Made last: they are no pages of the sitemap."""
    problems = []
    config = site.config
    for redirect in site.redirects:
        name = output_file(redirect.path)
        if name in files:
            problems.append(Problem(redirect.source, redirect.line,
                                    f"old URL {redirect.path} would replace a static file"))
            continue
        files[name] = redirect_page(config.base_url, config.language, redirect)
        signatures[name] = signer.of("redirect", redirect)
    return problems
