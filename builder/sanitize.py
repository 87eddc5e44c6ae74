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

ammonia's parser takes time superlinear in the depth of the tree (10,000 nested
``<div>`` take about a second, 50,000 nested ``<ul><li>`` minutes), so
:func:`scan_raw_html` also bounds how deep raw HTML nests (:data:`MAX_DEPTH`),
in one pass over the tags, before the body reaches ``nh3``.
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
#: elements Postil writes itself and raw HTML may not: removed from raw HTML (text kept)
POSTIL_ONLY_TAGS = frozenset({"input", "label"})
#: the placeholders of Postil's own links (builder.markdown.internal_links.RESERVED; not
#: imported from there, so that reading site.yml does not load the Markdown parser)
RESERVED = ("postil-ref:", "postil-wiki:", "postil-asset:", "postil-tag:", "postil-embed:",
            "postil-site:")


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
_SCHEMES = {"http", "https", "mailto", "postil-ref", "postil-wiki", "postil-asset", "postil-tag",
            "postil-embed", "postil-site"}
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
#: the values a table cell's ``text-align`` may take (ammonia keeps the property whatever
#: its value: ``expression(…)`` would pass)
_ALIGNMENTS = frozenset({"left", "right", "center", "justify", "start", "end"})
_STYLE_VALUE = re.compile(r"""\bstyle\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
#: an allowed alignment (ammonia keeps the property only in lower case, the value as is)
_ALIGNED = re.compile(r"\s*text-align\s*:\s*(?i:" + "|".join(sorted(_ALIGNMENTS))
                      + r")\s*;?\s*")

#: How deep raw HTML may nest. Hand-written HTML rarely goes past 20 levels, and Postil's
#: own markup around it past 30 (Markdown nesting stops at 20, markdown.nesting), so 200
#: leaves room for sloppy HTML that the count below overestimates (unclosed inline tags),
#: while ammonia's cost at depth 200 is still that of a flat body (about 0.4 s a MB).
MAX_DEPTH = 200
#: at most this many warnings of one kind per body, then one line for the rest
MAX_SAME = 20
#: start tags the HTML parser ignores inside a body (no element, no depth)
_IGNORED = frozenset({"html", "head", "body"})
#: HTML's "special" elements: the search for an open ``<li>``, ``<dd>`` or ``<dt>`` that a
#: new one closes stops at these (but at address, div and p)
_SPECIAL = frozenset({
    "address", "applet", "area", "article", "aside", "base", "basefont", "bgsound",
    "blockquote", "body", "br", "button", "caption", "center", "col", "colgroup", "dd",
    "details", "dir", "div", "dl", "dt", "embed", "fieldset", "figcaption", "figure", "footer",
    "form", "frame", "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hgroup",
    "hr", "html", "iframe", "img", "input", "keygen", "li", "link", "listing", "main",
    "marquee", "menu", "meta", "nav", "noembed", "noframes", "noscript", "object", "ol", "p",
    "param", "plaintext", "pre", "script", "search", "section", "select", "source", "style",
    "summary", "table", "tbody", "td", "template", "textarea", "tfoot", "th", "thead", "title",
    "tr", "track", "ul", "wbr", "xmp", "foreignobject", "desc", "mi", "mo", "mn", "ms",
    "mtext", "annotation-xml"})
#: the elements that end "button scope": an open <p> behind one of them stays open
_BUTTON_SCOPE = frozenset({"applet", "caption", "html", "table", "td", "th", "marquee",
                           "object", "template", "button", "foreignobject", "desc", "title",
                           "mi", "mo", "mn", "ms", "mtext", "annotation-xml"})
#: start tags that close an open <p> (when no element of button scope is in between)
_CLOSES_P = frozenset({
    "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div",
    "dl", "fieldset", "figcaption", "figure", "footer", "header", "hgroup", "main", "menu",
    "nav", "ol", "p", "search", "section", "summary", "ul", "h1", "h2", "h3", "h4", "h5", "h6",
    "pre", "listing", "form", "hr", "xmp", "li", "dd", "dt", "plaintext", "table"})


def _not_li_stop(tag: str) -> bool:
    return tag not in _SPECIAL or tag in ("address", "div", "p")


#: start tag → (the open elements it ends, the elements the search may pass over). The
#: same rules as HTML's parser, but looking at the top three open elements only: where
#: the parser would look further and close more, the count here stays higher, never lower.
_ENDS: dict[str, tuple[frozenset[str], Any]] = {
    "li": (frozenset({"li"}), _not_li_stop),
    "dd": (frozenset({"dd", "dt"}), _not_li_stop),
    "dt": (frozenset({"dd", "dt"}), _not_li_stop),
    "option": (frozenset({"option"}), lambda tag: False),
    "optgroup": (frozenset({"option"}), lambda tag: False),
    "tr": (frozenset({"tr"}), lambda tag: tag in ("td", "th")),
    "td": (frozenset({"td", "th"}), lambda tag: False),
    "th": (frozenset({"td", "th"}), lambda tag: False),
    "thead": (frozenset({"thead", "tbody", "tfoot"}), lambda tag: tag in ("tr", "td", "th")),
    "tbody": (frozenset({"thead", "tbody", "tfoot"}), lambda tag: tag in ("tr", "td", "th")),
    "tfoot": (frozenset({"thead", "tbody", "tfoot"}), lambda tag: tag in ("tr", "td", "th")),
}
_P_ENDS = (frozenset({"p"}), lambda tag: tag not in _BUTTON_SCOPE)


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


def _alignment(style: str) -> str | None:
    """A ``style`` attribute reduced to its ``text-align`` declarations with an allowed
    value (:data:`_ALIGNMENTS`), or None when none is left."""
    kept = [part.strip() for part in style.split(";") if _ALIGNED.fullmatch(part)]
    return "; ".join(kept) or None


def _filter(element: str, attribute: str, value: str) -> str | None:
    """What ammonia does not judge itself: ``data:`` URLs (only images, only embedded),
    each URL of a ``srcset``, and the value of ``text-align``. Called for every attribute:
    used only on bodies that hold ``data:``, ``srcset`` or a style other than an allowed
    alignment."""
    if attribute == "style":
        return _alignment(value)
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
    filtered = "data:" in html or "srcset" in html or any(
        not _ALIGNED.fullmatch(next(value for value in found.groups() if value is not None))
        for found in _STYLE_VALUE.finditer(html))
    cleaner = _CLEANERS.get(filtered)
    if cleaner is None:
        cleaner = _CLEANERS[filtered] = _cleaner(filtered)
    return cleaner.clean(html)


class _RawScanner(HTMLParser):
    """Reads one raw HTML token: rewrites ids and names, notes what will be removed."""

    def __init__(self, owner: _RawHtml, text: str, line: int):
        super().__init__(convert_charrefs=True)
        self.owner = owner
        self.use(text, line)

    def use(self, text: str, line: int) -> None:
        """Read ``text`` (a token starting on file line ``line``) next: with :meth:`feed`,
        or :meth:`read_bare` (which needs no :meth:`reset`: one scanner serves a body)."""
        self.text, self.line = text, line
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        # spans of the text to replace, in order: (start, end, new text), or (start, end,
        # (tag, attrs, closed)) for a start tag written again once every raw id is known
        self.edits: list[tuple[int, int, Any]] = []
        self.bare: str | None = None  # the tag, when read without the parser (read_bare)

    def read_bare(self) -> None:
        """Read :attr:`text` when its tags have no attributes (:data:`_NOT_BARE`), as the
        parser would, without it: 200,000 tags (a MB) cost it 1.5 s, a regular expression
        a tenth of that. Sets the position :meth:`getpos` reports at each tag."""
        text, line, last = self.text, 1, 0
        for found in _BARE_TAG.finditer(text):
            start = found.start()
            line += text.count("\n", last, start)
            last = start
            self.lineno, self.offset = line, start - self.starts[line - 1]
            self.bare = found[0]
            if found[1]:
                self.handle_endtag(found[2].lower())
            else:
                self._start(found[2].lower(), [], closed=bool(found[3]))

    def _line(self) -> int:
        return self.line + self.getpos()[0] - 1

    def _offset(self) -> int:
        """Where the tag being read starts in :attr:`text`."""
        line, column = self.getpos()
        return self.starts[line - 1] + column

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
        kept = owner.depth.enter(tag, closed)
        # Postil's note toggles and task lists are its only form controls: written in raw
        # HTML, an <input> would be a text box asking for anything, and a <label for> could
        # work Postil's own toggles.
        postils_own = tag in POSTIL_ONLY_TAGS
        if postils_own and not owner.dropping:
            owner.warn(line, f"raw HTML: removed <{tag}> (only Postil's own note toggles "
                       "and task lists have one)")
        if not kept or rewrite or postils_own:
            start = self._offset()
            end = start + len(self.bare or self.get_starttag_text() or "")
            self.edits.append((start, end, (tag, attrs, closed) if kept and not postils_own
                               else ""))
        if not kept and not owner.too_deep:
            owner.too_deep = True
            owner.warn(line, f"raw HTML nested more than {MAX_DEPTH} deep: the tags past that "
                       "depth are removed (their text is kept)")
        if not closed and tag not in _VOID and tag not in _OPTIONAL_END:
            owner.open.append((tag, line))
            owner.open_count[tag] = owner.open_count.get(tag, 0) + 1
            if tag in DROPPED_WITH_CONTENT:
                owner.dropping += 1

    def handle_endtag(self, tag: str) -> None:
        kept, before = self.owner.depth.leave(tag)
        if before or not kept:
            start = self._offset()
            end = self.text.find(">", start) + 1 or len(self.text)  # (HTMLParser's end too)
            self.edits.append((start, start if kept else end, before))
        if tag in _VOID or tag in _OPTIONAL_END:
            return
        if tag in DROPPED_WITH_CONTENT and self.owner.dropping:
            self.owner.dropping -= 1
        stack, count = self.owner.open, self.owner.open_count
        if count.get(tag):  # (counted: a search of the stack for each stray end tag is quadratic)
            index = len(stack) - 1
            while stack[index][0] != tag:
                index -= 1
            for name, line in stack[index + 1:]:
                self.owner.warn(line, f"raw HTML: <{name}> is not closed before </{tag}>")
            for name, _ in stack[index:]:
                count[name] -= 1
            del stack[index:]
            return
        self.owner.warn(self._line(), f"raw HTML: </{tag}> closes nothing and was removed")


class _Depth:
    """How deep the raw HTML of a body nests, counted as HTML's parser would build it (or
    deeper, never shallower: see :data:`_ENDS`), and what keeps it within :data:`MAX_DEPTH`.

    Postil's own elements around the raw HTML are not counted (Markdown nesting is bounded
    on its own). Past the limit, start tags are removed, and the end tags that match them;
    an end tag that closes elements left open gets their end tags written before it, so
    that ammonia's parser closes what this count closed (it could otherwise ignore the end
    tag, as it does for a ``</div>`` behind an open ``<table>``, and nest deeper than
    counted). Each tag costs constant time (amortized); normal documents are unchanged,
    but for the end tags of misnested elements, written where the parser would imply them."""

    def __init__(self) -> None:
        self.stack: list[str] = []  # open elements, innermost last
        self.count: dict[str, int] = {}  # open elements by name
        self.removed: dict[str, int] = {}  # start tags removed, by name, not yet ended

    def _pop_to(self, index: int) -> list[str]:
        """Close the elements from ``index`` up; their names, innermost first."""
        closed = self.stack[index:][::-1]
        del self.stack[index:]
        for name in closed:
            self.count[name] -= 1
        return closed

    def enter(self, tag: str, closed: bool) -> bool:
        """A start tag (``closed``: written ``<tag/>``); whether it is kept. The slash of
        ``<div/>`` means nothing in HTML: only a void element is closed."""
        if tag in _VOID or tag in _IGNORED:
            return True
        stack = self.stack
        ends = _ENDS.get(tag) or (_P_ENDS if tag in _CLOSES_P and self.count.get("p") else None)
        if ends is not None and stack:
            family, passes = ends
            for index in range(len(stack) - 1, max(len(stack) - 4, -1), -1):
                if stack[index] in family:
                    self._pop_to(index)
                    break
                if not passes(stack[index]):
                    break
        if len(stack) >= MAX_DEPTH:
            self.removed[tag] = self.removed.get(tag, 0) + 1
            return False
        stack.append(tag)
        self.count[tag] = self.count.get(tag, 0) + 1
        return True

    def leave(self, tag: str) -> tuple[bool, str]:
        """An end tag: (whether it is kept, end tags to write before it)."""
        if self.removed.get(tag):  # the innermost open <tag> is one that was removed
            self.removed[tag] -= 1
            return False, ""
        if not self.count.get(tag):
            return True, ""  # closes nothing: the parser ignores it (or makes an empty <p>)
        index = len(self.stack) - 1
        while self.stack[index] != tag:
            index -= 1
        inner = self._pop_to(index)[:-1]
        # Not those HTML lets one leave out: the parser ends them with the outer element
        # (and a written </p> with no <p> open makes an empty paragraph).
        return True, "".join(f"</{name}>" for name in inner if name not in _OPTIONAL_END)



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
        self.open_count: dict[str, int] = {}  # tags in self.open, by name
        self.ids: set[str] = set()  # ids and names written in raw HTML
        # tokens to write again: (token, attribute, its text, edits: see _RawScanner.edits)
        self.pending: list[tuple[object, str, str, list[tuple[int, int, Any]]]] = []
        self.bare_scanner: _RawScanner | None = None
        self.depth = _Depth()
        self.too_deep = False  # whether the nesting warning was given
        self.seen: set[tuple[int, str, bool]] = set()  # self.problems, to skip repeats
        # warnings by kind (_kind): how many, and (count left out, first left out)
        self.kinds: dict[str, int] = {}
        self.left_out: dict[str, tuple[int, tuple[int, str, bool]]] = {}

    def warn(self, line: int, message: str) -> None:
        self.report(line, message, error=False)

    def report(self, line: int, message: str, error: bool) -> None:
        """Note a problem once; past :data:`MAX_SAME` of one kind, count it only."""
        item = (line, message, error)
        if item in self.seen:
            return
        self.seen.add(item)
        kind = _kind(message)
        number = self.kinds[kind] = self.kinds.get(kind, 0) + 1
        if number <= MAX_SAME:
            self.problems.append(item)
        else:
            left, first = self.left_out.get(kind, (0, item))
            self.left_out[kind] = (left + 1, first)

    def summarize(self) -> None:
        """One problem for each kind past :data:`MAX_SAME`: "… and K more like this"."""
        for left, (line, message, error) in self.left_out.values():
            self.problems.append((line, f"… and {left} more like this, the first: {message}",
                                  error))
        self.left_out = {}

    def read(self, token: object, attribute: str, line: int) -> None:
        """Scan the raw HTML in ``token.<attribute>`` (its ``content``)."""
        text = getattr(token, attribute)
        if not _NOT_BARE.search(text):
            scanner = self.bare_scanner
            if scanner is None:
                scanner = self.bare_scanner = _RawScanner(self, text, line)
            else:  # (a new parser per token costs a fifth of a body of 140,000 <div>)
                scanner.use(text, line)
            scanner.read_bare()
        else:
            scanner = _RawScanner(self, text, line)
            scanner.feed(text)
            scanner.close()
        if scanner.edits:
            self.pending.append((token, attribute, text, scanner.edits))

    def rewrite(self) -> None:
        """Make the edits of each token: tags that hold raw ids, or links to them, written
        again (see :func:`_rebuild`), tags removed or added by :class:`_Depth`."""
        for token, attribute, text, edits in self.pending:
            parts, done = [], 0
            for start, end, new in edits:
                parts += (text[done:start],
                          new if isinstance(new, str) else _rebuild(*new, self.ids))
                done = end
            parts.append(text[done:])
            setattr(token, attribute, "".join(parts))


#: a tag without attributes: ("/" of an end tag, name, "/" of <x/>)
_BARE_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)\s*(/?)>")
#: what :meth:`_RawScanner.read_bare` cannot read: a "<" that starts no tag, or starts one
#: with attributes, a comment, or script or style (whose text the parser does not read)
_NOT_BARE = re.compile(r"<(?![a-zA-Z][a-zA-Z0-9-]*\s*/?>|/[a-zA-Z][a-zA-Z0-9-]*\s*>)"
                       r"|<(?:script|style)\b", re.I)
#: what a message's kind leaves out: quoted values and tags
_DETAILS = re.compile(r'"[^"]*"|<[^>]*>')


def _kind(message: str) -> str:
    """The kind of a message, for :data:`MAX_SAME`: itself without its quoted values and
    tags (``raw HTML: <…> is never closed``)."""
    return _DETAILS.sub("…", message)


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
    raw.summarize()
    env["raw_html"] = found
    env.setdefault("raw_problems", []).extend(raw.problems)
