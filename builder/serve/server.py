"""The preview server: one :class:`LiveSite`, an HTTP server and a watcher, in one process.

Order matters. :class:`~builder.pipeline.SiteBuilder` renders large sites in
a *forked* process pool (``builder/parallel.py``), and forking a process
that already runs threads can deadlock the child (a lock some other thread
held at the fork is never released in the child). So:

1. bind the socket (a port in use is reported before a long build; binding
   starts no thread, and the browser's first request just waits in the
   listen backlog);
2. do the first, full build, with the process pool only if this process has
   no other thread yet (``threading.active_count() == 1``; inside a test run
   or an embedding program it may have, and then the build runs in-process);
3. start the threads: HTTP, watchdog, and the rebuild thread;
4. every later build uses ``jobs=1``: it is incremental, so it renders few
   pages, and in-process rendering of those is faster than starting a pool.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from builder.cache import CACHE_DIR
from builder.serve.http import PreviewHTTPServer
from builder.serve.live import LiveSite, to_stderr, to_stdout
from builder.serve.watch import MAX_WAIT_SECONDS, QUIET_SECONDS, Debouncer, Watcher


def _file_clock(folder: Path) -> float:
    """Now, as the file system will stamp the next file written.

    Not ``time.time()``: Linux stamps files from a coarse clock that lags it
    by up to a tick, and a network file system uses the server's clock.
    """
    try:
        folder.mkdir(exist_ok=True)
        probe = folder / ".clock"
        probe.write_bytes(b"")
        return probe.stat().st_mtime
    except OSError:
        return time.time() - 1.0


class PreviewServer:
    """``postil serve`` as an object: :meth:`start`, :attr:`url`, :meth:`stop`."""

    def __init__(self, site_dir: Path, host: str = "127.0.0.1", port: int = 8000,
                 drafts: bool = True, poll: bool = False, quiet: float = QUIET_SECONDS,
                 max_wait: float = MAX_WAIT_SECONDS, out: Callable[[str], None] = to_stdout,
                 err: Callable[[str], None] = to_stderr):
        self.site_dir = Path(site_dir).resolve()
        self.host, self.port = host, port
        self.live = LiveSite(self.site_dir, drafts=drafts, out=out, err=err)
        self.debouncer = Debouncer(self._rebuild, quiet=quiet, max_wait=max_wait)
        self.watcher = Watcher(self.site_dir, self.debouncer, poll=poll)
        self.httpd: PreviewHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._started: float | None = None

    def bind(self) -> None:
        """Take the port; raises ``OSError`` (``EADDRINUSE`` if it is taken)."""
        if self.httpd is None:
            self.httpd = PreviewHTTPServer((self.host, self.port), self.live)
            self.port = self.httpd.server_port

    def build(self) -> bool:
        """The first build; True if it succeeded (a failed one is served as an error page)."""
        jobs = None if threading.active_count() == 1 else 1
        # Watching starts after this build (see above); an edit saved meanwhile
        # is found by its mtime then, compared with the file system's own clock.
        self._started = _file_clock(self.site_dir / CACHE_DIR)
        return self.live.build(jobs=jobs).ok

    def start(self) -> PreviewServer:
        """Bind, build if not built yet, then serve and watch in background threads."""
        self.bind()
        if self.live.builds == 0:
            self.build()
        assert self.httpd is not None
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={
            "poll_interval": 0.25}, name="postil-http", daemon=True)
        self._thread.start()
        self.debouncer.start()
        self.watcher.start(since=self._started)
        return self

    @property
    def url(self) -> str:
        """The address to open: the site's home page, under its base path."""
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}{self.live.snapshot.base_path}"

    def _rebuild(self, paths: set[str]) -> None:
        self.live.build(paths, jobs=1)
        self.watcher.refresh()  # site.yml may have moved the theme or content folder

    def stop(self) -> None:
        """Stop watching and serving; open tabs see the connection drop and keep trying."""
        self.watcher.stop()
        self.debouncer.stop()
        self.live.close()
        if self.httpd is not None:
            if self._thread is not None:
                self.httpd.shutdown()
            self.httpd.close_connections()
            self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> PreviewServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
