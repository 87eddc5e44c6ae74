"""``annotations.json`` follows its article page's bytes through every kind of rebuild.

Its selectors count over the rendered page's text (builder.webannotation), so a change
that moves text on the page (here a theme edit that adds a line above the article, which
leaves every article as it was) must reach each ``annotations.json``. As in the rebuild
oracle (tests/oracle), three builds must agree byte for byte after the edit: a long-lived
builder built again, a fresh ``postil build`` process into the previous output (which
reuses what it can from disk), and a cold build into an empty folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from builder.domtext import page_text
from builder.pipeline import BuildOptions, SiteBuilder
from conftest import REPO, cold_files, copy_example, output_files, own_theme

BANNER = "A line the theme adds above every page, ünïcödé 😀 included."
ARTICLE = "articles/pakistan-covert-iskp-let-alliance/"


def _annotations(files: dict[str, bytes]) -> dict[str, bytes]:
    return {name: data for name, data in files.items() if name.endswith("annotations.json")}


def _fresh_build(site: Path, out: Path) -> dict[str, bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    subprocess.run([sys.executable, "-m", "builder", "build", str(site), "-o", str(out), "-q"],
                   check=True, env=env, cwd=site)
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*")
            if p.is_file() and not p.name.startswith(".")}


def test_a_theme_edit_that_moves_the_text_moves_every_position(tmp_path):
    site = copy_example(tmp_path / "site")
    own_theme(site)
    out = tmp_path / "out"
    live = SiteBuilder(site, BuildOptions(output=tmp_path / "live"))
    before = output_files(live.build())
    _fresh_build(site, out)

    base = site / "themes/default/templates/base.html"
    html = base.read_text(encoding="utf-8")
    assert html.count('<main id="main"') == 1
    base.write_text(html.replace('<main id="main"', f"<p>{BANNER}</p>\n<main id=\"main\""),
                    encoding="utf-8")

    warm = output_files(live.build())
    fresh = _fresh_build(site, out)
    cold = cold_files(site)
    for name in _annotations(cold):
        assert warm[name] == cold[name], f"long-lived builder: {name}"
        assert fresh[name] == cold[name], f"fresh process into the last output: {name}"
    assert {n: d for n, d in warm.items() if n in cold} == cold

    # Every position moved by the banner's length (and a newline), in UTF-16 code units.
    shift = len(BANNER.encode("utf-16-le")) // 2 + 1
    name = ARTICLE + "annotations.json"
    old, new = json.loads(before[name])["items"], json.loads(cold[name])["items"]
    assert len(old) == len(new) > 100
    for was, now in zip(old, new, strict=True):
        assert was["id"] == now["id"]
        was_at, now_at = was["target"]["selector"][1], now["target"]["selector"][1]
        assert (now_at["start"], now_at["end"]) == (was_at["start"] + shift,
                                                    was_at["end"] + shift), now["id"]
    # ... and they count over the page as it is now (in UTF-16: the banner has an emoji).
    units = page_text(cold[ARTICLE + "index.html"], []).text.encode("utf-16-le")
    for item in new:
        quote, position = item["target"]["selector"]
        assert units[2 * position["start"]:2 * position["end"]].decode("utf-16-le") == \
            quote["exact"]
