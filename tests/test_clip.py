"""``postil add``: pages served from 127.0.0.1, written into a site with their snapshot."""

from __future__ import annotations

import http.server
import socket
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest

from builder import frontmatter
from builder.cli import main
from builder.clip import ClipError, add, read_page
from conftest import REPO, SITE_YML

PAGES = REPO / "tests" / "fixtures" / "clip"
NEWS_URL = "https://ledger.example/news/2024/harbour-reopens-grain-quay"  # its canonical URL


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, str, bytes, dict[str, str]]] = {}
    hold: threading.Event = threading.Event()

    def do_GET(self) -> None:  # noqa: N802 (the library's name)
        if self.path == "/hang":  # answers only once the test is over: the client times out
            self.hold.wait(30)
            return
        status, kind, body, headers = self.routes.get(
            self.path, (404, "text/plain", b"not here", {}))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


CYRILLIC = ("<!DOCTYPE html><html><head><title>Доклад о порте</title></head><body><article>"
            "<h1>Доклад о порте</h1><p>" + "Портовое управление открыло старый причал. " * 12
            + "</p></article></body></html>")


@pytest.fixture
def server():
    html = "text/html; charset=utf-8"
    _Handler.routes = {
        "/news": (200, html, (PAGES / "news.html").read_bytes(), {}),
        "/blog": (200, html, (PAGES / "blog.html").read_bytes(), {}),
        "/login": (200, html, (PAGES / "no-article.html").read_bytes(), {}),
        "/old-blog": (301, html, b"", {"Location": "/blog"}),
        "/report.pdf": (200, "application/pdf", b"%PDF-1.4 not a page", {}),
        # Its encoding only in the HTTP header (no <meta charset>), as many servers do
        "/cyrillic": (200, "text/html; charset=windows-1251", CYRILLIC.encode("cp1251"), {}),
    }
    _Handler.hold = threading.Event()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    _Handler.hold.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "content").mkdir(parents=True)
    # a page about a source is the site author's note: a site that clips names its author
    (root / "site.yml").write_text(SITE_YML + "author: Ada Reader\n", encoding="utf-8")
    return root


def meta_of(path: Path) -> dict:
    doc, problems = frontmatter.load(path.name, path.read_bytes())
    assert not problems
    return doc.meta


def files_in(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_a_news_article_gets_its_byline_dates_and_canonical_url(server, folder):
    article, snapshot = add(folder, f"{server}/news")
    assert article == folder / "content/harbour-authority-reopens-the-old-grain-quay.md"
    assert snapshot == folder / "sources/harbour-authority-reopens-the-old-grain-quay.html"
    assert snapshot.read_bytes() == (PAGES / "news.html").read_bytes()
    meta = meta_of(article)
    assert meta["title"] == "Harbour authority reopens the old grain quay"
    assert meta["author"] == "Miriam Okafor"
    assert meta["publication"] == "The Coastal Ledger"
    assert meta["source"] == NEWS_URL  # <link rel=canonical>, not the address fetched
    assert str(meta["date"]) == "2024-03-14" and str(meta["updated"]) == "2024-03-16"
    assert meta["snapshot"] == "sources/harbour-authority-reopens-the-old-grain-quay.html"
    assert meta["read"] in (date.today(), date.today() - timedelta(days=1))  # clipped today


def test_the_clipped_article_builds_and_its_quotes_are_checked(server, folder, capsys):
    article, _ = add(folder, f"{server}/news")
    text = article.read_text(encoding="utf-8")
    article.write_text(text + '\n> {==the first coaster tied up==}\n\nHe said {"We rebuilt it '
                       'for the ships that come now"}; the {"cost was 12 million"}.\n',
                       encoding="utf-8")
    assert main(["check", str(folder)]) == 1
    err = capsys.readouterr().err
    assert 'quote not found in source: "cost was 12 million"' in err
    assert err.count("quote not found") == 1
    assert "sources/" not in "".join(files_in(folder / "content"))


def test_a_blog_post_that_shows_only_an_updated_date(server, folder):
    article, _ = add(folder, f"{server}/blog")
    meta = meta_of(article)
    assert meta["title"] == "Why I still keep a paper index"
    assert meta["author"] == "Jonas Lindqvist" and meta["publication"] == "Field Notes"
    assert str(meta["updated"]) == "2023-11-02"
    assert "date" not in meta  # never "published" when the page says "last updated"
    assert meta["source"] == f"{server}/blog"  # no canonical link: the address itself


def test_a_redirect_stores_the_final_url_and_an_archived_url_is_refused(server, folder):
    article, _ = add(folder, f"{server}/old-blog")
    assert meta_of(article)["source"] == f"{server}/blog"
    before = files_in(folder)
    for again in (f"{server}/blog", f"{server}/old-blog"):
        with pytest.raises(ClipError) as refused:
            add(folder, again)
        assert "archived already: content/why-i-still-keep-a-paper-index.md" in str(refused.value)
    assert files_in(folder) == before


@pytest.mark.parametrize("path, message", [
    ("/login", "no article text found"),
    ("/report.pdf", "not an HTML page (Content-Type: application/pdf)"),
    ("/missing", "HTTP 404"),
])
def test_what_is_no_article_leaves_no_file(server, folder, capsys, path, message):
    before = files_in(folder)
    assert main(["add", f"{server}{path}", str(folder)]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1  # one line
    assert files_in(folder) == before


def test_a_server_that_never_answers_times_out(server, folder, capsys):
    assert main(["add", f"{server}/hang", str(folder), "--timeout", "0.3"]) == 1
    err = capsys.readouterr().err
    assert "no answer within 0.3 seconds" in err and err.count("\n") == 1
    assert files_in(folder) == ["site.yml"]


def test_a_refused_connection(folder, capsys):
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["add", f"http://127.0.0.1:{port}/x", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "cannot fetch" in err and err.count("\n") == 1
    assert files_in(folder) == ["site.yml"]


def test_a_saved_page_is_read_from_its_file(folder, tmp_path):
    saved = tmp_path / "saved.html"
    saved.write_bytes((PAGES / "news.html").read_bytes())
    article, snapshot = add(folder, str(saved))
    assert meta_of(article)["source"] == NEWS_URL
    with pytest.raises(ClipError, match="archived already"):
        add(folder, str(saved))
    assert snapshot.is_file()


def test_a_failed_write_leaves_nothing(server, folder):
    (folder / "sources").write_text("a file where the folder goes", encoding="utf-8")
    with pytest.raises(ClipError, match="cannot write"):
        add(folder, f"{server}/news")
    assert files_in(folder) == ["site.yml", "sources"]


def test_a_saved_page_with_no_address_is_told_to_get_a_source(folder, tmp_path, capsys):
    # A page saved without <link rel=canonical> or og:url would get no source: its page
    # would be taken for the archive's own writing, by the source's author.
    saved = tmp_path / "saved.html"
    saved.write_bytes((PAGES / "blog.html").read_bytes())
    assert main(["add", str(saved), str(folder)]) == 0
    err = capsys.readouterr().err
    article = folder / "content/why-i-still-keep-a-paper-index.md"
    assert "source" not in meta_of(article)
    assert err.count("\n") == 1 and "warning:" in err and f"source: URL to {article}" in err


def test_a_saved_page_keeps_the_address_the_browser_wrote(folder, tmp_path, capsys):
    url = "https://fieldnotes.example/2023/paper-index"
    saved = tmp_path / "saved.html"
    saved.write_bytes(b"<!-- saved from url=(0042)" + url.encode() + b" -->\n"
                      + (PAGES / "blog.html").read_bytes())
    assert main(["add", str(saved), str(folder)]) == 0
    assert capsys.readouterr().err == ""
    assert meta_of(folder / "content/why-i-still-keep-a-paper-index.md")["source"] == url
    with pytest.raises(ClipError, match="archived already"):
        add(folder, str(saved))


def test_a_site_with_no_author_is_told_to_name_one(server, folder, capsys):
    (folder / "site.yml").write_text(SITE_YML, encoding="utf-8")
    assert main(["add", f"{server}/news", str(folder)]) == 0
    err = capsys.readouterr().err
    assert "names no author" in err and err.count("\n") == 1
    assert main(["build", str(folder), "-o", str(folder / "public")]) == 1
    assert "author is required" in capsys.readouterr().err


def test_a_fragment_is_no_part_of_the_address(server, folder):
    add(folder, f"{server}/blog")
    with pytest.raises(ClipError, match="archived already: content/why-i-still"):
        add(folder, f"{server}/blog#comments")


def test_another_source_of_the_same_title_gets_a_file_of_its_own(folder, tmp_path):
    paths = []
    for number in (1, 2, 3):
        saved = tmp_path / f"saved-{number}.html"
        saved.write_bytes(f"<!-- saved from url=(0031)https://{number}.example/index -->\n"
                          .encode() + (PAGES / "blog.html").read_bytes())
        paths.append(add(folder, str(saved)))
    assert [(a.name, s.name) for a, s in paths] == [
        (f"why-i-still-keep-a-paper-index{end}.md", f"why-i-still-keep-a-paper-index{end}.html")
        for end in ("", "-2", "-3")]
    assert meta_of(paths[2][0])["snapshot"] == "sources/why-i-still-keep-a-paper-index-3.html"


def test_a_utf8_page_that_names_no_charset_keeps_its_letters(server, folder):
    # lxml reads a page that declares no encoding as Latin-1; browsers detect UTF-8
    page = (PAGES / "news.html").read_bytes().replace(b'<meta charset="utf-8">', b"")
    page = page.replace(b"Miriam Okafor", "Zoë Müller-Привет".encode())
    assert b"charset" not in page.lower()
    _Handler.routes["/plain"] = (200, "text/html", page, {})
    meta = meta_of(add(folder, f"{server}/plain")[0])
    assert meta["author"] == "Zoë Müller-Привет"


def test_a_date_in_the_articles_own_prose_is_not_the_pages_date():
    # No date in the page's metadata or labelled: "published in 2015" in the prose is no
    # date of the page (htmldate, not searching the text, finds none either)
    words = " ".join(["and the ministry said more"] * 10)
    page = ("<html><head><meta charset='utf-8'><title>T</title></head><body><article>"
            "<h1>The report</h1><p>By Jo, 12 March 2024</p><p>The report, published in 2015 "
            f"by the ministry and updated in the 1990s, said things {words}.</p></article>"
            "</body></html>").encode()
    clipping = read_page(page, "https://news.example/report")
    assert (clipping.published, clipping.updated) == ("", "")
    labelled = page.replace(b"By Jo, 12 March 2024", b"Published 3 May 2024. Updated: 4 May 2024")
    clipping = read_page(labelled, "https://news.example/report")
    assert (clipping.published, clipping.updated) == ("2024-05-03", "2024-05-04")


def test_a_saved_page_with_no_article_is_named_in_the_error(folder, tmp_path, capsys):
    saved = tmp_path / "login.html"
    saved.write_bytes((PAGES / "no-article.html").read_bytes())
    assert main(["add", str(saved), str(folder)]) == 1
    assert capsys.readouterr().err == f"postil: {saved}: no article text found\n"
    assert files_in(folder) == ["site.yml"]


def test_a_page_whose_encoding_only_the_header_names_is_kept_readable(server, folder):
    article, snapshot = add(folder, f"{server}/cyrillic")
    assert meta_of(article)["title"] == "Доклад о порте"
    saved = snapshot.read_bytes()  # UTF-8 that says so: it is read without the header
    assert b'<meta charset="utf-8">' in saved and "Портовое управление" in saved.decode()
    assert main(["check", str(folder)]) == 0
