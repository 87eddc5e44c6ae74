"""Measure ``postil serve``: the time from saving a file to the reload event in the tab.

    python bench/serve_latency.py [--articles N ...] [--edits E] [--seed S] [--keep DIR]
                                  [--poll] [--no-template]

For each N (default 1000 and 10000) it generates a corpus with
``bench/generate.py`` (reused from ``DIR/articles-N`` with ``--keep``), then,
in a fresh child process (so that the first build may use the process pool,
as ``postil serve`` does):

1. starts a :class:`~builder.serve.server.PreviewServer` on a free loopback
   port and times the first build (its parsed-article cache is cleared
   first, so this is a cold start);
2. opens the event stream of one article's page over HTTP, as the injected
   script does, and reads its first state;
3. E times: saves that article as an editor does (write a temporary file,
   rename it over the original), with one more sentence at the end, and
   times the moment of the rename to the arrival of the state that tells the
   tab to reload (its page token changed). That includes the watcher, the
   debounce wait, the incremental rebuild and the event;
4. the same for a stylesheet (the event that swaps it) and, unless
   ``--no-template``, for one edit of a template the site overrides
   (``templates/article.html``, a copy of the theme's), which re-renders
   every page.

It prints a Markdown table per N. The latency figures are per event:
median, min and max over the E edits; "build" is the rebuild alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.build import corpus  # noqa: E402
from builder import __version__  # noqa: E402
from builder.cache import CACHE_DIR  # noqa: E402

TIMEOUT = 900.0  # a full re-render of a large site, single-process, can take a while
PAUSE = 0.5  # between edits, so that each is its own burst
_RSS_UNIT = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, else KiB


class Stream:
    """A tab's event stream: ``GET /__postil/events`` read over a socket."""

    def __init__(self, port: int, page: str):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.sock.sendall(f"GET /__postil/events?page={quote(page)}&hash=bench HTTP/1.1\r\n"
                          "Host: 127.0.0.1\r\n\r\n".encode())
        self.buffer = b""
        self._block()  # the response head

    def _block(self) -> bytes:
        while b"\n\n" not in self.buffer.replace(b"\r\n", b"\n"):
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the event stream ended")
            self.buffer += chunk
        text = self.buffer.replace(b"\r\n", b"\n")
        block, rest = text.split(b"\n\n", 1)
        self.buffer = rest
        return block

    def state(self) -> dict:
        while True:
            for line in self._block().split(b"\n"):
                if line.startswith(b"data: "):
                    return json.loads(line[6:])

    def until(self, predicate) -> tuple[dict, float]:
        """The first state for which ``predicate`` holds, and when it arrived."""
        while True:
            state = self.state()
            if predicate(state):
                return state, time.perf_counter()


def save(path: Path, text: str) -> float:
    """Save as editors do (temporary file, then rename); return the moment of the rename."""
    temp = path.with_name(f".{path.name}.bench-tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)
    return time.perf_counter()


def measure(site: Path, edits: int, poll: bool, template: bool) -> dict:
    """Run in a child process: start the server, time the edits, return the figures."""
    from builder.serve.server import PreviewServer

    theme = REPO / "themes" / "default"
    shutil.rmtree(site / CACHE_DIR, ignore_errors=True)
    for folder in ("templates", "static"):
        shutil.rmtree(site / folder, ignore_errors=True)
    # The files the benchmark edits exist before the start: the site overrides the
    # theme's article template and stylesheet with copies of them.
    (site / "templates").mkdir()
    shutil.copyfile(theme / "templates" / "article.html", site / "templates" / "article.html")
    (site / "static" / "css").mkdir(parents=True)
    shutil.copyfile(theme / "static" / "css" / "style.css", site / "static" / "css" / "style.css")
    time.sleep(0.05)  # their mtimes fall before the server's start (see builder/serve/server.py)
    lines: list[str] = []
    started = time.perf_counter()
    server = PreviewServer(site, port=0, poll=poll, out=lines.append, err=lines.append)
    try:
        server.start()
        first_build = time.perf_counter() - started
        figures = edit_and_time(site, server, edits, template)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * _RSS_UNIT / 2**20
        return figures | {"first_build": first_build, "rss": rss}
    except Exception:
        print("\n".join(lines), file=sys.stderr)  # what the server said, for the failure
        raise
    finally:
        server.stop()
        for folder in ("templates", "static"):
            shutil.rmtree(site / folder, ignore_errors=True)


def edit_and_time(site: Path, server, edits: int, template: bool) -> dict:
    live = server.live
    result = live.result
    assert result is not None, "the first build failed"
    articles = sorted(result.site.articles, key=lambda a: a.source)
    article = articles[len(articles) // 2]
    path = site / article.source
    original = path.read_text(encoding="utf-8")
    stream = Stream(server.port, live.snapshot.base_path + article.url.lstrip("/"))
    state = stream.state()
    rows: dict[str, list[tuple[float, float, int]]] = {"article": [], "stylesheet": [],
                                                      "template": []}

    def timed(kind: str, file: Path, text: str, changed: str) -> None:
        nonlocal state
        time.sleep(PAUSE)
        before = state[changed]
        saved = save(file, text)
        state, arrived = stream.until(lambda s: s[changed] != before)
        source = file.relative_to(site).as_posix()
        build = next(b for b in reversed(live.history) if source in b.sources)
        rows[kind].append((arrived - saved, build.seconds, len(build.rendered)))

    try:
        text = original
        for i in range(edits):
            text += f"\nOne more sentence, number {i}, saved by the benchmark.\n"
            timed("article", path, text, "page")
        css = site / "static" / "css" / "style.css"
        base_css = css.read_text(encoding="utf-8")
        for i in range(edits):
            timed("stylesheet", css, base_css + f"\n/* edit {i} */\n", "css")
        if template:
            file = site / "templates" / "article.html"
            source = file.read_text(encoding="utf-8")
            assert "{% block main %}" in source
            timed("template", file, source.replace(
                "{% block main %}", "{% block main %}<!-- edited by the benchmark -->", 1), "page")
    finally:
        path.write_text(original, encoding="utf-8")
    return {"articles": len(result.site.articles), "files": len(result.files), "rows": rows}


def table(size: int, data: dict, made: str) -> str:
    out = [f"### {size:,} articles\n", f"corpus: {made}; {data['files']:,} files served; "
           f"first build (cold, with the process pool): {data['first_build']:.2f} s; "
           f"server peak RSS {data['rss']:,.0f} MiB\n",
           "| change | events | save → reload event, median ms | min ms | max ms "
           "| rebuild median ms | pages rendered |", "|---|--:|--:|--:|--:|--:|--:|"]
    for name, rows in data["rows"].items():
        if not rows:
            continue
        latency = [r[0] * 1000 for r in rows]
        build = [r[1] * 1000 for r in rows]
        pages = int(statistics.median(r[2] for r in rows))
        out.append(f"| {name} | {len(rows)} | {statistics.median(latency):,.0f} "
                   f"| {min(latency):,.0f} | {max(latency):,.0f} "
                   f"| {statistics.median(build):,.0f} | {pages:,} |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time save → reload event of postil serve.")
    parser.add_argument("--articles", type=int, nargs="+", default=[1000, 10000], metavar="N")
    parser.add_argument("--edits", type=int, default=5, metavar="E",
                        help="article and stylesheet saves to time per size (default 5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR",
                        help="generate into DIR/articles-N and keep it (reused next time)")
    parser.add_argument("--poll", action="store_true", help="use the polling observer")
    parser.add_argument("--no-template", dest="template", action="store_false",
                        help="skip the template edit (a full re-render)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:  # one measurement, in a fresh process
        print(json.dumps(measure(args.child, args.edits, args.poll, args.template)))
        return 0
    if any(n < 1 for n in args.articles) or args.edits < 1:
        parser.error("sizes and --edits must be 1 or more")
    print(f"## Postil {__version__} preview latency\n\nPython {platform.python_version()} on "
          f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
          f"{'polling' if args.poll else 'inotify'} watcher, seed {args.seed}\n", flush=True)
    with tempfile.TemporaryDirectory(prefix="postil-serve-bench-") as temp:
        root = args.keep or Path(temp)
        root.mkdir(parents=True, exist_ok=True)
        for size in sorted(set(args.articles)):
            site, made = corpus(root, size, args.seed)
            command = [sys.executable, __file__, "--child", str(site), "--edits",
                       str(args.edits)] + (["--poll"] if args.poll else []) + \
                      ([] if args.template else ["--no-template"])
            child = subprocess.run(command, capture_output=True, text=True, timeout=3600)
            if child.returncode != 0:
                print(child.stdout + child.stderr, file=sys.stderr)
                return 1
            print(table(size, json.loads(child.stdout.strip().splitlines()[-1]), made),
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
