"""``postil serve`` over real HTTP: a server started in the test, on a free loopback port."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
from urllib.parse import urljoin, urlsplit

import html5lib
import pytest

from builder.cli import main
from builder.problems import BuildFailed
from builder.serve.server import PreviewServer
from conftest import REPO, SITE_YML, article, parse_html, text_of

ARCHIVE_YML = SITE_YML.replace("https://example.org/", "https://example.org/archive/")


def request(server: PreviewServer, path: str, method: str = "GET",
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Send ``path`` exactly as written (no normalisation), return status, headers, body."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True,
                              skip_host="Host" in (headers or {}))
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()




FILES: dict[str, str | bytes] = {
    "content/a.md": article("Alpha", "2024-05-01", tags="[one]", author="Ann"),
    "content/b.md": article("Beta", "2024-05-02", tags="[one, two]", author="Bo"),
    "static/data.json": '{"ok": true}\n',
    "static/feed.xml": "<?xml version='1.0'?><feed/>\n",
    "static/icon.svg": '<svg xmlns="http://www.w3.org/2000/svg"/>\n',
    "static/fonts/body.woff2": b"wOF2\x00\x01fake",
    "static/notes/file name ü.txt": "plain text\n",
    "static/app.js": "console.log(1);\n",
}


def test_pages_and_files_have_the_right_status_and_type(serve):
    server = serve(FILES)
    expected = {
        "/": "text/html; charset=utf-8",
        "/articles/a/": "text/html; charset=utf-8",
        "/css/style.css": "text/css; charset=utf-8",
        "/data.json": "application/json",
        "/feed.xml": "application/xml",
        "/icon.svg": "image/svg+xml",
        "/fonts/body.woff2": "font/woff2",
        "/app.js": "text/javascript; charset=utf-8",
        "/notes/file%20name%20%C3%BC.txt": "text/plain; charset=utf-8",
    }
    for path, kind in expected.items():
        status, headers, body = request(server, path)
        assert (status, headers["content-type"]) == (200, kind), path
        assert int(headers["content-length"]) == len(body) > 0
        assert headers["x-content-type-options"] == "nosniff"
    assert request(server, "/fonts/body.woff2")[2] == FILES["static/fonts/body.woff2"]
    page = parse_html(request(server, "/articles/a/")[2])  # strict: injection keeps it valid
    assert text_of(page.find(".//h1")) == "Alpha"


def test_folders_serve_index_html_and_slashless_paths_redirect(serve):
    server = serve(FILES)
    index = request(server, "/articles/a/index.html")
    folder = request(server, "/articles/a/")
    assert index[0] == folder[0] == 200
    assert text_of(parse_html(index[2]).find(".//h1")) == "Alpha"
    status, headers, body = request(server, "/articles/a?x=1")
    assert status == 301 and headers["location"] == "/articles/a/?x=1" and body == b""
    assert request(server, "/tags")[1]["location"] == "/tags/"
    assert request(server, "/articles/%61/")[0] == 200  # percent-encoded letters


def test_missing_pages_get_the_sites_404_page_with_status_404(serve):
    server = serve(FILES)
    for path in ("/nope/", "/articles/zzz/", "/css/", "/articles//a/", "/data.json/x"):
        status, headers, body = request(server, path)
        assert status == 404, path
        assert headers["content-type"] == "text/html; charset=utf-8"
        root = parse_html(body)
        assert text_of(root.find(".//h1")) == "Not found"
    head = request(server, "/nope/", method="HEAD")
    assert head[0] == 404 and head[2] == b""


def test_head_sends_the_headers_of_get_without_a_body(serve):
    server = serve(FILES)
    for path in ("/", "/css/style.css", "/data.json"):
        got = request(server, path)
        head = request(server, path, method="HEAD")
        assert head[0] == 200 and head[2] == b""
        assert head[1]["content-length"] == str(len(got[2]))
        assert head[1]["content-type"] == got[1]["content-type"]


@pytest.mark.parametrize("path", [
    "/../site.yml", "/..", "/%2e%2e/site.yml", "/%2E%2E/%2E%2E/site.yml", "/%2e%2e%2fsite.yml",
    "/articles/..%2f..%2fsite.yml", "/css/%2e%2e/%2e%2e/content/a.md", "/..%5csite.yml",
    "/css/..%5c..%5csite.yml", "/%c0%ae%c0%ae/site.yml", "/./site.yml", "/index.html%00",
    "/%252e%252e/site.yml", "//site.yml", "/content/a.md", "/site.yml",
])
def test_nothing_outside_the_site_is_served(serve, path):
    server = serve(FILES)
    status, _, body = request(server, path)
    assert status in (400, 404)
    assert b"title: Test archive" not in body and b"title: Alpha" not in body


def test_html_is_never_cached_and_other_files_revalidate(serve):
    server = serve(FILES)
    assert request(server, "/")[1]["cache-control"] == "no-store"
    assert request(server, "/nope/")[1]["cache-control"] == "no-store"
    _, headers, _ = request(server, "/css/style.css")
    assert headers["cache-control"] == "no-cache" and headers["etag"]
    status, _, body = request(server, "/css/style.css", headers={"If-None-Match": headers["etag"]})
    assert status == 304 and body == b""


def test_a_base_path_serves_the_site_under_it(serve):
    server = serve(FILES, config=ARCHIVE_YML)
    assert server.url.endswith("/archive/")
    assert request(server, "/archive/")[0] == 200
    assert request(server, "/archive/articles/a/")[0] == 200
    assert request(server, "/archive")[1]["location"] == "/archive/"
    assert request(server, "/")[1]["location"] == "/archive/"
    status, _, body = request(server, "/articles/a/")  # where it would be without the path
    assert status == 404
    not_found = parse_html(body)
    assert "/archive/" in [a.get("href") for a in not_found.iterfind(".//a")]
    # Every local link and stylesheet of the served pages resolves on the server.
    for page in ("/archive/", "/archive/articles/b/", "/archive/tags/one/", "/archive/nope/"):
        root = parse_html(request(server, page)[2])
        for element in root.iter():
            link = element.get("href") or element.get("src")
            if not link or urlsplit(link).scheme or link.startswith("#"):
                continue
            target = urlsplit(urljoin(page, link)).path
            assert request(server, target)[0] == 200, (page, link)


def test_the_script_is_injected_into_html_responses_only(serve, site):
    server = serve(FILES)
    _, _, home = request(server, "/")
    scripts = [s.get("src") for s in parse_html(home).iterfind(".//script")]
    assert scripts.count("/__postil/live.js") == 1
    for path in ("/css/style.css", "/data.json", "/app.js", "/feed.xml"):
        assert b"__postil" not in request(server, path)[2]
    status, headers, script = request(server, "/__postil/live.js")
    assert status == 200 and headers["content-type"].startswith("text/javascript")
    assert b"EventSource" in script
    assert not any(b"__postil" in data for data in server.live.snapshot.files.values())
    built = site.build()  # postil build output never contains it
    assert not any(b"__postil" in data for data in built.files.values())
    assert not any(b"__postil" in p.read_bytes() for p in (site.root / "public").rglob("*")
                   if p.is_file())


@pytest.mark.parametrize("template", [
    "<p id=t>{{ article.title }}</p>",  # no <html>, <head> or <body>
    "<!DOCTYPE html><title>x</title><body><p id=t>{{ article.title }}</p></body>",
    "<!DOCTYPE html><html><head><title>x</title></head><p id=t>{{ article.title }}</p></html>",
])
def test_pages_without_head_or_body_get_the_script_too(serve, template):
    server = serve({**FILES, "templates/article.html": template})
    body = request(server, "/articles/a/")[2]
    root = html5lib.parse(body, namespaceHTMLElements=False)  # not strict: no doctype here
    elements = [(e.tag, e.get("src") or e.get("id")) for e in root.iter()]
    assert elements.count(("script", "/__postil/live.js")) == 1
    assert elements.index(("p", "t")) < elements.index(("script", "/__postil/live.js"))


def test_the_first_build_failing_serves_an_error_page_until_fixed(serve, site):
    server = serve({"content/a.md": "---\ntitle: [\n---\n"})
    status, _, body = request(server, "/")
    assert status == 503
    problems = [text_of(li) for li in parse_html(body).iterfind(".//li")]
    with pytest.raises(BuildFailed) as failure:  # what `postil build` says
        site.build(write=False)
    assert problems == [str(p) for p in failure.value.problems]
    assert problems[0].startswith("content/a.md:3: invalid YAML")
    assert b"/__postil/live.js" in body
    site.write("content/a.md", article("Alpha again"))
    assert server.live.wait_for(lambda live: live.snapshot.built, timeout=20)
    assert request(server, "/articles/a/")[0] == 200


def test_other_host_names_are_refused_on_loopback(serve):
    server = serve(FILES)
    for host in ("localhost", f"localhost:{server.port}", f"127.0.0.1:{server.port}",
                 f"[::1]:{server.port}", "site.localhost"):
        assert request(server, "/", headers={"Host": host})[0] == 200, host
    for host in ("evil.example", f"evil.example:{server.port}", "127.0.0.1.evil.example"):
        status, _, body = request(server, "/", headers={"Host": host})
        assert status == 403 and b"localhost" in body, host


def test_unknown_methods_are_refused(serve):
    server = serve(FILES)
    assert request(server, "/", method="POST")[0] in (405, 501)


def test_a_port_in_use_is_reported_with_a_hint(site, capsys):
    site({"content/a.md": article("A")})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["serve", str(site.root), "--port", str(port)])
    error = capsys.readouterr().err
    assert code == 2
    assert f"port {port}" in error and "in use" in error and "--port" in error


def test_the_command_picks_a_free_port_prints_the_url_and_stops_on_sigterm(site):
    site({"content/a.md": article("Alpha")}, config=ARCHIVE_YML)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "builder", "serve", str(site.root),
                                "--port", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    try:
        url = None
        assert process.stdout is not None
        for _ in range(10):  # bounded: a few lines come before the URL
            line = process.stdout.readline()
            found = re.search(r"http://127\.0\.0\.1:(\d+)/archive/", line)
            if found:
                url = found
                break
        assert url is not None and url.group(1) != "0"
        connection = http.client.HTTPConnection("127.0.0.1", int(url.group(1)), timeout=20)
        connection.request("GET", "/archive/articles/a/")
        assert connection.getresponse().status == 200
        connection.close()
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
        assert process.returncode == 0 and "stopped" in out
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
