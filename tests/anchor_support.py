"""What the browser tests of annotations and note toggles share: Debian's chromium driven by
Playwright, a static server on 127.0.0.1, and the npm anchoring libraries loaded into a page.

Playwright never downloads a browser: it is given ``/usr/bin/chromium`` (``POSTIL_CHROMIUM``
overrides it). The libraries come from ``node_modules/`` as ``npm ci`` installs them from the
committed ``package-lock.json``. Without Playwright, chromium or those packages a test is
skipped, and fails under ``CI=true`` (``.ci/run`` installs all three).

The libraries are CommonJS modules. :func:`anchoring_script` puts them into one script with
a ``require`` of a dozen lines that resolves as Node does (``node_modules`` folders up the
tree, a package's ``main``, ``index.js``), so no bundler is needed.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("POSTIL_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 20_000
#: global name in the page → npm package
LIBRARIES = {"textPosition": "dom-anchor-text-position", "textQuote": "dom-anchor-text-quote"}
_REQUIRE = re.compile(r"""\brequire\(\s*(['"])([^'"]+)\1\s*\)""")


def unavailable(reason: str) -> None:
    """Skip the test, or fail it under ``CI=true``, where everything must be installed."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI installs it: see .ci/run)", pytrace=False)
    pytest.skip(reason)


def sync_api():  # noqa: ANN201 - the playwright.sync_api module
    try:
        from playwright import sync_api
    except ImportError:
        unavailable("Playwright is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        unavailable(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    return sync_api


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """One headless Debian chromium for a module's tests."""
    api = sync_api()
    with api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS,
                                             timeout=60_000)
        try:
            yield browser
        finally:
            browser.close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextlib.contextmanager
def serve_folder(folder: Path, handler: Callable[..., http.server.BaseHTTPRequestHandler]
                 | None = None, path: str = "/") -> Iterator[str]:
    """Serve ``folder`` over HTTP on 127.0.0.1 (a free port), quietly or through
    ``handler`` (a request handler class made for ``folder``); yields the base URL, the
    site at ``path``."""
    handler = handler or functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{path}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _as_file(base: Path) -> Path | None:
    for candidate in (base, base.with_name(base.name + ".js"),
                      base.with_name(base.name + ".json"), base / "index.js"):
        if candidate.is_file():
            return candidate
    return None


def _resolve(request: str, folder: Path) -> Path:
    """Node's resolution of ``require(request)`` from a module in ``folder``."""
    if request.startswith(("./", "../", "/")):
        found = _as_file((folder / request).resolve())
    else:
        found = None
        for parent in (folder, *folder.parents):
            package = parent / "node_modules" / request
            if package.is_dir():
                main = json.loads((package / "package.json").read_text()).get("main")
                found = (_as_file((package / main).resolve()) if main else None) \
                    or _as_file(package / "index.js")
                break
    if found is None:
        raise FileNotFoundError(f"cannot resolve require({request!r}) from {folder}")
    return found


@functools.cache
def anchoring_script() -> str:
    """One script that sets ``window.textPosition`` and ``window.textQuote`` to the npm
    packages of :data:`LIBRARIES`, loaded from ``node_modules/``."""
    modules = REPO / "node_modules"
    missing = [name for name in LIBRARIES.values() if not (modules / name).is_dir()]
    if missing:
        unavailable(f"npm packages missing: {', '.join(missing)} (run npm ci)")
    ids: dict[Path, int] = {}
    parts: list[str] = []

    def load(path: Path) -> int:
        if path in ids:
            return ids[path]
        ids[path] = number = len(ids)
        parts.append("")  # (its place: filled below, after its dependencies have ids)
        source = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            source = f"module.exports = {source};"
        source = re.sub(r"^//# sourceMappingURL=.*$", "", source, flags=re.M)
        links = {request: load(_resolve(request, path.parent))
                 for _, request in _REQUIRE.findall(source)}
        parts[number] = (f"{number}: [function (module, exports, require) {{\n{source}\n}}, "
                         f"{json.dumps(links)}]")
        return number

    entries = {name: load(_resolve(package, REPO)) for name, package in LIBRARIES.items()}
    return ("(function () {\nvar modules = {\n" + ",\n".join(parts) + "\n};\n"
            "var cache = {};\n"
            "function load(id) {\n"
            "  if (cache[id]) return cache[id].exports;\n"
            "  var module = cache[id] = {exports: {}};\n"
            "  modules[id][0].call(module.exports, module, module.exports, function (request) {\n"
            "    if (!(request in modules[id][1])) throw new Error('not bundled: ' + request);\n"
            "    return load(modules[id][1][request]);\n"
            "  });\n"
            "  return module.exports;\n"
            "}\n"
            + "".join(f"window.{name} = load({number});\n" for name, number in entries.items())
            + "})();\n")
