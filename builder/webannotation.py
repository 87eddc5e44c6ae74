"""Each article's annotations as W3C Web Annotations (``annotations.json``).

Highlights, notes and corrections target the article page with a
TextQuoteSelector (exact, prefix, suffix) and a TextPositionSelector over its
plain text; entity mentions are annotations with the motivation
"identifying" and the entity page as body.
"""

from __future__ import annotations

import json
from typing import Any

from builder.config import SiteConfig
from builder.model import Article, Quote
from builder.urls import absolute, annotations_path

CONTEXT = "http://www.w3.org/ns/anno.jsonld"
MOTIVATIONS = {"highlight": "highlighting", "note": "commenting", "insertion": "editing",
               "deletion": "editing"}


def _target(page: str, quote: Quote) -> dict[str, Any]:
    return {"source": page, "selector": [
        {"type": "TextQuoteSelector", "exact": quote.exact, "prefix": quote.prefix,
         "suffix": quote.suffix},
        {"type": "TextPositionSelector", "start": quote.start, "end": quote.end},
    ]}


def annotation_page(config: SiteConfig, article: Article) -> dict[str, Any]:
    page = absolute(config.base_url, article.url)
    items: list[dict[str, Any]] = []
    for highlight in article.highlights:
        item: dict[str, Any] = {
            "id": f"{page}#{highlight.id}", "type": "Annotation",
            "motivation": "commenting" if highlight.note else MOTIVATIONS[highlight.kind],
            "target": _target(page, highlight.quote),
        }
        if highlight.note:
            item["body"] = {"type": "TextualBody", "value": highlight.note, "format": "text/plain",
                            "purpose": "commenting"}
        elif highlight.kind in ("insertion", "deletion"):
            item["body"] = {"type": "TextualBody", "value": f"{highlight.kind}: {highlight.text}",
                            "purpose": "editing"}
        items.append(item)
    for mention in article.mentions:
        if mention.quote.end <= mention.quote.start:  # in a margin note: not in the page text
            continue
        items.append({
            "id": f"{page}#{mention.id}", "type": "Annotation", "motivation": "identifying",
            "body": {"id": absolute(config.base_url, f"/entities/{mention.entity}/"),
                     "type": "SpecificResource", "purpose": "identifying"},
            "target": _target(page, mention.quote),
        })
    return {"@context": CONTEXT, "id": absolute(config.base_url, annotations_path(article.url)),
            "type": "AnnotationPage", "partOf": {"id": page, "type": "AnnotationCollection"},
            "items": items}


def annotation_file(config: SiteConfig, article: Article) -> bytes:
    return json.dumps(annotation_page(config, article), ensure_ascii=False,
                      indent=1).encode("utf-8")
