"""The record of what Postil owns in an output folder: ``.postil-manifest.json``.

One record per file Postil wrote (or verified) there. The format is JSON, one
file per line so that a diff of two manifests reads well; a record is the
array of the fields of :class:`Record` (``digest``, ``signature``, ``size``,
``mtime_ns``, ``inode``), which reads and writes about three times as fast as
an object with their names (a site of 10,000 articles has 50,000 files)::

    {"generator": "postil", "version": 3, "files": {"index.html": ["9f…", "ab…",
    5120, 1718…, 1234],
    "new.html": [null, null, null, null, null]}}

A record may lack its stat (``size``, ``mtime_ns``, ``inode`` null: the file is
then verified by its bytes) or everything (a file a run was about to create,
owned but never verified). Earlier formats are read: the second, with a record
as an object (``{"digest": "9f…", "signature": "ab…", "size": 5120, …}``, ``{}``
for nothing), and the first, ``{"files": {name: digest}, "signatures": {name:
signature}}``, as records without stat.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import NamedTuple

from builder.gc_pause import collector_paused

MANIFEST = ".postil-manifest.json"
VERSION = 3
_UPDATE = b'\n{"update": '  # starts each line append() adds
_NONE = type(None)


def digest(data: bytes) -> str:
    """The blake2b digest (16 bytes, as 32 hex characters) that the manifest records."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class Record(NamedTuple):
    """What Postil knows of one file it owns (a named tuple: thousands are made per build).

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
                and info.st_ino == self.inode and info.st_mtime_ns == self.mtime_ns
                and info.st_size == self.size)


def _record(value: object) -> Record:
    """A record from its JSON form (an array, an object, or a digest alone); fields of
    the wrong type are dropped, never trusted."""
    if isinstance(value, str):  # the first format: the digest alone
        return Record(digest=value)
    if isinstance(value, list) and len(value) == len(Record._fields):
        found, signature, size, mtime_ns, inode = value
    elif isinstance(value, dict):
        found, signature = value.get("digest"), value.get("signature")
        size, mtime_ns, inode = value.get("size"), value.get("mtime_ns"), value.get("inode")
    else:
        return Record()
    found = found if isinstance(found, str) else None
    signature = signature if isinstance(signature, str) else None
    if type(size) is int and type(mtime_ns) is int and type(inode) is int:
        return Record(found, signature, size, mtime_ns, inode)
    return Record(found, signature)


def _well_formed(values: list[object]) -> bool:
    """True if every one of ``values`` is a record as :func:`dump` writes it: an array of
    two strings (or nulls) and three integers (or three nulls). Checked a field at a
    time over all records, each check a loop in C."""
    if not (set(map(type, values)) <= {list} and set(map(len, values)) <= {5}):  # type: ignore
        return False
    if not values:
        return True
    digests, signatures, sizes, mtimes, inodes = zip(*values, strict=True)  # type: ignore
    kinds = list(map(type, sizes))
    return (set(map(type, digests)) <= {str, _NONE}
            and set(map(type, signatures)) <= {str, _NONE}
            and set(kinds) <= {int, _NONE} and kinds == list(map(type, mtimes))
            and kinds == list(map(type, inodes)))


def parse(raw: bytes | None) -> tuple[dict[str, Record], int]:
    """(records by file name, a relative POSIX path; the format's version: 1, 2 or 3),
    or ({}, 0) for a missing or damaged manifest."""
    if raw is None:
        return {}, 0
    raw, journal = _split(raw)
    try:
        with collector_paused():
            data = json.loads(raw)
        files = data["files"]
        values = list(files.values())
        if _well_formed(values):  # as written: no field to check one by one
            records = dict(zip(files, map(Record._make, values), strict=True))
        else:
            records = {str(name): _record(value) for name, value in files.items()}
        signatures = data.get("signatures") or {}  # the first format kept them apart
        for name, signature in signatures.items():
            if name in records and isinstance(signature, str):
                records[name] = records[name]._replace(signature=signature)
        version = data.get("version")
        for line in journal:
            records.update(_update(line))
        return records, version if version in (2, VERSION) else 1
    except (ValueError, TypeError, KeyError, AttributeError):
        return {}, 0


def _split(raw: bytes) -> tuple[bytes, list[bytes]]:
    """The manifest's bytes: (its JSON object, the update lines :func:`append` added).
    Raw newlines end lines only: inside a JSON string a newline is escaped."""
    start = raw.find(_UPDATE)
    if start < 0:
        return raw, []
    return raw[:start + 1], raw[start + 1:].split(b"\n")


def _update(line: bytes) -> dict[str, Record]:
    """The records of one update line; none from a line cut short (a crash while it was
    appended: the files it names then fail their stat check and are verified again)."""
    try:
        with collector_paused():
            files = json.loads(line)["update"]
        return {name: Record._make(value) for name, value in files.items()
                if type(name) is str and _well_formed([value])}
    except (ValueError, TypeError, KeyError, AttributeError):
        return {}


def append(root: Path, records: dict[str, Record]) -> None:
    """Add ``records`` to the manifest in ``root`` as one update line, in place: what a
    delta build (builder.delta_build) wrote, without writing 50,000 records again. The
    next full write folds the lines in. Raises OSError (the manifest is left as it was,
    or with a line cut short, which :func:`parse` skips)."""
    line = json.dumps({"update": {name: records[name] for name in sorted(records)}})
    fd = os.open(root / MANIFEST, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{MANIFEST} is not a regular file")
        os.write(fd, (line + "\n").encode("utf-8"))
    finally:
        os.close(fd)


def dump(records: dict[str, Record]) -> bytes:
    """The manifest's bytes for ``records``, sorted by name: equal records, equal bytes."""
    # A record is a tuple, which the encoder writes as an array.
    with collector_paused():
        text = json.dumps({"generator": "postil", "version": VERSION,
                           "files": {name: records[name] for name in sorted(records)}})
    # One file a line. Inside a JSON string a quote is always escaped, so '], "' only
    # ever ends a record.
    return (text.replace('], "', '],\n"') + "\n").encode("utf-8")


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
