"""Note embeds, made when the site is indexed: ``![[Note]]`` shows that article's text.

Parsing left a placeholder per embed (:mod:`builder.markdown.note_embeds`); here
each becomes the embedded article's body (links resolved, its own embeds
made, to :data:`MAX_DEPTH` levels), or the section under one heading
(``![[Note#Heading]]``: up to the next heading of the same or a higher level)
or one block (``![[Note#^id]]``), in a quotation with a link back::

    <figure class="embed">
    <blockquote class="embed-body" cite="/articles/note/">…</blockquote>
    <figcaption><a class="embed-source" href="/articles/note/">Note</a></figcaption>
    </figure>

Ids in the embedded text get a prefix (``e1:``, ``e1:e2:`` when nested), and
links to them follow, so the page's ids stay unique; a slug never holds ``:``.
A cycle (a note embedding itself, directly or not) and an embed past the depth
limit are warnings naming the chain, and show only the link.

The body of an article that embeds others depends on their text: see
:func:`builder.delta.rebuild` for how rebuilds keep that exact.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from builder.markdown.note_embeds import EMBED_PREFIX
from builder.model import ArticleRecord
from builder.problems import Problem
from builder.wiki import WikiResolver

#: how deep embeds nest: a page shows embeds of embeds of embeds, then links
MAX_DEPTH = 3
_SLOT = re.compile(r'<div class="postil-embed"><a href="' + re.escape(EMBED_PREFIX)
                   + r'(\d+)">(.*?)</a></div>\n?')
_ID_ATTRS = re.compile(
    r'(\s(?:id|for|aria-describedby|aria-labelledby|aria-controls)=")([^"]*)(")')
_FRAGMENT = re.compile(r'(\shref=")#([^"]+)(")')
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                   "source", "track", "wbr", "param", "keygen"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


class Embedder:
    """Makes the embeds of the shown articles.

    ``records``: source → record of each shown article; ``bodies``: source → its
    body with links resolved and embed placeholders left; ``urls``: source → site
    path; ``prefix``: the base path without its last slash. Problems go to
    ``problems`` (each once).
    """

    def __init__(self, records: dict[str, ArticleRecord], bodies: dict[str, str],
                 urls: dict[str, str], prefix: str, resolver: WikiResolver,
                 problems: list[Problem]):
        self.records, self.bodies, self.urls = records, bodies, urls
        self.prefix, self.resolver, self.problems = prefix, resolver, problems
        self._reported: set[Problem] = set()

    def body(self, record: ArticleRecord) -> tuple[str, list[str]]:
        """The article's body with its embeds made, and the sources of the articles it
        embeds directly (in order, each once)."""
        found: list[str] = []
        text = self._expand(record, self.bodies[record.source], (), found)
        return text, list(dict.fromkeys(found))

    def _report(self, problem: Problem) -> None:
        if problem not in self._reported:
            self._reported.add(problem)
            self.problems.append(problem)

    def _expand(self, record: ArticleRecord, body: str, chain: tuple[str, ...],
                found: list[str] | None) -> str:
        if not record.embeds or EMBED_PREFIX not in body:
            return body
        chain = (*chain, record.source)

        def slot(match: re.Match) -> str:
            number = int(match[1])
            if number >= len(record.embeds):
                return match[0]  # not Postil's: left for the check of placeholders
            line, target = record.embeds[number]
            # Resolved (and reported) once, where the embed is written: nested, quietly.
            problems: list[Problem] = self.problems if found is not None else []
            start = len(problems)
            hit = self.resolver.link(target, record.source, line, problems, record)
            if found is not None:
                for problem in problems[start:]:
                    self._reported.add(problem)
            if hit is None:  # an error (the page is not made), or with unresolved: text
                text = match[2] or html.escape(target, quote=False)
                return f'<p class="embed-unresolved">{text}</p>\n'
            embedded, ident = hit
            if found is not None:
                found.append(embedded.source)
            url = self.prefix + self.urls.get(embedded.source, "") + (f"#{ident}"
                                                                     if ident else "")
            label = match[2] or html.escape(_title(embedded, ident), quote=False)
            path = " → ".join([*chain, embedded.source])
            if embedded.source in chain:
                self._report(Problem(record.source, line, f"embed cycle {path}: "
                                     "the embed is shown as a link", warning=True))
                return _figure("", url, label)
            if len(chain) > MAX_DEPTH:
                self._report(Problem(chain[0], self._first_line(chain), "embeds nested "
                                     f"more than {MAX_DEPTH} deep ({path}): the innermost "
                                     "is shown as a link", warning=True))
                return _figure("", url, label)
            inner = self._expand(embedded, self.bodies[embedded.source], chain, None)
            if ident:
                inner = cut(inner, ident)
            own = f"e{number + 1}:"
            return _figure(prefix_ids(inner, own, self.prefix + self.urls[embedded.source]),
                           url, label)

        return _SLOT.sub(slot, body)

    def _first_line(self, chain: tuple[str, ...]) -> int:
        """The line of the embed in ``chain[0]`` that starts the chain."""
        first = self.records[chain[0]]
        if len(chain) > 1:
            for line, target in first.embeds:
                hit = self.resolver.resolve(target, first.source, line, [], first)
                if hit is not None and hit[0].source == chain[1]:
                    return line
        return 1


def _title(record: ArticleRecord, ident: str) -> str:
    """"Title", or "Title › Heading" for a section."""
    for heading in record.headings:
        if heading["id"] == ident:
            return f"{record.title} › {heading['text']}"
    return f"{record.title} › {ident}" if ident else record.title


def _figure(inner: str, url: str, label: str) -> str:
    href = html.escape(url, quote=True)
    quote = f'<blockquote class="embed-body" cite="{href}">\n{inner}</blockquote>\n' \
        if inner else ""
    return (f'<figure class="embed">\n{quote}<figcaption><a class="embed-source" '
            f'href="{href}">{label}</a></figcaption>\n</figure>\n')


class _Tags(HTMLParser):
    """Where each start tag of a rendered body is, its id, and how deep it sits."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.depth = 0
        # (offset, start tag text, tag, id, depth before it) / (offset, "", "/tag", "", depth)
        self.tags: list[tuple[int, str, str, str, int]] = []
        self.feed(text)
        self.close()

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        ident = next((value or "" for name, value in attrs if name == "id"), "")
        self.tags.append((self._offset(), self.get_starttag_text() or "", tag, ident,
                          self.depth))
        if tag not in _VOID:
            self.depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        ident = next((value or "" for name, value in attrs if name == "id"), "")
        self.tags.append((self._offset(), self.get_starttag_text() or "", tag, ident,
                          self.depth))

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID:
            self.depth -= 1
        self.tags.append((self._offset(), "", "/" + tag, "", self.depth))


def cut(body: str, ident: str) -> str:
    """The part of ``body`` an id names: a heading's section (to the next heading of
    its level or higher at the same depth, or the end of what holds it), or the
    element with that id (a list item in a list of its own). The whole body when no
    element has it."""
    tags = _Tags(body).tags
    for index, (offset, _, tag, found, depth) in enumerate(tags):
        if found != ident:
            continue
        if tag in _HEADINGS:
            level = int(tag[1])
            for later, _, other, _, other_depth in tags[index + 1:]:
                if other_depth < depth or other_depth == depth and other in _HEADINGS and \
                        int(other[1]) <= level:
                    return body[offset:later]
            return body[offset:]
        for later, _, other, _, other_depth in tags[index + 1:]:
            if other == "/" + tag and other_depth == depth:
                end = body.find(">", later) + 1
                if tag == "li":  # an item is shown in a list of its own
                    return f"<ul>\n{body[offset:end]}\n</ul>\n"
                return body[offset:end] + "\n"
        return body[offset:]
    return body


def prefix_ids(body: str, prefix: str, page: str) -> str:
    """``body`` with every id (and ``for``, ``aria-*by``, ``aria-controls``) given
    ``prefix``; a link to a fragment in it follows, a link to a fragment not in it goes
    to ``page``."""
    tags = _Tags(body).tags
    ids = {ident for _, _, _, ident, _ in tags if ident}

    def fragment(match: re.Match) -> str:
        target = html.unescape(match[2])
        if target in ids:
            return f"{match[1]}#{html.escape(prefix + target, quote=True)}{match[3]}"
        return f"{match[1]}{html.escape(page, quote=True)}#{match[2]}{match[3]}"

    def ident(match: re.Match) -> str:
        names = " ".join(prefix + name for name in match[2].split())
        return f"{match[1]}{names}{match[3]}"

    out: list[str] = []
    last = 0
    for offset, text, _, _, _ in tags:
        if not text or ("id=" not in text and "for=" not in text and "by=" not in text
                        and "controls=" not in text and 'href="#' not in text):
            continue
        out += [body[last:offset], _FRAGMENT.sub(fragment, _ID_ATTRS.sub(ident, text))]
        last = offset + len(text)
    out.append(body[last:])
    return "".join(out)
