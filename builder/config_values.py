"""Checks of single ``site.yml`` values, each giving what is wrong or None: the
published address, article permalink patterns, language tags and ``publish.keep``
paths. Kept apart from :mod:`builder.config`, which reads the file and applies them,
so that the command line can check ``--base-url`` without loading a configuration."""

from __future__ import annotations

import re
import string
from urllib.parse import unquote, urlsplit

PERMALINK_FIELDS = ("slug", "path", "year", "month", "day")

#: a BCP 47 language tag, as ``<html lang>`` and Atom's ``xml:lang`` want it
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")


def is_language_tag(value: str) -> bool:
    """Whether ``value`` has the shape of a BCP 47 language tag (``en``, ``pt-BR``,
    ``zh-Hant-TW``): letters, then subtags of letters and digits joined by ``-``."""
    return _LANGUAGE_TAG.fullmatch(value) is not None

#: not valid in a URL unless percent-encoded (WHATWG URL), plus controls and spaces
_NOT_IN_URL = re.compile(r'[\x00-\x20\x7f-\x9f"<>\\^`{|}]')


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


def keep_path(path: object) -> str | None:
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


def _shown(value: object, limit: int = 60) -> str:
    """A value quoted for a message: shortened, control characters escaped."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return '"' + "".join(char if char.isprintable() else f"\\u{ord(char):04x}"
                         for char in text) + '"'
