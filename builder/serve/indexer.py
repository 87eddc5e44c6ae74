"""The preview's search index, made in the background (``postil serve``).

Running Pagefind takes from a fraction of a second to seconds: it must never
stand between saving a file and the tab reloading. So the preview's builder
does not run it (:func:`builder.search.search_files` is given ``later``): each
build serves the index it had, and hands the job of making the new one to a
:class:`BackgroundIndex`, whose one thread runs the latest job only (older ones
are dropped unrun) and gives the files to ``publish``, which serves them. The
search page says the index may lag a moment behind.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from builder.search import IndexJob, SearchFailed


class BackgroundIndex:
    """Runs :class:`~builder.search.IndexJob` s one at a time on a thread of its own,
    the latest submitted only. ``publish(job, files)`` gets each index made (site path →
    bytes); ``err`` a line when Pagefind fails."""

    def __init__(self, publish: Callable[[IndexJob, dict[str, bytes]], None],
                 err: Callable[[str], None]) -> None:
        self._publish, self._err = publish, err
        self._pending: IndexJob | None = None
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._changed = threading.Condition()
        self.generation = 0  # of the latest job submitted
        self.made = 0  # indexes made and published

    def submit(self, job: IndexJob) -> None:
        """Make this index next, in place of any job still waiting."""
        with self._changed:
            if self._closed:
                return
            self.generation += 1
            job.generation = self.generation
            self._pending = job
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="postil-search-index",
                                                daemon=True)
                self._thread.start()
            self._changed.notify_all()

    def current(self, job: IndexJob) -> bool:
        """Whether ``job`` is still the latest submitted (its index is worth serving)."""
        with self._changed:
            return job.generation == self.generation

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no job is waiting or running; False if ``timeout`` seconds passed."""
        with self._changed:
            return self._changed.wait_for(lambda: self._pending is None and not self._busy,
                                          timeout)

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._pending = None
            self._changed.notify_all()

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._pending is not None or self._closed)
                if self._closed:
                    return
                job, self._pending, self._busy = self._pending, None, True
            try:
                files = job.run()
            except SearchFailed as exc:
                self._err(f"search index not updated: {exc}")
                files = None
            try:
                if files is not None and self.current(job):
                    self._publish(job, files)
                    self.made += 1
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()
