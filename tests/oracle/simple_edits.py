"""The simple edits of :data:`~oracle.edits.SIMPLE_EDITS`, each one change of the site."""

from __future__ import annotations

import posixpath
from random import Random

from bench.generate import NOUNS, make_entities

from .model import (
    BASE_URLS,
    PARTIAL,
    PERMALINKS,
    SUBFOLDER,
    TAMPERS,
    TEMPLATE_EDITS,
    Article,
    EntityItem,
    Link,
    _plain_slug,
    _unlink,
    inbound,
    links_in,
)
from .parts import SiteParts, _heading, _key


class SimpleEdits(SiteParts):
    """The simple edits of :class:`~oracle.edits.EditGenerator`; each returns its
    description, or ``None`` when it does not apply."""

    # --- simple edits ---------------------------------------------------------------

    def _linked(self, kinds: tuple[str, ...]) -> list[Article]:
        """Articles that others (or entity notes) link to by one of ``kinds``."""
        return [a for a in self.model.articles.values()
                if any(link.kind in kinds for _, link in inbound(self.model, a.id))]

    def edit_body(self) -> str | None:
        rng = self.rng
        article = self._pick_article()
        where = f"content/{article.path}"
        roll = rng.random()
        if roll < 0.3:
            i = rng.randrange(len(article.blocks))
            if _heading(article.blocks[i]):
                return None
            kept = [p for p in article.blocks[i] if isinstance(p, Link)]
            article.blocks[i] = self._text_block(rng.randint(1, 3)) + kept
            return f"body of {where}: paragraph {i + 1} rewritten"
        if roll < 0.5:
            article.blocks.append(self._text_block(rng.randint(1, 2)))
            return f"body of {where}: a paragraph added"
        if roll < 0.7:
            link = self._add_article_link(article)
            if link is None:
                return None
            target = self.model.articles[link.target]
            return f"body of {where}: a {link.kind} link to content/{target.path} added"
        if roll < 0.85:
            links = [link for block in article.blocks for link in links_in(block)]
            if not links:
                return None
            gone = rng.choice(links)
            _unlink(self.model, lambda link: link is not gone)
            return f"body of {where}: a {gone.kind} link removed"
        block = rng.choice([b for b in article.blocks if not _heading(b)])
        block.append(self._mention())
        return f"body of {where}: a sentence naming an entity added"

    def edit_title(self) -> str | None:
        rng = self.rng
        linked = self._linked(("file", "slug", "title"))
        if not linked:
            return None
        article = self._pick_article(linked)
        old = article.title
        if rng.random() < 0.25:
            title = same_length_title(rng, old)
            if _key(title) in self._taken(skip=article):
                return None
            article.title = title
        else:
            article.title = self._title()
        return (f"title of content/{article.path} (linked {len(inbound(self.model, article.id))}"
                f"×): {old!r} -> {article.title!r}")

    def edit_date(self) -> str | None:
        article = self._pick_article()
        old = article.date
        if self.rng.random() < 0.2:  # the same day as another article: a tie to order
            article.date = self._pick_article().date
        else:
            article.date = self._date()
        return f"date of content/{article.path}: {old} -> {article.date}"

    def edit_slug(self, among: list[Article] | None = None) -> str:
        """Change the slug of an article others link to by title or by file."""
        linked = among or self._linked(("title", "file")) or list(self.model.articles.values())
        article = self._pick_article(linked)
        old = article.url_slug
        if article.slug is not None and self.rng.random() < 0.3 and \
                _plain_slug(article.stem) and article.stem not in self._taken(skip=article):
            article.slug = None
        else:
            article.slug = self._fresh_slug()
        sources = sorted({src for src, _ in inbound(self.model, article.id)})
        return (f"slug of content/{article.path}: {old} -> {article.url_slug} "
                f"(linked from {', '.join(sources) or 'nothing'})")

    def edit_tags(self) -> str | None:
        rng = self.rng
        article = self._pick_article()
        old = list(article.tags)
        roll = rng.random()
        if roll < 0.4:
            tag = self._tags()[0]
            if _key(tag) in [_key(t) for t in article.tags]:
                return None
            article.tags.append(tag)
        elif roll < 0.7 and len(article.tags) > 1:
            article.tags.remove(rng.choice(article.tags))
        else:  # another spelling of one tag: the most used spelling is shown
            i = rng.randrange(len(article.tags))
            tag = article.tags[i]
            article.tags[i] = tag.title() if tag != tag.title() else tag.lower()
            if article.tags[i] == tag:
                return None
        return f"tags of content/{article.path}: {old} -> {article.tags}"

    def edit_tag_spelling(self) -> str | None:
        """Respell a tag in the newest articles that carry it, enough to change the spelling
        shown (the most used one) while its later pages keep their articles."""
        model = self.model
        by_key: dict[str, list[Article]] = {}
        for article in model.articles.values():
            for tag in article.tags:
                by_key.setdefault(_key(tag), []).append(article)
        keys = [k for k, items in by_key.items()
                if model.paginate < len(items) < 2 * model.paginate]
        if not keys:
            return None
        key = self.rng.choice(keys)
        newest = sorted(by_key[key], key=lambda a: (a.date, a.id), reverse=True)[:model.paginate]
        shown = next(t for t in newest[0].tags if _key(t) == key)
        spelling = shown.title() if shown != shown.title() else shown.upper()
        for article in newest:
            article.tags = [spelling if _key(t) == key else t for t in article.tags]
        return (f"tag {shown!r} spelled {spelling!r} in its {len(newest)} newest of "
                f"{len(by_key[key])} articles")

    def edit_term_file(self) -> str | None:
        """Add, change or remove the term file of a tag in use (builder.terms): its title
        (a spelling of the tag), description and text, and sometimes a slug of its own,
        which moves the tag's page and every link to it."""
        model, rng = self.model, self.rng
        used = sorted({_key(t): t for a in model.articles.values() for t in a.tags}.items())
        if not used:
            return None
        key, tag = rng.choice(used)
        where = f"content/tags/{key}.md"
        if key in model.term_files and rng.random() < 0.3:
            del model.term_files[key]
            return f"{where} removed"
        title = tag.title() if rng.random() < 0.5 else tag.upper()
        slug = f"topic-{key}" if rng.random() < 0.4 else None
        description = self.writer.sentence([])
        done = "changed" if key in model.term_files else "added"
        model.term_files[key] = (title, slug, description)
        return f"{where} {done}: title {title!r}, slug {slug}"

    def edit_any_title(self) -> str:
        """The title of any article (its neighbours and related articles show it)."""
        article = self._pick_article()
        old, article.title = article.title, self._title()
        return f"title of content/{article.path}: {old!r} -> {article.title!r}"

    def tamper_output(self) -> str:
        """Change a file of the output folder by hand before the next build (done by the
        oracle: see :meth:`Oracle._tamper`)."""
        kind = self.rng.choice(TAMPERS)
        self.tamper.append((kind, self.rng.randrange(10_000)))
        return f"output: a page changed by hand ({kind})"

    def edit_authors(self) -> str | None:
        article = self._pick_article()
        old = list(article.authors)
        article.authors = self._authors()
        if article.authors == old:
            return None
        return f"authors of content/{article.path}: {old} -> {article.authors}"

    def edit_entities_list(self) -> str | None:
        article = self._pick_article()
        entity = self._pick_entity()
        if entity is None:
            return None
        if entity.id in article.entities:
            article.entities.remove(entity.id)
            return f"entities: of content/{article.path}: {entity.slug} removed"
        article.entities.append(entity.id)
        return f"entities: of content/{article.path}: {entity.slug} added"

    def add_article(self, day: str | None = None) -> str:
        article = self._new_article()
        if day is not None:
            article.date = day
        for _ in range(self.rng.randint(0, 2)):
            self._add_article_link(article)
        if self.rng.random() < 0.5:  # and one that links to it
            others = [a for a in self.model.articles.values() if a.id != article.id]
            if others:
                self._add_article_link(self._pick_article(others), target=article)
        return f"add content/{article.path} ({article.date}, {article.title!r})"

    def delete_article(self) -> str | None:
        if len(self.model.articles) <= 8:
            return None
        article = self._pick_article()
        sources = sorted({src for src, _ in inbound(self.model, article.id)})
        _unlink(self.model, lambda link: link.kind == "entity" or link.target != article.id)
        del self.model.articles[article.id]
        return (f"delete content/{article.path} (links to it made plain text in "
                f"{', '.join(sources) or 'nothing'})")

    def rename_article(self) -> str | None:
        article = self._pick_article()
        old = article.path
        stem = _key(self.writer.title())[:40].strip("-")
        if stem in self._taken() or _key(stem) in self._taken():
            return None
        folder = "" if posixpath.dirname(old) else SUBFOLDER
        if self.rng.random() < 0.5:
            folder = posixpath.dirname(old)
        article.path = posixpath.join(folder, f"{stem}.md") if folder else f"{stem}.md"
        return f"rename content/{old} -> content/{article.path} (slug {article.url_slug})"

    def add_entity(self) -> str | None:
        made = make_entities(self.rng, 1)[0]
        taken = self._taken()
        if made.slug in taken or _key(made.name) in taken or \
                any(_key(a) in taken for a in made.aliases + made.weak):
            return None
        entity = EntityItem(id=self.model.new_id(), slug=made.slug, name=made.name,
                            type=made.type, aliases=list(made.aliases), weak=list(made.weak),
                            description=self.writer.sentence([]),
                            notes=[self._text_block(1) + [Link("title",
                                                               self._pick_article().id)]])
        self.model.entities[entity.id] = entity
        for article in self.rng.sample(list(self.model.articles.values()), 2):
            block = self.rng.choice([b for b in article.blocks if not _heading(b)])
            block.append(f"Then {made.name} came up.")
        return f"add entity content/entities/{entity.slug}.md ({entity.name}), named in 2 articles"

    def delete_entity(self) -> str | None:
        if len(self.model.entities) <= 4:
            return None
        entity = self._pick_entity()
        assert entity is not None
        _unlink(self.model, lambda link: link.kind != "entity" or link.target != entity.id)
        del self.model.entities[entity.id]
        for article in self.model.articles.values():
            article.entities = [i for i in article.entities if i != entity.id]
        return f"delete entity content/entities/{entity.slug}.md"

    def rename_entity(self) -> str | None:
        entity = self._pick_entity()
        assert entity is not None
        old = entity.slug
        slug = _key(f"{entity.name} {self.rng.randrange(2, 99)}")
        if slug in self._taken():
            return None
        entity.slug = slug
        return f"rename entity content/entities/{old}.md -> {slug}.md"

    def edit_aliases(self) -> str | None:
        rng = self.rng
        entity = self._pick_entity()
        assert entity is not None
        where = f"aliases of content/entities/{entity.slug}.md"
        roll = rng.random()
        if roll < 0.4 and self.model.latent:  # a name already in some article's text
            name = self.model.latent.pop(rng.randrange(len(self.model.latent)))
            entity.aliases.append(name)
            return f"{where}: {name!r} added (named in articles)"
        if roll < 0.7 and entity.aliases:
            name = entity.aliases.pop(rng.randrange(len(entity.aliases)))
            self.model.latent.append(name)  # the text that names it stays
            return f"{where}: {name!r} removed"
        if roll < 0.85:
            old = entity.name
            name = f"{old} {rng.choice(('Jr', 'II', 'Trust', 'Circle'))}"
            if _key(name) in self._taken():
                return None
            entity.name = name
            self.model.latent.append(old)
            return f"name of content/entities/{entity.slug}.md: {old!r} -> {name!r}"
        word = " ".join(w.capitalize() for w in self.writer.words(2))
        if _key(word) in self._taken():
            return None
        entity.aliases.append(word)
        return f"{where}: {word!r} added"

    def edit_entity_notes(self) -> str | None:
        entity = self._pick_entity()
        assert entity is not None
        target = self._pick_article()
        entity.notes.append(self._text_block(1) + [Link(self.rng.choice(("title", "slug")),
                                                        target.id)])
        return f"notes of content/entities/{entity.slug}.md: a link to content/{target.path}"

    def _template_names(self) -> list[str]:
        return [name for name, (path, anchor, _) in TEMPLATE_EDITS.items()
                if anchor in self.model.theme.get(path, b"").decode("utf-8")]

    def edit_template(self) -> str | None:
        names = self._template_names()
        if "partial" in self.model.templates and self.rng.random() < 0.3:
            self.model.partial = (f'<p class="oracle-partial">{{{{ site.authors | length }}}} '
                                  f'authors, version {self.model.new_id()}</p>\n')
            return f"template: {PARTIAL} edited (reads site.authors)"
        if not names:
            return None
        name = self.rng.choice(names)
        path = TEMPLATE_EDITS[name][0]
        if name in self.model.templates:
            self.model.templates.remove(name)
            return f"template: {path} edit {name!r} removed"
        self.model.templates.append(name)
        return f"template: {path} edit {name!r} added"

    def edit_css(self) -> str:
        rng = self.rng
        if rng.random() < 0.25:
            if self.model.static_note is None or rng.random() < 0.5:
                self.model.static_note = self.writer.sentence([]) + "\n"
                return "static: static/notes.txt written"
            self.model.static_note = None
            return "static: static/notes.txt removed"
        color = f"#{rng.randrange(0x1000000):06x}"
        rule = f".oracle-{rng.randrange(100)} {{ color: {color}; }}"
        if self.model.css and rng.random() < 0.5:
            self.model.css[-1] = rule
            return f"static: style.css, last rule -> {rule}"
        self.model.css.append(rule)
        return f"static: style.css, rule added: {rule}"

    def edit_config(self) -> str | None:
        rng = self.rng
        model = self.model
        roll = rng.random()
        if roll < 0.3:
            old = model.title
            model.title = same_length_title(rng, old) if rng.random() < 0.5 \
                else f"The {rng.choice(NOUNS)} archive"
            return f"site.yml title: {old!r} -> {model.title!r}"
        if roll < 0.5:
            return self.edit_site_author()
        if roll < 0.7:
            old = model.base_url
            model.base_url = rng.choice([u for u in BASE_URLS if u != old])
            return f"site.yml base_url: {old} -> {model.base_url}"
        if roll < 0.82:
            old_count = model.paginate
            model.paginate = rng.choice([n for n in (2, 3, 4, 5, 7) if n != old_count])
            return f"site.yml paginate: {old_count} -> {model.paginate}"
        if roll < 0.9:
            old = model.permalink
            model.permalink = rng.choice([p for p in PERMALINKS if p != old])
            return f"site.yml permalinks.article: {old} -> {model.permalink}"
        model.description = self.writer.sentence([])
        return "site.yml description changed"

    def edit_site_author(self) -> str:
        old = self.model.author
        choices = [a for a in self.pools.authors if a != old] + ["Somebody Else"]
        self.model.author = self.rng.choice(choices)
        without = sum(1 for a in self.model.articles.values() if not a.authors)
        return f"site.yml author: {old!r} -> {self.model.author!r} ({without} articles name none)"


def same_length_title(rng: Random, title: str) -> str:
    """Another title of exactly the same length (one word swapped, or letters rotated)."""
    words = title.split(" ")
    order = list(range(len(words)))
    rng.shuffle(order)
    for i in order:
        others = [n for n in NOUNS if len(n) == len(words[i]) and n != words[i].lower()]
        if others:
            new = rng.choice(others)
            if words[i][:1].isupper():
                new = new.capitalize()
            return " ".join(words[:i] + [new] + words[i + 1:])
    return title[1:] + title[0]
