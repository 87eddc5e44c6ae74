"""Internal links: ``[text](other-article.md)``, ``![a cat](cat.png)`` and root-relative ``/paths``.

A link to a Markdown file becomes a placeholder, ``postil-ref:N`` (N indexes
the article's ``links``), replaced by that article's URL from the table of
URLs once the whole site is known (a missing file is an error with its line).
The placeholder is digits only, so HTML escaping never changes it (a target
such as ``q&a.md`` is escaped in the href but not in the table). A root-relative
link is a site path (``postil-site:/path``, :data:`builder.urls.SITE_LINK`), made
relative to each page that shows it, so it works under a sub-path (Hugo #8078) and
from the file system.

A relative link or image whose target has the suffix of a file Postil copies
(:mod:`builder.assets`: ``.png``, ``.pdf``, ``.csv``, ``.svg`` …; not ``.html``,
which may be a page) becomes
``postil-asset:N`` in the same way (N indexes ``env["assets"]``, which holds
(line, site-relative path, "path")), and so does an Obsidian file embed
(:mod:`builder.markdown.embeds`, with "embed" and the name as written): the
index knows which files are published, and where. Only where the caller asks
for it (``env["assets"]`` is a list): entity notes keep such links as written.
"""

from __future__ import annotations

import posixpath
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

from builder.assets import ASSET_PREFIX, linked_kind
from builder.urls import SITE_LINK

#: href prefix of a link to another Markdown file, replaced when the site is indexed
REF_PREFIX = "postil-ref:"
#: link schemes Postil uses for its own placeholders; a link written with one is an error
RESERVED = (REF_PREFIX, "postil-wiki:", ASSET_PREFIX, "postil-tag:", "postil-embed:", SITE_LINK)


def internal_links_plugin(md: MarkdownIt) -> None:
    md.core.ruler.push("postil_internal_links", _rewrite_links)


def _rewrite_links(state: StateCore) -> None:
    env = state.env
    source_dir = env.get("source_dir", "")
    first_line = env.get("first_line", 1)
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        line = first_line + (block.map[0] if block.map else 0)
        for child in block.children:
            if child.type in ("softbreak", "hardbreak"):
                line += 1
            elif child.meta and "embed" in child.meta:  # builder.markdown.embeds
                assets = env["assets"]
                assets.append((line, child.meta["embed"], "embed"))
                url = f"{ASSET_PREFIX}{len(assets) - 1}{child.meta.get('fragment', '')}"
                child.attrSet("href" if child.type == "link_open" else "src", url)
            elif child.type in ("link_open", "image"):
                attr = "href" if child.type == "link_open" else "src"
                href = child.attrGet(attr)
                if isinstance(href, str):
                    new = _resolve(href, source_dir, line, env)
                    if new != href:
                        child.attrSet(attr, new)


def _resolve(href: str, source_dir: str, line: int, env: dict) -> str:
    if href.startswith("#"):  # a fragment (every heading's permalink): nothing to resolve
        return href
    if href.lower().startswith(RESERVED):
        env.setdefault("problems", []).append(
            (line, f'link "{href}" uses a scheme reserved for Postil\'s own links'))
        return "#"
    parts = urlsplit(href)
    if parts.scheme or parts.netloc:
        return href
    if href.startswith("/"):  # a site path: made relative to each page (builder.urls)
        return SITE_LINK + href
    path = unquote(parts.path)
    if path.endswith((".md", ".markdown")):
        target = posixpath.normpath(posixpath.join(source_dir, path))
        links = env.setdefault("links", [])
        links.append((line, target))
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        return f"{REF_PREFIX}{len(links) - 1}{fragment}"
    assets = env.get("assets")
    if isinstance(assets, list) and linked_kind(path) is not None:
        assets.append((line, posixpath.normpath(posixpath.join(source_dir, path)), "path"))
        rest = (f"?{parts.query}" if parts.query else "") + \
            (f"#{parts.fragment}" if parts.fragment else "")
        return f"{ASSET_PREFIX}{len(assets) - 1}{rest}"
    return href
