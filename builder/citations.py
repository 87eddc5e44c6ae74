"""Citations of the sources: CSL-JSON and BibTeX (biblatex) for each article about a
source, and the archive's whole bibliography.

Beside each article page with a ``source:``, ``source.json`` (a CSL-JSON list of one
item, as Zotero, Pandoc and citeproc read it) and ``source.bib`` (one biblatex entry);
at the site's root ``bibliography.json`` and ``bibliography.bib`` with every source,
sorted by author, date and title. An entry describes the source, never the archive's
notes: the front matter's title, authors, publication, URL and dates, and the ``read:``
date as the date it was accessed.

Each entry's key (its CSL ``id``) is made from the article's URL alone, so it stays the
same whatever other articles come and go: the URL's path without the permalink's fixed
start (``/articles/``), folders joined by ``:`` (``pakistan-covert-iskp-let-alliance``,
``2024:notes``); an article whose ``permalink:`` lies elsewhere gets a leading ``:``.

What an entry is made of are fields of the record that :func:`builder.delta.view`
keeps, so an edit that a delta build takes changes none of these files. Those fields
(:data:`ENTRY_FIELDS`, with the configuration) are all each file is signed by: an edit
of an article's text leaves its citations alone, and signing them costs a few values per
article rather than a walk of its whole card.
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime
from operator import attrgetter
from typing import Any

import orjson

from builder.config import SiteConfig
from builder.model import Article, Site
from builder.outputs import Files, Made, Reusable, Signer, reuse_or_make
from builder.urls import output_file

BIBLIOGRAPHY_JSON = "bibliography.json"
BIBLIOGRAPHY_BIB = "bibliography.bib"
#: name suffixes that follow a comma ("Martin Luther King, Jr.")
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "v"})
#: not in a BibTeX key (and a key may not hold space)
_NOT_IN_KEY = re.compile(r'[\s{}(),=\\#%~"\']+')
#: the article's fields an entry is made of (:func:`csl_item` reads these and the
#: configuration, nothing else): each citation file is signed by their values
ENTRY_FIELDS = ("url", "title", "authors", "publication", "source_url", "published", "read",
                "updated", "lang")
_entry_fields = attrgetter(*ENTRY_FIELDS)


def source_citation_path(page_path: str, ext: str) -> str:
    """Where an article's ``source.json`` or ``source.bib`` goes (``ext`` "json" or
    "bib"): beside its page, as ``annotations.json`` (``/notes/page.source.bib`` for a
    page ``/notes/page.html``)."""
    if page_path.endswith("/"):
        return f"{page_path}source.{ext}"
    return f"{page_path.rsplit('.', 1)[0]}.source.{ext}"


def citation_key(config: SiteConfig, article: Article) -> str:
    """The article's source's key in every file (see the module's docstring)."""
    prefix = config.permalink.split("{", 1)[0]
    path = article.url
    lead = ""
    if path.startswith(prefix):
        path = path[len(prefix):]
    else:
        lead = ":"
    parts = [part for part in path.split("/") if part]
    if parts and parts[-1].endswith(".html"):
        parts[-1] = parts[-1][: -len(".html")]
    return lead + _NOT_IN_KEY.sub("-", ":".join(parts)) or ":"


def split_name(name: str) -> dict[str, str]:
    """A name as CSL wants it. "Family, Given" (and "Given Family, Jr.") are read as
    written; else the last word is the family name, lower-case words before it
    (``van``, ``de``) its particle, the words before those the given names; a name of one
    word stays whole (``{"literal": …}``), as most organisations' names would."""
    name = " ".join(name.split())
    suffix = ""
    if "," in name:
        head, tail = (part.strip() for part in name.split(",", 1))
        if tail.rstrip(".").lower() not in _SUFFIXES:
            return {"family": head, "given": tail} if head and tail else {"literal": name}
        name, suffix = head, tail
    words = name.split(" ")
    if len(words) < 2:
        return {"literal": name}
    cut = len(words) - 1
    while cut > 1 and words[cut - 1][:1].islower():
        cut -= 1
    found = {"family": words[-1], "given": " ".join(words[:cut])}
    if cut < len(words) - 1:
        found["non-dropping-particle"] = " ".join(words[cut:-1])
    if suffix:
        found["suffix"] = suffix
    return found


def csl_item(config: SiteConfig, article: Article) -> dict[str, Any]:
    """The source of ``article`` as one CSL-JSON item (an ``article-newspaper`` when it
    has a publication, else a ``webpage``). ``issued`` is given only for a publication
    date (``date:`` or the file name's); a date that is only ``updated:`` is said so in
    ``note``, since CSL has no variable for it; ``accessed`` is the ``read:`` date."""
    item: dict[str, Any] = {
        "id": citation_key(config, article),
        "type": "article-newspaper" if article.publication else "webpage",
        "title": article.title,
    }
    if article.authors:
        item["author"] = [split_name(name) for name in article.authors]
    if article.publication:
        item["container-title"] = article.publication
    if article.source_url:
        item["URL"] = article.source_url
    if article.published is not None:
        item["issued"] = _date_parts(article.published)
    if article.read is not None:
        item["accessed"] = _date_parts(article.read)
    if article.updated is not None:
        item["note"] = f"Last updated {_day(article.updated).isoformat()}"
    if article.lang:
        item["language"] = article.lang
    return item


def bibtex_entry(item: dict[str, Any]) -> str:
    """One biblatex entry for a CSL item made by :func:`csl_item`: ``@article`` (with
    ``journaltitle``) or ``@online``; every value's special characters escaped."""
    kind = "article" if item["type"] == "article-newspaper" else "online"
    fields: list[tuple[str, str]] = []
    if "author" in item:
        fields.append(("author", " and ".join(_bib_name(n) for n in item["author"])))
    fields.append(("title", _title(item["title"])))
    if "container-title" in item:
        fields.append(("journaltitle", escape(item["container-title"])))
    if "issued" in item:
        fields.append(("date", _iso(item["issued"])))
    if "URL" in item:
        # biblatex reads url verbatim: only braces and backslashes need percent-encoding
        url = item["URL"].replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")
        fields.append(("url", url))
    if "accessed" in item:
        fields.append(("urldate", _iso(item["accessed"])))
    if "note" in item:
        fields.append(("note", escape(item["note"])))
    if "language" in item:
        fields.append(("langid", escape(item["language"])))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{kind}{{{item['id']},\n{body}\n}}\n"


@functools.lru_cache(maxsize=1 << 16)
def escape(text: str) -> str:
    """``text`` as a BibTeX value: ``{ } & % $ # _ ~ ^ \\`` and non-ASCII characters as
    LaTeX (``{\\&}``, ``{\\"u}``), those without LaTeX kept in UTF-8. Remembered: titles
    are escaped word by word, and pylatexenc's encoder works a character at a time in
    Python, so the same words would cost it again and again."""
    # Most values are plain ASCII words, which the encoder gives back as they are: skip it.
    if _unchanged().fullmatch(text):
        return text
    return _latex().unicode_to_latex(text)


@functools.cache
def _unchanged() -> re.Pattern[str]:
    """Text made only of printable ASCII characters the encoder leaves as they are: found
    by asking the encoder itself about each one (its default rules map one character at a
    time), so the shortcut follows the installed pylatexenc."""
    encoder = _latex()
    kept = "".join(c for c in map(chr, range(32, 127)) if encoder.unicode_to_latex(c) == c)
    return re.compile(f"[{re.escape(kept)}]*")


@functools.cache
def _latex():  # noqa: ANN202 - a pylatexenc UnicodeToLatexEncoder
    """pylatexenc's encoder (MIT), made on first use: a build with no source to cite, or
    one that changed nothing, does not import it. It knows the LaTeX for every character
    BibTeX treats specially and for most of Unicode; a character it has no LaTeX for
    (CJK) stays as it is, in UTF-8, which biber reads. Braces around each replacement
    keep a macro apart from the next letter."""
    from pylatexenc.latexencode import UnicodeToLatexEncoder

    return UnicodeToLatexEncoder(non_ascii_only=False, replacement_latex_protection="braces-all",
                                 unknown_char_policy="keep", unknown_char_warning=False)


def _title(title: str) -> str:
    """The title escaped, each word with a capital letter not at its start (and each
    capitalised word after the first) in braces: BibTeX styles lower-case titles, and
    ``ISKP`` or a name must stay as written."""
    words = title.split(" ")
    return " ".join(
        f"{{{escape(word)}}}" if any(c.isupper() for c in (word[1:] if n == 0 else word))
        else escape(word) for n, word in enumerate(words))


def _bib_name(name: dict[str, str]) -> str:
    if "literal" in name:
        return f"{{{escape(name['literal'])}}}"
    family = " ".join(filter(None, (name.get("non-dropping-particle"), name["family"])))
    parts = [escape(family), *([escape(name["suffix"])] if "suffix" in name else []),
             escape(name["given"])]
    return ", ".join(parts)


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _date_parts(value: date | datetime) -> dict[str, list[list[int]]]:
    day = _day(value)
    return {"date-parts": [[day.year, day.month, day.day]]}


def _iso(parts: dict[str, list[list[int]]]) -> str:
    year, month, day = parts["date-parts"][0]
    return f"{year:04d}-{month:02d}-{day:02d}"


def _sort_key(item: dict[str, Any]) -> tuple:
    first = (item.get("author") or [{}])[0]
    name = first.get("family") or first.get("literal") or item["title"]
    issued = _iso(item["issued"]) if "issued" in item else ""
    return (name.casefold(), issued, item["title"].casefold(), item["id"])


def _json(items: list[dict[str, Any]]) -> bytes:
    """``json.dumps(items, ensure_ascii=False, indent=2)`` and a newline, as UTF-8: the
    same bytes, from orjson (the standard library's encoder runs in Python once indented)."""
    return orjson.dumps(items, option=orjson.OPT_INDENT_2) + b"\n"


def citation_files(config: SiteConfig, site: Site, signer: Signer, made: Made,
                   disk: Reusable | None, files: Files, signatures: dict[str, str]) -> None:
    """``source.json`` and ``source.bib`` beside each article page with a source, and
    the bibliography at the root (none without sources). A file of the same name
    already in ``files`` (a static file) wins. Each is signed by the :data:`ENTRY_FIELDS`
    of the articles it holds (the settings cover the configuration); an entry is made
    only for a file that cannot be reused, and once for its file and the bibliography."""
    cited = [card for card in site.cards if card.source_url]
    items: dict[int, dict[str, Any]] = {}  # id(card) → its entry, once made
    entries: dict[int, str] = {}  # id(card) → its BibTeX entry, once made

    def item_of(card: Article) -> dict[str, Any]:
        found = items.get(id(card))
        if found is None:
            found = items[id(card)] = csl_item(config, card)
        return found

    def entry_of(card: Article) -> str:
        found = entries.get(id(card))
        if found is None:
            found = entries[id(card)] = bibtex_entry(item_of(card))
        return found

    signed = []  # each card's entry's signature, in the order of ``cited``
    for card in cited:
        own = entry_signature(signer, card)
        signed.append(own)
        for ext, make in (("json", lambda card=card: _json([item_of(card)])),
                          ("bib", lambda card=card: entry_of(card).encode("utf-8"))):
            name = output_file(source_citation_path(card.url, ext))
            if name in files:
                continue
            # The entry's signature and the file's kind: both files hold the one entry.
            signatures[name] = signature = f"{own}.{ext}"
            reuse_or_make(name, signature, make, made, disk, files)
    if not cited:
        return

    @functools.cache
    def in_order() -> list[Article]:
        return sorted(cited, key=lambda card: _sort_key(item_of(card)))

    for name, make in ((BIBLIOGRAPHY_JSON, lambda: _json([item_of(c) for c in in_order()])),
                       (BIBLIOGRAPHY_BIB, lambda: "\n".join(
                           entry_of(card) for card in in_order()).encode("utf-8"))):
        if name in files:
            continue
        # The entries in the cards' order: their sorted order follows from them.
        signatures[name] = signature = signer.of(name, signed)
        reuse_or_make(name, signature, make, made, disk, files)


def entry_signature(signer: Signer, card: Article) -> str:
    """The signature (hex) of ``card``'s entry: of its :data:`ENTRY_FIELDS` and the
    settings, which is everything :func:`csl_item` reads. Dates stand as their ISO form
    (an entry shows their day), the authors last: a flat tuple of text is the cheapest
    thing to sign, and signing runs for every cited article on every build."""
    url, title, authors, publication, source_url, published, read, updated, lang = \
        _entry_fields(card)
    return signer.of("citation", url, title, publication, source_url, _iso_or_none(published),
                     _iso_or_none(read), _iso_or_none(updated), lang, *authors)


def _iso_or_none(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()
