"""Shared helpers: small sites made in tmp_path, and HTML parsed with html5lib."""

from __future__ import annotations

import shutil
import textwrap
import time
from pathlib import Path
from xml.etree.ElementTree import Element

import html5lib
import pytest

from builder.pipeline import BuildOptions, BuildResult, build

REPO = Path(__file__).resolve().parent.parent

SITE_YML = """\
title: Test archive
base_url: https://example.org/
paginate: 3
timezone: UTC
"""


def article(title: str = "An article", date: str = "2024-05-01", body: str = "Some text.",
            **meta: str) -> str:
    """The text of a Markdown file; ``meta`` values are written as raw YAML."""
    lines = ["---", f"title: {title}", f"date: {date}"]
    lines += [f"{key}: {value}" for key, value in meta.items()]
    lines += ["---", textwrap.dedent(body).strip(), ""]
    return "\n".join(lines)


class SiteMaker:
    def __init__(self, root: Path):
        self.root = root

    def __call__(self, files: dict[str, str] | None = None, config: str = SITE_YML) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "site.yml").write_text(config, encoding="utf-8")
        (self.root / "content").mkdir(exist_ok=True)
        for name, text in (files or {}).items():
            self.write(name, text)
        return self.root

    def write(self, name: str, text: str | bytes) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    def build(self, **options) -> BuildResult:
        return build(self.root, BuildOptions(**options))


@pytest.fixture
def site(tmp_path: Path) -> SiteMaker:
    return SiteMaker(tmp_path / "site")


@pytest.fixture
def built(site):
    """A site that built once, so each test can prove its output survives a failure."""
    site({"content/good.md": article("Good", "2024-01-01", tags="[a]"),
          "content/other.md": article("Other", "2024-01-02")})
    site.build()
    return site


def parse_html(data: bytes | str | Path) -> Element:
    """Parse a page as a browser would; raises on any HTML5 parse error."""
    if isinstance(data, Path):
        data = data.read_bytes()
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    return parser.parse(data)


def parse_fragment(html: str) -> Element:
    """Parse a piece of HTML (a rendered body) strictly; returns a wrapper element."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    wrapper = Element("fragment")
    for child in parser.parseFragment(html):
        wrapper.append(child)
    return wrapper


def text_of(element: Element | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def hrefs(root: Element, selector: str = ".//a") -> list[str]:
    return [a.get("href") for a in root.iterfind(selector) if a.get("href") is not None]


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder`` with its bytes and mtime, to prove nothing changed."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def fails_with(site: SiteMaker, *expected: str) -> None:
    """The build fails with exactly these problems and leaves the old output as it was."""
    from builder.problems import BuildFailed

    before = snapshot(site.root / "public")
    with pytest.raises(BuildFailed) as caught:
        site.build()
    assert [str(p) for p in caught.value.problems] == list(expected)
    assert snapshot(site.root / "public") == before


def copy_example(root: Path) -> Path:
    """The example archive (``site.yml`` and ``content/``) copied into ``root``, to edit."""
    root.mkdir(parents=True)
    shutil.copy(REPO / "site.yml", root / "site.yml")
    shutil.copytree(REPO / "content", root / "content")
    return root


# --- delta builds (builder.delta): a long-lived builder told what was saved ---------------

def replace_once(root: Path, name: str, old: str, new: str) -> str:
    """Save ``root/name`` with its one ``old`` replaced by ``new``; its absolute path."""
    path = root / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return str(path)


def output_files(result: BuildResult) -> dict[str, bytes]:
    return {name: result.files[name] for name in result.files}


def cold_files(root: Path, **options) -> dict[str, bytes]:
    """The files of a cold build of ``root`` in memory (no cache, nothing reused)."""
    from builder.pipeline import SiteBuilder

    return output_files(SiteBuilder(root, BuildOptions(write=False, cache=False, jobs=1,
                                                       **options)).build())


def live_builder(root: Path, **options):  # noqa: ANN201 - a builder.pipeline.SiteBuilder
    """A builder that made delta builds possible, as ``postil serve`` keeps one; built once."""
    from builder.pipeline import SiteBuilder

    builder = SiteBuilder(root, BuildOptions(write=False, jobs=1, delta=True, **options))
    builder.build()
    return builder


def is_delta(result: BuildResult) -> bool:
    return "delta" in result.timings


def own_theme(root: Path) -> None:
    """A copy of the default theme in the site's themes/: a preview server watches the theme
    in use, and this keeps edits to the repository's theme out of a test."""
    shutil.copytree(REPO / "themes" / "default", root / "themes" / "default")


@pytest.fixture
def git_identity(tmp_path, monkeypatch):
    """A known committer, and no user or system git configuration."""
    config = tmp_path / "gitconfig"
    config.write_text("[init]\n\tdefaultBranch = main\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Publisher")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "publisher@example.org")


@pytest.fixture
def serve(site: SiteMaker):
    """``serve(files, config)``: a running preview of a new site, stopped after the test.

    ``serve()`` with no files starts another server on the site as it is (a restart).
    """
    from builder.serve.server import PreviewServer

    servers = []

    def start(files: dict[str, str | bytes] | None = None, config: str = SITE_YML,
              **options):
        if files is not None:
            site(files, config)
            own_theme(site.root)
            time.sleep(0.05)  # the files' mtimes fall before the server's start
        lines: list[str] = []
        server = PreviewServer(site.root, port=options.pop("port", 0), out=lines.append,
                               err=lines.append, **options)
        server.lines = lines  # type: ignore[attr-defined]
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()
