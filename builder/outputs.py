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
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from builder.cache import code_fingerprint
from builder.config import SiteConfig
from builder.fingerprint import fingerprint
from builder.model import Page, Site
from builder.spool import Spool, Spooled

#: separates a page's own signature from the site's in a recorded signature
SITE_MARK = "+site:"


class Reusable(Protocol):
    """Where earlier bytes may be found: the output folder of a build."""

    def records(self) -> dict[str, Any]:
        """Name → what was recorded when it was written (with a ``signature``)."""

    def reusable(self, name: str, signature: str) -> bytes | None:
        """The bytes of ``name`` if recorded with ``signature`` and untouched since."""

    def unchanged(self, name: str, signature: str) -> str | None:
        """The digest of ``name`` if recorded with ``signature`` and its ``stat`` is the
        recorded one, without reading it; else None."""


class Files(MutableMapping[str, bytes]):
    """A build's output files: name → bytes. A file found unchanged in the output folder
    is *kept*: only its digest is held, and its bytes are read from the folder when asked
    for (by a publish target, say), so a rebuild does not read back every page. With a
    :class:`~builder.spool.Spool`, every file set here goes to the spool at once (kept if
    unchanged, else written into the staging folder): no file's bytes stay in memory.

    Raises :class:`OSError` (from the loader) if a kept file cannot be read any more, and
    :class:`~builder.staging.WriteFailed` when the spool cannot write a file.
    """

    def __init__(self, spool: Spool | None = None) -> None:
        self.spool = spool
        self._data: dict[str, bytes] = {}
        self._kept: dict[str, tuple[str, Callable[[], bytes]]] = {}
        self._spooled: dict[str, Spooled] = {}

    def copy(self) -> Files:
        """Another mapping of the same files (bytes shared), to change apart from this one."""
        other = Files(self.spool)
        other._data, other._kept = dict(self._data), dict(self._kept)
        other._spooled = dict(self._spooled)
        return other

    def keep(self, name: str, digest: str, load: Callable[[], bytes]) -> None:
        """``name`` is the file already on disk, whose bytes have ``digest``."""
        self._drop(name)
        self._kept[name] = (digest, load)

    def kept(self, name: str) -> str | None:
        """The digest of a kept file; None for one held in memory or spooled."""
        found = self._kept.get(name)
        return found[0] if found is not None else None

    def spooled(self, name: str) -> Spooled | None:
        """The staged file of ``name``, if it was spooled."""
        return self._spooled.get(name)

    def loaded(self, name: str) -> bytes | None:
        """The bytes held in memory (None for a kept file), without reading anything."""
        return self._data.get(name)

    def _drop(self, name: str) -> None:
        self._data.pop(name, None)
        self._kept.pop(name, None)
        self._spooled.pop(name, None)

    def __getitem__(self, name: str) -> bytes:
        found = self._data.get(name)
        if found is not None:
            return found
        spooled = self._spooled.get(name)
        if spooled is not None and self.spool is not None:
            return self.spool.read(name, spooled)
        return self._kept[name][1]()

    def __setitem__(self, name: str, data: bytes) -> None:
        self._drop(name)
        if self.spool is None:
            self._data[name] = data
            return
        spool = self.spool
        entry = spool.put(name, data)
        if isinstance(entry, str):
            self._kept[name] = (entry, lambda: spool.read(name, entry))
        else:
            self._spooled[name] = entry

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._drop(name)

    def __contains__(self, name: object) -> bool:
        return name in self._data or name in self._kept or name in self._spooled

    def __iter__(self) -> Iterator[str]:
        yield from self._data
        yield from self._kept
        yield from self._spooled

    def __len__(self) -> int:
        return len(self._data) + len(self._kept) + len(self._spooled)


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

    def remember(self, files: Files, signatures: dict[str, str]) -> None:
        """Hold what a build made, for the next build of this builder (kept files: not
        their bytes; the next build finds them on disk again)."""
        self.files = {name: (signatures[name], data) for name in files
                      if (data := files.loaded(name)) is not None}

    def update(self, files: Files, names: Iterable[str], signatures: dict[str, str]) -> None:
        """:meth:`remember` for ``names`` alone, the files a delta build made again."""
        for name in names:
            data = files.loaded(name)
            if data is None:
                self.files.pop(name, None)
            else:
                self.files[name] = (signatures[name], data)

    def reuse(self, name: str, signature: str, disk: Reusable | None, files: Files) -> bool:
        """Put the earlier ``name`` made under ``signature`` into ``files``, from memory or
        as a file kept on ``disk``; False if there is none."""
        data = self.get(name, signature)
        if data is None and disk is not None:
            found = disk.unchanged(name, signature)
            if found is not None:
                files.keep(name, found, lambda: _read_kept(disk, name, signature))
                return True
            data = disk.reusable(name, signature)
        if data is None:
            return False
        files[name] = data
        return True

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


def _read_kept(disk: Reusable, name: str, signature: str) -> bytes:
    data = disk.reusable(name, signature)
    if data is None:
        raise OSError(f"{name} changed in the output folder while Postil was building")
    return data


def reuse_or_make(name: str, signature: str, make: Callable[[], bytes], made: Made,
                  disk: Reusable | None, files: Files,
                  later: list[tuple[str, Callable[[], bytes]]] | None = None) -> None:
    """Put into ``files`` the earlier ``name`` with this signature (from memory or disk),
    or else what ``make()`` returns; with ``later``, append ``(name, make)`` to it instead
    of calling ``make`` (for :func:`builder.parallel.make_files`)."""
    if made.reuse(name, signature, disk, files):
        return
    if later is None:
        files[name] = make()
    else:
        later.append((name, make))
