"""Which URLs from content and configuration may become an ``href`` or ``src``.

A URL is judged by the scheme a browser would read in it, following the
WHATWG URL Standard (https://url.spec.whatwg.org/#concept-basic-url-parser):
leading and trailing C0 controls and spaces are stripped, ASCII tabs and
newlines are removed anywhere, and the scheme (an ASCII letter, then letters,
digits, ``+``, ``-`` or ``.``, up to the first ``:``) is case-insensitive. So
``" JaVa\\tScRiPt:alert(1)"`` is a ``javascript:`` URL, as a browser sees it.
Character references are decoded first as well (``&#106;avascript:``,
``javascript&colon;``): raw HTML attributes and Markdown link destinations
are entity-decoded before they reach the page, and a front matter value
written that way is read as meaning the same thing.

The rules (``SAFE_SCHEMES``):

* ``http``, ``https``, ``mailto`` and relative URLs (a path, ``?query``,
  ``#fragment``) are links.
* ``//host/path`` (a network-path reference) is a link too: a browser opens
  it on another host with the page's own scheme (``https`` on a published
  site). It reaches another site, as an ``https:`` link does, and can run no
  script; pages clipped from the web use it for images.
* ``javascript:``, ``vbscript:`` and ``data:`` run or embed script: an error,
  except ``data:image/png``, ``jpeg``, ``gif`` and ``webp`` in a ``src``.
* any other scheme (``obsidian:``, ``file:``, ``tel:``, ``doi:`` …) is a
  warning, and the link is shown as text.

Hand-written rather than ``urllib.parse.urlsplit``: urlsplit neither strips
controls nor removes tabs the way the WHATWG parser does, and its scheme
rules differ (it accepts a scheme starting with a digit as a path).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

#: schemes written as links
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
#: schemes that run script or embed a document: never emitted
SCRIPT_SCHEMES = frozenset({"javascript", "vbscript", "data"})
#: ``data:`` media types a ``src`` may embed (raster images cannot hold script)
DATA_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})

_C0_OR_SPACE = "".join(chr(c) for c in range(0x21))
_TAB_OR_NEWLINE = re.compile("[\t\n\r]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")


@dataclass(frozen=True)
class UrlCheck:
    """The verdict on one URL.

    ``level`` is ``"ok"`` (emit it), ``"warning"`` (show the link as text) or
    ``"error"`` (a script or embedded document: report, never emit);
    ``scheme`` is the lowercased scheme as a browser reads it, ``""`` for a
    relative URL.
    """

    level: str
    scheme: str = ""

    @property
    def ok(self) -> bool:
        return self.level == "ok"

    def message(self, what: str, url: str) -> str:
        """The problem's text, naming ``what`` (``'link'``, ``'source'``, …) and the URL."""
        shown = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in url[:80])
        shown += "..." if len(url) > 80 else ""
        if self.level == "error":
            if self.scheme == "data":
                return (f'{what} "{shown}" is a data: URL, which may hold script '
                        f'(only data:image/png, jpeg, gif or webp, and only as an image)')
            return f'{what} "{shown}" is a {self.scheme}: URL, which runs script'
        return (f'{what} "{shown}" has the scheme "{self.scheme}:", not http, https, mailto '
                "or a relative URL: shown as text, not linked")


OK = UrlCheck("ok")


def browser_scheme(url: str) -> str:
    """The scheme a browser reads in ``url`` (lowercase), or ``""`` if it is relative.

    Follows the WHATWG basic URL parser's first steps: strip leading and
    trailing C0 control or space, remove every ASCII tab or newline, then
    read the scheme state.
    """
    cleaned = _TAB_OR_NEWLINE.sub("", url.strip(_C0_OR_SPACE))
    match = _SCHEME.match(cleaned)
    return match[1].lower() if match else ""


def check_url(url: str, *, embed: bool = False) -> UrlCheck:
    """Judge ``url`` as an ``href`` (``embed=False``) or an ``src`` (``embed=True``).

    The URL is read as written and with character references decoded; the
    stricter verdict wins. Never raises.
    """
    verdict = _check(url, embed)
    if "&" in url:
        decoded = _check(html.unescape(url), embed)
        if _RANK[decoded.level] > _RANK[verdict.level]:
            return decoded
    return verdict


_RANK = {"ok": 0, "warning": 1, "error": 2}


def _check(url: str, embed: bool) -> UrlCheck:
    # The common cases first: most links are plain http(s) or site paths.
    if url.startswith(("https://", "http://", "/", "#")) and url.isprintable():
        return OK
    scheme = browser_scheme(url)
    if not scheme or scheme in SAFE_SCHEMES:
        return OK
    if scheme == "data" and embed and _data_type(url) in DATA_IMAGES:
        return OK
    if scheme in SCRIPT_SCHEMES:
        return UrlCheck("error", scheme)
    return UrlCheck("warning", scheme)


def _data_type(url: str) -> str:
    """The media type of a ``data:`` URL, lowercased (``image/png``)."""
    cleaned = _TAB_OR_NEWLINE.sub("", url.strip(_C0_OR_SPACE))
    rest = cleaned[cleaned.index(":") + 1:]
    return re.split("[;,]", rest, maxsplit=1)[0].strip(_C0_OR_SPACE).lower()
