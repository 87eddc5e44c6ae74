"""Write a built site: only changed files, atomically, never outside the output.

Called only after the whole build succeeded, so a failed build leaves the
previous output exactly as it was. Unchanged files keep their mtimes, so
rsync and git publishing move only what changed. A manifest of what Postil
wrote lets it remove its own stale files and never anyone else's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MANIFEST = ".postil-manifest.json"


class UnsafePath(ValueError):
    pass


@dataclass
class WriteReport:
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def safe_relative(name: str) -> str:
    """Refuse any output name that could land outside the output folder."""
    path = PurePosixPath(name)
    if name.startswith("/") or any(part in ("..", ".", "") for part in name.split("/")) \
            or "\\" in name or "\0" in name:
        raise UnsafePath(f"refusing to write {name!r}: not a plain path inside the output")
    return path.as_posix()


def read_manifest(out_dir: Path, part: str = "files") -> dict[str, str]:
    """What the last build wrote: ``files`` (name → digest) or ``signatures`` (of pages)."""
    try:
        data = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data.get(part, {}).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def plan(out_dir: Path, files: dict[str, bytes]) -> tuple[dict[str, bytes], int, list[str],
                                                         dict[str, str]]:
    """What writing ``files`` would do: (to write, unchanged count, stale, new manifest)."""
    old = read_manifest(out_dir)
    manifest: dict[str, str] = {}
    changed: dict[str, bytes] = {}
    unchanged = 0
    for name, data in files.items():
        name = safe_relative(name)
        manifest[name] = digest(data)
        target = out_dir / name
        same_size = _size(target) == len(data)
        # The manifest spares reading the old file; without it, compare the bytes.
        if same_size and (old.get(name) == manifest[name] or target.read_bytes() == data):
            unchanged += 1
        else:
            changed[name] = data
    stale = sorted(name for name in old if name not in manifest and name != MANIFEST)
    return changed, unchanged, stale, manifest


def write_site(out_dir: Path, files: dict[str, bytes],
               signatures: dict[str, str] | None = None) -> WriteReport:
    """Write ``files``; ``signatures`` (page → inputs' hash) are kept for the next build."""
    out_dir.mkdir(parents=True, exist_ok=True)
    root = out_dir.resolve()
    changed, unchanged, stale, manifest = plan(out_dir, files)
    report = WriteReport(unchanged=unchanged)
    safe_dirs: set[Path] = {root}
    for name in sorted(changed):
        parent = (root / name).parent
        # A symlinked folder inside the output could lead elsewhere: check each folder once
        # (resolve() follows the links of the part of the path that exists already).
        if parent not in safe_dirs:
            if not parent.resolve().is_relative_to(root):
                raise UnsafePath(f"refusing to write {name!r}: it leads outside {out_dir}")
            safe_dirs.add(parent)
    # One file at a time: measured here, threads only contend for the folders' locks.
    for name, data in sorted(changed.items()):
        atomic_write(root / name, data)
    report.written = sorted(changed)
    for name in stale:
        target = root / safe_relative(name)
        if target.resolve().is_relative_to(root) and target.is_file():
            target.unlink()
            report.removed.append(name)
            prune_empty_parents(target.parent, root)
    record = {"generator": "postil", "files": manifest, "signatures": signatures or {}}
    atomic_write(root / MANIFEST, json.dumps(record, indent=0, sort_keys=True).encode("utf-8"))
    return report


def atomic_write(target: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and a rename: never half a file.

    The temporary name is fixed (the output folder is Postil's), which is much
    cheaper than ``mkstemp`` when thousands of pages change.
    """
    tmp = target.with_name(f".{target.name}.postil-tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


def prune_empty_parents(folder: Path, root: Path) -> None:
    """Remove ``folder`` and its parents up to ``root`` while they are empty."""
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent

