"""The files a build makes besides its pages: static files, ``annotations.json``
beside each article, Atom feeds and sitemaps.

Each is reused from the last build (in memory, or kept on disk) while its
signature (:class:`builder.outputs.Signer`) is unchanged, and made otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from builder.config import SiteConfig
from builder.feeds import FeedCache, FeedSource, FeedWriter, feed_sources, tag_names
from builder.model import Article, Site
from builder.outputs import Files, Made, Reusable, Signer, reuse_or_make
from builder.parallel import make_files
from builder.problems import Problem
from builder.sitemap import make_sitemaps, sitemap_names, sitemap_urls
from builder.urls import annotations_path, output_file
from builder.webannotation import annotation_file

#: the signature a static file gets: its bytes decide
STATIC = "static"
#: what :func:`add_static` remembers of each file it read: path → ((mtime_ns, size), bytes)
Known = dict[Path, tuple[tuple[int, int], bytes]]


def read_unless_known(path: Path, known: Known) -> tuple[tuple[int, int], bytes]:
    """``path``'s ((mtime in ns, size in bytes), bytes): the bytes ``known`` holds for
    it when its stat is the same, else read again. Raises :class:`OSError`."""
    info = path.stat()
    stat = (info.st_mtime_ns, info.st_size)
    previous = known.get(path)
    return stat, previous[1] if previous and previous[0] == stat else path.read_bytes()


def add_static(config: SiteConfig, static: dict[str, Path], files: Files,
               signatures: dict[str, str], known: Known) -> tuple[list[Problem], Known]:
    """Put the static files (output name → file) into ``files``; a file whose stat is
    the one in ``known`` is not read again. Returns the problems (a static file where a
    page is, a file that cannot be read) and what is now known."""
    problems: list[Problem] = []
    now: Known = {}
    for name, path in static.items():
        if name in files:
            problems.append(Problem(shown(config, path), 1,
                                    f"static file /{name} would replace a page of that path"))
            continue
        try:
            now[path] = stat_and_data = read_unless_known(path, known)
        except OSError as exc:
            problems.append(Problem(shown(config, path), 1, f"cannot read: {exc.strerror}"))
            continue
        data = stat_and_data[1]
        files[name] = data
        signatures[name] = STATIC
    return problems, now


def annotation_files(config: SiteConfig, site: Site, signer: Signer, made: Made,
                     disk: Reusable | None, files: Files, signatures: dict[str, str],
                     jobs: int | None = None) -> None:
    """``annotations.json`` beside each article page, made from the article and the page's
    bytes (its selectors count over the page's text): signed with the page's signature,
    which stands for those bytes. Pages must be in ``files`` and ``signatures``. Those not
    reused are made by ``jobs`` processes (parsing each page is most of a cold build's
    other files)."""
    later: list[tuple[str, Callable[[], bytes]]] = []
    for card in site.cards:  # what each is made of
        name = output_file(annotations_path(card.url))
        page = output_file(card.url)
        signatures[name] = signature = annotation_signature(signer, card, signatures.get(page))
        reuse_or_make(name, signature, lambda card=card, page=page: annotation_file(
            config, card, files.get(page)), made, disk, files, later)
    make_files(later, files, jobs)


def annotation_signature(signer: Signer, card: Article, page_signature: str | None) -> str:
    """The signature (hex) of ``card``'s ``annotations.json``: of what
    :func:`~builder.webannotation.annotation_file` reads, the article's URL, its
    highlights and mentions (its record's key stands for them: they are the record's own
    fields) and the bytes of its page (its signature stands for them), with the settings."""
    return signer.of("annotations", card.url, card.record, page_signature)


def feed_files(site: Site, signer: Signer, made: Made, disk: Reusable | None, files: Files,
               signatures: dict[str, str], cache: FeedCache) -> list[FeedSource]:
    """Atom feeds: the archive's, and each tag's, author's and entity's; returns them."""
    writer = FeedWriter(site.config, tag_names(site), cache, signer.of)
    sources = feed_sources(site)
    for source in sources:
        name = output_file(source.feed_url)
        if name in files:  # a static file of that name wins
            continue
        signatures[name] = signature = writer.signature(source)
        reuse_or_make(name, signature, lambda source=source: writer.feed(source),
                      made, disk, files)
    writer.keep_used()
    return sources


def sitemap_files(site: Site, signer: Signer, made: Made, disk: Reusable | None,
                  files: Files, signatures: dict[str, str]) -> None:
    """``sitemap.xml`` (an index and parts on a large site), unless a static file has the name."""
    urls = sitemap_urls(site, files)
    signature = signer.of("sitemap", urls)
    names = [name for name in sitemap_names(len(urls)) if name not in files]
    if not all(made.reuse(name, signature, disk, files) for name in names):
        files.update(make_sitemaps(site.config.base_url, urls))
    for name in names:
        signatures[name] = signature


def shown(config: SiteConfig, path: Path) -> str:
    """A path as the user should see it: relative to the site folder if inside it."""
    try:
        return path.resolve().relative_to(config.site_dir).as_posix()
    except ValueError:
        return str(path)
