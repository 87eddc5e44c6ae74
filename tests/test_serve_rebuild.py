"""Watching, debouncing, incremental rebuilds, errors and the event stream, without a browser."""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
import time
from urllib.parse import quote

import pytest

from builder.pipeline import BuildOptions, SiteBuilder
from builder.problems import BuildFailed
from builder.serve.server import PreviewServer
from builder.serve.watch import Debouncer, is_editor_temp
from conftest import SITE_YML, article, parse_html, text_of

TIMEOUT = 20.0  # generous: a rebuild of these small sites takes well under a second






def twelve() -> dict[str, str]:
    """a1 … a12, one a day; tags t0–t2 by i % 3; authors Ann (odd) and Bo (even)."""
    return {f"content/a{i}.md": article(f"A{i}", f"2024-01-{i:02d}", tags=f"[t{i % 3}]",
                                        author="Ann" if i % 2 else "Bo")
            for i in range(1, 13)}


def rebuilt_for(server: PreviewServer, source: str, count: int = 1) -> list:
    """Wait until ``count`` builds were caused by ``source`` (a file or folder); return them."""
    def caused(live) -> list:
        return [r for r in live.history
                if any(s == source or s.startswith(source + "/") for s in r.sources)]
    assert server.live.wait_for(lambda live: len(caused(live)) >= count, TIMEOUT), \
        f"no rebuild for {source}: {server.lines}"  # type: ignore[attr-defined]
    return caused(server.live)


def heading(page: bytes) -> str:
    return text_of(parse_html(page).find(".//h1"))


def paragraph(page: bytes) -> str:
    return text_of(parse_html(page).find(".//p"))


def get(server: PreviewServer, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class EventStream:
    """A tab's event stream, read over a plain socket (a timeout leaves it usable)."""

    def __init__(self, server: PreviewServer, page: str):
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
        self.sock.sendall(f"GET /__postil/events?page={quote(page)}&hash=x HTTP/1.1\r\n"
                          f"Host: 127.0.0.1\r\n\r\n".encode())
        self.buffer = b""
        head = self._until(b"\r\n\r\n", time.monotonic() + TIMEOUT).decode().lower()
        assert head.startswith("http/1.1 200 ")
        assert "content-type: text/event-stream; charset=utf-8" in head

    def _until(self, mark: bytes, deadline: float) -> bytes:
        while mark not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("nothing within the timeout")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                raise TimeoutError("nothing within the timeout") from None
            if not chunk:
                raise EOFError("the stream ended")
            self.buffer += chunk
        block, self.buffer = self.buffer.split(mark, 1)
        return block

    def next_state(self, timeout: float = TIMEOUT) -> dict:
        """The next state sent, within ``timeout`` seconds in all (pings do not extend it)."""
        deadline = time.monotonic() + timeout
        while True:
            block = self._until(b"\n\n", deadline)
            for line in block.split(b"\n"):
                if line.startswith(b"data: "):
                    return json.loads(line[6:])

    def state_where(self, predicate, timeout: float = TIMEOUT) -> dict:
        """The first state for which ``predicate`` holds (builds may coalesce or not)."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.next_state(max(0.01, deadline - time.monotonic()))
            if predicate(state):
                return state

    def close(self) -> None:
        self.sock.close()


# --- debouncing ---------------------------------------------------------------------------

def test_a_burst_of_touches_is_one_call():
    calls: list[set[str]] = []
    done = threading.Event()

    def action(paths: set[str]) -> None:
        calls.append(paths)
        done.set()

    debouncer = Debouncer(action, quiet=1.0, max_wait=60)
    debouncer.start()
    try:
        for i in range(200):
            debouncer.touch(f"content/{i % 7}.md")
        assert done.wait(TIMEOUT)
        time.sleep(2.0)  # twice the quiet period: a second call would have come by now
        assert calls == [{f"content/{i}.md" for i in range(7)}]
    finally:
        debouncer.stop()


def test_changes_during_a_build_make_exactly_one_more_build():
    calls: list[set[str]] = []
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def action(paths: set[str]) -> None:
        calls.append(paths)
        if len(calls) == 1:
            started.set()
            release.wait(TIMEOUT)  # a slow build, during which saves keep coming
        else:
            finished.set()

    debouncer = Debouncer(action, quiet=0.05, max_wait=30)
    debouncer.start()
    try:
        debouncer.touch("a.md")
        assert started.wait(TIMEOUT)
        for i in range(50):
            debouncer.touch(f"b{i % 3}.md")
        release.set()
        assert finished.wait(TIMEOUT)
        time.sleep(0.5)
        assert calls == [{"a.md"}, {"b0.md", "b1.md", "b2.md"}]
    finally:
        debouncer.stop()


def test_editor_temporary_files_are_recognised():
    for name in (".a.md.swp", ".a.md.swo", "a.md~", "4913", "#a.md#", ".#a.md",
                 "a.md___jb_tmp___", "a.md___jb_old___", "a.md.tmp", ".goutputstream-X1Y2Z3",
                 "sedAb12Cd", "a.md.crswap"):
        assert is_editor_temp(name), name
    for name in ("a.md", "style.css", "_article_list.html", "site.yml", "2024-notes.md"):
        assert not is_editor_temp(name), name


def test_n_quick_saves_cause_one_rebuild(serve, site):
    # A quiet period long enough that a loaded machine cannot stall the loop past it.
    server = serve(twelve(), quiet=1.5, max_wait=60)
    path = site.root / "content/burst.md"
    for i in range(20):  # an editor's write-and-rename, a backup and an append, 20 times
        temp = path.with_name(".burst.md.tmp")
        temp.write_text(article(f"Burst {i}", "2024-02-01"), encoding="utf-8")
        os.replace(temp, path)
        path.with_name("burst.md~").write_text("backup", encoding="utf-8")
        with path.open("a", encoding="utf-8") as file:
            file.write(f"\nMore {i}.\n")
    rebuilt_for(server, "content/burst.md")
    time.sleep(3.0)  # two quiet periods: a second rebuild would have started
    builds = rebuilt_for(server, "content/burst.md")
    assert len(builds) == 1 and builds[0].ok
    assert builds[0].sources == ("content/burst.md",)  # the backup and temp file ignored
    assert heading(server.live.snapshot.files["articles/burst/index.html"]) == "Burst 19"


def test_swap_and_temporary_files_cause_no_rebuild(serve, site):
    server = serve(twelve(), quiet=0.1)
    before = server.live.builds
    for name in (".a1.md.swp", "a1.md~", "4913", "#a1.md#", ".#a1.md", "a1.md___jb_tmp___",
                 "a1.md.tmp", ".hidden/x.md"):
        site.write(f"content/{name}", "junk")
    site.write(".postil-cache/junk", "x")  # the cache and other dot folders are not sources
    time.sleep(1.0)
    assert server.live.builds == before
    site.write("content/a1.md", article("A1 edited", "2024-01-01", tags="[t1]", author="Ann"))
    assert rebuilt_for(server, "content/a1.md")[0].sources == ("content/a1.md",)


def test_polling_notices_changes_too(serve, site):
    server = serve(twelve(), poll=True)
    site.write("content/a3.md", article("A3 polled", "2024-01-03", tags="[t0]", author="Ann"))
    assert rebuilt_for(server, "content/a3.md")[0].ok
    assert heading(server.live.snapshot.files["articles/a3/index.html"]) == "A3 polled"


# --- incremental rebuilds -----------------------------------------------------------------

def test_one_article_edit_re_renders_only_the_pages_that_show_it(serve, site):
    server = serve(twelve())
    before = dict(server.live.snapshot.files)
    site.write("content/a5.md", article("A5 new title", "2024-01-05", tags="[t2]", author="Ann"))
    build = rebuilt_for(server, "content/a5.md")[0]
    assert build.ok and build.parsed == ["content/a5.md"]
    rendered = set(build.rendered)
    # Newest first, 3 a page: a5 is on page 3 with a6 and a4, its neighbours.
    shows_it = {"articles/a5/index.html", "articles/a4/index.html", "articles/a6/index.html",
                "page/3/index.html", "archive/index.html", "tags/t2/index.html",
                "authors/ann/page/2/index.html"}  # Ann's: a11, a9, a7 | a5, a3, a1
    assert shows_it <= rendered
    unrelated = {"articles/a1/index.html", "articles/a9/index.html", "articles/a12/index.html",
                 "index.html", "page/2/index.html", "page/4/index.html", "tags/t0/index.html",
                 "tags/t1/index.html", "authors/bo/index.html", "authors/ann/index.html",
                 "404.html"}
    assert not rendered & unrelated
    after = server.live.snapshot.files
    assert all(after[name] is before[name] for name in unrelated)  # the very same bytes
    pages = [name for name in after if name.endswith(".html")]
    assert len(rendered) < len(pages) / 2


def test_deleting_the_only_article_of_the_last_list_page_updates_the_others(serve, site):
    server = serve({f"content/a{i}.md": article(f"A{i}", f"2024-01-0{i}") for i in range(1, 5)})
    home = parse_html(server.live.snapshot.files["index.html"])  # 3 a page: a1 alone on page 2
    assert "Page 1 of 2" in text_of(home.find(".//nav[@class='pagination']"))
    (site.root / "content/a1.md").unlink()
    rebuilt_for(server, "content/a1.md")
    files = server.live.snapshot.files
    assert "page/2/index.html" not in files
    home = parse_html(files["index.html"])
    assert home.find(".//nav[@class='pagination']") is None  # one page: no "Page 1 of 2"
    assert files["index.html"] == SiteBuilder(site.root, BuildOptions(write=False)).build() \
        .files["index.html"]


def test_a_template_or_site_yml_change_rebuilds_what_depends_on_it(serve, site):
    server = serve(twelve())
    pages = {name for name in server.live.snapshot.files if name.endswith(".html")}
    site.write("site.yml", SITE_YML.replace("Test archive", "Renamed archive"))
    build = rebuilt_for(server, "site.yml")[0]
    assert build.ok and pages <= set(build.rendered)
    page = parse_html(server.live.snapshot.files["articles/a7/index.html"])
    assert text_of(page.find(".//title")).endswith("Renamed archive")
    # A templates/ folder made after the start is watched from then on.
    template = "<!DOCTYPE html><title>{{ article.title }}</title><p>%s</p>"
    site.write("templates/article.html", template % "first")
    rebuilt_for(server, "templates")
    assert server.live.wait_for(
        lambda live: paragraph(live.snapshot.files["articles/a7/index.html"]) == "first", TIMEOUT)
    site.write("templates/article.html", template % "second one")
    assert server.live.wait_for(lambda live: all(
        paragraph(live.snapshot.files[f"articles/a{i}/index.html"]) == "second one"
        for i in range(1, 13)), TIMEOUT)


def test_static_file_edits_are_swapped_in_and_equal_a_full_build(serve, site):
    server = serve({**twelve(), "static/css/style.css": "body { color: black }\n",
                    "static/robots.txt": "User-agent: *\n"})
    site.write("static/css/style.css", "body { color: navy }\n")
    swap = rebuilt_for(server, "static/css/style.css")[0]
    assert swap.static_only and swap.changed == ["css/style.css"] and swap.rendered == []
    site.write("static/robots.txt", "User-agent: *\nDisallow: /drafts/\n")
    assert rebuilt_for(server, "static/robots.txt")[0].static_only
    # No page is made from a static file's bytes: a whole new build agrees byte for byte.
    # (If one ever is, say a stylesheet hash in <link>, LiveSite._swap_static must go.)
    fresh = SiteBuilder(site.root, BuildOptions(write=False, drafts=True, cache=False)).build()
    assert fresh.files == server.live.snapshot.files
    site.write("static/css/new.css", "p { color: red }\n")  # a new file takes a build
    build = rebuilt_for(server, "static/css/new.css")[0]
    assert not build.static_only and build.ok
    assert server.live.snapshot.files["css/new.css"] == b"p { color: red }\n"


# --- errors and what open tabs are told --------------------------------------------------

def test_errors_keep_the_last_good_site_and_reach_tabs_and_terminal(serve, site):
    server = serve(twelve())
    stream = EventStream(server, "/articles/a2/")
    try:
        first = stream.next_state()
        assert first["errors"] == [] and first["server"] == server.live.server_id
        site.write("content/a2.md", "---\ntitle: [\ndate: 2024-01-02\n---\nBroken.\n")
        broken = stream.next_state()
        with pytest.raises(BuildFailed) as failure:
            site.build(write=False)
        expected = [str(p) for p in failure.value.problems]
        assert broken["errors"] == expected and expected[0].startswith("content/a2.md:")
        assert broken["page"] == first["page"]  # still the last good page: no reload
        assert set(expected) <= set(server.lines)  # type: ignore[attr-defined]
        status, body = get(server, "/articles/a2/")
        assert status == 200 and heading(body) == "A2"
        # Fixed, but a template broken: reading succeeds, so rendering reports this one.
        site.write("content/a2.md", article("A2 fixed", "2024-01-02", tags="[t2]", author="Bo"))
        site.write("templates/article.html", "{% if %}")
        template = stream.state_where(lambda state: state["errors"] != expected)
        assert len(template["errors"]) == 1
        assert template["errors"][0].startswith("templates/article.html:1: template syntax error")
        assert template["page"] == first["page"]
        (site.root / "templates/article.html").unlink()
        fixed = stream.state_where(lambda state: not state["errors"])
        assert fixed["page"] != first["page"]  # the tab reloads to show the fix
        assert heading(get(server, "/articles/a2/")[1]) == "A2 fixed"
    finally:
        stream.close()


def test_an_unknown_entity_reaches_the_tab_as_an_error(serve, site):
    server = serve(twelve())
    stream = EventStream(server, "/articles/a2/")
    try:
        stream.next_state()
        site.write("content/a2.md", article("A2", "2024-01-02", body="See [[Nobody Here]].",
                                            tags="[t2]", author="Bo"))
        state = stream.state_where(lambda state: state["errors"])
        with pytest.raises(BuildFailed) as failure:
            site.build(write=False)
        assert state["errors"] == [str(p) for p in failure.value.problems]
        assert any(e.startswith("content/a2.md:") and "unknown entity" in e
                   for e in state["errors"])
    finally:
        stream.close()


def test_tabs_are_told_of_stylesheet_and_asset_changes_and_not_of_unrelated_edits(serve, site):
    server = serve({**twelve(), "static/css/style.css": "body { color: black }\n",
                    "static/app.js": "1;\n"})
    stream = EventStream(server, "/articles/a2/")
    try:
        first = stream.next_state()
        site.write("content/a9.md", article("A9 changed", "2024-01-09", tags="[t0]",
                                            author="Ann"))
        rebuilt_for(server, "content/a9.md")
        with pytest.raises(TimeoutError):
            stream.next_state(timeout=1.0)  # a2's page did not change: nothing to say
        site.write("static/css/style.css", "body { color: navy }\n")
        css = stream.next_state()
        assert css["css"] == first["css"] + 1 and css["cssPaths"] == ["/css/style.css"]
        assert css["page"] == first["page"] and css["assets"] == first["assets"]
        site.write("static/app.js", "2;\n")
        assert stream.next_state()["assets"] == first["assets"] + 1
    finally:
        stream.close()


def test_stopping_the_server_ends_event_streams(serve):
    server = serve(twelve())
    stream = EventStream(server, "/")
    try:
        stream.next_state()
        server.stop()
        with pytest.raises((EOFError, ConnectionError)):
            stream.next_state()
    finally:
        stream.close()


def test_a_saved_image_of_a_bundle_is_served_after_a_full_build(serve, site):
    server = serve({**twelve(), "content/hello/index.md": article("Hello", body="![c](cat.png)"),
                    "content/hello/cat.png": b"\x89PNG one"})
    assert get(server, "/articles/hello/cat.png") == (200, b"\x89PNG one")
    site.write("content/hello/cat.png", b"\x89PNG two")
    build = rebuilt_for(server, "content/hello/cat.png")[0]
    assert build.ok and not build.static_only and "articles/hello/cat.png" in build.changed
    assert get(server, "/articles/hello/cat.png") == (200, b"\x89PNG two")
    fresh = SiteBuilder(site.root, BuildOptions(write=False, drafts=True, cache=False)).build()
    assert fresh.files == server.live.snapshot.files
