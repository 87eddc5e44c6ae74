"""Dates of articles whose front matter and file name give none: the author date of
the file's last git commit, or, outside git or for a file never committed, its
modification time (Hugo's ``:git`` and ``:fileModTime``).

Such a date is not a function of the file's bytes, while records are cached by a
hash of those bytes (:mod:`builder.cache`, :class:`builder.sources.Reader`). So
the reader only marks the record (``dated_by == "file"``, see
:mod:`builder.reader`) and :meth:`FileDates.fill`, at the I/O edge between
reading and indexing, gives it its date, and a key of its own: a hash of the
read record's key and the date, so every signature made from the record
(:mod:`builder.fingerprint`) changes with the date. The inputs are recorded
where the rebuild logic looks: the modification times are in the build state's
snapshot of ``content/`` (:mod:`builder.state`), and the files that move when a
commit is made (``HEAD``, the branch refs) are among the build's input roots
(:func:`git_state_files`). A delta build goes on only while what the last fill
read is unchanged (:meth:`FileDates.unchanged`).

One ``git log`` for the whole folder per change of the repository's state, not
one process per file; it stops as soon as every wanted file has its date.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import replace
from datetime import datetime, tzinfo
from pathlib import Path

from builder.model import ArticleRecord
from builder.problems import Problem
from builder.reader import FILE_DATE

GIT, MTIME = "git", "mtime"  # ``dated_by`` once filled
_CHUNK = 1 << 16


def git_folder(folder: Path) -> tuple[Path, Path] | None:
    """(git dir, common dir) of the repository holding ``folder``, found by looking up
    for ``.git`` (a folder, or a worktree's ``gitdir:`` file); None outside git."""
    for parent in (folder, *folder.parents):
        dot = parent / ".git"
        if dot.is_dir():
            return dot, dot
        if dot.is_file():
            try:
                line = dot.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                return None
            if not line.startswith("gitdir:"):
                return None
            gitdir = (parent / line[len("gitdir:"):].strip()).resolve()
            try:
                common = (gitdir / (gitdir / "commondir").read_text(encoding="utf-8").strip())
            except (OSError, UnicodeDecodeError):
                common = gitdir
            return gitdir, common.resolve()
    return None


def git_state_files(folder: Path) -> list[str]:
    """The files that change when a commit is made in the repository holding
    ``folder``, or the branch is switched or reset (absolute paths): its ``HEAD``,
    its branch refs and packed refs. [] outside git."""
    found = git_folder(folder)
    if found is None:
        return []
    gitdir, common = found
    return [str(gitdir / "HEAD"), str(common / "refs" / "heads"), str(common / "packed-refs")]


def date_inputs(folder: Path) -> list[str]:
    """What file dates depend on besides the files' own times, as inputs of the build
    state (absolute paths, see :func:`builder.state.snapshot`): the repository's state
    files (:func:`git_state_files`), and the ``.git`` of each folder from ``folder`` up
    to the repository (or the root) that has none, so that a repository made later
    counts as a change."""
    folder = Path(folder).resolve()
    missing = []
    for parent in (folder, *folder.parents):
        dot = parent / ".git"
        if dot.exists():
            break
        missing.append(str(dot))
    return git_state_files(folder) + missing


def _stat_of(paths: list[str]) -> tuple:
    """(path, size, mtime_ns, inode) of each path and each file under a folder of them."""
    found: list[tuple] = []
    for path in paths:
        for folder, dirs, names in os.walk(path) if os.path.isdir(path) else [("", [], [path])]:
            dirs.sort()
            for name in sorted(names):
                full = os.path.join(folder, name)
                try:
                    info = os.stat(full)
                except OSError:
                    found.append((full, None))
                    continue
                found.append((full, info.st_size, info.st_mtime_ns, info.st_ino))
    return tuple(found)


def last_commits(folder: Path, wanted: set[str]) -> dict[str, int]:
    """Path relative to ``folder`` → author time (seconds since the epoch) of the last
    commit that changed it, for each of ``wanted`` that git knows. One ``git log``,
    stopped once every wanted path is found; {} outside git or without git."""
    # (The user's configuration must not change what is printed: no signatures, no
    # following of renames.)
    command = ["git", "-C", str(folder), "-c", "log.showSignature=false", "-c",
               "log.follow=false", "log", "-z",
               "--format=%x01%at", "--name-only", "--no-renames", "--relative",
               "--no-ext-diff", "--no-textconv", "--", "."]
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("GIT_")}  # a hook's GIT_DIR is not this site's
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   stdin=subprocess.DEVNULL, env=environment)
    except OSError:  # no git
        return {}
    found: dict[str, int] = {}
    stamp, tail = None, b""
    assert process.stdout is not None
    try:
        while len(found) < len(wanted):
            chunk = process.stdout.read1(_CHUNK)
            if not chunk:
                break
            *items, tail = (tail + chunk).split(b"\0")
            for item in items:
                if item.startswith(b"\x01"):  # a commit: its author time
                    stamp = int(item[1:]) if item[1:].isdigit() else None
                    continue
                name = os.fsdecode(item.removeprefix(b"\n"))
                if stamp is not None and name in wanted and name not in found:
                    found[name] = stamp
    finally:
        if process.poll() is None:
            process.kill()  # every date found: the rest of the history is not needed
        process.stdout.close()
        process.wait()
    return found


class FileDates:
    """Gives each record marked ``dated_by == "file"`` its file's date, per build.

    ``folder`` is the folder that records' ``source`` paths are relative to. The
    map from ``git log`` is kept while the repository's state files are unchanged.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._git: tuple[tuple, dict[str, int], frozenset[str]] | None = None
        # What the fills since the last full one read: the repository's state files'
        # stats, and the modification time of each file dated by it (path → ns).
        self._state: tuple | None = None
        self._mtimes: dict[str, int] = {}

    def fill(self, records: list[ArticleRecord], tz: tzinfo, merge: bool = False
             ) -> tuple[list[ArticleRecord], list[Problem]]:
        """``records`` with each one marked filled: its date (and time, in ``tz``), its
        ``dated_by`` ("git" or "mtime") and a key that covers the date. Others are
        returned as they are, in the same order. With ``merge``, the records are some
        of the site's (saved files, for a delta build), and what this fill reads is
        added to what :meth:`unchanged` checks instead of replacing it."""
        if not merge:
            self._state, self._mtimes = None, {}
        wanted = [record.source for record in records if record.dated_by == FILE_DATE]
        if not wanted:
            return records, []
        state = git_state_files(self.folder)
        state_stat = _stat_of(state)
        commits = self._commits(state, state_stat, set(wanted))
        problems: list[Problem] = []
        filled: list[ArticleRecord] = []
        for record in records:
            if record.dated_by != FILE_DATE:
                filled.append(record)
                continue
            seconds, how = commits.get(record.source), GIT
            if seconds is None:
                path = str(self.folder / record.source)
                try:
                    info = os.stat(path)
                except OSError as exc:
                    problems.append(Problem(record.source, 1, "no date in the front matter or "
                                            f"file name, and cannot read the file's time: "
                                            f"{exc.strerror}"))
                    continue
                self._mtimes[path] = info.st_mtime_ns
                seconds, how = int(info.st_mtime), MTIME
            filled.append(dated(record, datetime.fromtimestamp(seconds, tz), how))
        if not merge or self._state is None:
            self._state = state_stat
        # (else a state that changed since the full build stays recorded as it was then,
        # so that unchanged() says so)
        return filled, problems

    def unchanged(self) -> bool:
        """Whether what the fills since the last full one read (the repository's state,
        the modification times they used) is still as it was; True if they read none."""
        if self._state is not None and _stat_of(git_state_files(self.folder)) != self._state:
            return False
        for path, mtime_ns in self._mtimes.items():
            try:
                if os.stat(path).st_mtime_ns != mtime_ns:
                    return False
            except OSError:
                return False
        return True

    def _commits(self, state: list[str], state_stat: tuple, wanted: set[str]
                 ) -> dict[str, int]:
        """Source → last commit's author time, for ``wanted``; from the last ``git log``
        when the repository's state is the same and it looked for these files."""
        if not state:
            return {}
        if self._git is not None and self._git[0] == state_stat and \
                wanted <= self._git[2]:
            return self._git[1]
        found = last_commits(self.folder, wanted)
        self._git = (state_stat, found, frozenset(wanted))
        return found


def dated(record: ArticleRecord, moment: datetime, how: str) -> ArticleRecord:
    """``record`` with the date ``moment`` (aware), taken ``how`` ("git", "mtime"),
    and a key of its own: the read record's key stands for its bytes only."""
    key = hashlib.blake2b(f"{record.key}\0{how}\0{moment.isoformat()}".encode(),
                          digest_size=20).hexdigest()
    return replace(record, date=moment.date(), datetime=moment, dated_by=how, key=key)
