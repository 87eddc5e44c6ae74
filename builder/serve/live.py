"""The site as the preview serves it: the last good build, in memory, and who is watching.

A :class:`LiveSite` keeps one :class:`~builder.pipeline.SiteBuilder` alive,
so a rebuild re-reads only the files whose stat changed and re-renders only
the pages whose inputs changed. A failed rebuild never replaces what is
served: it only records the errors, which every open tab shows in an overlay
until a build succeeds again.

Each open tab subscribes with the path it shows. After every build the tab
is sent its *state*: the server's id, a token of the exact response at its
path, the stylesheet and asset generations and the errors. The tab compares
that with what it was served (see :mod:`builder.serve.livereload`), so it
reloads exactly when what it shows changed, and a state that arrives late,
or after a reconnection, is still right.
"""

from __future__ import annotations

import queue
import secrets
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from builder.config import load_config
from builder.pipeline import BuildOptions, BuildResult, SiteBuilder
from builder.problems import BuildFailed
from builder.search import BUNDLE, IndexJob, install, job_for
from builder.serve.http import ERROR_PAGE, ERROR_PAGE_ATTRIBUTE, Resolved, Snapshot, resolve
from builder.serve.indexer import BackgroundIndex
from builder.theme import find_theme, static_files

#: files a page embeds: when one changes, open tabs reload (stylesheets are swapped instead)
EMBEDDED = (".js", ".mjs", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".ico",
            ".woff", ".woff2", ".ttf", ".otf", ".mp4", ".webm", ".mp3", ".ogg", ".wasm")
HISTORY = 50


@dataclass
class Rebuild:
    """One build attempt, as the terminal, the tests and the benchmark see it."""

    ok: bool
    seconds: float
    sources: tuple[str, ...] = ()  # the changed files that caused it
    rendered: list[str] = field(default_factory=list)  # pages rendered, not reused
    parsed: list[str] = field(default_factory=list)  # articles parsed, not reused
    changed: list[str] = field(default_factory=list)  # output files whose bytes changed
    removed: list[str] = field(default_factory=list)  # output files gone
    problems: list[str] = field(default_factory=list)  # "path:line: message"
    articles: int = 0
    finished: float = 0.0  # time.monotonic() when the open tabs were told
    static_only: bool = False  # static files swapped in without a build


class Client:
    """One open tab's event stream: the path it shows and the states waiting to be sent."""

    def __init__(self, page: str):
        self.page = page
        self.last: dict | None = None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()

    def put(self, message: dict | None) -> None:
        self._queue.put(message)

    def next(self, timeout: float) -> dict | str | None:
        """The next state; ``""`` if none came within ``timeout``; ``None`` when stopping."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return ""


def to_stdout(text: str) -> None:
    print(text, flush=True)


def to_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class LiveSite:
    """Builds the site into memory, keeps the last good build, tells open tabs."""

    def __init__(self, site_dir: Path, drafts: bool = True,
                 out: Callable[[str], None] = to_stdout,
                 err: Callable[[str], None] = to_stderr):
        self.site_dir = Path(site_dir).resolve()
        self.builder = SiteBuilder(self.site_dir, BuildOptions(write=False, drafts=drafts,
                                                                cache=True, delta=True))
        self.server_id = secrets.token_hex(6)  # a restarted server is a new one to the tabs
        self.snapshot = Snapshot({}, base_path=_configured_base_path(self.site_dir), built=False)
        self.history: list[Rebuild] = []
        self.builds = 0
        self.result: BuildResult | None = None  # the last good full build
        self.out, self.err = out, err
        self._build_lock = threading.Lock()  # one build at a time
        self._clients: set[Client] = set()
        self._clients_lock = threading.Lock()  # also orders snapshot changes and subscriptions
        self._done = threading.Condition()
        self._warnings: list[str] = []
        # The search index is made in the background, never on the way to a reload.
        self.index = BackgroundIndex(self._publish_index, err)
        self.builder.search_later = self.index.submit

    # --- building -------------------------------------------------------------------

    def build(self, sources: Iterable[str] = (), jobs: int | None = 1) -> Rebuild:
        """Build now; on success serve the new site, on failure keep the old one.

        ``sources`` are the changed files (for the terminal, and to see whether
        only static files changed). ``jobs`` goes to :class:`BuildOptions`: a
        forked process pool is only safe before the server starts threads
        (see :mod:`builder.serve.server`).
        """
        sources = list(sources)
        with self._build_lock:
            started = time.perf_counter()
            self.builder.options.jobs = jobs
            shown = tuple(sorted(self._shown(path) for path in sources))
            record = self._swap_static(sources, shown, started)
            if record is None:
                record = self._full_build(shown, started, sources)
            record.finished = time.monotonic()
            self._report(record)
        with self._done:
            self.history = (self.history + [record])[-HISTORY:]
            self.builds += 1
            self._done.notify_all()
        return record

    def _full_build(self, shown: tuple[str, ...], started: float,
                    sources: list[str]) -> Rebuild:
        try:
            # The watcher's paths let edits to article bodies skip indexing (builder.delta).
            result = self.builder.build(saved=sources or None)
        except BuildFailed as failure:
            record = Rebuild(False, time.perf_counter() - started, shown,
                             problems=[str(p) for p in failure.problems])
        except Exception as exc:  # noqa: BLE001 - a bug must not stop the preview
            self.err(traceback.format_exc().rstrip())
            record = Rebuild(False, time.perf_counter() - started, shown,
                             problems=[f"postil: internal error: {type(exc).__name__}: {exc}"])
        else:
            self.result = result
            changed, removed = self._publish(result.files, result.config.base_path)
            if "delta" in result.timings:  # a delta build does not index: index it now
                job = job_for(result.site, result.files)
                if job is not None:
                    self.index.submit(job)
            return Rebuild(True, time.perf_counter() - started, shown,
                           rendered=list(result.rendered), parsed=list(result.parsed),
                           changed=changed, removed=removed,
                           problems=[str(p) for p in result.warnings],
                           articles=len(result.site.articles))
        self._set(replace(self.snapshot, errors=tuple(record.problems)))
        return record

    def _swap_static(self, sources: list[str], shown: tuple[str, ...],
                     started: float) -> Rebuild | None:
        """Edits of existing static files only: swap in their bytes, without a build.

        A static file becomes one output file and feeds no other (a test
        compares the outcome with a full build), so this is exact; and a
        stylesheet edit reaches the tab at once even where a build of the
        whole site takes seconds. Anything else (a new or deleted file, a
        theme file the site overrides, a pending error) takes a full build.
        """
        result, old = self.result, self.snapshot
        if not sources or result is None or old.errors or not old.built:
            return None
        theme = find_theme(result.config)
        if theme is None:
            return None
        outputs: dict[Path, list[str]] = {}
        for name, path in static_files(result.config, theme).items():
            outputs.setdefault(path.resolve(), []).append(name)
        files = dict(old.files)
        for source in sources:
            names = outputs.get(Path(source).resolve())
            if not names or any(name not in files for name in names):
                return None
            try:
                data = Path(source).read_bytes()
            except OSError:
                return None
            for name in names:
                files[name] = data
        changed, removed = self._publish(files, old.base_path)
        return Rebuild(True, time.perf_counter() - started, shown, changed=changed,
                       removed=removed, problems=self._warnings,
                       articles=len(result.site.articles), static_only=True)

    def _publish(self, files: dict[str, bytes], base: str) -> tuple[list[str], list[str]]:
        """Serve ``files`` from now on and tell the open tabs; (changed, removed) names."""
        old = self.snapshot
        if old.built and old.base_path == base:
            before = old.files
            # Reused pages are the very same bytes objects: "is" settles most of them.
            changed = [name for name, data in files.items()
                       if before.get(name) is not data and before.get(name) != data]
            removed = [name for name in before if name not in files]
        else:
            changed, removed = sorted(files), []
        touched = changed + removed if old.built else []
        css = tuple(base + name for name in touched if name.lower().endswith(".css"))
        assets = any(name.lower().endswith(EMBEDDED) for name in touched)
        self._set(Snapshot(files, base, True, (), css=old.css + bool(css),
                           css_paths=css or old.css_paths, assets=old.assets + assets))
        return changed, removed

    def _publish_index(self, job: IndexJob, fresh: dict[str, bytes]) -> None:
        """Serve a search index made in the background, if no newer one is on its way;
        the builder keeps it, for its next builds to start from."""
        with self._build_lock:
            if not self.index.current(job) or not self.snapshot.built:
                return
            last = self.builder._last  # what a delta build copies its files from
            install(self.builder._made, last.files if last is not None else None, job, fresh)
            old = self.snapshot.files
            files = {name: old[name] for name in old if not name.startswith(BUNDLE)}
            files.update(fresh)
            # Only the index's files change: the errors shown stay, and no tab reloads
            # (a search page keeps its query; its next search sees that the entry file
            # changed and loads the new index: js/search.js).
            self._set(replace(self.snapshot, files=files))

    def _report(self, record: Rebuild) -> None:
        """What the terminal shows: the same ``path:line: message`` lines as the overlay."""
        clock = time.strftime("%H:%M:%S")
        cause = _summary(record.sources)
        if not record.ok:
            for line in record.problems:
                self.err(line)
            count = len(record.problems)
            still = "serving the last good build" if self.result else "nothing to serve yet"
            self.err(f"{clock} build failed: {count} problem{'s' * (count != 1)}{cause}; "
                     f"{still}")
            return
        if record.problems != self._warnings:
            for line in record.problems:
                self.err(line)
        self._warnings = record.problems
        fixed = "fixed; " if self.history and not self.history[-1].ok else ""
        if self.builds == 0:
            self.out(f"{clock} built {record.articles} articles, {len(self.snapshot.files)} "
                     f"files in {record.seconds:.2f} s")
        elif record.static_only:
            count = len(record.changed)
            self.out(f"{clock} {count} static file{'s' * (count != 1)} swapped in "
                     f"{record.seconds * 1000:.0f} ms, no build needed{cause}")
        elif not record.changed and not record.removed:
            self.out(f"{clock} {fixed}rebuilt in {record.seconds:.2f} s: no page changed{cause}")
        else:
            pages = len(record.rendered)
            self.out(f"{clock} {fixed}rebuilt in {record.seconds:.2f} s: {pages} "
                     f"page{'s' * (pages != 1)} rendered, {len(record.changed)} "
                     f"changed{cause}")

    def _shown(self, path: str) -> str:
        try:
            return Path(path).resolve().relative_to(self.site_dir).as_posix()
        except ValueError:
            return str(path)

    def wait_for(self, predicate: Callable[[LiveSite], bool], timeout: float) -> bool:
        """Block until ``predicate(self)`` holds after some build, or ``timeout`` passes."""
        with self._done:
            return self._done.wait_for(lambda: predicate(self), timeout)

    # --- open tabs ------------------------------------------------------------------

    def _set(self, snapshot: Snapshot) -> None:
        with self._clients_lock:
            self.snapshot = snapshot
            tokens: dict[str, dict] = {}
            for client in self._clients:
                if client.page not in tokens:
                    tokens[client.page] = self.state_for(snapshot, client.page)
                self._push(client, tokens[client.page])

    @staticmethod
    def _push(client: Client, state: dict) -> None:
        if state != client.last:
            client.last = state
            client.put(state)

    def state_for(self, snapshot: Snapshot, page: str) -> dict:
        """Everything a tab at ``page`` compares with what it was served."""
        return {"server": self.server_id, "page": resolve(snapshot, page).token,
                "css": snapshot.css, "cssPaths": list(snapshot.css_paths),
                "assets": snapshot.assets, "errors": list(snapshot.errors)}

    def served(self, snapshot: Snapshot, response: Resolved) -> dict[str, str | int]:
        """What an HTML response tells its script it is (attributes of the script tag)."""
        served: dict[str, str | int] = {"server": self.server_id, "page": response.token,
                                         "css": snapshot.css, "assets": snapshot.assets}
        if response.name == ERROR_PAGE and not snapshot.built:
            served[ERROR_PAGE_ATTRIBUTE] = 1
        return served

    def subscribe(self, page: str) -> Client:
        client = Client(page)
        with self._clients_lock:
            self._clients.add(client)
            self._push(client, self.state_for(self.snapshot, page))
        return client

    def unsubscribe(self, client: Client) -> None:
        with self._clients_lock:
            self._clients.discard(client)

    @property
    def clients(self) -> int:
        with self._clients_lock:
            return len(self._clients)

    def close(self) -> None:
        """End every event stream (the server is stopping)."""
        self.index.close()
        with self._clients_lock:
            for client in self._clients:
                client.put(None)
            self._clients.clear()


def _configured_base_path(site_dir: Path) -> str:
    """The base path before any build succeeded, so the error page is where the site will be."""
    try:
        return load_config(site_dir)[0].base_path
    except BuildFailed:
        return "/"


def _summary(sources: tuple[str, ...]) -> str:
    if not sources:
        return ""
    more = f" and {len(sources) - 3} more" if len(sources) > 3 else ""
    return f" ({', '.join(sources[:3])}{more})"
