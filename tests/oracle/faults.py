"""The oracle's checks of builds that fail, are refused, crash or run out of disk."""

from __future__ import annotations

import fcntl
import os

from .trees import (
    BUSY,
    CRASH_STATUS,
    FAULTS,
    LOCK,
    MANIFEST,
    compare,
    empty_folders,
    folders,
    hidden_entries,
    read_tree,
    visible,
)


class FaultChecks:
    """The checks of :class:`~oracle.checks.Oracle` for failed, refused, crashed and starved
    builds (it provides the builds: ``_incremental``, ``_cold``, ``_live``, ``_write``)."""

    def _failing_step(self, n: int) -> list[str]:
        """Every build must fail; the incremental one must leave its folder as it was."""
        problems: list[str] = []
        before = self._state()
        run = self._incremental()
        if run.returncode == 0:
            problems.append("postil build succeeded on a site that must fail")
        elif "Traceback" in run.stderr:
            problems.append(f"postil build failed with a traceback, not a message:\n{run.tail()}")
        elif not run.stderr.strip():
            problems.append(f"postil build exited {run.returncode} and said nothing")
        problems += self._unchanged(before, "the failed build")
        cold, _, folder = self._cold(n)
        if cold is not None:
            problems.append("the cold build succeeded on a site that must fail")
        elif left := sorted(read_tree(folder)) or folders(folder):
            problems.append(f"the failed cold build left files or folders in its empty output "
                            f"folder: {', '.join(left[:8])}")
        self._live()  # the long-lived builder goes through it, as postil serve would
        return problems

    def _state(self) -> tuple[dict[str, bytes], list[str], bytes | None]:
        """The output folder's files, folders and manifest, to prove a failure changed none."""
        try:
            manifest = (self.out / MANIFEST).read_bytes()
        except OSError:
            manifest = None
        return read_tree(self.out), folders(self.out), manifest

    def _unchanged(self, before: tuple[dict[str, bytes], list[str], bytes | None], what: str,
                   hidden: bool = True) -> list[str]:
        """A failed or refused build left the output as it was: every file (only the visible
        ones with ``hidden=False``, where a killed run's staging may be cleaned up), every
        folder, and the manifest (contract 1: restored)."""
        files, dirs, manifest = self._state()
        old_files, old_dirs, old_manifest = before
        if not hidden:
            files, old_files = visible(files), visible(old_files)
            dirs = [d for d in dirs if not d.startswith(".")]
            old_dirs = [d for d in old_dirs if not d.startswith(".")]
        problems = compare(old_files, files, f"output folder after {what}", "output before it")
        made = [d for d in dirs if d not in old_dirs]
        gone = [d for d in old_dirs if d not in dirs]
        if made or gone:
            problems.append(f"{what} changed the folders of the output: made {made[:6]}, "
                            f"removed {gone[:6]}")
        if manifest != old_manifest:
            problems.append(f"{what} changed {MANIFEST} (it must be restored)")
        return problems

    def _abandon(self, n: int, previous: dict[str, bytes]) -> list[str]:
        """After crashed runs, the step's edits are undone: a build must give exactly the
        previous site, without a file the crashed runs made."""
        current = self.written
        self._write(previous)
        cold, error, _ = self._cold(n, "cold-undone")
        run = self._incremental()
        self._write(current)
        self.faults_run.append("undone")
        if cold is None:
            return [f"the cold build of the undone step failed: {error}"]
        if run.returncode != 0 or "Traceback" in run.stderr:
            return [f"postil build after the crashed step was undone exited {run.returncode}:"
                    f"\n{run.tail()}"]
        problems = compare(cold, read_tree(self.out), "postil build after crashed runs, with "
                           "their edits undone")
        if empty_folders(self.out):
            problems.append("postil build after crashed runs left empty folders: "
                            + ", ".join(empty_folders(self.out)[:10]))
        return problems

    def _probe(self, cold: dict[str, bytes]) -> list[str]:
        """A fresh builder just after the long-lived one: every article comes from the cache
        (the build process and the long-lived builder filled it), and the pages agree."""
        from builder.pipeline import BuildOptions, SiteBuilder

        result = SiteBuilder(self.site, BuildOptions(write=False, drafts=False, jobs=1)).build()
        problems = compare(cold, result.files, "fresh builder reading the cache")
        parsed = getattr(result, "parsed", None)
        if parsed is None:
            problems.append("cannot check the cache: BuildResult.parsed (the articles a build "
                            "parsed rather than reused) is gone; update tests/oracle/faults.py")
        elif parsed:
            problems.append(f"after the long-lived builder's rebuild, a fresh builder parsed "
                            f"{len(parsed)} of {len(result.site.articles)} articles again: the "
                            f"cache lost them ({', '.join(sorted(parsed)[:4])} …)")
        return problems

    def _check_lock(self) -> list[str]:
        """With the output folder's lock held by this process, a build is refused (exit 1, a
        one-line message) and writes nothing."""
        self.out.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.out / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        before = self._state()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            run = self._incremental()
        finally:
            os.close(fd)
        problems: list[str] = []
        lines = run.stderr.strip().splitlines()
        if run.returncode != 1 or len(lines) != 1 or BUSY not in run.stderr:
            problems.append(f"a build into a folder whose lock another process holds exited "
                            f"{run.returncode} (expected 1 and one line saying the folder is "
                            f"{BUSY!r}):\n{run.tail() or '(no output)'}")
        return problems + self._unchanged(before, "the refused build")

    def _check_race(self) -> list[str]:
        """Two builds at once: each one finishes or is refused with the one-line message."""
        processes = [self._start(), self._start()]
        problems = []
        for i, run in enumerate(self._finish(p) for p in processes):
            refused = run.returncode == 1 and BUSY in run.stderr and \
                len(run.stderr.strip().splitlines()) == 1
            if not (run.returncode == 0 or refused) or "Traceback" in run.stderr:
                problems.append(f"of two builds at once, build {i + 1} exited {run.returncode}:"
                                f"\n{run.tail()}")
        return problems

    def _check_faults(self, n: int, cold: dict[str, bytes]) -> tuple[list[str], list[str]]:
        """Kill (or starve) the writer at a seeded file of a phase; check what it leaves.
        Returns the problems and the kinds of fault that fired."""
        problems: list[str] = []
        fired: list[str] = []
        first = FAULTS[(n - 1) % len(FAULTS)]
        others = [f for f in FAULTS if f != first]
        kinds = [first] + self.fault_rng.sample(others, self.fault_rng.randint(0, 1))
        for kind in kinds:
            current = read_tree(self.out)
            changed = [name for name in cold if current.get(name) != cold[name]]
            if not changed:
                self.faults_run.append(f"{kind}: nothing to write")
                continue
            # Late in a phase more is at stake (more new files and folders exist).
            low = 1 if kind == "crash-write" else (len(changed) + 1) // 2
            k = self.fault_rng.randint(low, len(changed))
            fault = f"{kind}:{k}"
            self.faults_run.append(f"{fault} of {len(changed)}")
            fired.append(kind)
            before = self._state()
            run = self._incremental(fault)
            where = f"POSTIL_FAULT={fault} ({len(changed)} files to write)"
            if kind == "enospc":
                lines = run.stderr.strip().splitlines()
                if run.returncode != 1 or len(lines) != 1 or "Traceback" in run.stderr:
                    problems.append(f"{where}: expected exit 1 and a one-line message, got exit "
                                    f"{run.returncode}:\n{run.tail() or '(no output)'}")
                problems += self._unchanged(before, where, hidden=False)
                new_hidden = [h for h in hidden_entries(read_tree(self.out))
                              if h not in hidden_entries(current)]
                if new_hidden:
                    problems.append(f"{where} left hidden entries: {', '.join(new_hidden)}")
                continue
            if run.returncode == 0:
                problems.append(f"{where}: the build exited 0: the fault hook did not fire")
            elif run.returncode != CRASH_STATUS:
                problems.append(f"{where}: exited {run.returncode}, not {CRASH_STATUS}:\n"
                                f"{run.tail()}")
            if kind == "crash-write":
                problems += compare(visible(current), visible(read_tree(self.out)),
                                    f"output after {where}", "output before it")
        return problems, fired
