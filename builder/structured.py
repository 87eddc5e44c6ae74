"""Structured data for machines: schema.org JSON-LD and URL text fragments.

Plain dictionaries built from the model; templates serialise them with
Jinja's ``tojson`` (which escapes ``<``, ``>`` and ``&`` for a script tag).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from builder.config import SiteConfig
from builder.model import Article, Entity, Highlight
from builder.urls import absolute

SCHEMA_TYPES = {"person": "Person", "organization": "Organization", "place": "Place",
                "event": "Event", "work": "CreativeWork", "other": "Thing"}
FRAGMENT_WORDS = 5  # a long passage is matched by its first and last words
#: the fields of its article :func:`article_jsonld` reads (builder.reads: a page calling
#: it reads these, not every field; tests/test_reads.py checks the list)
ARTICLE_JSONLD_READS = frozenset({"title", "iso_date", "url", "authors", "updated", "read",
                                  "dated_by", "published", "publication", "source_url",
                                  "summary", "tags", "about", "entity_groups"})


def wikidata_url(qid: str) -> str:
    return f"https://www.wikidata.org/wiki/{qid}"


def entity_ref(config: SiteConfig, entity: Entity) -> dict[str, Any]:
    ref: dict[str, Any] = {"@type": SCHEMA_TYPES.get(entity.type, "Thing"),
                           "name": entity.name, "url": absolute(config.base_url, entity.url)}
    if entity.wikidata:
        ref["sameAs"] = wikidata_url(entity.wikidata)
    return ref


def article_jsonld(config: SiteConfig, article: Article) -> dict[str, Any]:
    """schema.org ``Article`` for an article's page.

    A page about a source (an article with ``source:``) is the archive's note: its
    ``author`` is the site's (``site.yml``), its ``publisher`` the site's publisher (or
    title), its ``dateCreated`` the ``read:`` date; the source is ``isBasedOn``
    (:func:`source_jsonld`) with its own authors, publication and dates. Any other
    article is the archive's own writing, by its authors. ``datePublished`` is never
    given for an article that only ``updated:`` dates.
    """
    data: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "Article",
        "headline": article.title, "url": absolute(config.base_url, article.url),
    }
    if article.source_url:
        data["author"] = [_person(config.author)] if config.author else []
        data["publisher"] = _organization(config.publisher or config.title)
        if article.read is not None:
            data["dateCreated"] = article.read.isoformat()
        data["isBasedOn"] = source_jsonld(article)
    else:
        data["author"] = [_person(name) for name in article.authors]
        if article.dated_by != "updated":
            data["datePublished"] = article.iso_date
        if article.updated is not None:
            data["dateModified"] = article.updated.isoformat()
        publisher = article.publication or config.publisher
        if publisher:
            data["publisher"] = _organization(publisher)
    if article.summary:
        data["description"] = article.summary
    if article.tags:
        data["keywords"] = article.tags
    about = set(article.about)
    entities = [entity for _, pairs in article.entity_groups for entity, _ in pairs]
    if about:
        data["about"] = [entity_ref(config, e) for e in entities if e.slug in about]
    mentioned = [entity_ref(config, e) for e in entities if e.slug not in about]
    if mentioned:
        data["mentions"] = mentioned
    return data


def source_jsonld(article: Article) -> dict[str, Any]:
    """The source an article is about, as schema.org: a ``NewsArticle`` when it has a
    publication, else a ``CreativeWork``, with the front matter's title, authors,
    publication, URL, ``datePublished`` (``date:`` or the file name's, if given) and
    ``dateModified`` (``updated:``)."""
    data: dict[str, Any] = {"@type": "NewsArticle" if article.publication else "CreativeWork",
                            "headline": article.title}
    if article.source_url:
        data["url"] = article.source_url
    if article.authors:
        data["author"] = [_person(name) for name in article.authors]
    if article.publication:
        data["publisher"] = _organization(article.publication)
    published = article.published
    if published is not None:
        data["datePublished"] = published.isoformat()
    if article.updated is not None:
        data["dateModified"] = article.updated.isoformat()
    return data


def _person(name: str) -> dict[str, str]:
    return {"@type": "Person", "name": name}


def _organization(name: str) -> dict[str, str]:
    return {"@type": "Organization", "name": name}


def entity_jsonld(config: SiteConfig, entity: Entity) -> dict[str, Any]:
    """schema.org for an entity's page: its type, name, URL, ``sameAs`` Wikidata, other
    names and description; for an event its dates and ``location``, the place's name and
    page (``entity.place``, the card indexing gives an event with a ``location:``)."""
    data = {"@context": "https://schema.org", **entity_ref(config, entity)}
    names = entity.aliases + [a for a in entity.case_sensitive if a not in entity.aliases] + \
        entity.weak_aliases
    if names:
        data["alternateName"] = names
    if entity.description:
        data["description"] = entity.description
    if entity.type == "event":
        if entity.date is not None and entity.date.datetime:  # a decade has no ISO form
            data["startDate"] = entity.date.datetime
        if entity.end is not None and entity.end.datetime:
            data["endDate"] = entity.end.datetime
        place = entity.place  # the location's card: its name, not its slug
        if place is not None:
            # (schema.org: an event's location is a Place, whatever type the entity has)
            data["location"] = {**entity_ref(config, place), "@type": "Place"}
    return data


def _fragment_part(text: str) -> str:
    # quote(safe="") leaves "-" alone, but in a text fragment it marks prefix/suffix.
    return quote(text, safe="").replace("-", "%2D")


def text_fragment_url(source: str, highlight: Highlight) -> str:
    """A link that opens ``source`` scrolled to the highlighted words (``#:~:text=``)."""
    words = highlight.text.split()
    if not words:
        return ""
    if len(words) <= 2 * FRAGMENT_WORDS:
        directive = _fragment_part(" ".join(words))
    else:
        directive = (_fragment_part(" ".join(words[:FRAGMENT_WORDS])) + "," +
                     _fragment_part(" ".join(words[-FRAGMENT_WORDS:])))
    return f"{source.split('#', 1)[0]}#:~:text={directive}"
