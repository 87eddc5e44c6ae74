"""Byte strings set aside in an unnamed temporary file until they are wanted.

The article cache encodes each parse as soon as it is made (later stages must
not change what is stored) but writes the entries to its database only once
the build has succeeded: at 10,000 articles that is about 75 MB of entries,
which held in memory would be a quarter of a cold build's peak, and would be
inherited by every forked render worker. In a temporary file they cost page
cache, which the kernel may write out or drop, instead of the process's own
memory.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
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

    def items(self) -> Iterator[tuple[str, bytes]]:
        """Every (key, bytes), read back from the file one at a time. Raises OSError
        if the temporary file cannot be read back."""
        for key, (offset, length) in list(self._where.items()):
            assert self._file is not None
            data = os.pread(self._file.fileno(), length, offset)
            if len(data) != length:
                raise OSError(f"short read of a spilled value ({len(data)} of {length} bytes)")
            yield key, data
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
