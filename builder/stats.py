"""The ``stat`` calls of a no-change build (:func:`builder.state.unchanged`): a digest
of the output files' stats, and a forked child to share the calls with.

A no-change build is one ``stat`` of every input and output file; on two cores, a
child process does part of them. This module imports nothing but the standard
library and :mod:`builder.manifest`, like :mod:`builder.state`.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import signal
import threading
from array import array
from collections.abc import Callable, Mapping
from itertools import chain
from operator import attrgetter
from pathlib import Path
from typing import Generic, TypeVar

from builder.manifest import MANIFEST, Record

T = TypeVar("T")

_WORD = (1 << 64) - 1  # a stat field as an unsigned 64-bit word (mtimes before 1970 too)
_STAT = attrgetter("st_size", "st_mtime_ns", "st_ino")
_RECORD_STAT = attrgetter("size", "mtime_ns", "inode")


def output_stats(output: Path | str, names: list[str],
                 records: Mapping[str, Record] | None = None) -> str | None:
    """A digest of the size, mtime_ns and inode of each of ``names`` in the output folder,
    then of its manifest (a 32-character hex digest); None if any is missing. See
    :func:`output_packed`."""
    data = output_packed(output, names, records)
    return stats_digest(data) if data is not None else None


def output_packed(output: Path | str, names: list[str],
                  records: Mapping[str, Record] | None = None) -> bytes | None:
    """The size, mtime_ns and inode of each of ``names`` in the output folder, then of
    its manifest, as unsigned 64-bit words (see :func:`packed`); None if any is missing.

    ``records`` (name → :class:`~builder.manifest.Record`, the output folder's after a
    sync) give the stat a file had when Postil wrote or verified it, in place of an
    ``lstat`` now: the same numbers while the file is as Postil left it, and otherwise
    a digest no later check matches, so the next build does its full work.
    """
    base = f"{output}/"
    if records is None:
        data = packed(base, [*names, MANIFEST])
    else:
        found = list(map(records.get, names))
        try:  # the loops in C; a record without its stat (None) ends them
            values = array("Q", chain.from_iterable(map(_RECORD_STAT, found)))
        except (AttributeError, TypeError, OverflowError):
            values = array("Q")
            lstat = os.lstat
            try:
                for name, record in zip(names, found, strict=True):
                    if record is not None and record.inode is not None:
                        values.extend((record.size & _WORD, record.mtime_ns & _WORD,
                                       record.inode & _WORD))
                    else:  # not written or verified by the sync: as it is now
                        info = lstat(base + name)
                        values.extend((info.st_size, info.st_mtime_ns & _WORD,
                                       info.st_ino & _WORD))
            except OSError:
                return None
        rest = packed(base, [MANIFEST])
        data = values.tobytes() + rest if rest is not None else None
    return data


def packed(base: str, names: list[str]) -> bytes | None:
    """The size, mtime_ns and inode of each of ``names`` under ``base`` (a folder path
    ending in "/"), as unsigned 64-bit words; None if one is missing.

    This is the floor of a no-change build, one ``lstat`` per output file: the loops
    run in C (``map``), with a Python loop only for a number out of range (an mtime
    before 1970).
    """
    try:
        infos = list(map(os.lstat, map(base.__add__, names)))
    except OSError:
        return None
    try:
        return array("Q", chain.from_iterable(map(_STAT, infos))).tobytes()
    except OverflowError:
        values = array("Q")
        for info in infos:
            values.extend((info.st_size, info.st_mtime_ns & _WORD, info.st_ino & _WORD))
        return values.tobytes()


def stats_digest(packed: bytes) -> str:
    return hashlib.blake2b(packed, digest_size=16).hexdigest()


def may_fork() -> bool:
    """True if a child may be forked to share the work: the platform forks, this process
    runs no other thread (``postil serve`` does: a fork copies no thread, and a lock one
    holds would stay held in the child) and there is a second core."""
    if not hasattr(os, "fork") or threading.active_count() != 1:
        return False
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return (len(cores) if cores is not None else os.cpu_count() or 1) > 1


class Child(Generic[T]):
    """``work`` (whose result ``marshal`` can carry: strings, bytes, lists, tuples, None)
    started in a forked child, if :func:`may_fork`.

    :meth:`result` waits for the child's result; where forking was not possible or
    failed, or the child handed back no result, it runs ``work`` here: the answer is
    the same, only later. :meth:`cancel` ends a child still running (call it always).
    """

    def __init__(self, work: Callable[[], T]) -> None:
        self.work, self.pid, self.pipe = work, 0, -1
        if not may_fork():
            return
        try:
            read_end, write_end = os.pipe()
        except OSError:
            return
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return
        if pid == 0:  # the child: never returns, runs no exit handler, flushes no buffer
            code = 1
            try:
                os.close(read_end)
                with open(write_end, "wb") as pipe:
                    pipe.write(marshal.dumps(work()))
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        self.pid, self.pipe = pid, read_end

    def result(self) -> T:
        if self.pid:
            pid, self.pid = self.pid, 0
            with open(self.pipe, "rb") as pipe:
                data = pipe.read()
            _, status = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(status) == 0:
                with contextlib.suppress(EOFError, ValueError, TypeError):
                    return marshal.loads(data)
        return self.work()

    def cancel(self) -> None:
        if self.pid:
            pid, self.pid = self.pid, 0
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            os.close(self.pipe)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
