"""Slugs: lowercase ASCII, diacritics folded, punctuation turned into ``-``, and short
enough to be a file name.

A slug becomes a name in the output folder (``tags/<slug>/``, ``<slug>.html``), and
file systems allow 255 bytes per name (``NAME_MAX`` on Linux, in UTF-8 bytes). A
longer slug is cut to :data:`MAX_SLUG` characters, ending in a hash of the whole
slug: the same name always gives the same slug, and two long names that share
their start still differ. 200 is WordPress's limit for a post's slug too, and
leaves room for what a permalink adds (``.annotations.json``, dates).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

# Letters that NFKD does not decompose into ASCII plus a combining mark.
_SPECIAL = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "œ": "oe", "Œ": "oe",
     "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "þ": "th", "Þ": "th", "ı": "i"}
)
_APOSTROPHES = str.maketrans({"’": "", "'": ""})
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
MAX_SLUG = 200  # characters, which are bytes: a slug is ASCII
_HASH = 8  # hex characters of the suffix of a shortened slug


def fold(text: str) -> str:
    """Fold diacritics and case: ``Zürich`` → ``zurich`` (spacing kept)."""
    text = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


@lru_cache(maxsize=1 << 16)  # every build slugs every tag and author name again
def slugify(text: str) -> str:
    """``"Zürich: a city's guide"`` → ``"zurich-a-citys-guide"``; at most :data:`MAX_SLUG`
    characters (see :func:`shorten`)."""
    return shorten(_full_slug(text))


def _full_slug(text: str) -> str:
    ascii_text = fold(text.translate(_APOSTROPHES)).encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub("-", ascii_text).strip("-")


def shorten(slug: str, limit: int = MAX_SLUG) -> str:
    """``slug`` if it has at most ``limit`` characters; else its start and ``-`` and 8 hex
    characters of its blake2b digest, ``limit`` characters in all (``limit`` > 9)."""
    if len(slug) <= limit:
        return slug
    digest = hashlib.blake2b(slug.encode("utf-8"), digest_size=_HASH // 2).hexdigest()
    return f"{slug[:limit - _HASH - 1].rstrip('-')}-{digest}"


def full_length(text: str) -> int:
    """The length of ``text``'s slug before :func:`shorten` (characters): a ``slug:`` the
    user gave longer than :data:`MAX_SLUG` is an error rather than shortened unasked."""
    return len(_full_slug(text))


def readable_slug(text: str, limit: int) -> str:
    """:func:`slugify` cut at a ``-`` to at most ``limit`` characters, with no hash: for a
    name a person will type again, such as the file ``postil new`` makes."""
    slug = _full_slug(text)
    if len(slug) <= limit:
        return slug
    cut = slug.rfind("-", 0, limit + 1)
    return slug[:cut if cut > 0 else limit].strip("-")
