"""Slugs: names in any script made into URL segments and file names.

Two modes (``slugs:`` in ``site.yml``):

* ``ascii`` (the default): the text is transliterated by `anyascii`_ (ISC licence;
  kept up to date with Unicode, 2 MB of tables no one should hand-write), so
  ``наука`` → ``nauka``, ``张三`` → ``zhang-san``, ``Ħal Far`` → ``hal-far``;
* ``unicode``: the native script is kept, lowercased (``наука`` → ``наука``); the
  URLs printed in pages, feeds and the sitemap are percent-encoded
  (:func:`builder.urls.encode`) and the files keep the UTF-8 name.

Either way the text is NFC-normalised first, and every character that is not a
letter, a digit or a combining mark separates words (spaces, punctuation, en and
em dashes, symbols, emoji), except apostrophes, which join (``city's`` →
``citys``).

A slug becomes a name in the output folder (``tags/<slug>/``, ``<slug>.html``), and
file systems allow 255 bytes per name (``NAME_MAX`` on Linux, in UTF-8 bytes). A
generated slug (from a title, file name or tag) is cut at a word boundary to about
:data:`WORD_LIMIT` characters; one with no boundary to cut at is cut to
:data:`WORD_LIMIT` characters ending in a hash of the whole, so two long names that
share their start still differ. (Only the first 1,000 characters of a longer name are
made into a slug: the rest could only be cut off, and a hostile megabyte costs seconds.)
A ``slug:`` the user wrote is never cut: one longer than :data:`MAX_SLUG` characters
(or bytes, in UTF-8) is an error.

The mode is process-wide (:func:`use`), set from the configuration before a build
reads anything (and by every reader from its settings, so forked workers agree):
slugs are made in a hundred places, from tag links in templates to heading ids,
and all of them must agree.

.. _anyascii: https://github.com/anyascii/anyascii
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

MODES = ("ascii", "unicode")
MAX_SLUG = 200  # characters (and UTF-8 bytes); leaves room for what a permalink adds
WORD_LIMIT = 80  # a generated slug is cut at the last word boundary before this
_HASH = 8  # hex characters of the suffix of a shortened slug
_HEAD = 1000  # characters of a name read for its slug when the name is longer
_APOSTROPHES = str.maketrans({"’": "", "'": "", "ʼ": "", "‘": ""})
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_ASCII_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")
_mode = "ascii"

# Letters that NFKD does not decompose into ASCII plus a combining mark (for fold).
_SPECIAL = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "œ": "oe", "Œ": "oe",
     "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "þ": "th", "Þ": "th", "ı": "i",
     "ħ": "h", "Ħ": "h"}
)


def use(mode: str) -> None:
    """Make every slug from now on the ``mode`` way (one of :data:`MODES`)."""
    global _mode
    if mode not in MODES:
        raise ValueError(f"unknown slug mode {mode!r}")
    _mode = mode


def mode() -> str:
    """The current mode, ``"ascii"`` or ``"unicode"``."""
    return _mode


def fold(text: str) -> str:
    """Fold diacritics and case: ``Zürich`` → ``zurich`` (spacing kept)."""
    text = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def slugify(text: str) -> str:
    """``"Zürich: a city's guide"`` → ``"zurich-a-citys-guide"``, in the current mode;
    cut to about :data:`WORD_LIMIT` characters (see :func:`cut`). ``""`` when the text
    has no letter or digit."""
    return _slugify(text, _mode)


@lru_cache(maxsize=1 << 16)  # every build slugs every tag and author name again
def _slugify(text: str, mode: str) -> str:
    if len(text) > _HEAD:  # a slug shows only its start: make that (hostile input)
        head = _full_slug(text[:_HEAD], mode)
        # Every character maps on its own but at the cut (NFC, a final sigma, a trailing
        # "-"), so past WORD_LIMIT + a margin the head's start is the whole slug's.
        if len(head) > WORD_LIMIT + 8:
            return cut(head, whole=text)
    return cut(_full_slug(text, mode))


def _words(text: str) -> str:
    """NFC; apostrophes dropped; every character but a letter, digit or mark a space."""
    text = unicodedata.normalize("NFC", text.translate(_APOSTROPHES))
    if text.isascii():  # the same, faster (and the unicode mode joins these words as they are)
        return _ASCII_NON_ALNUM.sub(" ", text)
    return "".join(c if unicodedata.category(c)[0] in "LNM" else " " for c in text)


def _transliterate(text: str) -> str:
    """ASCII for ``text``; an ideograph becomes a word of its own (``张三`` → ``Zhang San``),
    as pinyin writes each syllable, where anyascii would run them together."""
    if text.isascii():
        return text
    out = []
    for char in text:
        if char.isascii():
            out.append(char)
        elif unicodedata.name(char, "").startswith("CJK"):
            out.append(f" {anyascii(char)} ")
        else:
            out.append(anyascii(char))
    return "".join(out)


def _full_slug(text: str, mode: str) -> str:
    words = _words(text)
    if mode == "unicode":
        return "-".join(words.lower().split())
    return _NON_ALNUM.sub("-", _transliterate(words).lower()).strip("-")


def cut(slug: str, limit: int = WORD_LIMIT, whole: str | None = None) -> str:
    """``slug`` if it has at most ``limit`` characters and :data:`MAX_SLUG` UTF-8 bytes;
    else cut at its last ``-`` within that (a word boundary); else, with no ``-`` in
    reach, its start, ``-`` and 8 hex characters of the blake2b digest of ``whole`` (the
    text ``slug`` starts the slug of; default: ``slug`` itself)."""
    if len(slug) <= limit and (slug.isascii() or len(slug.encode("utf-8")) <= MAX_SLUG):
        return slug
    while len(slug[:limit].encode("utf-8")) > MAX_SLUG - _HASH - 1:  # (unicode mode)
        limit -= 1
    at = slug.rfind("-", 0, limit + 1)
    if at > limit // 2:
        return slug[:at]
    digest = hashlib.blake2b((slug if whole is None else whole).encode("utf-8", "replace"),
                             digest_size=_HASH // 2).hexdigest()
    return f"{slug[:limit - _HASH - 1].rstrip('-')}-{digest}"


def explicit(text: str) -> str:
    """The slug of a ``slug:`` the user wrote: as :func:`slugify`, but never cut."""
    return _full_slug(text, _mode)


def too_long(slug: str) -> bool:
    """True if ``slug`` cannot be a file name with room for what a permalink adds: more
    than :data:`MAX_SLUG` characters, or UTF-8 bytes."""
    return len(slug) > MAX_SLUG or len(slug.encode("utf-8")) > MAX_SLUG


def readable_slug(text: str, limit: int) -> str:
    """:func:`slugify` cut at a ``-`` to at most ``limit`` characters, with no hash: for a
    name a person will type again, such as the file ``postil new`` makes."""
    slug = _full_slug(text, _mode)
    if len(slug) <= limit:
        return slug
    at = slug.rfind("-", 0, limit + 1)
    return slug[:at if at > 0 else limit].strip("-")


_SEPARATORS = re.compile(r"[\s_\-‐‑‒–—―−]+")


@lru_cache(maxsize=1 << 14)
def merge_key(name: str) -> str:
    """What two spellings of one tag, author or category share when they differ only
    in case, spaces, hyphens, underscores or diacritics: ``"Zürich"``, ``"zurich"`` →
    ``"zurich"``; ``"Machine_learning"``, ``"machine-Learning"`` → ``"machine learning"``.
    Latin letters with a stroke or ligature fold as anyascii reads them (``Ħ`` → ``h``);
    other scripts are only case-folded (``Наука`` → ``наука``)."""
    text = unicodedata.normalize("NFKD", name.replace("’", "'"))
    out = []
    for char in text:
        if unicodedata.combining(char):
            continue
        if not char.isascii() and "LATIN" in unicodedata.name(char, ""):
            char = anyascii(char)
        out.append(char)
    return _SEPARATORS.sub(" ", "".join(out).casefold()).strip()
