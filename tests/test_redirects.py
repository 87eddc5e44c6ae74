"""Redirect pages for old URLs (``aliases: [/old/]``, ``redirect_from``), and rebuilds
that track redirects and the files copied from content/ (issue 11)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from builder.cli import main
from builder.problems import BuildFailed
from builder.writer import MANIFEST
from tests.conftest import (
    article,
    cold_files,
    copy_example,
    fails_with,
    is_delta,
    live_builder,
    output_files,
    parse_html,
    replace_once,
)

PNG = b"\x89PNG\r\n\x1a\n cat"


def redirect_of(path: Path) -> dict[str, str]:
    """What a redirect page says: refresh, canonical, robots, the visible link and title."""
    page = parse_html(path)
    metas = {m.get("name") or m.get("http-equiv"): m.get("content") for m in page.iter("meta")
             if m.get("content")}
    [canonical] = [link.get("href") for link in page.iter("link") if link.get("rel") == "canonical"]
    [visible] = list(page.find("body").iter("a"))
    return {"refresh": metas["refresh"], "robots": metas["robots"], "canonical": canonical,
            "link": visible.get("href"), "text": visible.text, "title": page.find(".//title").text}


def test_old_urls_get_redirect_pages(site):
    site({"content/hello.md": article("Hello & co", aliases="[/2019/old-hello/, Hi, /old.html]",
                                      redirect_from="[/even-older]")},
         "title: T\nbase_url: https://example.org/archive/\n")
    result = site.build()
    out = site.root / "public"
    assert redirect_of(out / "2019/old-hello/index.html") == {
        "refresh": "0; url=../../articles/hello/", "robots": "noindex",
        "canonical": "https://example.org/archive/articles/hello/",
        "link": "../../articles/hello/", "text": "Hello & co", "title": "Moved: Hello & co"}
    assert redirect_of(out / "old.html")["link"] == "articles/hello/"
    assert redirect_of(out / "even-older/index.html")["link"] == "../articles/hello/"
    assert [r.path for r in result.site.redirects] == ["/2019/old-hello/", "/old.html",
                                                       "/even-older/"]
    sitemap = (out / "sitemap.xml").read_text()
    assert "old" not in sitemap  # redirects are no pages of the site
    # Stale ones go, as any output the build made.
    site.write("content/hello.md", article("Hello & co", aliases="[/old.html]"))
    site.build()
    assert not (out / "2019").exists() and not (out / "even-older").exists()
    assert (out / "old.html").is_file()


def test_a_redirect_over_a_page_or_another_redirect_is_an_error(site):
    site({"content/a.md": article("A", aliases="[/articles/b/, /tags/]"),
          "content/b.md": article("B", redirect_from="[/old/]"),
          "content/c.md": article("C", aliases="[/old/, /articles/c/]")})
    site.root.joinpath("public").mkdir()
    fails_with(site, "content/a.md:4: old URL /articles/b/ would replace the page of "
               "content/b.md", "content/a.md:4: old URL /tags/ would replace a page Postil "
               "makes", "content/c.md:4: old URL /old/ would replace an old URL of content/b.md")


def test_a_redirect_over_a_static_file_is_an_error_at_its_line(site):
    site({"content/a.md": article("A", aliases="[/css/style.css]")})
    fails_with(site, "content/a.md:4: old URL /css/style.css would replace a static file")


def test_publish_carries_redirects_and_files(site, tmp_path):
    site({"content/a/index.md": article("A", aliases="[/old-a/]", body="![c](cat.png)"),
          "content/a/cat.png": PNG})
    target = tmp_path / "www"
    assert main(["publish", str(site.root), "--dir", str(target)]) == 0
    assert (target / "articles/a/cat.png").read_bytes() == PNG
    assert redirect_of(target / "old-a/index.html")["link"] == "../articles/a/"
    assert "old-a/index.html" in (target / MANIFEST).read_text()
    (site.root / "content/a/cat.png").unlink()
    site.write("content/a/index.md", article("A"))
    assert main(["publish", str(site.root), "--dir", str(target)]) == 0
    assert not (target / "articles/a/cat.png").exists() and not (target / "old-a").exists()


def example_with_bundle(tmp_path: Path) -> Path:
    root = copy_example(tmp_path / "site")
    (root / "content/pics").mkdir()
    (root / "content/pics/index.md").write_text(article(
        "Pictures", "2024-02-02", body="![A cat](cat.png)\n\nA line to edit.",
        aliases="[/old-pics/]"), encoding="utf-8")
    (root / "content/pics/cat.png").write_bytes(PNG)
    return root


def test_saving_a_file_takes_a_full_build_equal_to_a_cold_one(tmp_path):
    root = example_with_bundle(tmp_path)
    builder = live_builder(root)
    body = replace_once(root, "content/pics/index.md", "A line to edit.", "A line, edited.")
    result = builder.build(saved=[body])
    assert is_delta(result) and output_files(result) == cold_files(root)
    cat = root / "content/pics/cat.png"
    cat.write_bytes(PNG + b" changed")
    result = builder.build(saved=[str(cat)])
    assert not is_delta(result)
    assert result.files["articles/pics/cat.png"] == PNG + b" changed"
    assert output_files(result) == cold_files(root)
    # Changed again, with only the article said to be saved: the file's stat tells.
    cat.write_bytes(PNG + b" changed again")
    os.utime(cat, ns=(1, 1))
    result = builder.build(saved=[replace_once(root, "content/pics/index.md", "edited",
                                               "edited twice")])
    assert not is_delta(result) and output_files(result) == cold_files(root)
    new = root / "content/pics/dog.png"
    new.write_bytes(PNG)
    result = builder.build(saved=[str(new)])
    assert not is_delta(result) and result.files["articles/pics/dog.png"] == PNG
    assert output_files(result) == cold_files(root)


def test_deleting_a_linked_file_fails_the_rebuild(tmp_path):
    root = example_with_bundle(tmp_path)
    builder = live_builder(root)
    cat = root / "content/pics/cat.png"
    cat.unlink()
    with pytest.raises(BuildFailed) as failed:
        builder.build(saved=[str(cat)])
    assert [str(p) for p in failed.value.problems if not p.warning] == [
        'content/pics/index.md:6: link to "content/pics/cat.png": does not exist']
