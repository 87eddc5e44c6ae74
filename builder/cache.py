"""A content-hash cache of parsed articles, so unchanged files are not re-parsed.

An entry's key is a hash of the file's path and bytes, the settings that
shape reading, and a fingerprint of Postil's own code and Markdown libraries:
any change to either makes a new key, so a stale entry is never used.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from functools import lru_cache
from pathlib import Path
from typing import Any

import markdown_it
import mdit_py_plugins

from builder.writer import atomic_write

CACHE_DIR = ".postil-cache"


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of every source file of this package and the Markdown libraries' versions."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{markdown_it.__version__}/{mdit_py_plugins.__version__}".encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@lru_cache(maxsize=8)
def _salt(settings: Any) -> bytes:
    # repr, not astuple: the lexicon inside shows (and hashes) as its fingerprint.
    return (code_fingerprint() + repr(settings)).encode()


class ArticleCache:
    """Parsed-article results on disk, one small pickle per entry."""

    def __init__(self, folder: Path, settings: Any):
        self.folder = folder
        self.settings = settings
        self.used: set[str] = set()
        self.pending: dict[str, bytes] = {}

    def key(self, path: str, raw: bytes) -> str:
        return self.key_for(self.settings, path, raw)

    @staticmethod
    def key_for(settings: Any, path: str, raw: bytes) -> str:
        """What identifies a parse: code, settings, file path and bytes."""
        digest = hashlib.blake2b(_salt(settings), digest_size=20)
        digest.update(path.encode())
        digest.update(b"\0")
        digest.update(raw)
        return digest.hexdigest()

    def _file(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.pickle"

    def get(self, key: str) -> Any | None:
        self.used.add(key)
        try:
            return pickle.loads(self._file(key).read_bytes())
        except FileNotFoundError:
            return None
        except Exception:  # noqa: BLE001 - a damaged entry is just a miss
            return None

    def put(self, key: str, value: Any) -> None:
        """Remember a parse; it reaches the disk with :meth:`flush`."""
        self.used.add(key)
        self.pending[key] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    def flush(self) -> None:
        """Write the new entries, once the build's own work is done."""
        for key, data in self.pending.items():
            with contextlib.suppress(OSError):  # a cache that cannot be written is no cache
                atomic_write(self._file(key), data)
        self.pending = {}

    def prune(self) -> None:
        """Forget entries this build did not use (edited or deleted files)."""
        if not self.folder.is_dir():
            return
        for shard in os.scandir(self.folder):
            if not shard.is_dir():
                continue
            for entry in os.scandir(shard.path):
                if entry.name.removesuffix(".pickle") not in self.used:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
