"""``site.yml``: the site's configuration, validated with line numbers."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from builder.frontmatter import YamlError, load_yaml
from builder.problems import BuildFailed, Problem
from builder.safeurl import check_url
from builder.sanitize import clean_meta

CONFIG_NAME = "site.yml"
PERMALINK_FIELDS = ("slug", "year", "month", "day")


@dataclass(frozen=True)
class SiteConfig:
    """Settings from site.yml, with defaults for every key. Never changed once loaded:
    a command-line override (``--base-url``) makes a new one (``dataclasses.replace``)."""

    site_dir: Path
    title: str = "A Postil archive"
    description: str = ""
    base_url: str = "http://localhost:8000/"
    language: str = "en"
    timezone: str = "UTC"
    theme: str = "default"
    author: str = ""
    publisher: str = ""
    paginate: int = 10
    permalink: str = "/articles/{slug}/"
    future: bool = True
    summary_words: int = 40
    words_per_minute: int = 230
    markdown_html: bool | str = True  # raw HTML: True sanitized, "trusted" as written, False text
    content_dir: str = "content"
    output_dir: str = "public"
    menu: list[dict[str, str]] = field(default_factory=list)
    copyright: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    feed_content: str = "full"  # feed: {content: full|summary}
    feed_limit: int = 20  # feed: {limit: N}; 0 = every article
    domain: str = ""  # custom domain, written to CNAME when publishing with git
    publish: dict[str, str] = field(default_factory=dict)  # publish: {git, branch, dir, ...}
    autolink: bool = False  # entities: {autolink: true} links registered names in prose

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_path(self) -> str:
        """The path part of base_url, always with a leading and trailing ``/``."""
        path = urlsplit(self.base_url).path or "/"
        return path if path.endswith("/") else path + "/"

    @property
    def content_path(self) -> Path:
        return self.site_dir / self.content_dir


_KEYS = {
    "title": str, "description": str, "base_url": str, "language": str, "timezone": str,
    "theme": str, "author": str, "publisher": str, "paginate": int, "future": bool,
    "summary_words": int, "words_per_minute": int, "content_dir": str, "output_dir": str,
    "menu": list, "copyright": str, "params": dict, "permalinks": dict, "markdown": dict,
    "feed": dict, "domain": str, "publish": dict, "entities": dict,
}
#: sub-keys of ``publish:`` (all strings)
PUBLISH_KEYS = ("git", "branch", "dir", "rsync", "ssh", "message")


def _type_name(kind: type) -> str:
    return {str: "a string", int: "a whole number", bool: "true or false",
            list: "a list", dict: "a mapping"}[kind]


def load_config(site_dir: Path) -> tuple[SiteConfig, list[Problem]]:
    """Read ``site_dir/site.yml``. Raises :class:`BuildFailed` on errors."""
    path = site_dir / CONFIG_NAME
    config = _Draft(site_dir)
    problems: list[Problem] = []
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BuildFailed([Problem(CONFIG_NAME, 1, f"no {CONFIG_NAME} in {site_dir}: "
                                   "run 'postil init DIR' to make a site")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BuildFailed([Problem(CONFIG_NAME, 1, f"cannot read: {exc}")]) from None
    try:
        data, lines = load_yaml(text)
    except YamlError as exc:
        raise BuildFailed([Problem(CONFIG_NAME, exc.line, exc.message)]) from None
    data = data or {}
    if not isinstance(data, dict):
        raise BuildFailed([Problem(CONFIG_NAME, 1, "must be a mapping of keys to values")])
    data, found = clean_meta(data, lambda key: lines.get(key, 1))
    problems += [Problem(CONFIG_NAME, line, message, warning=True) for line, message in found]

    def fail(key: str, message: str) -> None:
        problems.append(Problem(CONFIG_NAME, lines.get(key, 1), message))

    for key, value in data.items():
        kind = _KEYS.get(key)
        if kind is None:
            close = difflib.get_close_matches(str(key), _KEYS, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            problems.append(Problem(CONFIG_NAME, lines.get(key, 1),
                                    f'unknown key "{key}"{hint}', warning=True))
            continue
        if kind is int and isinstance(value, bool) or not isinstance(value, kind):
            fail(key, f"{key} must be {_type_name(kind)}")
            continue
        if key == "permalinks":
            _apply_permalinks(config, value, fail)
        elif key == "markdown":
            _apply_markdown(config, value, fail)
        elif key == "entities":
            autolink = value.get("autolink", False)
            if not isinstance(autolink, bool):
                fail(key, "entities.autolink must be true or false")
            config.autolink = autolink is True
        elif key == "feed":
            _apply_feed(config, value, fail)
        elif key == "publish":
            _apply_publish(config, value, fail, problems, lines.get(key, 1))
        elif key == "domain":
            _apply_domain(config, value, fail)
        else:
            setattr(config, key, value)

    if config.paginate < 1:
        fail("paginate", "paginate must be 1 or more")
    parts = urlsplit(config.base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        fail("base_url", f'base_url must be an absolute http(s) URL, not "{config.base_url}"')
    elif not config.base_url.endswith("/"):
        config.base_url += "/"
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        fail("timezone", f'unknown timezone "{config.timezone}" (use a name like "Europe/Paris")')
        config.timezone = "UTC"
    for index, item in enumerate(config.menu):
        if not (isinstance(item, dict) and isinstance(item.get("title"), str)
                and isinstance(item.get("url"), str)):
            fail("menu", f"menu item {index + 1} needs a title and a url")
            continue
        verdict = check_url(item["url"])
        if not verdict.ok:  # printed on every page: never a link that runs script
            problems.append(Problem(CONFIG_NAME, lines.get("menu", 1), verdict.message(
                f"menu item {index + 1}: url", item["url"]), warning=verdict.level != "error"))
            config.menu[index] = {**item, "url": ""}
    if any(not p.warning for p in problems):
        raise BuildFailed(problems)
    return config.freeze(), problems


class _Draft:
    """The configuration while ``site.yml`` is read: mutable, then frozen once."""

    def __init__(self, site_dir: Path):
        defaults = SiteConfig(site_dir=site_dir)
        for item in fields(SiteConfig):
            value = getattr(defaults, item.name)
            setattr(self, item.name, type(value)(value) if isinstance(value, (list, dict))
                    else value)

    def freeze(self) -> SiteConfig:
        return SiteConfig(**{item.name: getattr(self, item.name) for item in fields(SiteConfig)})


def _apply_permalinks(config: _Draft, value: dict, fail) -> None:
    pattern = value.get("article", config.permalink)
    if not isinstance(pattern, str) or "{slug}" not in pattern:
        fail("permalinks", 'permalinks.article must be a string containing "{slug}"')
        return
    try:
        pattern.format(**{name: "x" for name in PERMALINK_FIELDS})
    except (KeyError, IndexError, ValueError) as exc:
        fail("permalinks", f"permalinks.article: unknown field {exc} "
             f"(use {', '.join('{' + f + '}' for f in PERMALINK_FIELDS)})")
        return
    if not pattern.startswith("/"):
        pattern = "/" + pattern
    if not (pattern.endswith("/") or pattern.endswith(".html")):
        pattern += "/"
    config.permalink = pattern


def _apply_markdown(config: _Draft, value: dict, fail) -> None:
    html = value.get("html", True)
    if not (html is True or html is False or html == "trusted"):
        fail("markdown", 'markdown.html must be true (raw HTML, sanitized), "trusted" '
             "(raw HTML as written) or false (shown as text)")
        return
    config.markdown_html = html


def _apply_feed(config: _Draft, value: dict, fail) -> None:
    content = value.get("content", config.feed_content)
    if content not in ("full", "summary"):
        fail("feed", 'feed.content must be "full" or "summary"')
    else:
        config.feed_content = content
    limit = value.get("limit", config.feed_limit)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        fail("feed", "feed.limit must be a whole number, 0 for every article")
    else:
        config.feed_limit = limit
    for key in value:
        if key not in ("content", "limit"):
            fail("feed", f'feed: unknown key "{key}" (use content, limit)')


def _apply_domain(config: _Draft, value: str, fail) -> None:
    domain = value.strip().lower().rstrip(".")
    # A bare host name: GitHub/Codeberg Pages read CNAME as exactly that.
    if domain and (not all(part and part.replace("-", "").isalnum()
                           for part in domain.split(".")) or "." not in domain):
        fail("domain", f'domain must be a host name such as "archive.example.org", not "{value}"')
        return
    config.domain = domain


def _apply_publish(config: _Draft, value: dict, fail, problems: list[Problem],
                   line: int) -> None:
    for key, item in value.items():
        if key not in PUBLISH_KEYS:
            close = difflib.get_close_matches(str(key), PUBLISH_KEYS, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            problems.append(Problem(CONFIG_NAME, line, f'unknown key "publish.{key}"{hint}',
                                    warning=True))
        elif not isinstance(item, str) or not item.strip():
            fail("publish", f"publish.{key} must be a non-empty string")
        else:
            config.publish[key] = item.strip()
