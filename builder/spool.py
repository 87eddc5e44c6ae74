"""Output files put into the staging folder as a build makes them.

A site of 10,000 articles is about 450 MB of output: held in memory until the
write, it would be most of a build's memory. With a :class:`Spool`, each file
is compared with the one on disk when it is made: an unchanged file is known
by its digest alone, a new or changed one is written into the run's staging
folder at once (:class:`builder.staging.Staging`) and its bytes dropped. The
sync engine (:meth:`builder.writer.OutputFolder.sync`) later renames the staged
files into place, with every check and the crash safety it has for files
handed to it in memory: nothing in the output folder changes before then.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from builder.manifest import Record
from builder.staging import (
    READ,
    Staging,
    WriteFailed,
    crash_now,
    fault,
    reason,
    remove_staging_leftovers,
    shown,
)


@dataclass(frozen=True)
class Spooled:
    """A file written into the staging folder: the digest of its bytes (as the manifest
    records it), its record (size in bytes, mtime_ns, inode) and its name there."""

    digest: str
    record: Record
    staged: str


class Spool:
    """The staging folder of one build of ``root`` (a folder path ending in "/"), with
    ``records`` (the manifest's, name → :class:`Record`). Use it under the folder's lock,
    as a context manager: leaving it removes the staging folder and what is left in it.

    Test hooks (``POSTIL_FAULT``): ``enospc:K`` makes the K-th file put here fail with
    a full disk; ``crash-write:K`` ends the process after writing it.
    """

    def __init__(self, root: str, records: dict[str, Record]) -> None:
        self.root = root
        self.records = records
        self.count = 0
        self.staging: Staging | None = None

    def __enter__(self) -> Spool:
        remove_staging_leftovers(self.root)  # of runs that were killed
        self.staging = Staging(self.root)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.staging is not None:
            self.staging.__exit__(*exc)
            self.staging = None

    def put(self, name: str, data: bytes) -> str | Spooled:
        """The digest of ``data`` if the file ``name`` on disk already holds it (its
        recorded digest and ``lstat`` say so); else a :class:`Spooled` file. Raises
        :class:`WriteFailed` (a full disk, say)."""
        found = hashlib.blake2b(data, digest_size=16).hexdigest()
        record = self.records.get(name)
        if record is not None and record.digest == found and record.inode is not None:
            try:
                if record.matches(os.lstat(self.root + name)):
                    return found
            except (OSError, ValueError):
                pass
        assert self.staging is not None, "put() outside the spool's context"
        self.count += 1
        staged = f"s{self.count}"
        try:
            written = self.staging.write(staged, data, self.count == fault("enospc"))
        except OSError as exc:
            raise WriteFailed(f"cannot write {shown(name)}: {reason(exc)}") from None
        if self.count == fault("crash-write"):
            crash_now()
        return Spooled(found, written, staged)

    def read(self, name: str, entry: str | Spooled) -> bytes:
        """The bytes of a file put here: from the staging folder while it exists, else
        from the output folder. Raises :class:`OSError` if they are not the ones put."""
        digest = entry if isinstance(entry, str) else entry.digest
        path = self.root + name
        if isinstance(entry, Spooled) and self.staging is not None:
            path = self.staging.path + entry.staged
        with os.fdopen(os.open(path, READ), "rb") as handle:
            data = handle.read()
        if hashlib.blake2b(data, digest_size=16).hexdigest() != digest:
            raise OSError(f"{name} changed in the output folder during the build")
        return data
