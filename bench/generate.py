"""Generate a seeded, realistic Postil corpus for benchmarks.

    python bench/generate.py N DIR [--seed S] [--entities E] [--force]

writes ``DIR/site.yml`` and ``DIR/content/<slug>.md`` for N articles: front
matter with titles, dates spread over ten years, one to three authors, two to
six Zipf-distributed tags, source URLs, publications and (on ~70%) a summary;
bodies of ~800 words of Markdown with headings, lists, blockquotes, links,
emphasis, inline code, fenced code and footnotes.

With ``--entities E`` (E > 0) it also writes E entity files
``DIR/content/entities/<slug>.md`` (front matter ``name``, ``type``,
``aliases``, ``case_sensitive`` for acronyms, ``weak_aliases`` for bare
surnames), turns on ``entities: {autolink: true}`` and mentions those entities
in the article bodies. Names and aliases never collide between entities.

The output depends only on (N, seed, entities): every random choice comes
from one ``random.Random(seed)``, never from the global generator, and no set
is ever iterated. The text is pseudo-English drawn from a Zipf-weighted word
list: it reads like noise but has the shape (word lengths, sentence and
paragraph lengths, markup density) that matters to a Markdown pipeline.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
import unicodedata
from bisect import bisect
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate, zip_longest
from pathlib import Path
from random import Random

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script from anywhere: the builder is beside it
    sys.path.insert(0, str(REPO))

from builder.lexicon import name_key  # noqa: E402

#: written into every generated folder; lets --force (and bench/build.py) know
#: that the folder is ours to replace, and whether it matches a request
STAMP = ".postil-bench.json"
#: bump when the output for a given (N, seed, entities) changes
GENERATOR_VERSION = 2  # 2: search: false

def _dedupe(words: list[str]) -> list[str]:
    """Keep the first occurrence of each word, in order (deterministic)."""
    return list(dict.fromkeys(words))


# --------------------------------------------------------------------------
# Word lists. Order matters: earlier words are drawn more often (Zipf), so
# the common function words come first, as in real English text.
# --------------------------------------------------------------------------

FUNCTION_WORDS = """
the of and to a in is that for it as was with on be by this are at from
or an have not but which they their has were more can had one all been
its we there would so what about when who into than them other some only
also these out over most many could our how after such those any where
through while between because before both each under again very same
""".split()

NOUNS = _dedupe("""
people time year years work world state government system life report
country public policy research study market data city water health power
history school family money language history energy evidence question
community science problem interest history story change century party
children history example development information program economy history
process reform court movement industry network source archive record
memory letter essay review account debate theory practice culture tradition
border harbor river island valley mountain forest coast region province
village library museum gallery station factory garden kitchen bridge road
railway airport hospital university college laboratory archive newspaper
magazine journal editor writer reader author critic historian scientist
engineer farmer worker teacher student doctor nurse lawyer judge minister
president council committee agency company bank union church army navy
building window table paper book chapter page sentence argument method
model pattern structure signal measure price cost wage tax budget debt
trade export harvest climate weather storm drought flood fire season
winter summer spring autumn morning evening night decade generation
migration settlement frontier empire republic kingdom revolution election
campaign protest strike treaty alliance conflict crisis recovery growth
decline collapse transition experiment discovery invention machine engine
software computer internet platform algorithm database protocol interface
camera photograph image film music song voice sound silence light shadow
color surface material metal stone glass wood cotton wool grain salt sugar
coffee tea bread wine fish cattle horse bird insect tree flower seed soil
""".split())

VERBS = _dedupe("""
make take find give show think know become leave seem feel keep begin
write read build change grow move follow carry hold bring remain suggest
argue describe explain claim report reveal measure compare observe record
collect publish translate interpret review revise question answer survive
decide allow offer require produce reduce increase improve expand replace
""".split())

ADJECTIVES = _dedupe("""
new old long great small large early late local national international
public private social political economic cultural historical scientific
modern ancient rural urban coastal northern southern eastern western
central common rare simple complex careful quiet sudden gradual slow rapid
strange familiar obvious hidden narrow broad deep shallow bright dark warm
cold dry wet heavy light cheap expensive important difficult possible
likely certain clear open free full empty whole single double final first
last next recent current former future original official informal formal
""".split())

ADVERBS = _dedupe("""
often always never sometimes rarely usually perhaps indeed still already
almost nearly quite rather simply merely largely mostly partly together
""".split())

#: content words interleaved (noun, verb, adjective, ...) so each kind has
#: frequent and rare members
CONTENT_WORDS = [word for group in zip_longest(NOUNS, VERBS, ADJECTIVES, ADVERBS)
                 for word in group if word]

#: short identifiers for inline code and code blocks
IDENTIFIERS = """
parse_date load_config read_bytes render_page build_index slugify fetch_feed
word_count user_id max_items retry_after timeout sort_key next_page tmp_dir
cache_size batch_len offset limit encode decode normalize merge_sorted
""".split()

TAG_ROOTS = """
history politics economics science technology climate energy health
medicine education literature poetry philosophy religion art music film
photography architecture design urbanism transport cities housing labour
law justice media journalism publishing books language linguistics
mathematics physics chemistry biology ecology oceans forests agriculture
food travel migration war diplomacy europe asia africa americas oceania
archaeology anthropology sociology psychology neuroscience computing
software programming internet privacy security ai data statistics
finance trade industry business startups infrastructure space astronomy
geology weather disasters sport games culture fashion memory archives
libraries museums translation biography essays interviews reviews
""".split()

TAG_QUALIFIERS = """
history policy research future critique practice theory data culture
""".split()

FIRST_NAMES = """
Ada Alan Alice Amara Ana Anders Anna Aziz Beatriz Ben Bo Camille Carlos
Chen Chiara Dana Daniel David Elena Emil Emma Farah Felix Fatima Grace
Hana Hugo Ines Ivan Jakob James Jia Jonas José Julia Kai Kenji Lars Lea
Li Lucas Maya Marta Mateo Mei Mia Nadia Noah Nora Olga Omar Paul Priya
Rafael Rosa Sara Sofia Tariq Tomás Uma Victor Yusuf Zoë
""".split()

LAST_NAMES = """
Abbott Achebe Adler Alvarez Andersen Arendt Bauer Becker Bianchi Brandt
Brown Campbell Carter Castro Chen Costa Dahl Diallo Dubois Eriksen Evans
Fischer Fontaine García Gomez Gupta Haddad Hansen Hoffmann Ibrahim Ito
Jansen Jensen Kaur Keller Kim Kowalski Kumar Lambert Larsen Laurent Lee
Lindqvist Lopez Marsh Martin Meyer Moreau Müller Nakamura Nguyen Novak
Okafor Olsen Park Patel Perez Petrov Quinn Ramos Reyes Rossi Sato Schmidt
Silva Singh Sousa Stein Suzuki Tanaka Torres Varga Wagner Walsh Weber
Wong Yamamoto Young Zhang Ødegaard
""".split()

PUBLICATION_WORDS = """
Review Quarterly Weekly Journal Gazette Tribune Courier Dispatch Observer
Monthly Record Ledger Letters Notebook Almanac Bulletin Herald Post
""".split()

PLACE_SYLLABLES = """
al an ar ber bor cas dal den dor el fen gar hal har is ken lan lin mar
mor nor os por ran ril sal ston tor val ven vik wick
""".split()

ENTITY_TYPES = ("person", "organization", "place", "event")
ORGANIZATION_KINDS = ("Institute", "Foundation", "Society", "Group", "Council", "Company",
                      "Press", "Trust", "Laboratory", "Association")
EVENT_KINDS = ("Summit", "Conference", "Festival", "Strike", "Treaty", "Exhibition", "Congress")

CODE_TEMPLATES = (
    ("python", "def {a}(items):\n    total = 0\n    for item in items:\n"
               "        total += item.{b}\n    return total\n"),
    ("python", "with open(path) as handle:\n    {a} = [line.strip() for line in handle]\n"
               "print(len({a}))\n"),
    ("js", "const {a} = await fetch(url).then((r) => r.json());\n"
           "console.log({a}.{b});\n"),
    ("sh", "curl -s https://example.org/{a}.json \\\n  | jq '.{b}' > {a}.txt\n"),
    ("", "{a}: 42\n{b}: [1, 2, 3]\n"),
)


def _zipf_cumulative(count: int, exponent: float = 1.0) -> list[float]:
    """Cumulative weights 1/rank**exponent for ranks 1..count (for ``bisect``)."""
    return list(accumulate(1.0 / (rank ** exponent) for rank in range(1, count + 1)))


VOCABULARY = _dedupe(FUNCTION_WORDS + CONTENT_WORDS)
VOCABULARY_WEIGHTS = _zipf_cumulative(len(VOCABULARY), 0.9)

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """Lowercase ASCII slug with diacritics folded (like ``builder.slugs``)."""
    folded = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "o"))
    ascii_text = folded.encode("ascii", "ignore").decode("ascii").lower()
    return _NON_ALNUM.sub("-", ascii_text).strip("-")


def quoted(text: str) -> str:
    """A YAML double-quoted scalar (a JSON string is one): safe for ``:``, ``#``, quotes."""
    return json.dumps(text, ensure_ascii=False)


# --------------------------------------------------------------------------
# Pools: authors, tags, publications, entities
# --------------------------------------------------------------------------


@dataclass
class Entity:
    name: str
    type: str
    aliases: list[str]
    weak: list[str] = field(default_factory=list)
    slug: str = ""


@dataclass
class Pools:
    """Everything articles draw from, built once per corpus."""

    authors: list[str]
    author_weights: list[float]
    tags: list[str]
    tag_weights: list[float]
    publications: list[tuple[str, str]]  # (name, domain)
    entities: list[Entity] = field(default_factory=list)
    entity_weights: list[float] = field(default_factory=list)


def make_authors(rng: Random, count: int) -> list[str]:
    """``count`` distinct "First Last" names (middle initials once combinations run out)."""
    names: dict[str, None] = {}
    attempts = 0
    while len(names) < count:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        attempts += 1
        if attempts > count * 20:  # combinations exhausted: add a middle initial
            name = f"{first} {chr(65 + rng.randrange(26))}. {last}"
        else:
            name = f"{first} {last}"
        names[name] = None
    return list(names)


def make_tags(rng: Random, count: int = 200) -> list[str]:
    """``count`` distinct tag names: the roots, then "root qualifier" pairs, shuffled."""
    tags = _dedupe(TAG_ROOTS)
    pairs = [f"{root} {qualifier}" for root in TAG_ROOTS for qualifier in TAG_QUALIFIERS]
    rng.shuffle(pairs)
    tags += pairs[: max(0, count - len(tags))]
    tags = tags[:count]
    rng.shuffle(tags)  # popularity rank is independent of the list order above
    return tags


def make_publications(rng: Random, count: int = 40) -> list[tuple[str, str]]:
    found: dict[str, str] = {}
    while len(found) < count:
        adjective = rng.choice(ADJECTIVES).capitalize()
        name = f"The {adjective} {rng.choice(PUBLICATION_WORDS)}"
        found.setdefault(name, slugify(name.removeprefix("The ")) + rng.choice(
            (".com", ".org", ".net", ".co.uk", ".de", ".fr")))
    return list(found.items())


def _place_name(rng: Random) -> str:
    return "".join(rng.choice(PLACE_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def make_entities(rng: Random, count: int) -> list[Entity]:
    """``count`` entities with distinct names and slugs, of four types."""
    entities: list[Entity] = []
    slugs: dict[str, None] = {}
    claimed: set[str] = set()  # name keys of every name and alias: no two entities share one
    while len(entities) < count:
        weak: list[str] = []
        kind = rng.choice(ENTITY_TYPES)
        if kind == "person":
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            name = f"{first} {last}"
            aliases = [f"{first[0]}. {last}"]
            weak = [last]  # a bare surname is ambiguous: shown, never matched
        elif kind == "organization":
            name = f"{_place_name(rng)} {rng.choice(ORGANIZATION_KINDS)}"
            words = name.split()
            aliases = ["".join(w[0] for w in words).upper() + rng.choice(("", "I", "O"))]
        elif kind == "place":
            name = _place_name(rng) + rng.choice(("", "", " Valley", " Bay", "ford", "holm"))
            aliases = [name.upper()[:3]] if rng.random() < 0.3 else []
        else:
            year = rng.randint(1950, 2024)
            name = f"{_place_name(rng)} {rng.choice(EVENT_KINDS)} of {year}"
            aliases = [f"{name.split()[0]} {name.split()[1].lower()}"]
        slug = slugify(name)
        if slug in slugs or name_key(name) in claimed:
            continue
        aliases = [a for a in aliases
                   if name_key(a) not in claimed and name_key(a) != name_key(name)]
        slugs[slug] = None
        claimed.update(name_key(n) for n in [name, *aliases])
        entities.append(Entity(name=name, type=kind, aliases=aliases, slug=slug, weak=weak))
    return entities


def make_pools(rng: Random, articles: int, entities: int) -> Pools:
    authors = make_authors(rng, articles // 20 + 5)
    tags = make_tags(rng)
    made = make_entities(rng, entities) if entities > 0 else []
    return Pools(
        authors=authors, author_weights=_zipf_cumulative(len(authors), 0.8),
        tags=tags, tag_weights=_zipf_cumulative(len(tags), 1.0),
        publications=make_publications(rng),
        entities=made, entity_weights=_zipf_cumulative(len(made), 1.0) if made else [],
    )


def pick_distinct(rng: Random, population: list[str], cumulative: list[float],
                  count: int) -> list[str]:
    """``count`` distinct items, drawn by cumulative weight (popular ones first, mostly)."""
    count = min(count, len(population))
    total = cumulative[-1]
    chosen: dict[str, None] = {}
    while len(chosen) < count:
        chosen[population[bisect(cumulative, rng.random() * total)]] = None
    return list(chosen)


# --------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------


class Writer:
    """Makes sentences, paragraphs and whole article bodies from one ``Random``."""

    def __init__(self, rng: Random, pools: Pools):
        self.rng = rng
        self.pools = pools

    def words(self, count: int) -> list[str]:
        return self.rng.choices(VOCABULARY, cum_weights=VOCABULARY_WEIGHTS, k=count)

    def title(self) -> str:
        """A headline from one of several shapes, some with ``:``, ``,`` or quotes."""
        rng = self.rng
        noun, other, verb = rng.choice(NOUNS), rng.choice(NOUNS), rng.choice(VERBS)
        adjective = rng.choice(ADJECTIVES)
        form = rng.randrange(8)
        if form == 0:
            return f"The {adjective.capitalize()} {noun.capitalize()} of {other.capitalize()}"
        if form == 1:
            return f"Why {noun}s {verb} {other}s"
        if form == 2:
            return f"{noun.capitalize()} and {other.capitalize()}: notes on {adjective} {verb}"
        if form == 3:
            return f"How the {adjective} {noun} {verb}s the {other}"
        if form == 4:
            return f"{adjective.capitalize()} {noun}, {adjective} {other}"
        if form == 5:
            return f"What “{adjective} {noun}” means for the {other}"
        if form == 6:
            return f"{noun.capitalize()} in {rng.randint(1850, 2024)}: the {adjective} {other}"
        return f"To {verb} a {noun}"

    def sentence(self, links: list[str]) -> str:
        """One sentence, with occasional inline markup; ``links`` are internal targets."""
        rng = self.rng
        words = self.words(rng.randint(6, 26))
        roll = rng.random()
        if roll < 0.10 and len(words) > 4:  # emphasis, strong or inline code on one word
            i = rng.randrange(1, len(words))
            words[i] = rng.choice(("*{}*", "*{}*", "**{}**", "`{}`")).format(
                rng.choice(IDENTIFIERS) if roll < 0.025 else words[i])
        elif roll < 0.15 and len(words) > 6:  # an external link over a few words
            i = rng.randrange(1, len(words) - 3)
            host = rng.choice(self.pools.publications)[1]
            words[i:i + 3] = [f"[{' '.join(words[i:i + 3])}](https://{host}/"
                              f"{rng.randint(2010, 2024)}/{words[i]}-{rng.randrange(10000)})"]
        elif roll < 0.165 and links and len(words) > 4:  # a link to another article
            i = rng.randrange(1, len(words) - 1)
            words[i:i + 2] = [f"[{words[i]} {words[i + 1]}]({rng.choice(links)}.md)"]
        if self.pools.entities and rng.random() < 0.06:  # mention a known entity
            entity = self.pools.entities[bisect(self.pools.entity_weights,
                                                rng.random() * self.pools.entity_weights[-1])]
            name = rng.choice(entity.aliases) if entity.aliases and rng.random() < 0.3 \
                else entity.name
            words.insert(rng.randrange(1, len(words)), name)
        if len(words) > 12 and rng.random() < 0.3:
            words[rng.randrange(3, len(words) - 3)] += ","
        text = " ".join(words)
        return text[0].upper() + text[1:] + ("?" if rng.random() < 0.05 else ".")

    def paragraph(self, links: list[str], sentences: int) -> str:
        return " ".join(self.sentence(links) for _ in range(sentences))

    def body(self, target_words: int, links: list[str]) -> str:
        """Markdown of roughly ``target_words`` words."""
        rng = self.rng
        blocks: list[str] = []
        words = 0
        since_heading = 0
        footnote = rng.random() < 0.12
        code_block = rng.random() < 0.15
        extras = {"list": rng.random() < 0.35, "quote": rng.random() < 0.4,
                  "code": code_block, "footnote": footnote}
        while words < target_words:
            # A heading every few paragraphs (never first), sometimes a sub-heading.
            if blocks and since_heading >= 2 and rng.random() < 0.3:
                level = "###" if rng.random() < 0.2 else "##"
                heading = " ".join(self.words(rng.randint(2, 6)))
                blocks.append(f"{level} {heading[0].upper()}{heading[1:]}")
                since_heading = 0
                continue
            roll = rng.random()
            if blocks and roll < 0.10 and extras["list"]:
                extras["list"] = False
                ordered = rng.random() < 0.3
                items = [f"{f'{n}.' if ordered else '-'} {self.sentence(links)}"
                         for n in range(1, rng.randint(3, 7))]
                blocks.append("\n".join(items))
                words += sum(len(item.split()) for item in items)
            elif blocks and roll < 0.18 and extras["quote"]:
                extras["quote"] = False
                quote = self.paragraph(links, rng.randint(1, 3))
                blocks.append("> " + quote)
                words += len(quote.split())
            elif blocks and roll < 0.24 and extras["code"]:
                extras["code"] = False
                language, template = rng.choice(CODE_TEMPLATES)
                a, b = rng.sample(IDENTIFIERS, 2)
                blocks.append(f"```{language}\n{template.format(a=a, b=b)}```")
            else:
                # Paragraph lengths vary a lot: one-liners to long ones.
                text = self.paragraph(links, rng.choice((1, 2, 3, 3, 4, 4, 5, 6, 8)))
                if extras["footnote"] and blocks and rng.random() < 0.3:
                    extras["footnote"] = False
                    text += "[^1]"
                blocks.append(text)
                words += len(text.split())
            since_heading += 1
        if footnote and not extras["footnote"]:  # the reference was placed: add the note
            blocks.append(f"[^1]: {self.sentence([])}")
        return "\n\n".join(blocks) + "\n"


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------

SITE_YML = """\
# Generated by bench/generate.py: {articles} articles, seed {seed}.
title: Postil benchmark archive
description: A generated corpus for measuring builds.
author: Benchmark archive editors
base_url: https://bench.example.org/
language: en
timezone: Europe/Paris
theme: default
paginate: 10
# The speed goals are measured without search; bench/search.py measures its cost.
search: false
"""

FIRST_DAY = date(2015, 1, 1)
DAYS = (date(2024, 12, 31) - FIRST_DAY).days  # ten years


@dataclass
class CorpusStats:
    articles: int
    entities: int
    bytes: int
    seconds: float


def article_text(rng: Random, writer: Writer, pools: Pools, title: str,
                 links: list[str]) -> str:
    """The whole file of one article: front matter and body."""
    # More recent years hold more articles, as in a real archive.
    day = FIRST_DAY + timedelta(days=int(rng.triangular(0, DAYS, DAYS)))
    if rng.random() < 0.2:  # a time of day, sometimes with an explicit offset
        stamp = f"{day.isoformat()} {rng.randrange(24):02d}:{rng.randrange(60):02d}:00"
        when = stamp + ("+02:00" if rng.random() < 0.25 else "")
    else:
        when = day.isoformat()
    count = rng.choices((1, 2, 3), weights=(70, 22, 8))[0]
    authors = pick_distinct(rng, pools.authors, pools.author_weights, count)
    tags = pick_distinct(rng, pools.tags, pools.tag_weights, rng.randint(2, 6))
    publication, host = rng.choice(pools.publications)
    lines = ["---", f"title: {quoted(title)}", f"date: {when}"]
    if len(authors) == 1:
        lines.append(f"author: {quoted(authors[0])}")
    else:
        lines.append(f"authors: [{', '.join(quoted(a) for a in authors)}]")
    lines.append(f"tags: [{', '.join(quoted(t) for t in tags)}]")
    lines.append(f"source: https://www.{host}/{day.year}/{day.month:02d}/{slugify(title)}")
    lines.append(f"publication: {quoted(publication)}")
    if rng.random() < 0.7:
        lines.append(f"summary: {quoted(writer.sentence([]))}")
    lines.append("---")
    target = max(250, min(2000, int(rng.gauss(800, 180))))
    return "\n".join(lines) + "\n\n" + writer.body(target, links)


def entity_text(entity: Entity, writer: Writer) -> str:
    def listed(items: list[str]) -> str:
        return "[" + ", ".join(quoted(a) for a in items) + "]"

    acronyms = [a for a in entity.aliases if a.isupper()]  # "ALA" must not match "ala"
    return (f"---\nname: {quoted(entity.name)}\ntype: {entity.type}\n"
            f"aliases: {listed(entity.aliases)}\ncase_sensitive: {listed(acronyms)}\n"
            f"weak_aliases: {listed(entity.weak)}\n---\n\n{writer.paragraph([], 3)}\n")


def _prepare(out: Path, force: bool) -> None:
    """Make ``out`` ready: refuse to mix with existing content unless it is ours and forced."""
    content = out / "content"
    if content.exists() and any(content.iterdir()):
        if not force:
            raise SystemExit(f"{content} is not empty; use --force to replace a generated corpus")
        if not (out / STAMP).is_file():
            raise SystemExit(f"{out} was not made by bench/generate.py ({STAMP} is missing); "
                             "not deleting it")
        shutil.rmtree(content)
    content.mkdir(parents=True, exist_ok=True)


def read_stamp(out: Path) -> dict | None:
    """The parameters a folder was generated with, or None."""
    try:
        return json.loads((out / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def stamp_for(articles: int, seed: int, entities: int) -> dict:
    return {"version": GENERATOR_VERSION, "articles": articles, "seed": seed,
            "entities": entities}


def generate_site(articles: int, out: Path, seed: int = 1, entities: int = 0,
                  force: bool = False) -> CorpusStats:
    """Write a site of ``articles`` articles (and ``entities`` entity files) into ``out``."""
    started = time.perf_counter()
    out = Path(out)
    _prepare(out, force)
    rng = Random(seed)
    pools = make_pools(rng, articles, entities)
    writer = Writer(rng, pools)
    content = out / "content"
    total = 0

    # Titles and slugs first, so that bodies can link to any other article.
    slugs: list[str] = []
    titles: list[str] = []
    taken: dict[str, None] = {}
    for _ in range(articles):
        title = writer.title()
        base = slugify(title)
        slug, suffix = base, 2
        while slug in taken:
            slug, suffix = f"{base}-{suffix}", suffix + 1
        taken[slug] = None
        slugs.append(slug)
        titles.append(title)

    for slug, title in zip(slugs, titles, strict=True):
        # A few link targets per article, never itself.
        links = [s for s in rng.sample(slugs, min(3, len(slugs))) if s != slug] \
            if rng.random() < 0.2 else []
        data = article_text(rng, writer, pools, title, links).encode("utf-8")
        (content / f"{slug}.md").write_bytes(data)
        total += len(data)

    if pools.entities:
        folder = content / "entities"
        folder.mkdir(exist_ok=True)
        for entity in pools.entities:
            data = entity_text(entity, writer).encode("utf-8")
            (folder / f"{entity.slug}.md").write_bytes(data)
            total += len(data)

    config = SITE_YML.format(articles=articles, seed=seed)
    if pools.entities:
        config += "entities:\n  autolink: true\n"
    (out / "site.yml").write_text(config, encoding="utf-8")
    (out / STAMP).write_text(json.dumps(stamp_for(articles, seed, entities)) + "\n",
                             encoding="utf-8")
    return CorpusStats(articles=articles, entities=len(pools.entities), bytes=total,
                       seconds=time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate a seeded Postil corpus.",
                                     allow_abbrev=False)
    parser.add_argument("articles", type=int, metavar="N", help="number of articles")
    parser.add_argument("dir", type=Path, metavar="DIR", help="site folder to write")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--entities", type=int, default=0, metavar="E",
                        help="also write E entity files under content/entities/, turn on "
                             "entities: {autolink: true} and mention them in the articles "
                             "(default 0)")
    parser.add_argument("--force", action="store_true",
                        help="replace the content/ of a folder this script generated before")
    args = parser.parse_args(argv)
    if args.articles < 1 or args.entities < 0:
        parser.error("N must be 1 or more and E 0 or more")
    stats = generate_site(args.articles, args.dir, args.seed, args.entities, args.force)
    extra = f" and {stats.entities} entities" if stats.entities else ""
    print(f"wrote {stats.articles} articles{extra} to {args.dir} "
          f"({stats.bytes / 2**20:.1f} MiB) in {stats.seconds:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
