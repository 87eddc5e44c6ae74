"""The record of what Postil owns in an output folder: ``.postil-manifest.json``.

One record per file Postil wrote (or verified) there. The format is JSON, one
file per line so that a diff of two manifests reads well::

    {"generator": "postil", "version": 2, "files": {
    "index.html": {"digest": "9f…", "inode": 1234, "mtime_ns": 1718…, "signature": "ab…",
                   "size": 5120},
    "new.html": {}
    }}

A record may lack its stat (``size``, ``mtime_ns``, ``inode``: the file is
then verified by its bytes) or everything (``{}``: a file a run was about to
create, owned but never verified). The first manifest format,
``{"files": {name: digest}, "signatures": {name: signature}}``, is read as
records without stat.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

MANIFEST = ".postil-manifest.json"
VERSION = 2


def digest(data: bytes) -> str:
    """The blake2b digest (16 bytes, as 32 hex characters) that the manifest records."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass(frozen=True)
class Record:
    """What Postil knows of one file it owns.

    ``digest``: of the bytes it wrote (see :func:`digest`), None if never written.
    ``signature``: the hex string the pipeline gave for the inputs of the file, if any.
    ``size`` (bytes), ``mtime_ns`` (nanoseconds since the epoch), ``inode``: the file's
    ``lstat`` when Postil wrote or verified it; all three None if not to be trusted.
    """

    digest: str | None = None
    signature: str | None = None
    size: int | None = None
    mtime_ns: int | None = None
    inode: int | None = None

    def matches(self, info: os.stat_result) -> bool:
        """True if ``info`` (an lstat) is the regular file this record describes, unchanged."""
        return (self.inode is not None and stat.S_ISREG(info.st_mode)
                and (info.st_size, info.st_mtime_ns, info.st_ino)
                == (self.size, self.mtime_ns, self.inode))

    def as_json(self) -> dict[str, str | int]:
        fields = {"digest": self.digest, "signature": self.signature, "size": self.size,
                  "mtime_ns": self.mtime_ns, "inode": self.inode}
        return {key: value for key, value in fields.items() if value is not None}


def _record(value: object) -> Record:
    """A record from its JSON form; fields of the wrong type are dropped, never trusted."""
    if isinstance(value, str):  # the first format: the digest alone
        return Record(digest=value)
    if not isinstance(value, dict):
        return Record()
    text = {key: value[key] for key in ("digest", "signature")
            if isinstance(value.get(key), str)}
    stats = [value.get(key) for key in ("size", "mtime_ns", "inode")]
    if all(type(number) is int and number >= 0 for number in stats):
        return Record(**text, size=stats[0], mtime_ns=stats[1], inode=stats[2])
    return Record(**text)


def parse(raw: bytes | None) -> dict[str, Record]:
    """Records by file name (a relative POSIX path); {} for a missing or damaged manifest."""
    if raw is None:
        return {}
    try:
        data = json.loads(raw)
        files = data["files"]
        records = {str(name): _record(value) for name, value in files.items()}
        signatures = data.get("signatures") or {}  # the first format kept them apart
        for name, signature in signatures.items():
            if name in records and isinstance(signature, str):
                old = records[name]
                records[name] = Record(old.digest, signature, old.size, old.mtime_ns, old.inode)
        return records
    except (ValueError, TypeError, KeyError, AttributeError):
        return {}


def is_current(raw: bytes | None) -> bool:
    """True if ``raw`` is a manifest in this format (so written by this writer)."""
    try:
        return json.loads(raw or b"null").get("version") == VERSION
    except (ValueError, AttributeError):
        return False


def dump(records: dict[str, Record]) -> bytes:
    """The manifest's bytes for ``records``, sorted by name: equal records, equal bytes."""
    lines = [f"{json.dumps(name)}: {json.dumps(records[name].as_json(), sort_keys=True)}"
             for name in sorted(records)]
    head = f'{{"generator": "postil", "version": {VERSION}, "files": {{\n'
    return (head + ",\n".join(lines) + "\n}}\n").encode("utf-8")


def read(root: Path) -> tuple[bytes | None, os.stat_result | None]:
    """The manifest's bytes in ``root`` and its fstat; (None, None) if there is none.

    Never through a symbolic link (a link there is no manifest of Postil's), and
    never blocking on a FIFO planted at its name.
    """
    try:
        fd = os.open(root / MANIFEST, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None, None
    with os.fdopen(fd, "rb") as handle:
        try:
            info = os.fstat(fd)
            return (handle.read(), info) if stat.S_ISREG(info.st_mode) else (None, None)
        except OSError:
            return None, None
