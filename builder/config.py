"""``site.yml``: the site's configuration, validated with line numbers."""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from builder.problems import BuildFailed, Problem
from builder.safeurl import check_url
from builder.sanitize import clean_meta
from builder.yamlsafe import YamlError, load_yaml

CONFIG_NAME = "site.yml"
PERMALINK_FIELDS = ("slug", "path", "year", "month", "day")
_NAME_KEYS = frozenset({"content_dir", "output_dir", "theme", "timezone", "base_url"})


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
    publish_keep: tuple[str, ...] = ()  # publish: {keep: [CNAME, .well-known/]} (builder.publish)
    autolink: bool = False  # entities: {autolink: true} links registered names in prose
    slugs: str = "ascii"  # "ascii" (transliterated) or "unicode" (native script kept)
    wikilinks_unresolved: str = "error"  # wikilinks: {unresolved: text} makes them warnings
    snapshots_publish: bool = False  # snapshots: {publish: true} (builder.snapshots)
    # site.yml's line of `author:` (1 if absent), for the error when it is missing: not part
    # of the settings (a line moved by a comment changes no page)
    author_line: int = field(default=1, compare=False, metadata={"unsigned": True})

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
    "feed": dict, "domain": str, "publish": dict, "entities": dict, "slugs": str,
    "wikilinks": dict, "snapshots": dict,
}
#: sub-keys of ``publish:`` (all strings, but ``keep``: a list of paths)
PUBLISH_KEYS = ("git", "branch", "dir", "rsync", "ssh", "message", "keep")
#: whole-number settings: (smallest, largest) accepted
NUMBER_RANGES = {"paginate": (1, 1_000_000), "summary_words": (1, 1_000_000),
                 "words_per_minute": (1, 1_000_000), "feed.limit": (0, 1_000_000)}
#: settings naming a folder: relative to the site folder (or absolute)
_FOLDER_KEYS = ("theme", "content_dir", "output_dir")
#: a BCP 47 language tag, as ``<html lang>`` and Atom's ``xml:lang`` want it
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")


def is_language_tag(value: str) -> bool:
    """Whether ``value`` has the shape of a BCP 47 language tag (``en``, ``pt-BR``,
    ``zh-Hant-TW``): letters, then subtags of letters and digits joined by ``-``."""
    return _LANGUAGE_TAG.fullmatch(value) is not None

#: not valid in a URL unless percent-encoded (WHATWG URL), plus controls and spaces
_NOT_IN_URL = re.compile(r'[\x00-\x20\x7f-\x9f"<>\\^`{|}]')


def _type_name(kind: type) -> str:
    return {str: "a string", int: "a whole number", bool: "true or false",
            list: "a list", dict: "a mapping"}[kind]


def load_config(site_dir: Path, keep_going: bool = False) -> tuple[SiteConfig, list[Problem]]:
    """Read ``site_dir/site.yml``: the configuration and its warnings.

    Raises :class:`BuildFailed` on errors. With ``keep_going``, a value error
    (a number out of range, a bad base_url) is returned among the problems
    instead, with the default in the value's place, so that a build can go on
    reading every other file and report all problems in one run; it must not
    render or write with that configuration. A site.yml that cannot be read or
    parsed raises in any case.
    """
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
    cut: list[tuple[int, str]] = []  # values cut short by a comment: warnings
    try:
        data, lines = load_yaml(text, warnings=cut)
    except YamlError as exc:
        raise BuildFailed([Problem(CONFIG_NAME, exc.line, exc.message)]) from None
    problems += [Problem(CONFIG_NAME, line, message, warning=True) for line, message in cut]
    data = data or {}
    if not isinstance(data, dict):
        raise BuildFailed([Problem(CONFIG_NAME, 1, "must be a mapping of keys to values")])
    # Text shown on pages loses its control characters (with a warning); names of folders,
    # the theme, the timezone and the address are checked instead: a changed name would
    # silently point somewhere else.
    shown, found = clean_meta({k: v for k, v in data.items() if k not in _NAME_KEYS},
                              lambda key: lines.get(key, 1))
    data = {k: shown.get(k, v) for k, v in data.items()}
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
        if key in NUMBER_RANGES and not _in_range(key, value, fail):
            continue
        if key in _FOLDER_KEYS and not _is_folder(key, value, fail):
            continue
        if key == "permalinks":
            _apply_permalinks(config, value, fail, problems, lines.get(key, 1))
        elif key == "markdown":
            _apply_markdown(config, value, fail)
        elif key == "entities":
            config.autolink = _switch(key, value, "autolink", fail, problems, lines.get(key, 1))
        elif key == "wikilinks":
            unresolved = value.get("unresolved", "error")
            if unresolved not in ("error", "text"):
                fail(key, 'wikilinks.unresolved must be "error" or "text"')
            else:
                config.wikilinks_unresolved = unresolved
            _unknown_keys(key, value, ("unresolved",), problems, lines.get(key, 1))
        elif key == "snapshots":
            config.snapshots_publish = _switch(key, value, "publish", fail, problems,
                                               lines.get(key, 1))
        elif key == "feed":
            _apply_feed(config, value, fail)
        elif key == "publish":
            _apply_publish(config, value, fail, problems, lines.get(key, 1))
        elif key == "domain":
            _apply_domain(config, value, fail)
        elif key == "slugs" and value not in ("ascii", "unicode"):
            fail(key, f'slugs must be "ascii" or "unicode", not {_shown(value)}')
        else:
            setattr(config, key, value)

    config.author_line = lines.get("author", 1)
    wrong = base_url_problem(config.base_url)
    if wrong:
        fail("base_url", f"base_url {wrong}")
        config.base_url = SiteConfig.base_url
    elif not config.base_url.endswith("/"):
        config.base_url += "/"
    if not _LANGUAGE_TAG.fullmatch(config.language):
        hint = f' (did you mean "{config.language.replace("_", "-")}"?)' \
            if _LANGUAGE_TAG.fullmatch(config.language.replace("_", "-")) else ""
        fail("language", f'language must be a language tag such as "en" or "pt-BR", not '
             f"{_shown(config.language)}{hint}")
        config.language = "en"
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        fail("timezone", f"unknown timezone {_shown(config.timezone)} "
             '(use a name like "Europe/Paris")')
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
    if any(not p.warning for p in problems) and not keep_going:
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


def _apply_permalinks(config: _Draft, value: dict, fail, problems: list[Problem],
                      line: int) -> None:
    _unknown_keys("permalinks", value, ("article",), problems, line)
    pattern = value.get("article", config.permalink)
    wrong = permalink_problem(pattern)
    if wrong:
        fail("permalinks", f"permalinks.article {wrong}")
        return
    if not pattern.startswith("/"):
        pattern = "/" + pattern
    if not (pattern.endswith("/") or pattern.endswith(".html")):
        pattern += "/"
    config.permalink = pattern


def author_problems(config: SiteConfig, sources: list[tuple[str, int]]) -> list[Problem]:
    """The error when articles describe a source but ``site.yml`` names no ``author``.

    ``sources``: (path, line of its ``source:``) of each article with a source, in any
    order. A page about a source is the archive's note, by the site's author: its
    metadata (:mod:`builder.structured`) names that author, never the source's, so the
    site must say who it is. One problem at ``author:``'s line (or line 1), naming the
    first article, or none."""
    if config.author.strip() or not sources:
        return []
    path, line = min(sources)
    more = f" and {len(sources) - 1} more" if len(sources) > 1 else ""
    return [Problem(CONFIG_NAME, config.author_line,
                    f"author is required once an article has a source ({path}:{line}{more}): "
                    "the pages are the archive's notes, by the site's author, and their "
                    'metadata names them so; set author: "Your Name"')]


def permalink_problem(pattern: object) -> str | None:
    """What is wrong with an article permalink pattern, or None.

    A pattern is a path on the site (``/articles/{slug}/``, ``{year}/{slug}.html``,
    ``/{path}/``): no scheme or host, no ``.`` or ``..`` segment, no query or
    fragment, and only the fields ``{slug}``, ``{path}`` (the source's folders and
    its slug: :func:`builder.urls.folder_path`), ``{year}``, ``{month}`` and
    ``{day}``, with ``{slug}`` or ``{path}`` among them, without conversions or
    format specs.
    """
    fields_help = "use " + ", ".join("{" + name + "}" for name in PERMALINK_FIELDS)
    if not isinstance(pattern, str):
        return 'must be a string containing "{slug}" or "{path}"'
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as exc:  # a lone "{" or "}"
        return f"is not a pattern: {exc} ({fields_help})"
    literal = ""
    for text, name, spec, conversion in parsed:
        literal += text
        if name is None:
            continue
        if name not in PERMALINK_FIELDS or spec or conversion:
            whole = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            return f"has an unknown field {_shown('{' + whole + '}')} ({fields_help})"
        literal += "x"  # a field is never empty, and holds no "." or ".." folder
    if not any(name in ("slug", "path") for _, name, _, _ in parsed):
        return 'must be a string containing "{slug}" or "{path}"'
    if "{" in literal or "}" in literal:
        return "may not hold a brace outside a field"
    if "://" in pattern or pattern.startswith("//") or urlsplit(literal).scheme:
        return f"must be a path on the site such as /articles/{{slug}}/, not {_shown(pattern)}"
    if not re.fullmatch(r"[\w\-.~/]*", literal):
        return ("may hold only letters, digits, -, _, ., ~ and / besides its fields, not "
                f"{_shown(pattern)}")
    if any(part in (".", "..") for part in literal.split("/")):
        return f'may not have a "." or ".." folder: {_shown(pattern)}'
    return None


def _is_ipv6(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return True


def base_url_problem(url: str) -> str | None:
    """What is wrong with a site's published address, or None.

    It must be an absolute ``http``/``https`` URL (RFC 3986) with a host, an
    optional valid port and path, and no user name, password, query or
    fragment; characters that a URL must percent-encode are refused. The
    message starts after the setting's name: ``base_url {message}``.
    """
    shown = _shown(url)
    if _NOT_IN_URL.search(url):
        return ("may not hold a space, a control character or any of \" < > \\ ^ ` { | }: "
                f"{shown}")
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed or invalid [IPv6] host: "Invalid IPv6 URL"
        return f"has an invalid host name: {shown}"
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return f"must be an absolute http(s) URL, not {shown}"
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number from 0 to 65535)
    except ValueError:
        return f"has an invalid port: {shown}"
    if parts.username is not None or parts.password is not None:
        return f"may not hold a user name or password: {shown}"
    host = parts.hostname or ""
    # A bracketed host is an IPv6 address and the whole host: not "[::1]x" or "[::::]".
    ipv6 = "[" in parts.netloc and re.fullmatch(r"\[[0-9a-fA-F:.]+\](:\d*)?", parts.netloc) \
        and _is_ipv6(host)
    if not (re.fullmatch(r"[\w-]+(\.[\w-]+)*\.?", host) or ipv6):
        return f"has an invalid host name: {shown}"
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        return f"may not have a query (?) or fragment (#): {shown}"
    # Browsers read %2e as "." in a path (WHATWG URL: "single-dot" and "double-dot" segments).
    if any(unquote(part) in (".", "..") for part in parts.path.split("/")):
        return f'may not have a "." or ".." folder: {shown}'
    return None


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
    elif _in_range("feed.limit", limit, lambda _, message: fail("feed", message)):
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
        elif key == "keep":
            keep = [item] if isinstance(item, str) else item
            paths = [_keep_path(p) for p in keep] if isinstance(keep, list) else [None]
            if None in paths:
                fail("publish", "publish.keep must list paths on the site such as CNAME or "
                     ".well-known/ (no .., no wildcards)")
            else:
                config.publish_keep = tuple(dict.fromkeys(paths))
        elif not isinstance(item, str) or not item.strip():
            fail("publish", f"publish.{key} must be a non-empty string")
        else:
            config.publish[key] = item.strip()


def _keep_path(path: object) -> str | None:
    """A ``publish.keep`` entry as a site path without its leading ``/`` (a folder keeps
    its trailing ``/``), or None if it is no such path."""
    if not isinstance(path, str):
        return None
    path = path.strip().lstrip("/")
    parts = path.rstrip("/").split("/")
    if not path or re.search(r"[\\*?\[\x00-\x1f]", path) or \
            any(part in ("", ".", "..") for part in parts):
        return None
    return path


def _in_range(name: str, value: int, fail) -> bool:
    low, high = NUMBER_RANGES[name]
    if low <= value <= high:
        return True
    fail(name, f"{name} must be a whole number from {low:,} to {high:,}, not "
         f"{_shown(value)[1:-1]}")
    return False


def _is_folder(key: str, value: str, fail) -> bool:
    """A folder name or path the file system can take: not empty, no NUL character,
    no part longer than 255 bytes (what Linux, macOS and Windows allow)."""
    parts = re.split(r"[/\\]", value)
    if not value.strip():
        fail(key, f"{key} may not be empty")
    elif "\0" in value:
        fail(key, f"{key} may not hold a NUL character")
    elif any(len(part.encode("utf-8", "surrogatepass")) > 255 for part in parts):
        fail(key, f"{key} has a folder name longer than 255 bytes")
    elif key == "theme" and (Path(value).is_absolute() or ".." in parts):
        fail(key, f'theme must be the name of a folder under themes/, not {_shown(value)}')
    else:
        return True
    return False


def _switch(key: str, value: dict, name: str, fail: Callable[[str, str], None],
            problems: list[Problem], line: int) -> bool:
    """``key: {name: true|false}``, its only key, false when absent (``entities.autolink``,
    ``snapshots.publish``); anything but a boolean fails."""
    found = value.get(name, False)
    if not isinstance(found, bool):
        fail(key, f"{key}.{name} must be true or false")
    _unknown_keys(key, value, (name,), problems, line)
    return found is True


def _unknown_keys(key: str, value: dict, known: tuple[str, ...], problems: list[Problem],
                  line: int) -> None:
    for name in value:
        if name not in known:
            close = difflib.get_close_matches(str(name), known, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            problems.append(Problem(CONFIG_NAME, line, f'unknown key "{key}.{name}"{hint}',
                                    warning=True))


def _shown(value: object, limit: int = 60) -> str:
    """A value quoted for a message: shortened, control characters escaped."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return '"' + "".join(char if char.isprintable() else f"\\u{ord(char):04x}"
                         for char in text) + '"'
