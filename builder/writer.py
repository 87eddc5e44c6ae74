"""Write a built site into a folder: the one sync engine of ``postil build`` and ``publish --dir``.

:meth:`OutputFolder.sync` makes a folder hold exactly the given files (and
whatever Postil did not put there), under an OS lock, in two phases:

1. Every check that could make a rename fail (a file where a folder should be, a
   folder where a file should be, a name too long, a symbolic link on the way)
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
size alone. The manifest is described in :mod:`builder.manifest`.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from builder import manifest
from builder.manifest import MANIFEST, Record, digest

__all__ = ["LOCK", "MANIFEST", "OutputBusy", "OutputFolder", "Plan", "UnsafePath", "WriteFailed",
           "WriteReport", "atomic_write", "digest", "prune_empty_parents", "read_manifest",
           "safe_relative", "write_site"]

LOCK = ".postil-lock"
STAGING = ".postil-staging-"  # + random hex: one folder per run, inside the output folder
OLD_TMP = ".postil-tmp"  # the suffix of temporary files, of this module and of older writers
_RESERVED = (MANIFEST, LOCK)
_BUSY = "output folder {} is in use by another postil build; try again when it has finished"
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # never block on a FIFO
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class WriteFailed(Exception):
    """The folder could not be brought up to date; ``str()`` is a one-line reason.

    Unless the message says the folder now mixes old and new files, it is as it was.
    """


class UnsafePath(WriteFailed, ValueError):
    """A file name that could lead outside the output folder, or through a link."""


class OutputBusy(WriteFailed):
    """Another process (another ``postil build``) holds the folder's lock."""


@dataclass
class WriteReport:
    """What a sync did: files written (sorted names; ``added``: those that did not exist),
    how many were already right, and the stale files removed (sorted names)."""

    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """What a sync would do, found without changing anything.

    ``write``: name → bytes of the files that are new or differ (sorted by name);
    ``added``: those with nothing at their path; ``keep``: name → record of the files
    already right; ``stale``: owned regular files no longer in the site; ``gone``: owned
    names no longer in the site and absent; ``folders``: folders to create, parents first;
    ``digests``: name → digest of every file of the site.
    """

    write: dict[str, bytes] = field(default_factory=dict)
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
        self._lock_fd: int | None = None
        self._raw: bytes | None = None  # the manifest as read, for restoring it byte for byte
        self._info: os.stat_result | None = None
        self._records: dict[str, Record] | None = None

    @contextlib.contextmanager
    def locked(self) -> Iterator[OutputFolder]:
        """Hold the folder's lock (creating the folder if needed); re-entrant.

        Raises :class:`OutputBusy` if another process holds it, :class:`WriteFailed` if
        the folder cannot be made or locked. The manifest is read anew under the lock.
        """
        if self._lock_fd is not None:
            yield self
            return
        fd = self._lock()
        self._lock_fd, self._records = fd, None
        try:
            yield self
        finally:
            self._lock_fd = None
            with contextlib.suppress(OSError):  # while still held: see _lock
                os.unlink(self.root / LOCK)
            os.close(fd)

    def _lock(self) -> int:
        path = self.root / LOCK
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise WriteFailed(f"{self.root} is not a folder") from None
        except OSError as exc:
            raise WriteFailed(f"cannot create {self.root}: {exc.strerror}") from None
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                raise WriteFailed(f"cannot lock {path}: {exc.strerror}") from None
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
                raise WriteFailed(f"cannot lock {path}: {exc.strerror}") from None
            os.close(fd)

    def records(self) -> dict[str, Record]:
        """The manifest's records by name (read once; again each time the lock is taken)."""
        if self._records is None:
            self._raw, self._info = manifest.read(self.root)
            self._records = manifest.parse(self._raw)
        return self._records

    def reusable(self, name: str, signature: str) -> bytes | None:
        """The bytes of ``name`` if they are what Postil wrote for this ``signature``, else None.

        True when the manifest recorded ``signature`` for the file and its current
        (size, mtime_ns, inode) equal those recorded; for a record without them (a file
        written just before the manifest, whose mtime says too little), when the bytes'
        digest is the recorded one. Take the lock first, so that no other build changes
        the folder in between.
        """
        record = self.records().get(name)
        if record is None or record.digest is None or record.signature != signature:
            return None
        try:
            with os.fdopen(os.open(self.root / safe_relative(name), _READ), "rb") as handle:
                info = os.fstat(handle.fileno())
                if record.inode is not None:
                    return handle.read() if record.matches(info) else None
                data = handle.read() if stat.S_ISREG(info.st_mode) else b""
        except (OSError, UnsafePath):
            return None
        return data if digest(data) == record.digest else None

    def plan(self, files: dict[str, bytes]) -> Plan:
        """What :meth:`sync` would do with ``files`` (name → bytes), touching nothing.

        Raises :class:`UnsafePath` for a name that is not a plain relative path, is
        reserved (the manifest, the lock, staging folders) or leads through a symbolic
        link, and :class:`WriteFailed` for anything else that would stop a file being
        written: a file where a folder should be, a folder in the way, a name too long.
        """
        old, tree, plan = self.records(), _Tree(self.root), Plan()
        parents = {name[:i] for name in files for i, char in enumerate(name) if char == "/"}
        folders: dict[str, None] = {}
        for name in sorted(files):
            data, shown = files[name], _shown(name)
            if safe_relative(name).split("/")[0] in _RESERVED or name.startswith(STAGING):
                raise UnsafePath(f"refusing to write {shown}: the name is Postil's own")
            if name in parents:
                raise WriteFailed(f"cannot write {shown}: the site also has files inside it")
            plan.digests[name] = found = digest(data)
            info = tree.check(name, folders)
            record = old.get(name)
            if info is None:
                plan.write[name] = data
                plan.added.append(name)
            elif record is not None and record.matches(info) and record.digest == found:
                plan.keep[name] = record
            elif stat.S_ISREG(info.st_mode) and info.st_size == len(data) \
                    and _read(self.root / name) == data:
                plan.keep[name] = Record(found, record and record.signature, info.st_size,
                                         info.st_mtime_ns, info.st_ino)
            else:
                plan.write[name] = data
        plan.folders = list(folders)
        # Owned files no longer in the site. One behind a link or a file is no longer
        # Postil's to touch; it is dropped from the manifest.
        for name in sorted(set(old) - set(files)):
            with contextlib.suppress(WriteFailed):
                if safe_relative(name).split("/")[0] in _RESERVED:
                    continue
                kind = tree.folder(name.rpartition("/")[0])[0]
                info = tree.existing(name) if kind == "dir" else None
                if kind == "missing" or (kind == "dir" and info is None):
                    plan.gone.append(name)
                elif info is not None and stat.S_ISREG(info.st_mode):
                    plan.stale.append(name)
        return plan

    def sync(self, files: dict[str, bytes],
             signatures: dict[str, str] | None = None) -> WriteReport:
        """Make the folder hold ``files`` (name → bytes); ``signatures`` (name → hex string
        the pipeline computed from the file's inputs) are recorded for :meth:`reusable`.

        Takes the lock if not held. Raises :class:`OutputBusy`, :class:`UnsafePath` or
        :class:`WriteFailed` (one line each); see the module's docstring for what is left.
        """
        with self.locked():
            _remove_staging_leftovers(self.root)
            old, plan = self.records(), self.plan(files)
            legacy = not manifest.is_current(self._raw)
            report = WriteReport(written=list(plan.write), unchanged=len(plan.keep),
                                 added=plan.added)
            signatures = signatures or {}
            keep = {name: replace(record, signature=signatures.get(name))
                    for name, record in plan.keep.items()}
            if not (plan.write or plan.stale or plan.gone) and manifest.dump(keep) == self._raw:
                return report
            with _Staging(self.root) as staging:
                written = self._write(plan, old, staging, signatures)
                report.removed, kept = self._remove_stale(plan, old)
                now = staging.mtime_ns()
                records = {name: _settled(record, now)
                           for name, record in {**kept, **keep, **written}.items()}
                raw = manifest.dump(records)
                if raw != self._raw:
                    staging.install(raw)
                self._raw, self._info, self._records = raw, None, records
            # Older writers' temporary files, beside the files written (beside all of them
            # the first time this writer runs in the folder).
            for name in [*(files if legacy else plan.write), MANIFEST]:
                _remove_old_tmp(self.root / name)
        return report

    def _write(self, plan: Plan, old: dict[str, Record], staging: _Staging,
               signatures: dict[str, str]) -> dict[str, Record]:
        """Phases 1 and 2 for ``plan.write``; the new files' records by name."""
        new = [name for name in plan.write if name not in old]
        if new:  # known as Postil's before they exist, so a run killed now is repaired later
            staging.install(manifest.dump({**old, **dict.fromkeys(new, Record())}))
        made: list[str] = []
        written: dict[str, Record] = {}
        name = ""
        try:
            for name in plan.folders:
                os.mkdir(self.root / name)
                made.append(name)
            crash, full = _fault("crash-write"), _fault("enospc")
            for index, (name, data) in enumerate(plan.write.items(), 1):
                written[name] = staging.write(str(index), data, index == full)
                written[name] = replace(written[name], digest=plan.digests[name],
                                        signature=signatures.get(name))
                if index == crash:
                    os._exit(70)
        except BaseException as exc:
            for folder in reversed(made):
                with contextlib.suppress(OSError):
                    os.rmdir(self.root / folder)
            if new:
                staging.install(self._raw, self._info)
            if isinstance(exc, OSError):
                raise WriteFailed(f"cannot write {_shown(name)}: {_reason(exc)}") from None
            raise
        crash = _fault("crash-rename")
        for index, name in enumerate(plan.write, 1):
            try:
                os.replace(staging.path / str(index), self.root / name)
            except OSError as exc:
                raise WriteFailed(f"cannot write {_shown(name)}: {_reason(exc)}; the folder "
                                  "now mixes old and new files until the next run") from None
            if index == crash:
                os._exit(70)
        return written

    def _remove_stale(self, plan: Plan, old: dict[str, Record]
                      ) -> tuple[list[str], dict[str, Record]]:
        """Remove ``plan.stale``: the names removed, and records of those that could not be."""
        removed, kept = [], {}
        for name in plan.stale:
            try:
                os.unlink(self.root / name)
                removed.append(name)
            except FileNotFoundError:
                pass
            except OSError:
                kept[name] = old[name]  # still Postil's: the next run tries again
        for name in [*removed, *plan.gone]:
            prune_empty_parents((self.root / name).parent, self.root)
        return removed, kept


class _Tree:
    """The folder as ``lstat`` sees it, each folder looked at once, and its name limits."""

    def __init__(self, root: Path) -> None:
        self.root = root
        try:
            info = os.lstat(root)
        except FileNotFoundError:
            info = None
        except OSError as exc:
            raise WriteFailed(f"cannot read {root}: {exc.strerror}") from None
        if info is not None and not stat.S_ISDIR(info.st_mode):
            raise WriteFailed(f"{root} is not a folder")
        self.device = info and info.st_dev
        self.folders: dict[str, tuple[str, str]] = {"": ("dir" if info else "missing", "")}
        base = next(folder for folder in [root, *root.parents] if folder.exists())
        self.name_max = _pathconf(base, "PC_NAME_MAX", 255)
        self.path_max = _pathconf(base, "PC_PATH_MAX", 4096)

    def folder(self, folder: str) -> tuple[str, str]:
        """(state, culprit): "dir", "missing" or, for the first folder on the way that cannot
        hold files, "link", "file", "device" or an error's reason, with that folder."""
        found = self.folders.get(folder)
        if found is None:
            found = self.folder(folder.rpartition("/")[0])
            if found[0] == "dir":
                try:
                    info = os.lstat(self.root / folder)
                    kind = ("link" if stat.S_ISLNK(info.st_mode) else
                            "file" if not stat.S_ISDIR(info.st_mode) else
                            "device" if info.st_dev != self.device else "dir")
                except FileNotFoundError:
                    kind = "missing"
                except OSError as exc:
                    kind = exc.strerror or "unreadable"
                found = (kind, folder)
            self.folders[folder] = found
        return found

    def check(self, name: str, folders: dict[str, None]) -> os.stat_result | None:
        """The lstat of what is at ``name`` (None if nothing) if a file can be put there.

        Adds the folders to create for it to ``folders``; raises as :meth:`OutputFolder.plan`.
        """
        shown = _shown(name)
        if any(len(os.fsencode(part)) > self.name_max for part in name.split("/")):
            raise WriteFailed(f"cannot write {shown}: a name in it is longer than the "
                              f"{self.name_max} bytes the file system allows")
        if len(os.fsencode(str(self.root / name))) >= self.path_max:
            raise WriteFailed(f"cannot write {shown}: its path is longer than the "
                              f"{self.path_max} bytes the file system allows")
        kind, where = self.folder(name.rpartition("/")[0])
        if kind == "link":
            raise UnsafePath(f"refusing to write {shown}: {where} is a symbolic link, which "
                             f"could lead outside {self.root}")
        if kind not in ("dir", "missing"):
            reason = {"file": "is a file, not a folder",
                      "device": f"is on another file system than {self.root}"}
            raise WriteFailed(f"cannot write {shown}: {where} {reason.get(kind, kind)}")
        if kind == "missing":
            parts = name.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                folder = "/".join(parts[:depth])
                if self.folders[folder][0] == "missing" and folder:
                    folders[folder] = None
            return None
        info = self.existing(name)
        if info is not None and stat.S_ISDIR(info.st_mode):
            raise WriteFailed(f"cannot write {shown}: a folder of that name is in the way")
        return info

    def existing(self, name: str) -> os.stat_result | None:
        """The lstat of ``name`` if it exists inside plain folders of the root, else None."""
        if self.folder(name.rpartition("/")[0])[0] != "dir":
            return None
        try:
            return os.lstat(self.root / name)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise WriteFailed(f"cannot read {_shown(name)}: {_reason(exc)}") from None


class _Staging:
    """``ROOT/.postil-staging-XXXX``, made for one run (exclusively: mkdir fails on
    anything already there) and removed with its contents when the run ends."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / f"{STAGING}{secrets.token_hex(8)}"
        self.count = 0
        try:
            os.mkdir(self.path, 0o700)
            self.fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError as exc:
            raise WriteFailed(f"cannot write into {root}: {_reason(exc)}") from None

    def __enter__(self) -> _Staging:
        return self

    def __exit__(self, *_: object) -> None:
        os.close(self.fd)
        shutil.rmtree(self.path, ignore_errors=True)

    def write(self, name: str, data: bytes, full: bool = False) -> Record:
        """Write ``data`` to a new file ``name`` here; its record (size, mtime_ns, inode).

        ``full`` raises ENOSPC instead of writing: the full-disk hook of the tests.
        """
        fd = os.open(name, _CREATE, 0o644, dir_fd=self.fd)
        try:
            if full:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            info = os.fstat(fd)
        finally:
            os.close(fd)
        return Record(size=info.st_size, mtime_ns=info.st_mtime_ns, inode=info.st_ino)

    def install(self, raw: bytes | None, info: os.stat_result | None = None) -> None:
        """Make ``raw`` the manifest (None: no manifest), with ``info``'s mtime if given."""
        target = self.root / MANIFEST
        try:
            if raw is None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(target)
                return
            self.count += 1
            name = f"manifest-{self.count}"
            self.write(name, raw)
            if info is not None:  # restored as it was, mtime included
                os.utime(name, ns=(info.st_atime_ns, info.st_mtime_ns), dir_fd=self.fd)
            os.replace(self.path / name, target)
        except OSError as exc:
            raise WriteFailed(f"cannot write {target}: {_reason(exc)}") from None

    def mtime_ns(self) -> int:
        """The time of the last change in this folder, on the file system's own clock."""
        return os.fstat(self.fd).st_mtime_ns


def _settled(record: Record, now_ns: int) -> Record:
    """``record``, without its stat if the file changed as late as ``now_ns``.

    File times have the granularity of a clock tick: a file changed again in the
    same tick as Postil wrote it could keep its mtime. Such records are verified
    by their bytes next time, as git does with its racily clean files.
    """
    late = record.mtime_ns is not None and record.mtime_ns >= now_ns
    return replace(record, size=None, mtime_ns=None, inode=None) if late else record


def _remove_staging_leftovers(root: Path) -> None:
    """Staging folders of runs that were killed (never what a link points to)."""
    with contextlib.suppress(OSError), os.scandir(root) as entries:
        for entry in entries:
            if entry.name.startswith(STAGING) and entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)


def _remove_old_tmp(path: Path) -> None:
    """The temporary file older writers left beside ``path`` when killed (a link: not followed)."""
    tmp = path.with_name(f".{path.name}{OLD_TMP}")
    with contextlib.suppress(OSError):
        if not stat.S_ISDIR(os.lstat(tmp).st_mode):
            os.unlink(tmp)


def _read(path: Path) -> bytes | None:
    try:
        with os.fdopen(os.open(path, _READ), "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _fault(kind: str) -> int:
    """K of ``POSTIL_FAULT=kind:K`` (a test hook, read at each call), else 0."""
    found, _, number = os.environ.get("POSTIL_FAULT", "").partition(":")
    return int(number) if found == kind and number.isdigit() else 0


def _pathconf(path: Path, name: str, default: int) -> int:
    try:
        return os.pathconf(path, name)
    except (OSError, ValueError):
        return default


def _shown(name: str) -> str:
    """A name for a one-line message: quoted, and shortened if very long."""
    return repr(name if len(name) <= 80 else f"{name[:50]}…{name[-20:]}")


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def safe_relative(name: str) -> str:
    """``name`` if it is a plain relative POSIX path; raises :class:`UnsafePath` if not."""
    if name.startswith("/") or any(part in ("..", ".", "") for part in name.split("/")) \
            or "\\" in name or "\0" in name:
        raise UnsafePath(f"refusing to write {_shown(name)}: not a plain path inside the output")
    return name


def prune_empty_parents(folder: Path, root: Path) -> None:
    """Remove ``folder`` and its parents up to ``root`` while they are empty (never a link:
    rmdir does not follow one)."""
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def atomic_write(target: Path, data: bytes) -> None:
    """Write one file via a temporary file beside it and a rename: never half a file.

    The temporary name is random and created exclusively (``O_EXCL|O_NOFOLLOW``), so
    a link planted at it is never followed. Raises OSError as the file system does.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = target.with_name(f".{secrets.token_hex(8)}{OLD_TMP}")
        try:
            fd = os.open(tmp, _CREATE, 0o644)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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
