"""``postil publish --dir PATH``: make a local folder (a mounted web root) hold the site.

The folder is kept by the same engine as a build's output folder
(:class:`builder.writer.OutputFolder`): only files whose bytes differ are
written, so unchanged files keep their mtimes (and web caches their
validators); all of them are written under temporary names before any is
renamed into place, so a failure (a full disk) leaves the folder as it was and
a reader never sees half a file. Stale files are removed only if Postil put
them there, as its ``.postil-manifest.json`` says: anything else in the folder
(``.well-known/``, another app) is left alone.
"""

from __future__ import annotations

from pathlib import Path

from builder.publish.changes import Changes, PublishError
from builder.writer import OutputFolder, WriteFailed


def plan_folder(files: dict[str, bytes], target: Path) -> Changes:
    """What :func:`sync_folder` would do, touching nothing; raises :class:`PublishError`."""
    try:
        plan = OutputFolder(target).plan(files)
    except WriteFailed as exc:
        raise PublishError(str(exc)) from None
    added = set(plan.added)
    return Changes(added=list(plan.added), removed=list(plan.stale),
                   changed=[name for name in plan.write if name not in added])


def sync_folder(files: dict[str, bytes], target: Path, dry_run: bool = False) -> Changes:
    """Make ``target`` hold exactly ``files`` (name → bytes), and whatever Postil did not
    put there; under the folder's lock, as a build holds its output's.

    A dry run only plans, taking no lock (it must not create the folder). Raises
    :class:`PublishError` with a one-line reason.
    """
    if dry_run:
        return plan_folder(files, target)
    folder = OutputFolder(target)
    try:
        with folder.locked():
            report = folder.sync(files)
    except WriteFailed as exc:
        raise PublishError(str(exc)) from None
    added = set(report.added)
    return Changes(added=list(report.added), removed=list(report.removed),
                   changed=[name for name in report.written if name not in added])
