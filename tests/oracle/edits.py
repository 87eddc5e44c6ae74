"""The seeded edit generator: its steps, the macros of :data:`CASES` and :data:`EXTRAS`, and
the :func:`plan` that forces each macro once."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from random import Random

from bench.generate import NOUNS, Writer, make_pools

from . import REPO
from .model import TAMPERS, SiteModel, inbound
from .parts import _heading
from .simple_edits import SimpleEdits, same_length_title

# --------------------------------------------------------------------------
# Generating the site and editing it
# --------------------------------------------------------------------------


@dataclass
class Step:
    """One step of a run: what was edited and what the oracle checks afterwards."""

    edits: list[str] = field(default_factory=list)
    expect_failure: bool = False  # every build must fail and leave the output as it was
    probe: bool = False  # check that the long-lived builder kept the parsed-article cache
    lock: bool = False  # build while another process holds the output folder's lock
    race: bool = False  # two builds into the output folder at once
    tamper: list[tuple[str, int]] = field(default_factory=list)  # (TAMPERS kind, file index)
    case: str = ""

    def describe(self) -> str:
        text = "; ".join(self.edits) if self.edits else "no change"
        return f"[{self.case}] {text}" if self.case else text


#: the cases of issue 8, each as an edit macro (see EditGenerator.case)
CASES = {
    "1": "slug of an article an entity's notes link to",
    "2": "slug of an article another article links to (its feed entries)",
    "3": "base.html reads site.articles, then an article is added",
    "4": "author in site.yml, with articles that name none",
    "5": "same-length site title and a 300-character slug (build fails), then both undone",
    "6": "a rebuild with one edit, then one without changes (the cache must survive both)",
    "7": "[x](q&a.md): a link to a file name with an ampersand",
    "8": "a build while the output folder is in use (lock, and two builds at once)",
}
#: more macros a run may force: edits that matter to one part of the rebuild logic
EXTRAS = {
    "spelling": "a tag respelled in its newest articles (its later pages show the new name)",
    "tamper": "pages of the output folder changed by hand (same size, deleted, cut, touched)",
}
MACROS = {**CASES, **EXTRAS}


class EditGenerator(SimpleEdits):
    """Makes the initial site and seeded edits of it, from one ``Random``."""

    def __init__(self, rng: Random, articles: int = 25, entities: int = 12,
                 theme_dir: Path = REPO / "themes" / "default"):
        self.rng = rng
        self.pools = make_pools(rng, articles, 0)
        self.writer = Writer(rng, self.pools)
        self.model = self._initial(articles, entities, theme_dir)
        self.pending: list[Callable[[], Step]] = []
        self.tamper: list[tuple[str, int]] = []  # filled by tamper_output, taken by step()

    # --- steps ----------------------------------------------------------------------

    def step(self, macro_chance: float = 0.0, fail_chance: float = 0.0) -> Step:
        """The next step: a pending follow-up, a case macro, a failing edit, or one to three
        simple edits."""
        if self.pending:
            return self.pending.pop(0)()
        roll = self.rng.random()
        if roll < macro_chance:
            return self.case(self.rng.choice(list(MACROS)))
        if roll < macro_chance + fail_chance:
            return self.failing_step()
        step = Step()
        for _ in range(self.rng.choice((1, 2, 2, 3))):
            step.edits.append(self.simple_edit())
        step.tamper, self.tamper = self.tamper, []
        return step

    def crash_step(self) -> Step:
        """A step for the crash oracle: an added article (new folders and files, so a crash
        leaves new names behind) and one or two other edits."""
        step = Step(edits=[self.add_article()])
        for _ in range(self.rng.choice((1, 2))):
            step.edits.append(self.simple_edit())
        step.tamper, self.tamper = self.tamper, []
        return step

    def simple_edit(self) -> str:
        """One random edit of :data:`SIMPLE_EDITS` that applies; its description."""
        names = list(SIMPLE_EDITS)
        weights = [SIMPLE_EDITS[name][1] for name in names]
        while True:
            name = self.rng.choices(names, weights=weights)[0]
            done = SIMPLE_EDITS[name][0](self)
            if done:
                return done

    def case(self, name: str) -> Step:
        """The macro of a case of issue 8 or an extra (see :data:`MACROS`); may queue a
        follow-up step."""
        step = getattr(self, f"_case_{name}")()
        step.case = f"case {name}" if name in CASES else name
        return step

    def _case_spelling(self) -> Step:
        return Step(edits=[self.edit_tag_spelling() or self.simple_edit()])

    def _case_tamper(self) -> Step:
        """No edit of the site: only pages of the output changed by hand, which every build
        into that folder must repair, whatever it reuses."""
        return Step(tamper=[(kind, self.rng.randrange(10_000)) for kind in TAMPERS])

    def _case_1(self) -> Step:
        linked = [a for a in self.model.articles.values()
                  if any(src.startswith("entity:") and link.kind in ("title", "file")
                         for src, link in inbound(self.model, a.id))]
        return Step(edits=[self.edit_slug(linked or None)])

    def _case_2(self) -> Step:
        linked = [a for a in self.model.articles.values()
                  if any(src.startswith("content/") and link.kind in ("title", "file")
                         for src, link in inbound(self.model, a.id))]
        return Step(edits=[self.edit_slug(linked or None)])

    def _case_3(self) -> Step:
        if "recent" in self.model.templates or "recent" not in self._template_names():
            first = self.edit_css()
        else:
            self.model.templates.append("recent")
            first = "template: base.html lists site.articles[:3] (recent articles)"

        def then() -> Step:  # the newest article, so that the recent list shows it
            newest = max(date.fromisoformat(a.date[:10]) for a in self.model.articles.values())
            return Step(edits=[self.add_article((newest + timedelta(days=1)).isoformat())],
                        case="case 3")

        self.pending.append(then)
        return Step(edits=[first])

    def _case_4(self) -> Step:
        model = self.model
        if not any(not a.authors for a in model.articles.values()):
            article = self._pick_article()
            article.authors = []
            self.pending.append(lambda: Step(edits=[self.edit_site_author()], case="case 4"))
            return Step(edits=[f"authors of content/{article.path}: none"])
        return Step(edits=[self.edit_site_author()])

    def _case_5(self) -> Step:
        before = copy.deepcopy(self.model)
        old = self.model.title
        self.model.title = same_length_title(self.rng, old)
        article = self._new_article(path="a-long-one.md")
        article.slug = self._long_slug()
        edits = [f"site title {old!r} -> {self.model.title!r} (same length)",
                 f"add content/{article.path} with a {len(article.slug)}-character slug"]

        def undo() -> Step:
            self.model = before
            return Step(edits=["undo both: the title and the long-slug article"],
                        case="case 5")

        self.pending.append(undo)
        return Step(edits=edits, expect_failure=True)

    def _case_6(self) -> Step:
        """One article edited, then no change: after each rebuild of the long-lived builder,
        the cache must still hold every article (those it reused without parsing too)."""
        self.pending.append(lambda: Step(probe=True, case="case 6"))
        article = self._pick_article()
        article.blocks.append(self._text_block(1))
        return Step(edits=[f"body of content/{article.path}: a paragraph added"], probe=True)

    def _case_7(self) -> Step:
        taken = [a.path for a in self.model.articles.values()]
        name = next(name for n in range(1, 1000)
                    if (name := "q&a.md" if n == 1 else f"q&a-{n}.md") not in taken)
        article = self._new_article(path=name)
        article.slug = None
        source = self._pick_article([a for a in self.model.articles.values()
                                     if a.id != article.id])
        self._add_article_link(source, target=article, kind="file")
        return Step(edits=[f"add content/{article.path}",
                           f"content/{source.path} links to it: [..]({article.path})"])

    def _case_8(self) -> Step:
        return Step(edits=[self.simple_edit()], lock=True, race=True)

    def failing_step(self) -> Step:
        """An edit that breaks the build (a wikilink that names nothing, or a slug too long
        for a file name); undone at the next step."""
        before = copy.deepcopy(self.model)
        if self.rng.random() < 0.4:
            article = self._new_article(path="a-long-one.md")
            article.slug = self._long_slug()
            self.pending.append(lambda: self._undo(before, "undo: the long slug is gone"))
            return Step(edits=[f"add content/{article.path} with a {len(article.slug)}-"
                               f"character slug ({self.model.permalink})"], expect_failure=True)
        article = self._pick_article()
        name = " ".join(self.writer.words(3)) + f" {self.rng.randrange(1000, 10000)}"
        block = self.rng.choice([b for b in article.blocks if not _heading(b)])
        block.append(f"[[{name}]]")
        self.pending.append(lambda: self._undo(before, f"undo: content/{article.path} fixed"))
        return Step(edits=[f"body of content/{article.path}: [[{name}]] (names nothing)"],
                    expect_failure=True)

    def _long_slug(self) -> str:
        words: list[str] = []
        while len("-".join(words)) < 300:
            words.append(self.rng.choice(NOUNS))
        return "-".join(words)[:300].strip("-")

    def _undo(self, before: SiteModel, text: str) -> Step:
        self.model = before
        return Step(edits=[text])


#: simple edits: name → (method, weight)
SIMPLE_EDITS: dict[str, tuple[Callable[[EditGenerator], str | None], float]] = {
    "body": (EditGenerator.edit_body, 4),
    "title": (EditGenerator.edit_title, 2),
    "date": (EditGenerator.edit_date, 2),
    "slug": (EditGenerator.edit_slug, 2),
    "tags": (EditGenerator.edit_tags, 2),
    "tag-spelling": (EditGenerator.edit_tag_spelling, 1),
    "term-file": (EditGenerator.edit_term_file, 1),
    "any-title": (EditGenerator.edit_any_title, 1),
    "tamper-output": (EditGenerator.tamper_output, 0.8),
    "authors": (EditGenerator.edit_authors, 1.5),
    "entities": (EditGenerator.edit_entities_list, 1.5),
    "add-article": (EditGenerator.add_article, 1.5),
    "delete-article": (EditGenerator.delete_article, 1),
    "rename-article": (EditGenerator.rename_article, 1),
    "add-entity": (EditGenerator.add_entity, 0.7),
    "delete-entity": (EditGenerator.delete_entity, 0.5),
    "rename-entity": (EditGenerator.rename_entity, 0.7),
    "aliases": (EditGenerator.edit_aliases, 1.5),
    "entity-notes": (EditGenerator.edit_entity_notes, 1),
    "template": (EditGenerator.edit_template, 1),
    "static": (EditGenerator.edit_css, 0.7),
    "site.yml": (EditGenerator.edit_config, 1.2),
}


def plan(rng: Random, steps: int, cases: list[str]) -> dict[int, str]:
    """Steps (1-based) at which each of ``cases`` starts, spaced so their follow-ups fit."""
    starts: dict[int, str] = {}
    free = list(range(1, steps + 1))
    for case in cases:
        length = 2 if case in ("3", "5", "6") else 1
        options = [s for s in free if all(s + k in free for k in range(length))]
        if not options:
            break
        start = rng.choice(options)
        starts[start] = case
        for k in range(length):
            free.remove(start + k)
    return starts
