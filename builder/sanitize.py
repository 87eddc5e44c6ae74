"""Untrusted text made safe for pages, feeds and JSON.

Three things, each done once, where the text is read:

* :func:`clean_text` removes the characters XML 1.0 and HTML forbid (C0
  controls but tab, LF and CR; DEL and C1 controls; lone surrogates;
  noncharacters such as U+FFFE), from front matter values, ``site.yml`` and
  Markdown bodies, so no output (page, attribute, feed, JSON) can hold them.
* :func:`scan_raw_html` is a markdown-it core rule over the raw HTML tokens of
  a body: it gives ids and names written in raw HTML a ``user-content-``
  prefix (as GitHub does; Postil's own ids stay as they are, since they are
  made after this rule runs), checks URL attributes (:mod:`builder.safeurl`),
  and reports what the sanitizer will remove, with its line.
* :func:`sanitize_body` passes the rendered body through ``nh3`` (bindings to
  the Rust sanitizer ammonia) with an allow-list of formatting elements and
  of Postil's own markup. It parses and serialises the HTML, so the result is
  always balanced: a ``<div>`` left open cannot swallow the theme's page.
  A body without raw HTML is markdown-it's own escaped output and needs no
  pass (that keeps the cost to the articles that hold raw HTML).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import nh3

from builder.safeurl import check_url

#: a character XML 1.0 or HTML forbids, removed (it carries no text). Written as what is
#: allowed: a class listing the 32 astral noncharacters one by one searches ten times slower.
_FORBIDDEN = re.compile(
    "[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufdcf\ufdf0-\ufffd"
    + "".join(f"{chr(plane << 16)}-{chr(plane << 16 | 0xFFFD)}" for plane in range(1, 17))
    + "]")

#: prefix of ids and names written in raw HTML
USER_PREFIX = "user-content-"
#: the placeholders of Postil's own links (builder.markdown.internal_links.RESERVED; not
#: imported from there, so that reading site.yml does not load the Markdown parser)
RESERVED = ("postil-ref:", "postil-wiki:")


def clean_text(text: str) -> str:
    """``text`` without the characters XML 1.0 and HTML forbid (see the module docstring)."""
    return _FORBIDDEN.sub("", text) if _FORBIDDEN.search(text) else text


def has_forbidden(text: str) -> bool:
    return _FORBIDDEN.search(text) is not None


def forbidden_lines(text: str, first_line: int = 1) -> list[tuple[int, str]]:
    """(file line, message) for each line of ``text`` holding forbidden characters."""
    found = []
    for number, line in enumerate(text.split("\n"), start=first_line):
        chars = sorted(set(_FORBIDDEN.findall(line)))
        if chars:
            names = ", ".join(f"U+{ord(c):04X}" for c in chars)
            found.append((number, f"removed control character {names} (not allowed in HTML "
                                  "or XML)"))
    return found


def clean_data(value: Any) -> tuple[Any, bool]:
    """A YAML value with :func:`clean_text` applied to every string in it (keys too),
    and whether anything was removed. Values without forbidden characters are
    returned as they are."""
    if isinstance(value, str):
        cleaned = clean_text(value)
        return cleaned, cleaned is not value
    if isinstance(value, dict):
        changed = False
        out = {}
        for key, item in value.items():
            new_key, key_changed = clean_data(key)
            new_item, item_changed = clean_data(item)
            out[new_key] = new_item
            changed = changed or key_changed or item_changed
        return (out if changed else value), changed
    if isinstance(value, list):
        items = [clean_data(item) for item in value]
        if any(changed for _, changed in items):
            return [item for item, _ in items], True
        return value, False
    return value, False


def clean_meta(meta: dict, line_of: Any) -> tuple[dict, list[tuple[int, str]]]:
    """Front matter or ``site.yml`` values cleaned; (line, warning) per key that held
    forbidden characters. ``line_of(key)`` gives a top-level key's line."""
    warnings = []
    cleaned, changed = clean_data(meta)
    if changed:
        for key, item in meta.items():
            if clean_data(item)[1] or clean_data(key)[1]:
                warnings.append((line_of(key), f"{clean_text(str(key))}: removed control "
                                               "characters (not allowed in HTML or XML)"))
    return cleaned, warnings


# -- raw HTML ---------------------------------------------------------------------------

#: elements kept (ammonia's defaults, plus what Postil's own markup uses)
TAGS = frozenset(nh3.ALLOWED_TAGS) | {"section", "input", "label", "summary", "details",
                                      "picture", "source", "video", "audio", "track"}
#: elements removed with their content (script, style, embedded documents, forms' controls)
DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "noscript",
    "template", "textarea", "select", "xmp", "noembed", "noframes", "svg", "math", "title",
    "head", "meta", "link", "base",
})
_GENERIC = {"id", "class", "title", "lang", "dir", "role", "tabindex", "aria-label",
            "aria-hidden", "aria-describedby", "aria-labelledby", "data-entity"}
ATTRIBUTES: dict[str, set[str]] = {
    "*": _GENERIC,
    "a": {"href", "hreflang", "name", "rel"},
    "img": {"src", "srcset", "sizes", "alt", "width", "height", "loading"},
    "source": {"src", "srcset", "sizes", "type", "media"},
    "video": {"src", "poster", "controls", "width", "height", "preload", "loop", "muted",
              "playsinline"},
    "audio": {"src", "controls", "preload", "loop", "muted"},
    "track": {"src", "kind", "srclang", "label", "default"},
    "td": {"colspan", "rowspan", "headers", "style"},
    "th": {"colspan", "rowspan", "headers", "scope", "style"},
    "col": {"span"}, "colgroup": {"span"},
    "ol": {"start", "reversed", "type"}, "li": {"value"},
    "blockquote": {"cite"}, "q": {"cite"}, "ins": {"cite", "datetime"},
    "del": {"cite", "datetime"}, "time": {"datetime"}, "data": {"value"},
    "details": {"open"}, "label": {"for"}, "abbr": set(), "bdo": set(),
    "input": {"checked", "disabled"},
}
#: the only ``type`` an ``<input>`` may have: Postil's note toggles and task lists
_INPUT_TYPES = {"input": {"type": {"checkbox"}}}
_SCHEMES = {"http", "https", "mailto", "postil-ref", "postil-wiki"}
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                   "source", "track", "wbr", "param", "keygen"})
#: elements whose end tag HTML lets one leave out: no warning when it is
_OPTIONAL_END = frozenset({"p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot",
                           "option", "optgroup", "colgroup", "caption", "rb", "rt", "rtc", "rp",
                           "html", "head", "body"})
#: attributes holding a URL (HTML's URL-valued attributes, plus SVG's)
_URL_ATTRS = frozenset({"href", "src", "action", "formaction", "cite", "poster", "background",
                        "longdesc", "data", "codebase", "xlink:href", "manifest", "ping",
                        "lowsrc", "dynsrc", "usemap", "srcset", "imagesrcset"})


def _cleaner(filtered: bool) -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(TAGS), clean_content_tags=set(DROPPED_WITH_CONTENT - TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        tag_attribute_values=_INPUT_TYPES, link_rel=None, strip_comments=True,
        url_schemes=_SCHEMES | ({"data"} if filtered else set()),
        # Alignment of Markdown table columns: a property that cannot break out.
        filter_style_properties={"text-align"},
        attribute_filter=_filter if filtered else None)


def _embeds(element: str, attribute: str) -> bool:
    """Whether the attribute's URL is fetched as an image or media, not opened as a page."""
    return element in ("img", "source", "video") and attribute in ("src", "srcset", "poster")


def _filter(element: str, attribute: str, value: str) -> str | None:
    """What ammonia does not judge itself: ``data:`` URLs (only images, only embedded)
    and each URL of a ``srcset``. Called for every attribute: used only on bodies that
    hold ``data:`` or ``srcset``."""
    if attribute == "srcset":
        urls = [candidate.strip().split(" ")[0] for candidate in value.split(",")]
        return value if all(check_url(url, embed=True).ok for url in urls if url) else None
    if value.lstrip()[:5].lower() == "data:":
        return value if _embeds(element, attribute) and \
            check_url(value, embed=True).ok else None
    return value


_CLEANERS: dict[bool, nh3.Cleaner] = {}


def sanitize_body(html: str) -> str:
    """The rendered body (HTML fragment) through the allow-list: balanced, no script,
    event handler, ``style`` element, or URL outside :data:`builder.safeurl.SAFE_SCHEMES`.
    """
    filtered = "data:" in html or "srcset" in html
    cleaner = _CLEANERS.get(filtered)
    if cleaner is None:
        cleaner = _CLEANERS[filtered] = _cleaner(filtered)
    return cleaner.clean(html)


class _RawScanner(HTMLParser):
    """Reads one raw HTML token: rewrites ids and names, notes what will be removed."""

    def __init__(self, owner: _RawHtml, text: str, line: int):
        super().__init__(convert_charrefs=True)
        self.owner, self.text, self.line = owner, text, line
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        # start tags to write again once every raw id is known: (start, end, tag, attrs, closed)
        self.edits: list[tuple[int, int, str, list[tuple[str, str | None]], bool]] = []

    def _line(self) -> int:
        return self.line + self.getpos()[0] - 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> None:
        owner, line = self.owner, self._line()
        if owner.dropping:  # inside a removed element: only its URLs are still judged
            pass
        elif tag in DROPPED_WITH_CONTENT:
            owner.warn(line, f"raw HTML: removed <{tag}>" if tag in _VOID else
                       f"raw HTML: removed <{tag}> and its content")
        elif tag not in TAGS:
            owner.warn(line, f"raw HTML: removed the tag <{tag}> (its content is kept)")
        rewrite = False
        for name, value in attrs:
            if owner.dropping:
                pass
            elif name.startswith("on"):
                owner.warn(line, f"raw HTML: removed the event handler {name} on <{tag}>")
            elif name == "style" and tag not in ("td", "th"):
                owner.warn(line, f"raw HTML: removed the style attribute on <{tag}>")
            if name in ("id", "name") and value:
                rewrite = True
                owner.ids.add(value)
            elif name == "href" and value and value.startswith("#"):
                rewrite = True
            if name in _URL_ATTRS and value:
                for url in (value.split(",") if "srcset" in name else (value,)):
                    url = url.strip().split(" ")[0] if "srcset" in name else url
                    if url.strip().lower().startswith(RESERVED):
                        owner.report(line, f'raw HTML <{tag} {name}> "{url}" uses a scheme '
                                     "reserved for Postil's own links", error=True)
                        continue
                    verdict = check_url(url, embed=_embeds(tag, name))
                    if not verdict.ok:
                        owner.report(line, verdict.message(f"raw HTML <{tag} {name}>", url),
                                     error=verdict.level == "error")
        if rewrite:
            start = self.starts[self.getpos()[0] - 1] + self.getpos()[1]
            raw = self.get_starttag_text() or ""
            self.edits.append((start, start + len(raw), tag, attrs, closed))
        if not closed and tag not in _VOID and tag not in _OPTIONAL_END:
            owner.open.append((tag, line))
            if tag in DROPPED_WITH_CONTENT:
                owner.dropping += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or tag in _OPTIONAL_END:
            return
        if tag in DROPPED_WITH_CONTENT and self.owner.dropping:
            self.owner.dropping -= 1
        stack = self.owner.open
        for index in range(len(stack) - 1, -1, -1):
            if stack[index][0] == tag:
                for name, line in stack[index + 1:]:
                    self.owner.warn(line, f"raw HTML: <{name}> is not closed before </{tag}>")
                del stack[index:]
                return
        self.owner.warn(self._line(), f"raw HTML: </{tag}> closes nothing and was removed")



def _rebuild(tag: str, attrs: list[tuple[str, str | None]], closed: bool, ids: set[str]) -> str:
    """A start tag written again: raw ids and names prefixed, and links to them too."""
    parts = [tag]
    for name, value in attrs:
        if name in ("id", "name") and value:
            value = USER_PREFIX + value
        elif name == "href" and value and value[1:] in ids:
            value = "#" + USER_PREFIX + value[1:]
        parts.append(name if value is None else
                     f'{name}="{value.replace("&", "&amp;").replace(chr(34), "&quot;")}"')
    return "<" + " ".join(parts) + (" />" if closed else ">")


class _RawHtml:
    """What the raw HTML of one body holds: problems and the tags still open."""

    def __init__(self) -> None:
        self.problems: list[tuple[int, str, bool]] = []  # (line, message, is an error)
        self.open: list[tuple[str, int]] = []
        self.dropping = 0  # depth inside elements removed with their content
        self.ids: set[str] = set()  # ids and names written in raw HTML
        self.pending: list[tuple[object, str, _RawScanner]] = []  # tokens to write again

    def warn(self, line: int, message: str) -> None:
        self.report(line, message, error=False)

    def report(self, line: int, message: str, error: bool) -> None:
        item = (line, message, error)
        if item not in self.problems:
            self.problems.append(item)

    def read(self, token: object, attribute: str, line: int) -> None:
        """Scan the raw HTML in ``token.<attribute>`` (its ``content``)."""
        text = getattr(token, attribute)
        scanner = _RawScanner(self, text, line)
        scanner.feed(text)
        scanner.close()
        if scanner.edits:
            self.pending.append((token, attribute, scanner))

    def rewrite(self) -> None:
        """Write the tags that hold raw ids, or links to them, again (see :func:`_rebuild`)."""
        for token, attribute, scanner in self.pending:
            text = scanner.text
            for start, end, tag, attrs, closed in reversed(scanner.edits):
                text = text[:start] + _rebuild(tag, attrs, closed, self.ids) + text[end:]
            setattr(token, attribute, text)


def scan_raw_html(state: Any) -> None:
    """markdown-it core rule: read every raw HTML token of the body (see :class:`_RawScanner`).

    Sets ``env["raw_html"]`` when the body has any (then it needs :func:`sanitize_body`),
    and adds ``env["raw_problems"]``: (line, message, is an error)."""
    env = state.env
    if not env.get("sanitize"):
        return
    first_line = env.get("first_line", 1)
    raw = _RawHtml()
    found = False
    for block in state.tokens:
        line = first_line + (block.map[0] if block.map else 0)
        if block.type == "html_block":
            found = True
            raw.read(block, "content", line)
        elif block.type == "inline" and block.children and "<" in block.content:
            for child in block.children:
                if child.type in ("softbreak", "hardbreak"):
                    line += 1
                elif child.type == "html_inline":
                    found = True
                    raw.read(child, "content", line)
    raw.rewrite()
    if raw.ids:  # Markdown links to an anchor written in raw HTML follow its new name
        for block in state.tokens:
            for child in block.children or ():
                href = child.attrGet("href") if child.type == "link_open" else None
                if href and href[:1] == "#" and href[1:] in raw.ids:
                    child.attrSet("href", "#" + USER_PREFIX + href[1:])
    for name, line in raw.open:
        raw.warn(line, f"raw HTML: <{name}> is never closed (closed at the end of the body)")
    env["raw_html"] = found
    env.setdefault("raw_problems", []).extend(raw.problems)
