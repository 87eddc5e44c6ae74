"""Slugs: lowercase ASCII, diacritics folded, punctuation turned into ``-``."""

from __future__ import annotations

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


def fold(text: str) -> str:
    """Fold diacritics and case: ``Zürich`` → ``zurich`` (spacing kept)."""
    text = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


@lru_cache(maxsize=1 << 16)  # every build slugs every tag and author name again
def slugify(text: str) -> str:
    """``"Zürich: a city's guide"`` → ``"zurich-a-citys-guide"``."""
    ascii_text = fold(text.translate(_APOSTROPHES)).encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub("-", ascii_text).strip("-")
