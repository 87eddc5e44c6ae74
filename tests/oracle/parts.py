"""The initial site and the pieces the edits are made of: titles, dates, bodies, links."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bench.generate import make_entities, pick_distinct, slugify

from .model import (
    BASE_URLS,
    DAYS,
    FIRST_DAY,
    PERMALINKS,
    SUBFOLDER,
    Article,
    Block,
    EntityItem,
    Link,
    SiteModel,
)


def _key(text: str) -> str:
    return slugify(text)


def _heading(block: Block) -> bool:
    return len(block) == 1 and isinstance(block[0], str) and block[0].startswith("#")


class SiteParts:
    """The initial site and its parts, for :class:`~oracle.edits.EditGenerator` (which sets
    ``rng``, ``pools``, ``writer`` and ``model``)."""

    # --- the initial site -----------------------------------------------------------

    def _initial(self, count: int, entity_count: int, theme_dir: Path) -> SiteModel:
        rng = self.rng
        theme = {path.relative_to(theme_dir).as_posix(): path.read_bytes()
                 for path in sorted(theme_dir.rglob("*")) if path.is_file()}
        made = make_entities(rng, entity_count + 6)
        model = SiteModel(title="The oracle archive", description="A generated reading archive.",
                          author=self.pools.authors[-1], base_url=BASE_URLS[0], paginate=4,
                          permalink=rng.choice(PERMALINKS), articles={}, entities={},
                          theme=theme)
        self.model = model
        for item in made[:entity_count]:
            entity = EntityItem(id=model.new_id(), slug=item.slug, name=item.name,
                                type=item.type, aliases=list(item.aliases), weak=list(item.weak),
                                description=self.writer.sentence([]), notes=[])
            model.entities[entity.id] = entity
        model.latent = [item.name for item in made[entity_count:]]
        for i in range(count):
            self._new_article(author_less=i % 6 == 0)
        for article in model.articles.values():  # links once every article exists
            for block in article.blocks:
                if not _heading(block) and rng.random() < 0.45:
                    self._add_article_link(article, block)
        for entity in model.entities.values():
            entity.notes = [self._text_block(rng.randint(1, 2))]
            for _ in range(rng.choice((1, 1, 2))):
                target = self._pick_article()
                kind = "title" if rng.random() < 0.6 else "slug"
                entity.notes[0].insert(rng.randint(0, len(entity.notes[0])),
                                       Link(kind, target.id))
            if rng.random() < 0.3:
                other = self._pick_entity()
                if other is not None and other.id != entity.id:
                    entity.notes[0].append(Link("entity", other.id, other.name))
        return model

    def _taken(self, skip: Article | None = None) -> set[str]:
        """Keys of every title, slug, file name, entity name and alias (but those of ``skip``):
        a new one avoids them."""
        keys = {_key(name) for name in self.model.latent}
        for article in self.model.articles.values():
            if article is skip:
                continue
            keys.update({_key(article.title), article.url_slug, _key(article.stem)})
        for entity in self.model.entities.values():
            keys.update({entity.slug, _key(entity.name)})
            keys.update(_key(alias) for alias in entity.aliases + entity.weak)
        return keys

    def _title(self) -> str:
        taken = self._taken()
        while True:
            title = self.writer.title()
            if _key(title) not in taken:
                return title

    def _date(self) -> str:
        day = FIRST_DAY + timedelta(days=self.rng.randrange(DAYS))
        if self.rng.random() < 0.15:
            return f"{day.isoformat()} {self.rng.randrange(24):02d}:{self.rng.randrange(60):02d}"
        return day.isoformat()

    def _authors(self) -> list[str]:
        count = self.rng.choices((0, 1, 2), weights=(25, 55, 20))[0]
        return pick_distinct(self.rng, self.pools.authors, self.pools.author_weights, count)

    def _tags(self) -> list[str]:
        return pick_distinct(self.rng, self.pools.tags[:30], self.pools.tag_weights[:30],
                             self.rng.randint(1, 4))

    def _text_block(self, sentences: int) -> Block:
        return [self.writer.sentence([]) for _ in range(sentences)]

    def _mention(self) -> str:
        """A sentence naming an entity (its name or an alias) or a latent name, as plain text."""
        rng = self.rng
        entity = self._pick_entity()
        if entity is None or (self.model.latent and rng.random() < 0.15):
            name = rng.choice(self.model.latent)
        else:
            name = rng.choice(entity.aliases) if entity.aliases and rng.random() < 0.35 \
                else entity.name
        return rng.choice(("Compare {}.", "This concerns {}.", "A reply from {} followed.",
                           "Much later, {} said nothing.")).format(name)

    def _body(self) -> list[Block]:
        rng = self.rng
        blocks: list[Block] = []
        for i in range(rng.randint(2, 5)):
            if i and rng.random() < 0.2:
                blocks.append([f"## {self.writer.sentence([]).rstrip('.?')}"])
            block = self._text_block(rng.randint(1, 3))
            if rng.random() < 0.5:
                block.insert(rng.randint(0, len(block)), self._mention())
            if rng.random() < 0.2:
                words = " ".join(self.writer.words(rng.randint(2, 5)))
                note = " ".join(self.writer.words(rng.randint(3, 7)))
                block.append(f"{{=={words}==}}{{>>{note}<<}}")
            if rng.random() < 0.1 and (entity := self._pick_entity()) is not None:
                block.append(Link("entity", entity.id, rng.choice(("", entity.name))))
            blocks.append(block)
        return blocks

    def _new_article(self, author_less: bool = False, path: str | None = None) -> Article:
        rng = self.rng
        model = self.model
        title = self._title()
        stem = _key(title)[:48].strip("-")
        if path is None:
            path = f"{SUBFOLDER}/{stem}.md" if rng.random() < 0.2 else f"{stem}.md"
        slug = None
        if rng.random() < 0.25:
            slug = self._fresh_slug()
        publication, host = rng.choice(self.pools.publications)
        entities = [e.id for e in rng.sample(list(model.entities.values()),
                                             min(len(model.entities), rng.randint(0, 2)))]
        article = Article(
            id=model.new_id(), path=path, title=title, date=self._date(), slug=slug,
            tags=self._tags(), authors=[] if author_less else self._authors(),
            entities=entities, summary=self.writer.sentence([]) if rng.random() < 0.5 else None,
            source=f"https://www.{host}/{rng.randint(2015, 2024)}/{stem}",
            publication=publication, blocks=self._body())
        model.articles[article.id] = article
        return article

    def _fresh_slug(self) -> str:
        taken = self._taken()
        while True:
            slug = "-".join(self.writer.words(self.rng.randint(2, 4)) + [str(self.rng.randrange(
                100, 1000))])
            if _key(slug) not in taken:
                return slug

    def _pick_article(self, among: list[Article] | None = None) -> Article:
        pool = among if among is not None else list(self.model.articles.values())
        return self.rng.choice(pool)

    def _pick_entity(self) -> EntityItem | None:
        entities = list(self.model.entities.values())
        return self.rng.choice(entities) if entities else None

    def _add_article_link(self, source: Article, block: Block | None = None,
                          target: Article | None = None, kind: str | None = None) -> Link | None:
        others = [a for a in self.model.articles.values() if a.id != source.id]
        if not others:
            return None
        target = target or self._pick_article(others)
        kind = kind or self.rng.choice(("title", "slug", "file", "file", "embed"))
        text = self.rng.choice(("", "", " ".join(self.writer.words(2))))
        link = Link(kind, target.id, text)
        if block is None:
            block = self.rng.choice([b for b in source.blocks if not _heading(b)])
        block.insert(self.rng.randint(0, len(block)), link)
        return link
