"""Files of ``content/`` published as they are: images, PDFs, audio, video, CSV, JSON.

Where each goes (its URL):

* A file in a page bundle (a folder holding ``index.md`` or ``index.markdown``, or
  any folder below one) goes beside that article's page: ``content/hello/cat.png``
  → ``/articles/hello/cat.png`` when the article is at ``/articles/hello/``; for a
  page at ``/2024/hello.html``, into ``/2024/hello/``. The nearest bundle wins.
  A bundle's files are not published while its article is not (a draft).
* Any other file keeps its path under ``content/``: ``content/attachments/cat.png``
  → ``/attachments/cat.png`` (an Obsidian vault's attachments folder), whatever
  the permalinks, so its URL never moves.

Only files from an allow-list are copied (:data:`KINDS`). HTML, SVG, JavaScript and
XML can run script in a browser: they are skipped with a warning unless
``markdown: {html: trusted}``. Nothing in a ``sources/`` folder is ever copied
(private snapshots of the sources read). Other files are counted in the summary.

Links in Markdown reach these files through placeholders (``postil-asset:N``),
resolved at indexing from :class:`AssetTable`, as links to articles are: a record
stays a function of its file's bytes, whatever files lie beside it.
"""

from __future__ import annotations

import difflib
import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from builder.model import ArticleRecord, Asset, Page
from builder.problems import Problem
from builder.urls import annotations_path, output_file

if TYPE_CHECKING:  # (the Markdown parser reads KINDS: it needs none of these)
    from builder.config import SiteConfig
    from builder.outputs import Files
    from builder.site_files import Known

#: suffix → kind of every file copied from content/
KINDS = {
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".bmp", ".ico",
                     ".tif", ".tiff", ".jxl"), "image"),
    ".pdf": "pdf",
    **dict.fromkeys((".mp3", ".ogg", ".oga", ".opus", ".wav", ".flac", ".m4a", ".aac",
                     ".weba"), "audio"),
    **dict.fromkeys((".mp4", ".webm", ".ogv", ".mov", ".m4v"), "video"),
    ".csv": "data", ".json": "data",
}
#: suffix → name of the files that can run script: copied only with html: trusted
SCRIPTED = {
    **dict.fromkeys((".html", ".htm", ".xhtml", ".shtml"), "HTML"),
    **dict.fromkeys((".svg", ".svgz"), "SVG"),
    **dict.fromkeys((".js", ".mjs", ".cjs"), "JavaScript"),
    **dict.fromkeys((".xml", ".xsl", ".xslt"), "XML"),
}
#: a folder of private source snapshots: never published
SOURCES_DIR = "sources"
#: the placeholder of a link to a file, replaced when the site is indexed
ASSET_PREFIX = "postil-asset:"


def kind_of(name: str, trusted: bool = True) -> str | None:
    """"image", "pdf", "audio", "video", "data", "script" (HTML, SVG, JavaScript,
    XML) or None, from a file name's suffix (any case)."""
    suffix = posixpath.splitext(name)[1].lower()
    return KINDS.get(suffix) or ("script" if suffix in SCRIPTED else None)


def linked_kind(name: str) -> str | None:
    """The kind of file a relative link or embed to ``name`` reaches (:func:`kind_of`),
    or None: a link to a page (``other.html``), a script or a feed stays as written,
    and only SVG of the files that can run script is taken (as an image)."""
    kind = kind_of(name)
    if kind == "script":
        return "image" if posixpath.splitext(name)[1].lower() in (".svg", ".svgz") else None
    return kind


@dataclass
class AssetTable:
    """What links to files resolve against: source → site path of each published file,
    source → why it is not published, and file name → sources, for Obsidian embeds."""

    urls: dict[str, str] = field(default_factory=dict)
    unpublished: dict[str, str] = field(default_factory=dict)
    by_name: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, assets: Iterable[Asset]) -> AssetTable:
        """The table of the published ``assets`` alone (what a delta build needs)."""
        table = cls()
        for asset in assets:
            table.add(asset.source, url=asset.url)
        return table

    def add(self, source: str, url: str = "", why: str = "") -> None:
        if url:
            self.urls[source] = url
        else:
            self.unpublished[source] = why
        self.by_name.setdefault(posixpath.basename(source), []).append(source)

    def resolve(self, target: str, how: str, note: str) -> tuple[str | None, str]:
        """(site path, "") of a link's file, or (None, the problem's message).

        ``how`` is "path" (``target`` a site-relative path, from a Markdown link) or
        "embed" (``![[target]]`` in the article ``note``: beside the note, then from the
        content folder, then anywhere by its name or trailing path, as Obsidian does).
        """
        if how == "embed":
            found, message = self._find(target, note)
            if found is None:
                return None, message
            shown, target = f'embed "{target}"', found
        else:
            shown = f'link to "{target}"'
        url = self.urls.get(target)
        if url is not None:
            return url, ""
        why = self.unpublished.get(target)
        if why is None:
            close = difflib.get_close_matches(target, self.urls, n=1)
            why = "does not exist" + (f' (did you mean "{close[0]}"?)' if close else "")
        return None, f"{shown}: {why}"

    def _find(self, target: str, note: str) -> tuple[str | None, str]:
        content = note.split("/", 1)[0]
        for folder in (posixpath.dirname(note), content):
            path = posixpath.normpath(posixpath.join(folder, target))
            if path in self.urls or path in self.unpublished:
                return path, ""
        tail = "/" + target.lstrip("/")
        found = [path for path in self.by_name.get(posixpath.basename(target), ())
                 if ("/" + path).endswith(tail)]
        if len(found) == 1:
            return found[0], ""
        if not found:
            return None, f'embed "{target}": no such file under {content}/'
        return None, (f'embed "{target}" is ambiguous: {", ".join(sorted(found))} (write '
                      "more of its path, as in ![[folder/name]])")


def bundle_folder(page_url: str) -> str:
    """Where a bundle's files go: the page's folder (``/articles/hello/``), or for a page
    file (``/2024/hello.html``) a folder of its name (``/2024/hello/``)."""
    return page_url if page_url.endswith("/") else posixpath.splitext(page_url)[0] + "/"


def plan_assets(config: SiteConfig, files: list[str], records: list[ArticleRecord],
                urls: dict[str, str]) -> tuple[list[Asset], AssetTable, list[Problem]]:
    """Which of ``files`` (site-relative paths of every file under content/ that is not
    Markdown) are published, and where: (assets, their table, warnings). ``records``:
    every article read; ``urls``: source → site path of each built one. Pure."""
    trusted = config.markdown_html == "trusted"
    bundles = {posixpath.dirname(r.source): r.source for r in records
               if r.source.count("/") > 1
               and posixpath.splitext(posixpath.basename(r.source))[0] == "index"}
    assets: list[Asset] = []
    table = AssetTable()
    problems: list[Problem] = []
    for source in files:
        kind = kind_of(source)
        if SOURCES_DIR in source.split("/")[1:-1]:
            table.add(source, why=f"is in a {SOURCES_DIR}/ folder, whose files (private "
                      "snapshots of sources) are never published")
            continue
        if kind is None:
            continue
        if kind == "script" and not trusted:
            what = SCRIPTED[posixpath.splitext(source)[1].lower()]
            problems.append(Problem(source, 1, f"not copied: {what} can run script on the "
                                    "site (publish it with markdown: {html: trusted} in "
                                    "site.yml)", warning=True))
            table.add(source, why=f"is not copied: {what} can run script on the site")
            continue
        folder, bundle = posixpath.dirname(source), None
        while folder.count("/") and bundle is None:
            bundle = bundles.get(folder)
            folder = folder if bundle is not None else posixpath.dirname(folder)
        if bundle is None:
            table.add(source, url="/" + source.split("/", 1)[1])
        elif bundle not in urls:
            table.add(source, why=f"belongs to {bundle}, which is a draft or dated in the "
                      "future, so it is not built")
            continue
        else:
            table.add(source, url=bundle_folder(urls[bundle]) + source[len(folder) + 1:])
        assets.append(Asset(source=source, url=table.urls[source], bundle=bundle or ""))
    return assets, table, problems


def left_out(files: Iterable[str]) -> list[str]:
    """The build summary's lines on the files of content/ that are never copied: those
    in ``sources/`` folders, and those not on the allow-list, by suffix."""
    others: dict[str, int] = {}
    private = 0
    for source in files:
        if SOURCES_DIR in source.split("/")[1:-1]:
            private += 1
        elif kind_of(source) is None:
            suffix = posixpath.splitext(source)[1].lower() or "no suffix"
            others[suffix] = others.get(suffix, 0) + 1
    notes = []
    if private:
        notes.append(f"{private} file{'s' * (private != 1)} in `{SOURCES_DIR}/` folders "
                     "not copied: private source snapshots")
    if others:
        count = sum(others.values())
        notes.append(f"{count} other file{'s' * (count != 1)} under `content/` not copied: "
                     f"not images, PDF, audio, video, CSV or JSON ({', '.join(sorted(others))})")
    return notes


def check_asset_urls(assets: list[Asset], pages: list[Page], problems: list[Problem]) -> None:
    """A file's URL that is another file's, a page's or an ``annotations.json``'s is an
    error naming both."""
    owners: dict[str, str] = {}
    for page in pages:
        owners[output_file(page.url)] = page.source or "a page Postil makes"
        if page.source:
            owners[output_file(annotations_path(page.url))] = \
                f"the annotations of {page.source}"
    for asset in assets:
        other = owners.setdefault(output_file(asset.url), asset.source)
        if other != asset.source:
            problems.append(Problem(asset.source, 1, f"{asset.url} is also the URL of {other}"))


def usable_files(config: SiteConfig, found: list[tuple[str, Path]],
                 problems: list[Problem]) -> dict[str, Path]:
    """Source → file of the candidates (:attr:`builder.sources.Discovery.files`) that can
    be published: a special file (FIFO, socket, device), a symbolic link out of the site
    folder or a name no web host can serve is left out with a warning."""
    from builder.sources import OUTSIDE, leaves, special_kind
    from builder.theme import _UNSERVABLE, _unservable

    usable: dict[str, Path] = {}
    for source, path in found:
        if kind_of(source) is None:
            usable[source] = path  # never copied: only counted
            continue
        why = None
        bad = _UNSERVABLE.search(source)
        if bad is not None:
            why = _unservable(bad.group())
        else:
            try:
                kind = special_kind(os.stat(path).st_mode)
            except OSError as exc:
                kind = f"cannot read: {exc.strerror}"
            why = kind and (kind if kind.startswith("cannot") else f"{kind}, not a regular file")
            if why is None and leaves(path, config.site_dir):
                why = OUTSIDE
        if why is None:
            usable[source] = path
        else:
            shown = os.fsencode(source).decode("utf-8", "backslashreplace")
            problems.append(Problem(shown, 1, f"skipped: {why}", warning=True))
    return usable


def add_assets(assets: tuple[Asset, ...], paths: dict[str, Path], files: Files,
               signatures: dict[str, str], known: Known, signature: str
               ) -> tuple[list[Problem], Known]:
    """Put each published file into ``files`` (its bytes decide: ``signature``); a file
    whose stat is the one in ``known`` is not read again. A name already in ``files``
    (a static file, a page) is an error. Returns the problems and what is now known."""
    from builder.site_files import read_unless_known  # (it imports the feeds)

    problems: list[Problem] = []
    now: Known = {}
    for asset in assets:
        name = output_file(asset.url)
        if name in files:
            problems.append(Problem(asset.source, 1, f"{asset.url} is also the path of a "
                                    "static file"))
            continue
        path = paths[asset.source]
        try:
            now[path] = stat_and_data = read_unless_known(path, known)
        except OSError as exc:
            problems.append(Problem(asset.source, 1, f"cannot read: {exc.strerror}"))
            continue
        data = stat_and_data[1]
        files[name] = data
        signatures[name] = signature
    return problems, now
