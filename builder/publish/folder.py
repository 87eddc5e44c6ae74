"""``postil publish --dir PATH``: make a local folder (a mounted web root) hold the site.

Copies only files whose bytes differ, so unchanged files keep their mtimes
(and web caches their validators); each file goes through a temporary file
and a rename, so a reader of the folder, or an interrupted publish, never
sees half a file. Stale files are removed only if Postil put them there: the
folder keeps the same ``.postil-manifest.json`` as a build's output, and
anything else in it (``.well-known/``, another app) is left alone.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from builder.publish.changes import Changes, PublishError
from builder.writer import (
    MANIFEST,
    UnsafePath,
    atomic_write,
    digest,
    prune_empty_parents,
    read_manifest,
    safe_relative,
)

TMP_SUFFIX = ".postil-tmp"  # what builder.writer.atomic_write names its temporary files


def plan_folder(files: dict[str, bytes], target: Path) -> Changes:
    """What :func:`sync_folder` would do, touching nothing."""
    changes = Changes()
    for name, data in sorted(files.items()):
        path = target / safe_relative(name)
        try:
            if path.stat().st_size != len(data) or path.read_bytes() != data:
                changes.changed.append(name)
        except FileNotFoundError:
            changes.added.append(name)
        except (NotADirectoryError, IsADirectoryError):
            changes.changed.append(name)
        except OSError as exc:
            raise PublishError(f"cannot read {path}: {exc.strerror}") from None
    for name in sorted(read_manifest(target)):
        if name not in files and name != MANIFEST:
            with contextlib.suppress(UnsafePath):
                if (target / safe_relative(name)).is_file():
                    changes.removed.append(name)
    return changes


def sync_folder(files: dict[str, bytes], target: Path, dry_run: bool = False) -> Changes:
    """Make ``target`` hold exactly ``files`` (and whatever Postil did not put there)."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise PublishError(f"{target} is not a folder")
    try:
        changes = plan_folder(files, target)
    except UnsafePath as exc:
        raise PublishError(str(exc)) from None
    if dry_run:
        return changes
    try:
        _apply(files, target, changes)
    except UnsafePath as exc:
        raise PublishError(str(exc)) from None
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        raise PublishError(f"cannot write{where}: {exc.strerror or exc}") from None
    return changes


def _apply(files: dict[str, bytes], target: Path, changes: Changes) -> None:
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    old = read_manifest(root)
    _remove_leftovers(root, files)
    # Record every file this run may create before creating it: if it is
    # interrupted, the next run still knows those files are Postil's to remove.
    _write_manifest(root, {**old, **{name: old.get(name, "") for name in changes.added}})
    safe_dirs: set[Path] = {root}
    for name in [*changes.added, *changes.changed]:
        path = root / name
        # A symlinked folder inside the target could lead elsewhere: check each folder once.
        if path.parent not in safe_dirs:
            if path.parent.exists() and not path.parent.resolve().is_relative_to(root):
                raise UnsafePath(f"refusing to write {name!r}: it leads outside {target}")
            safe_dirs.add(path.parent)
        if path.is_dir() and not path.is_symlink():
            raise PublishError(f"cannot write {path}: a folder of that name is in the way")
        atomic_write(path, files[name])
    for name in changes.removed:
        path = root / name
        if path.resolve().is_relative_to(root):
            path.unlink(missing_ok=True)
            prune_empty_parents(path.parent, root)
    _write_manifest(root, {name: digest(data) for name, data in files.items()})


def _write_manifest(root: Path, manifest: dict[str, str]) -> None:
    atomic_write(root / MANIFEST, json.dumps({"generator": "postil", "files": manifest},
                                             indent=0, sort_keys=True).encode("utf-8"))


def _remove_leftovers(root: Path, files: dict[str, bytes]) -> None:
    """Temporary files of a publish that was killed before it could clean up."""
    for folder in {(root / name).parent for name in files} | {root}:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(".") and entry.name.endswith(TMP_SUFFIX) and \
                    entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)

