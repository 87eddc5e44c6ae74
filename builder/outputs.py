"""Which output files must be made again: signatures, and reuse of earlier bytes.

Every output file (page, feed, ``annotations.json``, sitemap, static file)
has a *signature*: a hash of everything its bytes are made from. For a page
that is the code, the configuration, every template file, and the
:class:`~builder.model.Page` itself with its whole context
(:func:`builder.fingerprint.fingerprint`); plus the whole site when the
page's templates read the global ``site``. Whether they do is known from the
page's last rendering (:mod:`builder.render` records it): with the same
templates and the same context a rendering looks up the same names, so a
page that did not read ``site`` last time cannot read it now.

Bytes are reused only when the signature is the same: from memory (a
builder kept by ``postil serve``) or from the output folder (a new ``postil
build`` process; see :meth:`builder.writer.OutputFolder.reusable`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from builder.cache import code_fingerprint
from builder.config import SiteConfig
from builder.fingerprint import fingerprint
from builder.model import Page, Site

#: separates a page's own signature from the site's in a recorded signature
SITE_MARK = "+site:"


class Reusable(Protocol):
    """Where earlier bytes may be found: the output folder of a build."""

    def records(self) -> dict[str, Any]:
        """Name → what was recorded when it was written (with a ``signature``)."""

    def reusable(self, name: str, signature: str) -> bytes | None:
        """The bytes of ``name`` if recorded with ``signature`` and untouched since."""


def settings_version(config: SiteConfig) -> bytes:
    """Code and configuration: what every output depends on (16 bytes)."""
    return fingerprint((code_fingerprint(), config))


def templates_version(config: SiteConfig, template_dirs: list[Path]) -> bytes:
    """:func:`settings_version` plus every file in the template folders, by path and bytes."""
    digest = hashlib.blake2b(settings_version(config), digest_size=16)
    for folder in template_dirs:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(path.as_posix().encode() + b"\0")
                digest.update(hashlib.blake2b(path.read_bytes(), digest_size=16).digest())
    return digest.digest()


@dataclass
class Signer:
    """Signatures of one build's outputs; shares one fingerprint memo across them."""

    site: Site
    pages_version: bytes  # templates_version(...)
    settings: bytes  # settings_version(...)
    memo: dict[int, bytes] = field(default_factory=dict)
    _site: str | None = None

    def page(self, page: Page) -> str:
        """The page's own signature (hex), without the site's."""
        return fingerprint((self.pages_version, page), self.memo).hex()

    def whole_site(self) -> str:
        """The signature of everything the global ``site`` holds (hex); computed once."""
        if self._site is None:
            self._site = fingerprint((self.settings, self.site), self.memo).hex()
        return self._site

    def with_site(self, own: str) -> str:
        return f"{own}{SITE_MARK}{self.whole_site()}"

    def matches(self, own: str, recorded: str | None) -> bool:
        """Whether a recorded page signature still holds, given the page's own now."""
        if recorded is None or not recorded.startswith(own):
            return False
        return recorded == own or recorded == self.with_site(own)

    def of(self, *parts: Any) -> str:
        """The signature of anything else made from ``parts`` and the settings (hex)."""
        return fingerprint((self.settings, parts), self.memo).hex()


class Made:
    """The outputs of the last successful build of one builder: name → (signature, bytes)."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[str, bytes]] = {}

    def get(self, name: str, signature: str) -> bytes | None:
        found = self.files.get(name)
        return found[1] if found is not None and found[0] == signature else None

    def recorded(self, name: str, disk: Reusable | None) -> str | None:
        """The signature ``name`` was last made under: in memory, else on ``disk``."""
        found = self.files.get(name)
        if found is not None:
            return found[0]
        record = disk.records().get(name) if disk is not None else None
        return record.signature if record is not None else None

    def earlier(self, name: str, signature: str, disk: Reusable | None) -> bytes | None:
        """Earlier bytes of ``name`` made under ``signature``: from memory, else ``disk``."""
        data = self.get(name, signature)
        if data is None and disk is not None:
            data = disk.reusable(name, signature)
        return data


def reuse_or_make(name: str, signature: str, make: Callable[[], bytes], made: Made,
                  disk: Reusable | None) -> bytes:
    """Earlier bytes of ``name`` with this signature, from memory or disk; else ``make()``."""
    data = made.earlier(name, signature, disk)
    return make() if data is None else data
