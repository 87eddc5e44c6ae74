"""Files beside the Markdown (issue 11): copied from an allow-list, beside their page
bundle's page or at their own path, relative links and Obsidian file embeds resolved."""

from __future__ import annotations

import pytest

from builder.problems import BuildFailed
from tests.conftest import article, fails_with, parse_fragment, parse_html, text_of

PNG = b"\x89PNG\r\n\x1a\n cat"
SUB = "title: Test\nbase_url: https://example.org/archive/\n"
S = "postil-site:"  # a site path in a body: made relative per page (builder.urls)


def body_of(site, url: str):
    """The ``<main>`` of the built page at site path ``url``."""
    name = url.lstrip("/") + ("index.html" if url.endswith("/") else "")
    return parse_html(site.root / "public" / name).find(".//main")


def srcs(element, tag: str = "img", attr: str = "src") -> list[str]:
    return [e.get(attr) for e in element.iter(tag)]


def test_a_bundle_s_files_go_beside_its_page_and_links_resolve(site):
    site({"content/hello/index.md": article("Hello", body="""\
              ![A cat](cat.png) and [the paper](files/paper.pdf#page=2) and ![x](<my cat.png>)
              """),
          "content/hello/cat.png": PNG, "content/hello/files/paper.pdf": b"%PDF",
          "content/hello/my cat.png": PNG})
    site.build()
    out = site.root / "public/articles/hello"
    assert (out / "cat.png").read_bytes() == PNG
    assert (out / "files/paper.pdf").read_bytes() == b"%PDF"
    assert (out / "my cat.png").read_bytes() == PNG
    main = body_of(site, "/articles/hello/")
    assert srcs(main) == ["cat.png", "my%20cat.png"]  # relative to the page
    assert [i.get("alt") for i in main.iter("img")] == ["A cat", "x"]
    assert "files/paper.pdf#page=2" in srcs(main, "a", "href")


def test_links_are_right_under_a_sub_path_and_html_permalinks(site):
    site({"content/hello/index.md": article("Hello", body="![A cat](cat.png)"),
          "content/hello/cat.png": PNG},
         SUB + 'permalinks: {article: "/{year}/{slug}.html"}\n')
    site.build()
    assert (site.root / "public/2024/hello/cat.png").read_bytes() == PNG
    main = body_of(site, "/2024/hello.html")
    assert srcs(main) == ["hello/cat.png"]


def test_files_outside_bundles_keep_their_path(site):
    site({"content/notes/a.md": article("A", body="![x](../attachments/cat.png)\n\n"
                                        "[data](../data/table.csv) [page](other.html)"),
          "content/attachments/cat.png": PNG, "content/data/table.csv": b"a,b\n",
          "content/data/info.json": b"{}", "content/data/readme.txt": b"x"})
    result = site.build()
    out = site.root / "public"
    assert (out / "attachments/cat.png").read_bytes() == PNG
    assert (out / "data/info.json").read_bytes() == b"{}"
    assert not (out / "data/readme.txt").exists()
    main = body_of(site, "/articles/a/")
    assert srcs(main) == ["../../attachments/cat.png"]
    assert "../../data/table.csv" in srcs(main, "a", "href")
    assert "other.html" in srcs(main, "a", "href")  # maybe a page: left as written
    assert result.skipped == ["1 other file under `content/` not copied: not images, PDF, "
                              "audio, video, CSV or JSON (.txt)"]


def test_a_link_to_a_missing_file_is_an_error_at_its_line(site):
    site({"content/a.md": article("A", body="Text.\n\n![x](cat.png)"),
          "content/b.md": article("B", body="[p](../paper.pdf)"), "content/cats.png": PNG})
    fails_with(site, 'content/a.md:7: link to "content/cat.png": does not exist (did you mean '
               '"content/cats.png"?)', 'content/b.md:5: link to "paper.pdf": does not exist')


def test_script_files_are_skipped_unless_html_is_trusted(site):
    files = {"content/a/index.md": article("A", body="![d](d.svg)"),
             "content/a/d.svg": b"<svg/>", "content/a/p.html": b"<p>", "content/a/s.js": b"1",
             "content/a/f.xml": b"<x/>"}
    site(files)
    warning = ("not copied: {} can run script on the site (publish it with markdown: {{html: "
               "trusted}} in site.yml)")
    with pytest.raises(BuildFailed) as failed:
        site.build()
    assert [str(p) for p in failed.value.problems] == [
        "content/a/d.svg:1: warning: " + warning.format("SVG"),
        "content/a/f.xml:1: warning: " + warning.format("XML"),
        "content/a/index.md:5: link to \"content/a/d.svg\": is not copied: SVG can run "
        "script on the site",
        "content/a/p.html:1: warning: " + warning.format("HTML"),
        "content/a/s.js:1: warning: " + warning.format("JavaScript")]
    site(files, "title: T\nbase_url: https://example.org/\nmarkdown: {html: trusted}\n")
    result = site.build()
    assert not result.warnings
    for name in ("d.svg", "p.html", "s.js", "f.xml"):
        assert (site.root / "public/articles/a" / name).is_file()


def test_sources_folders_are_never_copied(site):
    site({"content/a/index.md": article("A"), "content/a/sources/page.pdf": b"%PDF",
          "content/sources/x.png": PNG})
    result = site.build()
    assert not list((site.root / "public").rglob("*.p*f")) and \
        not list((site.root / "public").rglob("x.png"))
    assert result.skipped == ["2 files in `sources/` folders not copied: private source "
                              "snapshots"]
    site.write("content/b.md", article("B", body="![x](sources/x.png)"))
    fails_with(site, 'content/b.md:5: link to "content/sources/x.png": is in a sources/ '
               "folder, whose files (private snapshots of sources) are never published")


def test_a_draft_bundle_s_files_are_not_published(site):
    site({"content/d/index.md": article("D", draft="true"), "content/d/cat.png": PNG,
          "content/a.md": article("A")})
    site.build()
    assert not list((site.root / "public").rglob("cat.png"))
    site.build(drafts=True)
    assert (site.root / "public/articles/d/cat.png").read_bytes() == PNG
    site.write("content/a.md", article("A", body="![c](d/cat.png)"))
    fails_with(site, 'content/a.md:5: link to "content/d/cat.png": belongs to '
               "content/d/index.md, which is a draft or dated in the future, so it is not built")


def test_colliding_urls_name_both(site):
    site({"content/articles/a/annotations.json": b"{}", "content/a.md": article("A"),
          "static/favicon.png": PNG, "content/favicon.png": PNG})
    site.root.joinpath("public").mkdir()
    fails_with(site, "content/articles/a/annotations.json:1: /articles/a/annotations.json is "
               "also the URL of the annotations of content/a.md")
    (site.root / "content/articles/a/annotations.json").unlink()
    fails_with(site, "content/favicon.png:1: /favicon.png is also the path of a static file")


def test_obsidian_file_embeds(site):
    note = """\
        ![[cat.png]] ![[dog.png|A dog|300x200]] ![[attachments/dog.png|120]]

        ![[paper.pdf]] ![[song.mp3]] ![[clip.mp4]] ![[table.csv]]
        """
    site({"content/vault/note.md": article("Note", body=note), "content/vault/cat.png": PNG,
          "content/attachments/dog.png": PNG, "content/attachments/paper.pdf": b"%PDF",
          "content/attachments/song.mp3": b"ID3", "content/attachments/clip.mp4": b"mp4",
          "content/attachments/table.csv": b"a\n"})
    result = site.build()
    body = parse_fragment(next(a for a in result.site.articles).body_html)
    assert [(i.get("src"), i.get("alt"), i.get("width"), i.get("height"))
            for i in body.iter("img")] == [
        (S + "/vault/cat.png", "cat", None, None),
        (S + "/attachments/dog.png", "A dog", "300", "200"),
        (S + "/attachments/dog.png", "dog", "120", None)]
    assert [(a.get("href"), text_of(a)) for a in body.iter("a")] == [
        (S + "/attachments/paper.pdf", "paper.pdf"), (S + "/attachments/song.mp3", "song.mp3"),
        (S + "/attachments/clip.mp4", "clip.mp4"), (S + "/attachments/table.csv", "table.csv")]
    assert [(e.tag, e.get("src"), e.get("controls")) for e in body.iter()
            if e.tag in ("audio", "video")] == [("audio", S + "/attachments/song.mp3", ""),
                                                ("video", S + "/attachments/clip.mp4", "")]


def test_embeds_survive_the_sanitizer_and_leave_notes_alone(site):
    site({"content/a.md": article("A", body="<b>raw</b> ![[clip.webm]]"),
          "content/clip.webm": b"w"})
    result = site.build()
    body = parse_fragment(result.site.articles[0].body_html)
    assert [e.get("src") for e in body.iter("video")] == ["postil-site:/clip.webm"]


def test_ambiguous_and_missing_embeds_are_errors(site):
    site({"content/a.md": article("A", body="![[cat.png]]\n![[dog.png]]"),
          "content/x/cat.png": PNG, "content/y/cat.png": PNG})
    fails_with(site, 'content/a.md:5: embed "cat.png" is ambiguous: content/x/cat.png, '
               "content/y/cat.png (write more of its path, as in ![[folder/name]])",
               'content/a.md:6: embed "dog.png": no such file under content/')
    site.write("content/a.md", article("A", body="![[x/cat.png]]"))
    assert site.build().site.articles[0].body_html == \
        '<p><img src="postil-site:/x/cat.png" alt="cat" /></p>\n'
