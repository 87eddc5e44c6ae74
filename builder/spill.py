"""Byte strings set aside in an unnamed temporary file until they are wanted.

The article cache encodes each parse as soon as it is made (later stages must
not change what is stored) but writes the entries to its database only once
the build has succeeded: at 10,000 articles that is about 75 MB of entries,
which held in memory would be a quarter of a cold build's peak, and would be
inherited by every forked render worker. Feed entries, each made once and
used by several feeds (and kept for the next build of a preview server), are
about 100 MB more. In a temporary file they cost page cache, which the kernel
may write out or drop, instead of the process's own memory.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Collection, Iterator
from typing import IO


class Spill:
    """A mapping of str → bytes whose values live in an unnamed temporary file.

    Setting a key again replaces its value (the old bytes stay in the file until
    :meth:`clear`). When no temporary file can be made (no writable temporary
    folder), values are kept in memory instead: the same behaviour, only larger.
    """

    def __init__(self) -> None:
        self._where: dict[str, tuple[int, int]] = {}  # key → (offset, length) in the file
        self._memory: dict[str, bytes] = {}  # only when the file could not be made or written
        self._file: IO[bytes] | None = None
        self._end = 0
        self._failed = False

    def __setitem__(self, key: str, data: bytes) -> None:
        self._where.pop(key, None)
        self._memory.pop(key, None)
        if not self._failed:
            try:
                if self._file is None:
                    self._file = tempfile.TemporaryFile()  # noqa: SIM115 - kept open on purpose
                written = os.pwrite(self._file.fileno(), data, self._end)
                if written == len(data):
                    self._where[key] = (self._end, written)
                    self._end += written
                    return
            except OSError:
                pass
            self._failed = True  # a full disk, say: keep the rest in memory
        self._memory[key] = data

    def __len__(self) -> int:
        return len(self._where) + len(self._memory)

    def __contains__(self, key: object) -> bool:
        return key in self._where or key in self._memory

    def get(self, key: str) -> bytes | None:
        """The value of ``key``, None if absent. Raises OSError if it cannot be read back."""
        if key in self._memory:
            return self._memory[key]
        where = self._where.get(key)
        return None if where is None else self._read(*where)

    def keep(self, keys: Collection[str]) -> None:
        """Forget every key not in ``keys``; once the file holds more forgotten bytes than
        kept ones, copy the kept values into a new file."""
        for key in [key for key in self._where if key not in keys]:
            del self._where[key]
        for key in [key for key in self._memory if key not in keys]:
            del self._memory[key]
        live = sum(length for _, length in self._where.values())
        if self._end > 2 * live + (1 << 20):
            kept = list(self.items())
            self.clear()
            for key, data in kept:
                self[key] = data

    def _read(self, offset: int, length: int) -> bytes:
        assert self._file is not None
        data = os.pread(self._file.fileno(), length, offset)
        if len(data) != length:
            raise OSError(f"short read of a spilled value ({len(data)} of {length} bytes)")
        return data

    def items(self) -> Iterator[tuple[str, bytes]]:
        """Every (key, bytes), read back from the file one at a time. Raises OSError
        if the temporary file cannot be read back."""
        for key, (offset, length) in list(self._where.items()):
            yield key, self._read(offset, length)
        yield from list(self._memory.items())

    def clear(self) -> None:
        """Forget every value and close the temporary file (which removes it)."""
        self._where.clear()
        self._memory.clear()
        if self._file is not None:
            self._file.close()
            self._file = None
        self._end = 0
        self._failed = False
