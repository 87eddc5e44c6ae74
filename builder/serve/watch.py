"""Watch the site's sources with watchdog and turn bursts of changes into one rebuild.

Watched: ``content/`` (or ``content_dir``), the theme in use, the site's own
``templates/`` and ``static/``, and ``site.yml``. The site folder itself is
watched without recursion, for ``site.yml`` and for those folders appearing
or going; the list is worked out again after each build, so editing
``theme:`` or ``content_dir:`` moves the watches.

Editors save in bursts (write a temporary file, rename it over the old one,
touch a backup; autosave every few hundred milliseconds; ``git checkout``
of many files): :class:`Debouncer` waits until the changes have been quiet
for a moment and builds once. Changes that arrive during a build are built
right after it, once. Swap, backup, lock and temporary files of common
editors are ignored, as are open/close events (which our own reads cause).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from watchdog.events import (
    EVENT_TYPE_ATTRIB,
    EVENT_TYPE_CREATED,
    EVENT_TYPE_DELETED,
    EVENT_TYPE_MODIFIED,
    EVENT_TYPE_MOVED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import ObservedWatch
from watchdog.observers.polling import PollingObserver

from builder.config import CONFIG_NAME, SiteConfig, load_config
from builder.problems import BuildFailed
from builder.sources import is_ignored
from builder.theme import find_theme

#: how long changes must be quiet before a build starts, and the longest a
#: steady stream of changes can hold one back
QUIET_SECONDS = 0.08
MAX_WAIT_SECONDS = 1.0
#: how often the polling observer (``--poll``) looks at the files
POLL_SECONDS = 0.5
#: when to look again at a folder that was just added to the watches
NEW_WATCH_SECONDS = 0.5

_REACTS_TO = {EVENT_TYPE_CREATED, EVENT_TYPE_DELETED, EVENT_TYPE_MODIFIED, EVENT_TYPE_MOVED,
              EVENT_TYPE_ATTRIB}
# Beyond builder.sources.is_ignored (hidden, "#…", "~…", "…~", .swp, .tmp, .bak, …):
# vim's write test file "4913" (any all-digit name), more vim swap suffixes,
# JetBrains' safe-write files, Chrome's file-system-access swap files, and
# the temporary file of ``sed -i`` (renamed over the real one, which is seen).
_EDITOR_TEMP = re.compile(
    r"^\d+$|\.sw[a-p]$|___jb_(tmp|old)___$|\.crswap$|\.kate-swp$|^sed[A-Za-z0-9]{6}$")

Roots = tuple[tuple[Path, bool], ...]  # (folder, recursive)


class _StopRace(logging.Filter):
    """watchdog logs an error when an inotify read races with stopping; it is harmless."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "called when the thread is inactive" not in record.getMessage()


logging.getLogger("watchdog.observers.inotify").addFilter(_StopRace())


def is_editor_temp(name: str) -> bool:
    """A file an editor or the system writes on the side, never a source."""
    return is_ignored(name) or bool(_EDITOR_TEMP.search(name))


def watch_roots(site_dir: Path) -> Roots:
    """The folders to watch for the site as ``site.yml`` now describes it."""
    site_dir = Path(site_dir).resolve()
    try:
        config = load_config(site_dir)[0]
    except BuildFailed:  # a broken site.yml: watch the defaults until it is fixed
        config = SiteConfig(site_dir=site_dir)
    roots: list[tuple[Path, bool]] = [(site_dir, False)]
    theme = find_theme(config)
    folders = [config.content_path, site_dir / "templates", site_dir / "static",
               theme if theme is not None else site_dir / "themes",
               site_dir / "sources"]  # snapshots (builder.snapshots)
    for folder in folders:
        folder = folder.resolve()
        if folder.is_dir() and folder != site_dir and (folder, True) not in roots:
            roots.append((folder, True))
    if config.content_path.resolve() == site_dir:  # content_dir: "." (unusual, allowed)
        roots[0] = (site_dir, True)
    return tuple(roots)


def changed_since(roots: Roots, relevant: Callable[[str], bool], since: float) -> list[str]:
    """Sources modified at or after ``since`` (file-system time): edits made before watching."""
    found: list[str] = []
    for root, recursive in roots:
        for folder, dirs, names in (os.walk(root) if recursive else [(str(root), [], [
                entry.name for entry in os.scandir(root) if entry.is_file()])]):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in names:
                path = os.path.join(folder, name)
                try:
                    if os.stat(path).st_mtime >= since and relevant(path):
                        found.append(path)
                except OSError:
                    continue
    return found


class SourceFilter:
    """Decides whether a changed path can change the site."""

    def __init__(self, site_dir: Path, roots: Roots):
        self.site_dir = Path(site_dir).resolve()
        self.roots = roots
        try:
            output = load_config(self.site_dir)[0].output_dir
        except BuildFailed:
            output = "public"
        self.output = (self.site_dir / output).resolve()
        top = {CONFIG_NAME, "templates", "static", "themes", "content", "sources"}
        top.update(root.name for root, _ in roots)
        self.top = top

    def __call__(self, path: str) -> bool:
        file = Path(path)
        if is_editor_temp(file.name):
            return False
        for root, recursive in self.roots:
            if not recursive or not file.is_relative_to(root):
                continue
            if file.is_relative_to(self.output):
                return False
            parts = file.relative_to(root).parts
            if not any(part.startswith(".") for part in parts):  # .git, .postil-cache, …
                return True
        return file.parent == self.site_dir and file.name in self.top


class Debouncer:
    """Calls ``action(paths)`` once per burst of :meth:`touch` calls, never two at once."""

    def __init__(self, action: Callable[[set[str]], None], quiet: float = QUIET_SECONDS,
                 max_wait: float = MAX_WAIT_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.action = action
        self.quiet, self.max_wait, self.clock = quiet, max_wait, clock
        self._pending: set[str] = set()
        self._first = self._last = 0.0
        self._stopped = False
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="postil-rebuild", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def touch(self, path: str) -> None:
        with self._wake:
            now = self.clock()
            if not self._pending:
                self._first = now
            self._pending.add(path)
            self._last = now
            self._wake.notify()

    def stop(self, timeout: float = 30.0) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _next_burst(self) -> set[str] | None:
        with self._wake:
            while not self._pending and not self._stopped:
                self._wake.wait()
            while not self._stopped:
                due = min(self._last + self.quiet, self._first + self.max_wait)
                wait = due - self.clock()
                if wait <= 0:
                    break
                self._wake.wait(wait)
            if self._stopped:
                return None
            paths, self._pending = self._pending, set()
            return paths

    def _run(self) -> None:
        while (paths := self._next_burst()) is not None:
            try:
                self.action(paths)  # changes made meanwhile pile up as the next burst
            except Exception:  # noqa: BLE001 - this thread must outlive any one failure
                traceback.print_exc()


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher):
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in _REACTS_TO:
            return  # opened/closed: our own reads cause these
        if event.is_directory and event.event_type == EVENT_TYPE_MODIFIED:
            return  # a file created or deleted in it: that file's own event tells us more
        try:
            for path in (event.src_path, getattr(event, "dest_path", "")):
                path = os.fsdecode(path)
                if path and self.watcher.relevant(path):
                    self.watcher.debouncer.touch(path)
        except Exception:  # noqa: BLE001 - an exception here would stop watchdog's thread
            traceback.print_exc()


class Watcher:
    """watchdog observers on the site's sources, feeding a :class:`Debouncer`."""

    def __init__(self, site_dir: Path, debouncer: Debouncer, poll: bool = False):
        self.site_dir = Path(site_dir).resolve()
        self.debouncer = debouncer
        self.poll = poll
        self.observer = PollingObserver(timeout=POLL_SECONDS) if poll else Observer()
        self.roots: Roots = ()
        self.relevant = SourceFilter(self.site_dir, ())
        self._handler = _Handler(self)
        self._watches: dict[tuple[Path, bool], ObservedWatch] = {}
        self._lock = threading.Lock()

    def start(self, since: float | None = None) -> None:
        """Start watching; with ``since``, first rebuild for any edit made after that time."""
        self.refresh()
        self.observer.start()
        if since is not None:
            for path in changed_since(self.roots, self.relevant, since):
                self.debouncer.touch(path)

    def refresh(self) -> bool:
        """Watch what the site now uses; True if that changed.

        Watches that stay are left alone: unscheduling one drops the events
        still queued for it. A folder watched from now on is reported as
        changed, for what happened in it before its watch began; and again a
        moment later, as watchdog starts the watch in a thread of its own.
        """
        roots = watch_roots(self.site_dir)
        with self._lock:
            if roots == self.roots:
                return False
            for root in set(self._watches) - set(roots):
                self.observer.unschedule(self._watches.pop(root))
            self.relevant = SourceFilter(self.site_dir, roots)
            for root in roots:
                if root in self._watches:
                    continue
                folder, recursive = root
                try:
                    self._watches[root] = self.observer.schedule(self._handler, str(folder),
                                                                 recursive=recursive)
                except OSError:  # it vanished meanwhile; the next refresh sees that
                    continue
                if self.roots:
                    self.debouncer.touch(str(folder))
                    later = threading.Timer(NEW_WATCH_SECONDS, self.debouncer.touch,
                                            [str(folder)])
                    later.daemon = True
                    later.start()
            self.roots = roots
            return True

    def stop(self) -> None:
        self.observer.stop()
        if self.observer.is_alive():
            self.observer.join(10)
