"""``postil serve`` as a new user starts it: ``--open``, ``-p``, and the page shown when
the very first build fails (issue 14). Over real HTTP on a free loopback port."""

from __future__ import annotations

import urllib.request

import pytest
from test_serve_http import request

from builder.cli import main, make_parser
from builder.problems import BuildFailed
from conftest import article, own_theme, parse_html, text_of

BROKEN = {"content/a.md": "---\ntitle: [\n---\n",
          "content/b.md": "---\ntitle: B\ndate: someday\n---\n"}


def test_p_is_short_for_port():
    assert make_parser().parse_args(["serve", "-p", "8123"]).port == 8123
    assert make_parser().parse_args(["serve", "--port", "8123"]).port == 8123
    assert make_parser().parse_args(["serve"]).open is False


def test_open_opens_the_browser_at_the_served_site(site, monkeypatch, capsys):
    site({"content/a.md": article("Alpha")})
    own_theme(site.root)
    opened: list[tuple[str, int, str]] = []

    def opener(url: str, *args, **kwargs) -> bool:
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with direct.open(url, timeout=20) as response:  # served by now
            page = parse_html(response.read())
            opened.append((url, response.status, text_of(page.find(".//title"))))
        raise KeyboardInterrupt  # what Ctrl+C does: the server stops, serve returns 0

    monkeypatch.setattr("webbrowser.open", opener)
    assert main(["serve", str(site.root), "-p", "0", "--open"]) == 0
    lines = capsys.readouterr().out.splitlines()
    serving = [line for line in lines if line.startswith("Serving ")]
    url = serving[0].rsplit(" at ", 1)[1]
    assert len(serving) == 1 and url.startswith("http://127.0.0.1:")
    assert opened == [(url, 200, "Test archive")]
    assert lines[-1] == "stopped"


def test_no_browser_found_says_where_to_go(monkeypatch, capsys):
    from builder.serve.command import open_browser

    monkeypatch.setattr("webbrowser.open", lambda url, *a, **k: False)
    assert open_browser("http://127.0.0.1:8000/") is False
    assert capsys.readouterr().out == (
        "note: no web browser found to open; open http://127.0.0.1:8000/ yourself\n")


def test_the_first_failed_build_shows_a_clear_page(serve, site):
    server = serve(BROKEN)
    with pytest.raises(BuildFailed) as failure:  # what `postil build` says
        site.build(write=False)
    expected = [str(p) for p in failure.value.problems]
    assert len(expected) == 2
    status, _, body = request(server, "/articles/a/")
    assert status == 503
    page = parse_html(body)
    assert text_of(page.find(".//h1")) == "The site failed to build"
    problems = [text_of(li) for li in page.iterfind(".//ul[@class='postil-problems']/li")]
    assert problems == expected  # each once
    text = text_of(page.find("body"))
    assert all(text.count(line) == 1 for line in expected)
    assert "last good build" not in text and "has not built once yet" in text
    scripts = [s for s in page.iter("script") if s.get("src") == "/__postil/live.js"]
    assert len(scripts) == 1 and scripts[0].get("data-error-page") == "1"  # no overlay on it

    site.write("content/a.md", article("Alpha"))
    site.write("content/b.md", article("Beta"))
    assert server.live.wait_for(lambda live: live.snapshot.built, timeout=20)
    site.write("content/b.md", BROKEN["content/b.md"])  # a later failure: the overlay's turn
    assert server.live.wait_for(lambda live: bool(live.snapshot.errors), timeout=20)
    status, _, body = request(server, "/articles/a/")
    assert status == 200
    scripts = [s for s in parse_html(body).iter("script")
               if s.get("src") == "/__postil/live.js"]
    assert len(scripts) == 1 and scripts[0].get("data-error-page") is None


def test_the_error_page_lists_a_repeated_problem_once():
    from builder.serve.http import error_page

    page = parse_html(error_page(("a.md:1: x", "a.md:1: x", "b.md:2: y")))
    assert [text_of(li) for li in page.iterfind(".//li")] == ["a.md:1: x", "b.md:2: y"]
    assert "Fix the 2 problems below" in text_of(page.find(".//p"))
