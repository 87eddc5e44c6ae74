"""The disk side of the sync engine (:mod:`builder.writer`): checks, staging, errors.

:class:`Tree` is the output folder as ``lstat`` sees it, each folder looked at
once: it finds, before anything is written, what would make a rename fail or
lead through a symbolic link. :class:`Staging` is the folder where a run writes
its files before renaming them into place. Paths are strings (``root`` ends
with "/"): pathlib costs more than the system calls on a site of 10,000 pages.
"""

from __future__ import annotations

import contextlib
import errno
import multiprocessing
import os
import secrets
import shutil
import stat
from typing import NoReturn, TypeVar

from builder.manifest import MANIFEST, Record

T = TypeVar("T")

STAGING = ".postil-staging-"  # + random hex: one folder per run, inside the output folder
OLD_TMP = ".postil-tmp"  # the suffix of older writers' temporary files
READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # never block on a FIFO
CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class WriteFailed(Exception):
    """The folder could not be brought up to date; ``str()`` is a one-line reason.

    Unless the message says the folder now mixes old and new files, it is as it was.
    """


class UnsafePath(WriteFailed, ValueError):
    """A file name that could lead outside the output folder, or through a link."""


class OutputBusy(WriteFailed):
    """Another process (another ``postil build``) holds the folder's lock."""


class Tree:
    """The folder ``root`` (a string ending with "/") as lstat sees it, and its name limits.

    Raises :class:`WriteFailed` if ``root`` exists but is not a folder.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        try:
            info = os.lstat(root)
        except FileNotFoundError:
            info = None
        except OSError as exc:
            raise WriteFailed(f"cannot read {root}: {reason(exc)}") from None
        if info is not None and not stat.S_ISDIR(info.st_mode):
            raise WriteFailed(f"{root.rstrip('/')} is not a folder")
        self.device = info.st_dev if info else None
        #: folder (relative, "" for the root) → (state, the folder the state comes from)
        self.folders: dict[str, tuple[str, str]] = {"": ("dir" if info else "missing", "")}
        self.writable_folders: set[str] = set()  # folders found writable (relative)
        base = root
        while not os.path.exists(base):
            base = os.path.dirname(base.rstrip("/")) or "/"
        self.name_max = _pathconf(base, "PC_NAME_MAX", 255)  # bytes, in one name
        self.path_max = _pathconf(base, "PC_PATH_MAX", 4096)  # bytes, in a whole path

    def folder(self, folder: str) -> tuple[str, str]:
        """(state, culprit): "dir", "missing" or, for the first folder on the way that cannot
        hold files, "link", "file", "device" or an error's reason, with that folder."""
        found = self.folders.get(folder)
        if found is None:
            found = self.folder(folder.rpartition("/")[0])
            if found[0] == "dir":
                try:
                    info = os.lstat(self.root + folder)
                    kind = ("link" if stat.S_ISLNK(info.st_mode) else
                            "file" if not stat.S_ISDIR(info.st_mode) else
                            "device" if info.st_dev != self.device else "dir")
                except FileNotFoundError:
                    kind = "missing"
                except OSError as exc:
                    kind = reason(exc)
                found = (kind, folder)
            self.folders[folder] = found
        return found

    def check(self, name: str, folders: dict[str, None]) -> os.stat_result | None:
        """The lstat of what is at ``name`` (None if nothing), if a file can be put there.

        Adds the folders to create for it to ``folders`` (parents first). Raises
        :class:`UnsafePath` for a symbolic link on the way; :class:`WriteFailed` for a
        name too long, a file where a folder should be, a folder in the way, a folder
        on another file system (a rename cannot cross it).
        """
        where = shown(name)
        # (A character is at most 4 bytes in UTF-8: most names need no encoding.)
        if len(name) * 4 > self.name_max and any(len(os.fsencode(part)) > self.name_max
                                                 for part in name.split("/")):
            raise WriteFailed(f"cannot write {where}: a name in it is longer than the "
                              f"{self.name_max} bytes the file system allows")
        if len(self.root + name) * 4 >= self.path_max and \
                len(os.fsencode(self.root + name)) >= self.path_max:
            raise WriteFailed(f"cannot write {where}: its path is longer than the "
                              f"{self.path_max} bytes the file system allows")
        parent = name.rpartition("/")[0]
        kind, culprit = self.folder(parent)
        if kind == "link":
            raise UnsafePath(f"refusing to write {where}: {culprit} is a symbolic link, which "
                             f"could lead outside {self.root.rstrip('/')}")
        if kind == "missing":
            while parent and self.folders[parent][0] == "missing":
                folders.setdefault(parent, None)
                parent = parent.rpartition("/")[0]
            return None
        if kind != "dir":
            why = {"file": "is a file, not a folder",
                   "device": f"is on another file system than {self.root.rstrip('/')}"}
            raise WriteFailed(f"cannot write {where}: {culprit} {why.get(kind, kind)}")
        info = self.existing(name)
        if info is not None and stat.S_ISDIR(info.st_mode):
            raise WriteFailed(f"cannot write {where}: a folder of that name is in the way")
        return info

    def writable(self, name: str, data: T) -> T:
        """``data``, once sure that the file ``name`` can be renamed into its folder (or
        the nearest one that exists, for a folder to create): one this process may not
        write into (permissions, a read-only mount) raises :class:`WriteFailed` before
        anything is written, rather than half-way through the renames."""
        folder = name.rpartition("/")[0]
        while folder and self.folder(folder)[0] == "missing":
            folder = folder.rpartition("/")[0]
        if folder not in self.writable_folders and self.folder(folder)[0] == "dir":
            if not os.access(self.root + folder, os.W_OK | os.X_OK):
                shown_folder = folder or self.root.rstrip("/")
                raise WriteFailed(f"cannot write {shown(name)}: {shown_folder} is read-only "
                                  "(no permission to write into it)")
            self.writable_folders.add(folder)
        return data

    def peek(self, name: str) -> os.stat_result | None:
        """The lstat of ``name``, folders on the way unchecked; None if it cannot be had.

        Enough to find a file unchanged, which needs nothing written.
        """
        try:
            return os.lstat(self.root + name)
        except OSError:
            return None

    def existing(self, name: str) -> os.stat_result | None:
        """The lstat of ``name`` if it is inside plain folders of the root, else None."""
        if self.folder(name.rpartition("/")[0])[0] != "dir":
            return None
        try:
            return os.lstat(self.root + name)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise WriteFailed(f"cannot read {shown(name)}: {reason(exc)}") from None


class Staging:
    """``ROOT/.postil-staging-XXXX``, made for one run (exclusively: mkdir fails on
    anything already there, a link included) and removed with its contents at the end.

    Raises :class:`WriteFailed` if it cannot be made.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self.path = f"{root}{STAGING}{secrets.token_hex(8)}/"
        self.count = 0
        try:
            os.mkdir(self.path, 0o700)
            self.fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError as exc:
            raise WriteFailed(f"cannot write into {root.rstrip('/')}: {reason(exc)}") from None

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *_: object) -> None:
        os.close(self.fd)
        shutil.rmtree(self.path, ignore_errors=True)

    def write(self, name: str, data: bytes, full: bool = False) -> Record:
        """Write ``data`` to a new file ``name`` here; a record of its size (bytes),
        mtime_ns and inode. ``full`` raises ENOSPC instead: the full-disk test hook."""
        fd = os.open(name, CREATE, 0o644, dir_fd=self.fd)
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
        """Make ``raw`` the manifest (None: no manifest), with ``info``'s times if given.

        Raises :class:`WriteFailed`.
        """
        target = self.root + MANIFEST
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
            os.replace(self.path + name, target)
        except OSError as exc:
            raise WriteFailed(f"cannot write {target}: {reason(exc)}") from None

    def mtime_ns(self) -> int:
        """The time of the last change in this folder, on the file system's own clock."""
        return os.fstat(self.fd).st_mtime_ns


def settled(record: Record, now_ns: int) -> Record:
    """``record``, without its stat if the file changed as late as ``now_ns``.

    File times have the granularity of a clock tick: a file changed again in the
    tick Postil wrote it in could keep its mtime. Such records are verified by
    their bytes next time, as git does with its "racily clean" files.
    """
    late = record.mtime_ns is not None and record.mtime_ns >= now_ns
    return record._replace(size=None, mtime_ns=None, inode=None) if late else record


def remove_staging_leftovers(root: str) -> None:
    """Staging folders of runs that were killed (a link of that name is left alone)."""
    with contextlib.suppress(OSError), os.scandir(root) as entries:
        for entry in entries:
            if entry.name.startswith(STAGING) and entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)


def remove_old_tmp(root: str, name: str) -> None:
    """The temporary file older writers left beside ``name`` when killed (a link: removed,
    not followed)."""
    folder, _, base = name.rpartition("/")
    tmp = f"{root}{folder}{'/' if folder else ''}.{base}{OLD_TMP}"
    with contextlib.suppress(OSError):
        if not stat.S_ISDIR(os.lstat(tmp).st_mode):
            os.unlink(tmp)


def read_regular(path: str) -> bytes | None:
    """The bytes of ``path``, not through a link; None if it cannot be read."""
    try:
        with os.fdopen(os.open(path, READ), "rb") as handle:
            return handle.read()
    except OSError:
        return None


def fault(kind: str) -> int:
    """K of ``POSTIL_FAULT=kind:K`` (a test hook, read at each call), else 0."""
    found, _, number = os.environ.get("POSTIL_FAULT", "").partition(":")
    return int(number) if found == kind and number.isdigit() else 0


def crash_now() -> NoReturn:
    """End the process at once, as a crash would (the ``crash-*`` test hooks), and the
    worker processes it forked with it: a worker left waiting for work would hold the
    output pipes open, so a caller reading them would wait forever."""
    for child in multiprocessing.active_children():
        child.kill()
    os._exit(70)


def shown(name: str) -> str:
    """A name for a one-line message: quoted, and shortened if very long."""
    return repr(name if len(name) <= 80 else f"{name[:50]}…{name[-20:]}")


def reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _pathconf(path: str, name: str, default: int) -> int:
    try:
        return os.pathconf(path, name)
    except (OSError, ValueError):
        return default
