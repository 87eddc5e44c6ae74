import pytest

from builder.urls import absolute, output_file, relative
from builder.writer import MANIFEST, UnsafePath, safe_relative, write_site


@pytest.mark.parametrize(("src", "dst", "link"), [
    ("/", "/", "./"),
    ("/", "/tags/x/", "tags/x/"),
    ("/articles/a/", "/", "../../"),
    ("/articles/a/", "/articles/b/", "../b/"),
    ("/articles/a/", "/css/style.css", "../../css/style.css"),
    ("/articles/a/", "/articles/a/#hl-1", "./#hl-1"),
    ("/page/2/", "https://x.org/", "https://x.org/"),
])
def test_relative_links(src, dst, link):
    assert relative(src, dst) == link


def test_output_file_and_absolute():
    assert output_file("/") == "index.html"
    assert output_file("/tags/x/") == "tags/x/index.html"
    assert output_file("/404.html") == "404.html"
    assert absolute("https://e.org/archive/", "/tags/") == "https://e.org/archive/tags/"


@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "a/../../b", "a//b", "a\\b", ""])
def test_unsafe_paths_are_refused(bad):
    with pytest.raises(UnsafePath):
        safe_relative(bad)


def test_write_only_changed_files_and_remove_own_stale_ones(tmp_path):
    out = tmp_path / "public"
    report = write_site(out, {"a.html": b"A", "d/b.html": b"B", "d/c.html": b"C"})
    assert sorted(report.written) == ["a.html", "d/b.html", "d/c.html"]
    (out / "user-file.txt").write_text("not Postil's")
    before = (out / "a.html").stat().st_mtime_ns
    report = write_site(out, {"a.html": b"A", "d/b.html": b"B2"})
    assert report.written == ["d/b.html"] and report.unchanged == 1
    assert report.removed == ["d/c.html"]
    assert (out / "a.html").stat().st_mtime_ns == before
    assert (out / "user-file.txt").exists()
    assert not list(out.rglob("*postil-tmp"))
    assert (out / MANIFEST).exists()


def test_existing_identical_file_without_manifest_is_left_alone(tmp_path):
    out = tmp_path / "public"
    out.mkdir()
    (out / "a.html").write_bytes(b"A")
    before = (out / "a.html").stat().st_mtime_ns
    assert write_site(out, {"a.html": b"A"}).unchanged == 1
    assert (out / "a.html").stat().st_mtime_ns == before


@pytest.mark.parametrize("name", ["evil/x.html", "evil/new/deeper/x.html"])
def test_symlinked_folder_out_of_the_output_is_refused(tmp_path, name):
    out, elsewhere = tmp_path / "public", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "evil").symlink_to(elsewhere)
    with pytest.raises(UnsafePath):
        write_site(out, {name: b"X"})
    assert not list(elsewhere.iterdir())
