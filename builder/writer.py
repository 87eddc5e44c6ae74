"""Write a built site into a folder: the one sync engine of ``postil build`` and ``publish --dir``.

:meth:`OutputFolder.sync` makes a folder hold exactly the given files (and
whatever Postil did not put there), under an OS lock, in two phases:

1. Every check that could make a rename fail (a file where a folder should be, a
   folder where a file should be, a name too long, a symbolic link on the way, a
   folder this process may not write into)
   is done first; then each changed file is written into a staging folder
   ``ROOT/.postil-staging-XXXX`` made for this run, under a name created
   exclusively there, so no link planted anywhere is ever written through. Any
   failure removes the staging folder and the folders this run made, restores
   the manifest and raises :class:`WriteFailed`: the previous site is
   byte-identical.
2. Each staged file is renamed into place, the stale files Postil owns are
   removed, and the manifest is written. A crash here leaves a mix of old and
   new files, which the next run repairs: a name a run may create is recorded in
   the manifest before the run writes anything.

Unchanged files are left alone, mtimes kept, so rsync, git and web caches see
no change. Whether a file is unchanged is decided by its bytes, or by the
(size, mtime_ns, inode) recorded when Postil wrote or verified it; never by its
size alone. The manifest is described in :mod:`builder.manifest`, the checks
and the staging folder in :mod:`builder.staging`.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from builder import manifest
from builder.manifest import MANIFEST, Record, digest
from builder.spool import Spool, Spooled
from builder.staging import (
    READ,
    STAGING,
    OutputBusy,
    Staging,
    Tree,
    UnsafePath,
    WriteFailed,
    crash_now,
    fault,
    read_regular,
    reason,
    remove_old_tmp,
    remove_staging_leftovers,
    settled,
    shown,
)

__all__ = ["LOCK", "MANIFEST", "STAGING", "OutputBusy", "OutputFolder", "Plan", "UnsafePath",
           "WriteFailed", "WriteReport", "digest", "prune_empty_parents",
           "read_manifest", "safe_relative", "write_site"]

LOCK = ".postil-lock"
_RESERVED = (MANIFEST, LOCK)
_BUSY = "output folder {} is in use by another postil build; try again when it has finished"


@dataclass
class WriteReport:
    """What a sync did: files written (sorted names; ``added``: those that did not exist),
    how many were already right, the stale files removed (sorted names), and the records
    of the files Postil owns there now."""

    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    #: the manifest's records after the sync (name → record): what the folder holds
    records: dict[str, Record] = field(default_factory=dict)


def removed_pages(report: WriteReport, base_path: str = "/") -> list[str]:
    """The URLs (under ``base_path``) of the HTML pages a sync removed: pages of the last
    build this one no longer makes, sorted (``articles/x/index.html`` → ``/articles/x/``)."""
    urls = []
    for name in report.removed:
        if name.endswith(".html"):
            folder, _, file = name.rpartition("/")
            path = (folder + "/" if folder else "") + ("" if file == "index.html" else file)
            urls.append(base_path + path)
    return sorted(urls)


@dataclass
class Plan:
    """What a sync would do, found without changing anything.

    ``write``: name → bytes (or the staged file) of the files that are new or differ
    (sorted by name);
    ``added``: those with nothing at their path; ``keep``: name → record of the files
    already right; ``stale``: owned regular files no longer in the site; ``gone``: owned
    names no longer in the site and absent; ``folders``: folders to create, parents first;
    ``digests``: name → digest of every file of the site.
    """

    write: dict[str, bytes | Spooled] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    keep: dict[str, Record] = field(default_factory=dict)
    stale: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)


class OutputFolder:
    """A folder that Postil keeps in sync with a site: a build's output or a publish target."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self._base = f"{self.root}/".replace("//", "/")  # a string: see builder.staging
        self._lock_fd: int | None = None
        self._raw: bytes | None = None  # the manifest as read, to restore it byte for byte
        self._info: os.stat_result | None = None
        self._records: dict[str, Record] | None = None
        self._version = 0
        # name → the record whose stat unchanged() found the file to have, in this lock
        self._verified: dict[str, Record] = {}

    @contextlib.contextmanager
    def locked(self) -> Iterator[OutputFolder]:
        """Hold the folder's lock (creating the folder if needed); re-entrant.

        Raises :class:`OutputBusy` if another process holds it, :class:`WriteFailed` if
        the folder cannot be made or locked. The manifest is read anew under the lock.
        """
        if self._lock_fd is not None:
            yield self
            return
        made = []  # the folders this creates, the output folder first: none if it exists
        folder = self.root
        while not os.path.lexists(folder) and folder != folder.parent:
            made.append(folder)
            folder = folder.parent
        fd = self._lock()
        self._lock_fd, self._records, self._verified = fd, None, {}
        try:
            yield self
        finally:
            self._lock_fd = None
            with contextlib.suppress(OSError):  # while still held: see _lock
                os.unlink(self._base + LOCK)
            os.close(fd)
            for folder in made:  # a first build that failed leaves no empty folder behind
                try:
                    folder.rmdir()
                except OSError:  # not empty: the build succeeded
                    break

    def _lock(self) -> int:
        path = self._base + LOCK
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise WriteFailed(f"{self.root} is not a folder") from None
        except OSError as exc:
            raise WriteFailed(f"cannot create {self.root}: {reason(exc)}") from None
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):  # a read-only folder
                    raise WriteFailed(f"cannot write into {self.root}: {reason(exc)}") from None
                raise WriteFailed(f"cannot lock {path}: {reason(exc)}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                # A holder removes the file when done: if it did after we opened it, we hold
                # a lock on a file no longer there, which locks nothing. Take the new one.
                if os.path.samestat(os.fstat(fd), os.lstat(path)):
                    return fd
            except BlockingIOError:
                os.close(fd)
                raise OutputBusy(_BUSY.format(self.root)) from None
            except FileNotFoundError:
                pass
            except OSError as exc:
                os.close(fd)
                raise WriteFailed(f"cannot lock {path}: {reason(exc)}") from None
            os.close(fd)

    def spool(self) -> Spool:
        """A :class:`~builder.spool.Spool` for the files of one build; take the lock first,
        and :meth:`sync` before leaving it."""
        return Spool(self._base, self.records())

    def records(self) -> dict[str, Record]:
        """The manifest's records by name (read once; again each time the lock is taken)."""
        if self._records is None:
            self._raw, self._info = manifest.read(self.root)
            self._records, self._version = manifest.parse(self._raw)
        return self._records

    def reusable(self, name: str, signature: str) -> bytes | None:
        """The bytes of ``name`` if they are what Postil wrote for ``signature``, else None.

        That is when the manifest recorded ``signature`` for the file and its current
        (size, mtime_ns, inode) equal those recorded; for a record without them (a file
        that changed in the clock tick the manifest was written in), when the bytes'
        digest is the recorded one. Take the lock first, so that no other build changes
        the folder in between.
        """
        record = self.records().get(name)
        if record is None or record.digest is None or record.signature != signature:
            return None
        try:
            with os.fdopen(os.open(self._base + safe_relative(name), READ), "rb") as handle:
                info = os.fstat(handle.fileno())
                if record.inode is not None:
                    return handle.read() if record.matches(info) else None
                data = handle.read() if stat.S_ISREG(info.st_mode) else b""
        except (OSError, UnsafePath):
            return None
        return data if digest(data) == record.digest else None

    def unchanged(self, name: str, signature: str) -> str | None:
        """The recorded digest of ``name`` if the manifest recorded ``signature`` for it and
        its ``lstat`` (size, mtime_ns, inode) is the recorded one; None otherwise. Reads
        nothing but the manifest; take the lock first."""
        record = (self._records if self._records is not None else self.records()).get(name)
        if record is None or record.digest is None or record.inode is None or \
                record.signature != signature:
            return None
        try:
            info = os.lstat(self._base + safe_relative(name))
        except (OSError, UnsafePath):
            return None
        if not record.matches(info):
            return None
        self._verified[name] = record  # plan() need not lstat it again
        return record.digest

    def plan(self, files: Mapping[str, bytes]) -> Plan:
        """What :meth:`sync` would do with ``files`` (name → bytes), touching nothing.

        Raises :class:`UnsafePath` for a name that is not a plain relative path, is
        reserved (the manifest, the lock, staging folders) or leads through a symbolic
        link, and :class:`WriteFailed` for anything else that would stop a file being
        written: a file where a folder should be, a folder in the way, a name too long.

        A file kept as unchanged (``files.kept``) whose stat :meth:`unchanged` found to be
        the recorded one, under this lock, is not looked at again; any other is.
        """
        old, tree, plan, verified = self.records(), Tree(self._base), Plan(), self._verified
        names = sorted(files)
        parents: set[str] = set()
        for folder in {name.rpartition("/")[0] for name in names}:
            while folder and folder not in parents:
                parents.add(folder)
                folder = folder.rpartition("/")[0]
        folders: dict[str, None] = {}
        kept = getattr(files, "kept", None)  # builder.outputs.Files: unchanged files
        # … and files already staged, if into this folder's staging folder, still there
        spooled = getattr(files, "spooled", None) if self._spool_of(files) else None
        for name in names:
            if safe_relative(name).partition("/")[0] in _RESERVED or name.startswith(STAGING):
                raise UnsafePath(f"refusing to write {shown(name)}: the name is Postil's own")
            if name in parents:
                raise WriteFailed(f"cannot write {shown(name)}: the site also has files in it")
            record = old.get(name)
            found = kept(name) if kept is not None else None
            if found is not None and record is not None and record.inode is not None \
                    and record.digest == found:  # not read back: its stat says it is as made
                if verified.get(name) is record:  # (is: the very record, read under this lock)
                    plan.keep[name] = record
                    plan.digests[name] = found
                    continue
                info = tree.peek(name)
                if info is not None and record.matches(info):
                    plan.keep[name] = record
                    plan.digests[name] = found
                    continue
            entry = spooled(name) if spooled is not None else None
            if entry is not None:
                self._plan_spooled(name, entry, tree, folders, plan)
                continue
            try:
                data = files[name]
            except OSError as exc:  # a kept file changed under us: the build must run again
                raise WriteFailed(f"cannot write {shown(name)}: {exc}") from None
            plan.digests[name] = found = digest(data)
            if record is not None and record.inode is not None and record.digest == found:
                info = tree.peek(name)
                if info is not None and record.matches(info):
                    plan.keep[name] = record
                    continue
            info = tree.check(name, folders)
            if info is None:
                plan.write[name] = tree.writable(name, data)
                plan.added.append(name)
            elif stat.S_ISREG(info.st_mode) and info.st_size == len(data) \
                    and read_regular(self._base + name) == data:
                plan.keep[name] = Record(found, record and record.signature, info.st_size,
                                         info.st_mtime_ns, info.st_ino)
            else:
                plan.write[name] = tree.writable(name, data)
        plan.folders = sorted(folders)  # a folder sorts before what is inside it
        # Owned files no longer in the site. One behind a link, or no longer a file, is not
        # Postil's to touch any more: it is dropped from the manifest.
        for name in sorted(set(old) - set(files)):
            with contextlib.suppress(WriteFailed):
                if safe_relative(name).partition("/")[0] in _RESERVED:
                    continue
                kind = tree.folder(name.rpartition("/")[0])[0]
                info = tree.existing(name) if kind == "dir" else None
                if kind == "missing" or (kind == "dir" and info is None):
                    plan.gone.append(name)
                elif info is not None and stat.S_ISREG(info.st_mode):
                    plan.stale.append(name)
        return plan

    def _spool_of(self, files: Mapping[str, bytes]) -> Spool | None:
        """The spool of ``files`` if it stages into this folder and is still open."""
        spool = getattr(files, "spool", None)
        if isinstance(spool, Spool) and spool.staging is not None and spool.root == self._base:
            return spool
        return None

    def _plan_spooled(self, name: str, entry: Spooled, tree: Tree, folders: dict[str, None],
                      plan: Plan) -> None:
        """:meth:`plan` for a file already written into the staging folder."""
        plan.digests[name] = entry.digest
        info = tree.check(name, folders)
        if info is None:
            plan.write[name] = tree.writable(name, entry)
            plan.added.append(name)
            return
        if stat.S_ISREG(info.st_mode) and info.st_size == entry.record.size:
            data = read_regular(self._base + name)
            if data is not None and digest(data) == entry.digest:
                plan.keep[name] = Record(entry.digest, None, info.st_size, info.st_mtime_ns,
                                         info.st_ino)
                return
        plan.write[name] = tree.writable(name, entry)

    def sync(self, files: Mapping[str, bytes],
             signatures: dict[str, str] | None = None) -> WriteReport:
        """Make the folder hold ``files`` (name → bytes); ``signatures`` (name → hex string
        the pipeline computed from the file's inputs) are recorded for :meth:`reusable`.

        Takes the lock if not held. Raises :class:`OutputBusy`, :class:`UnsafePath` or
        :class:`WriteFailed` (one line each); see the module's docstring for what is left.
        """
        spool = self._spool_of(files)  # its staging folder holds files already
        with self.locked():
            if spool is None:
                remove_staging_leftovers(self._base)
            old, plan = self.records(), self.plan(files)
            upgrade = self._version != manifest.VERSION  # its format is rewritten
            legacy = self._version < 2  # by a writer that left temporary files (or none)
            report = WriteReport(written=list(plan.write), unchanged=len(plan.keep),
                                 added=plan.added, records=old)
            signatures = signatures or {}
            keep = {name: record if record.signature == signatures.get(name)
                    else record._replace(signature=signatures.get(name))
                    for name, record in plan.keep.items()}
            if not (plan.write or plan.stale or plan.gone or upgrade) and keep == old:
                return report
            with contextlib.nullcontext(spool.staging) if spool is not None \
                    else Staging(self._base) as staging:
                written = self._write(plan, old, staging, signatures)
                report.removed, kept = self._remove_stale(plan, old)
                now = staging.mtime_ns()
                records = {**kept, **keep, **written}
                for name in [name for name, record in records.items()
                             if record.mtime_ns is not None and record.mtime_ns >= now]:
                    records[name] = settled(records[name], now)
                raw = manifest.dump(records)
                if raw != self._raw:
                    staging.install(raw)
                self._raw, self._info, self._records = raw, None, records
                self._verified = {}
                report.records = records
                self._version = manifest.VERSION
            # Older writers' temporary files, beside the files written (beside all of them
            # the first time this writer runs in the folder).
            for name in [*(files if legacy else plan.write), MANIFEST]:
                remove_old_tmp(self._base, name)
        return report

    def update(self, files: Mapping[str, bytes], signatures: dict[str, str]) -> WriteReport:
        """Make the files ``files`` names, each one Postil wrote here before, hold these
        bytes (a delta build's: builder.delta_build), and add their records to the
        manifest as one update line (:func:`builder.manifest.append`), rather than write
        50,000 records again. A file whose bytes are right already is only recorded
        again (under its new signature). The report's ``records`` are those of ``files``.

        Take the lock first. Raises :class:`UnsafePath` for a name not reached through
        real folders or not a regular file, :class:`WriteFailed` if one cannot be
        written: the files before it are then written, and recorded only by their
        bytes, which the next build verifies (as after a crash).
        """
        report = WriteReport()
        records: dict[str, Record] = {}
        with Staging(self._base) as staging:
            for index, (name, data) in enumerate(sorted(files.items()), 1):
                path = self._base + safe_relative(name)
                if os.path.realpath(path) != path:
                    raise UnsafePath(f"{shown(name)} is not reached through real folders")
                current = read_regular(path)
                if current is None:
                    raise UnsafePath(f"{shown(name)} is not a regular file Postil wrote")
                if current == data:
                    try:
                        info = os.lstat(path)
                    except OSError as exc:
                        raise WriteFailed(f"cannot read {shown(name)}: {reason(exc)}") from None
                    records[name] = Record(digest(data), signatures.get(name), info.st_size,
                                           info.st_mtime_ns, info.st_ino)
                    report.unchanged += 1
                    continue
                try:
                    record = staging.write(str(index), data)
                    os.replace(staging.path + str(index), path)
                except OSError as exc:
                    raise WriteFailed(f"cannot write {shown(name)}: {reason(exc)}") from None
                records[name] = record._replace(digest=digest(data),
                                                signature=signatures.get(name))
                report.written.append(name)
            now = staging.mtime_ns()
        records = {name: settled(record, now) if record.mtime_ns is not None and
                   record.mtime_ns >= now else record for name, record in records.items()}
        try:
            manifest.append(self.root, records)
        except OSError as exc:
            raise WriteFailed(f"cannot write {MANIFEST}: {reason(exc)}") from None
        self._records = None  # read again, with the update line, when asked
        report.records = records
        return report

    def _write(self, plan: Plan, old: dict[str, Record], staging: Staging,
               signatures: dict[str, str]) -> dict[str, Record]:
        """Phases 1 and 2 for ``plan.write``; the new files' records by name."""
        new = [name for name in plan.write if name not in old]
        if new:  # known as Postil's before they exist, so a run killed now is repaired later
            staging.install(manifest.dump({**old, **dict.fromkeys(new, Record())}))
        made: list[str] = []
        written: dict[str, Record] = {}
        staged: dict[str, str] = {}  # name → its file in the staging folder
        name = ""
        try:
            for name in plan.folders:
                os.mkdir(self._base + name)
                made.append(name)
            crash, full = fault("crash-write"), fault("enospc")
            for index, (name, data) in enumerate(plan.write.items(), 1):
                if isinstance(data, Spooled):  # written already (the hooks fired there)
                    written[name] = data.record._replace(digest=data.digest,
                                                         signature=signatures.get(name))
                    staged[name] = data.staged
                    continue
                written[name] = staging.write(str(index), data, index == full)._replace(
                    digest=plan.digests[name], signature=signatures.get(name))
                staged[name] = str(index)
                if index == crash:
                    crash_now()
        except BaseException as exc:
            for folder in reversed(made):
                with contextlib.suppress(OSError):
                    os.rmdir(self._base + folder)
            if new:
                staging.install(self._raw, self._info)
            if isinstance(exc, OSError):
                raise WriteFailed(f"cannot write {shown(name)}: {reason(exc)}") from None
            raise
        crash = fault("crash-rename")
        for index, name in enumerate(plan.write, 1):
            try:
                os.replace(staging.path + staged[name], self._base + name)
            except OSError as exc:
                raise WriteFailed(f"cannot write {shown(name)}: {reason(exc)}; the folder "
                                  "now mixes old and new files until the next run") from None
            if index == crash:
                crash_now()
        return written

    def _remove_stale(self, plan: Plan, old: dict[str, Record]
                      ) -> tuple[list[str], dict[str, Record]]:
        """Remove ``plan.stale``: the names removed, and records of those that could not be."""
        removed, kept = [], {}
        for name in plan.stale:
            try:
                os.unlink(self._base + name)
                removed.append(name)
            except FileNotFoundError:
                pass
            except OSError:
                kept[name] = old[name]  # still Postil's: the next run tries again
        for name in [*removed, *plan.gone]:
            prune_empty_parents((self.root / name).parent, self.root)
        return removed, kept


def safe_relative(name: str) -> str:
    """``name`` if it is a plain relative POSIX path; raises :class:`UnsafePath` if not."""
    # Between slashes, a part "" (a leading, trailing or double slash), "." or "..":
    # three substring searches in C, for the 100,000 names of a build.
    framed = f"/{name}/"
    if "//" in framed or "/./" in framed or "/../" in framed or "\\" in name or "\0" in name:
        raise UnsafePath(f"refusing to write {shown(name)}: not a plain path inside the output")
    return name


def prune_empty_parents(folder: Path, root: Path) -> None:
    """Remove ``folder`` and its parents up to ``root`` while they are empty or absent
    (rmdir never follows a link; the caller makes sure no folder on the way is one)."""
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except FileNotFoundError:
            pass
        except OSError:
            return
        folder = folder.parent


def write_site(out_dir: Path, files: dict[str, bytes],
               signatures: dict[str, str] | None = None) -> WriteReport:
    """``OutputFolder(out_dir).sync(files, signatures)``, for the callers of the first API."""
    return OutputFolder(out_dir).sync(files, signatures)


def read_manifest(out_dir: Path, part: str = "files") -> dict[str, str]:
    """From the manifest of ``out_dir``: name → digest (``files``) or → signature
    (``signatures``), for the records that have one. {} if there is no manifest."""
    records = OutputFolder(out_dir).records()
    values = {name: record.digest if part == "files" else record.signature
              for name, record in records.items()}
    return {name: value for name, value in values.items() if value is not None}
