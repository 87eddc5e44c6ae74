"""The Hugo site ``bench/rebuild.py`` times next to Postil: the same articles, Postil's pages.

:func:`write_hugo_site` turns a corpus made by ``bench/generate.py`` into a Hugo
site that builds what Postil's default theme builds, as a competent Hugo user
would write it (every template linear in what the page shows):

* every article page: title, date, author and tag links, reading time, source
  link, summary, table of contents, body, the entities it mentions, the newer
  and older article;
* the home page, paginated (``paginate`` of the corpus's ``site.yml``, else 10);
* ``/archive/``: every article, by year (one page);
* ``/tags/``, ``/authors/``, ``/entities/``: every term with its count;
* one page per tag, author and entity, paginated, listing its articles (an
  entity's first page also shows its notes, from ``content/entities/SLUG/_index.md``);
* a feed of the 20 newest articles (Postil's ``feed.limit``), full text, for the
  site and for every tag, author and entity; the sitemap; a 404 page.

Which entities an article mentions is found ahead of time, with Postil's own
matcher (:class:`builder.lexicon.Lexicon`), and written into the article's front
matter as an ``entities`` taxonomy: Hugo does not look for names in prose.

What Postil does that this site does not: autolinking entity names in the
article text, the passages quoted on entity pages, co-mentioned entities and
entity timelines, the timeline and annotations pages, annotation JSON files,
JSON-LD and the social and citation ``<meta>`` tags, grouping ``/entities/`` by
type, related articles (Hugo's related search ranks every page sharing a tag or
entity with the article: with this corpus's Zipf-distributed tags, quadratic).
Hugo does build ``/page/1/`` redirects that Postil does not.

Written to avoid the two quadratic lines that spent 62% of the CPU of the
earlier version of this site at 10,000 articles (see ``bench/README.md``): no
``where`` over every page in a template rendered once per paginator page (the
home page pages through
``site.RegularPages`` directly: articles are its only regular pages); no
``.GetTerms`` (in Hugo 0.111 it walks every term of the taxonomy, for each page:
tag and author links are made from ``.Params`` with ``urlize``); no section list
of the articles (``disableKinds``), no feed of every page (``rssLimit``).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from builder.lexicon import RegistryEntry, build_lexicon

#: Postil's defaults: ``paginate`` (when site.yml has none) and ``feed.limit``
PAGINATE = 10
FEED_LIMIT = 20

CONFIG = """\
baseURL = "https://bench.example.org/"
title = "Postil benchmark archive"
languageCode = "en"
timeZone = "Europe/Paris"
paginate = {paginate}
rssLimit = {feed_limit}
# The home page lists the articles: no /posts/ list besides it (Postil has none).
disableKinds = ["section"]
[taxonomies]
tag = "tags"
author = "authors"
entity = "entities"
[outputs]
home = ["HTML", "RSS"]
page = ["HTML"]
taxonomy = ["HTML"]
term = ["HTML", "RSS"]
"""

_CARD = """<li class="article-card"><h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2>
<p class="byline"><time datetime="{{ .Date.Format "2006-01-02" }}">{{ .Date.Format "2 January 2006" }}</time>{{ range .Params.authors }} · <a href="{{ printf "/authors/%s/" (urlize .) | relURL }}">{{ . }}</a>{{ end }}{{ with .Params.publication }} · {{ . }}{{ end }}</p>
<p class="card-summary">{{ .Summary }}</p></li>
"""  # noqa: E501

_PAGER = """{{ if gt .TotalPages 1 }}<nav class="pagination">{{ with .Prev }}<a rel="prev" href="{{ .URL }}">← Newer</a>{{ end }}
<span>Page {{ .PageNumber }} of {{ .TotalPages }}</span>{{ with .Next }}<a rel="next" href="{{ .URL }}">Older →</a>{{ end }}</nav>{{ end }}
"""  # noqa: E501

LAYOUTS = {
    "_default/baseof.html": """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ if not .IsHome }}{{ .Title }} · {{ end }}{{ site.Title }}</title>
<link rel="canonical" href="{{ .Permalink }}">
{{ with .OutputFormats.Get "rss" }}<link rel="alternate" type="application/rss+xml" href="{{ .RelPermalink }}">{{ end }}
</head>
<body><header><a href="{{ "/" | relURL }}">{{ site.Title }}</a>
<nav><a href="{{ "/archive/" | relURL }}">Archive</a> <a href="{{ "/entities/" | relURL }}">Entities</a> <a href="{{ "/tags/" | relURL }}">Tags</a> <a href="{{ "/authors/" | relURL }}">Authors</a></nav></header>
<main>{{ block "main" . }}{{ end }}</main>
<footer><p>Built with Hugo.</p></footer>
</body></html>
""",  # noqa: E501
    "_default/single.html": """{{ define "main" }}<article><h1>{{ .Title }}</h1>
<p class="byline"><time datetime="{{ .Date.Format "2006-01-02" }}">{{ .Date.Format "2 January 2006" }}</time>{{ range .Params.authors }} · <a href="{{ printf "/authors/%s/" (urlize .) | relURL }}">{{ . }}</a>{{ end }}{{ with .Params.publication }} · {{ . }}{{ end }}</p>
<p class="meta">{{ .ReadingTime }} min read{{ with .Params.source }} · <a href="{{ . }}" rel="noopener">Read the original</a>{{ end }}</p>
{{ with .Params.tags }}<ul class="tags">{{ range . }}<li><a href="{{ printf "/tags/%s/" (urlize .) | relURL }}">{{ . }}</a></li>{{ end }}</ul>{{ end }}
<p class="summary">{{ .Summary }}</p>
{{ .TableOfContents }}
<div class="article-body">{{ .Content }}</div>
{{ with .Params.entities }}<section><h2>In this article</h2><ul>{{ range . }}{{ with site.GetPage (printf "/entities/%s" .) }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}{{ end }}</ul></section>{{ end }}
</article>
<nav class="neighbours">{{ with .Prev }}<a rel="prev" href="{{ .RelPermalink }}">Previous: {{ .Title }}</a>{{ end }}
{{ with .Next }}<a rel="next" href="{{ .RelPermalink }}">Next: {{ .Title }}</a>{{ end }}</nav>{{ end }}
""",  # noqa: E501
    "_default/list.html": """{{ define "main" }}<h1>{{ site.Title }}</h1>
{{ $pager := .Paginate site.RegularPages }}<ol class="article-list">{{ range $pager.Pages }}{{ partial "card.html" . }}{{ end }}</ol>
{{ partial "pager.html" $pager }}{{ end }}
""",  # noqa: E501
    "_default/term.html": """{{ define "main" }}<h1>{{ .Title }}</h1>
<p>{{ len .Pages }} articles.</p>
{{ $pager := .Paginate .Pages }}{{ if eq $pager.PageNumber 1 }}{{ .Content }}{{ end }}
<ol class="article-list">{{ range $pager.Pages }}{{ partial "card.html" . }}{{ end }}</ol>
{{ partial "pager.html" $pager }}{{ end }}
""",
    "_default/terms.html": """{{ define "main" }}<h1>{{ .Title }}</h1>
<ul class="term-cloud">{{ range .Data.Terms.Alphabetical }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.LinkTitle }} <span class="count">{{ .Count }}</span></a></li>{{ end }}</ul>{{ end }}
""",  # noqa: E501
    "_default/archive.html": """{{ define "main" }}<h1>Archive</h1>
<p>{{ len site.RegularPages }} articles.</p>
{{ range site.RegularPages.GroupByDate "2006" }}<section><h2>{{ .Key }}</h2><ol>{{ range .Pages }}<li><time datetime="{{ .Date.Format "2006-01-02" }}">{{ .Date.Format "2 Jan" }}</time> <a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ol></section>{{ end }}{{ end }}
""",  # noqa: E501
    "_default/rss.xml": """{{ $pages := .Pages }}{{ if .IsHome }}{{ $pages = site.RegularPages }}{{ end }}<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<rss version="2.0"><channel><title>{{ if not .IsHome }}{{ .Title }} · {{ end }}{{ site.Title }}</title><link>{{ .Permalink }}</link>
{{ with $pages }}<lastBuildDate>{{ (index . 0).Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" }}</lastBuildDate>{{ end }}
{{ range first site.Config.Services.RSS.Limit $pages }}<item><title>{{ .Title }}</title><link>{{ .Permalink }}</link><guid>{{ .Permalink }}</guid>
<pubDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" }}</pubDate><description>{{ .Content | html }}</description></item>
{{ end }}</channel></rss>
""",  # noqa: E501
    "404.html": """{{ define "main" }}<h1>Page not found</h1>{{ end }}
""",
    "partials/card.html": _CARD,
    "partials/pager.html": _PAGER,
}


def front_matter(text: str) -> tuple[str, str]:
    """(front matter without its ``---`` lines, body) of a generated Markdown file."""
    _, front, body = text.split("---\n", 2)
    return front, body


def _registry(folder: Path) -> list[tuple[RegistryEntry, str]]:
    """The corpus's entities, as the lexicon wants them, with each one's notes."""
    entries = []
    for source in sorted(folder.glob("*.md")):
        front, body = front_matter(source.read_text(encoding="utf-8"))
        # generate.py writes each value as JSON (a YAML subset): a string or a list
        fields = {key: json.loads(value) if value[:1] in '["' else value
                  for key, value in (line.split(": ", 1) for line in front.splitlines())}
        entries.append((RegistryEntry(
            slug=source.stem, name=fields["name"], source=source.name,
            aliases=fields.get("aliases", []), case_sensitive=fields.get("case_sensitive", []),
            weak_aliases=fields.get("weak_aliases", []), line_of={}), body))
    return entries


def write_hugo_site(site: Path, mirror: Path) -> tuple[Path, Path, int, int]:
    """Write the Hugo version of the corpus ``site`` into ``mirror`` (replacing it).

    Returns (the articles' folder, the base template, articles, entities). Every
    entity gets a term page (from its ``_index.md``), as in Postil, also one that
    no article mentions; ``site`` is only read.
    """
    shutil.rmtree(mirror, ignore_errors=True)
    posts = mirror / "content" / "posts"
    posts.mkdir(parents=True)
    registry = _registry(site / "content" / "entities")
    lexicon, _ = build_lexicon([entry for entry, _ in registry], autolink=True)
    articles = 0
    for source in sorted((site / "content").glob("*.md")):
        front, body = front_matter(source.read_text(encoding="utf-8"))
        lines = []
        for line in front.splitlines():
            if line.startswith("author: "):  # one author: into the ``authors`` taxonomy
                line = f"authors: [{line[len('author: '):]}]"
            lines.append(line)
        # Postil finds the names in prose as it renders; Hugo is told them.
        named = sorted({slug for _, _, slug in lexicon.find(body)})
        if named:
            lines.append(f"entities: {json.dumps(named)}")
        (posts / source.name).write_text("---\n" + "\n".join(lines) + "\n---\n" + body,
                                         encoding="utf-8")
        articles += 1
    entities = mirror / "content" / "entities"
    for entry, notes in registry:
        # A term's own page: its title and notes (the term is the slug, as in articles).
        (entities / entry.slug).mkdir(parents=True)
        (entities / entry.slug / "_index.md").write_text(
            f"---\ntitle: {json.dumps(entry.name)}\n---\n{notes}", encoding="utf-8")
    (mirror / "content" / "archive.md").write_text(
        '---\ntitle: Archive\nlayout: archive\nurl: /archive/\n_build:\n  list: never\n---\n',
        encoding="utf-8")
    layouts = mirror / "layouts"
    for name, text in LAYOUTS.items():
        (layouts / name).parent.mkdir(parents=True, exist_ok=True)
        (layouts / name).write_text(text, encoding="utf-8")
    found = re.search(r"^paginate: *(\d+)", (site / "site.yml").read_text(encoding="utf-8"),
                      re.MULTILINE)
    config = CONFIG.format(paginate=int(found.group(1)) if found else PAGINATE,
                           feed_limit=FEED_LIMIT)
    (mirror / "hugo.toml").write_text(config, encoding="utf-8")
    return posts, layouts / "_default" / "baseof.html", articles, len(registry)


def main() -> None:  # pragma: no cover - a helper to look at the site by hand
    import sys
    posts, _, articles, entities = write_hugo_site(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"{articles} articles, {entities} entities in {posts.parent.parent}")


if __name__ == "__main__":
    main()

