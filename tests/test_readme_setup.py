"""The README's first command, as a new user runs it: in a clean copy of the repository
(its tracked files only), in a fresh virtual environment, and the example site built.

The command is read from the README's first ``sh`` block, so this test breaks when the
README changes. pip reaches the package index (and may use its cache); this is the
slowest test of the suite (see the report at the end of the run), never a timing test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import REPO, parse_html, text_of

FENCE = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)


def first_command() -> str:
    """The first line of the README's first ``sh`` block."""
    found = FENCE.search((REPO / "README.md").read_text(encoding="utf-8"))
    assert found, "the README has no ```sh block"
    lines = [line for line in found[1].splitlines() if line.strip()]
    assert len(lines) == 1, f"one command expected: {lines}"
    return lines[0]


def tracked_files() -> list[str]:
    """The repository's tracked files (as ``git ls-files`` names them)."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: no clean copy to make")
    done = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True,
                          check=True)
    return [name for name in done.stdout.decode().split("\0") if name]


def clean_copy(into: Path) -> Path:
    """The tracked files as they are in the working tree (edits not yet committed
    included: in CI that is the commit), links kept as links; nothing else: no
    .venv, no public/, no cache, no node_modules."""
    for name in tracked_files():
        source = REPO / name
        if not source.exists() and not source.is_symlink():  # deleted, not committed yet
            continue
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    return into


def test_the_first_readme_command_builds_the_example_site(tmp_path):
    command = first_command()
    assert "python3 -m venv" in command and "pip install" in command
    assert command.rstrip().endswith("postil build")
    copy = clean_copy(tmp_path / "postil")
    assert not (copy / ".venv").exists() and not (copy / "public").exists()
    # As in a new shell: no virtual environment active, no PYTHONPATH to this checkout.
    env = {key: value for key, value in os.environ.items()
           if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX")}
    active = os.environ.get("VIRTUAL_ENV")
    if active:  # drop its bin/ from PATH, as `deactivate` would
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                      if Path(p) != Path(active) / "bin")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    done = subprocess.run(["bash", "-c", command], cwd=copy, env=env, capture_output=True,
                          text=True, timeout=900, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = [line for line in done.stdout.splitlines() if line.startswith("built ")]
    assert len(summary) == 1 and re.match(r"built [1-9]\d* articles into ", summary[0])

    # The new environment's postil is this copy's, not the checkout the tests run from;
    # and it requires the time-zone database (tzdata), which builds need where the
    # system has none (another package may pull it in too: its own requirement counts).
    probe = ("import builder, tzdata; from importlib.metadata import requires; "
             "print(builder.__file__); print(*requires('postil'), sep='\\n')")
    where = subprocess.run([str(copy / ".venv/bin/python"), "-c", probe], env=env,
                           cwd=tmp_path, capture_output=True, text=True, check=True)
    module, *requirements = where.stdout.splitlines()
    assert Path(module).resolve().is_relative_to(copy.resolve())
    assert any(re.match(r"tzdata\b", line) for line in requirements), requirements

    config = yaml.safe_load((copy / "site.yml").read_text(encoding="utf-8"))
    home = parse_html(copy / "public/index.html")
    assert config["title"] in text_of(home.find(".//title"))
    listed = [a.get("href") for a in home.iterfind(".//ol[@class='article-list']//h2/a")]
    count = int(summary[0].split()[1])
    assert len(listed) == min(count, config.get("paginate", 10)) and listed
    for href in listed:  # each listed article was written
        assert (copy / "public" / href / "index.html").is_file(), href
