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
ARTICLE_JSONLD_READS = frozenset({"title", "iso_date", "url", "authors", "updated",
                                  "publication", "source_url", "summary", "tags", "about",
                                  "entity_groups"})


def wikidata_url(qid: str) -> str:
    return f"https://www.wikidata.org/wiki/{qid}"


def entity_ref(config: SiteConfig, entity: Entity) -> dict[str, Any]:
    ref: dict[str, Any] = {"@type": SCHEMA_TYPES.get(entity.type, "Thing"),
                           "name": entity.name, "url": absolute(config.base_url, entity.url)}
    if entity.wikidata:
        ref["sameAs"] = wikidata_url(entity.wikidata)
    return ref


def article_jsonld(config: SiteConfig, article: Article) -> dict[str, Any]:
    """schema.org ``Article``: the piece read, with what it is about and mentions."""
    data: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "Article",
        "headline": article.title, "datePublished": article.iso_date,
        "url": absolute(config.base_url, article.url),
        "author": [{"@type": "Person", "name": name} for name in article.authors],
    }
    if article.updated is not None:
        data["dateModified"] = article.updated.isoformat()
    publisher = article.publication or config.publisher
    if publisher:
        data["publisher"] = {"@type": "Organization", "name": publisher}
    if article.source_url:
        data["isBasedOn"] = article.source_url
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


def entity_jsonld(config: SiteConfig, entity: Entity) -> dict[str, Any]:
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
        if entity.location:
            data["location"] = {"@type": "Place", "name": entity.location,
                                "url": absolute(config.base_url, f"/entities/{entity.location}/")}
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
