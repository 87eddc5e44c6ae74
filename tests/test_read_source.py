"""builder.sources.read_source: every byte of a regular file, and nothing read (nor
waited for) of anything else."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from builder.sources import OUTSIDE, NotAFile, read_source


@pytest.mark.parametrize("size", [0, 1, 4095, 65536, 65537, 300_001])
def test_a_regular_file_is_read_whole_with_its_fstat(tmp_path: Path, size: int):
    data = bytes((n * 7) % 251 for n in range(size))
    path = tmp_path / "a.md"
    path.write_bytes(data)
    raw, info = read_source(path, tmp_path)
    assert raw == data
    assert (info.st_size, info.st_ino) == (size, path.stat().st_ino)


def test_a_file_whose_size_says_nothing_is_read_to_its_end():
    path = Path("/proc/self/status")  # st_size 0, yet text to read
    if not path.exists():
        pytest.skip("no /proc")
    raw, info = read_source(path)
    assert info.st_size == 0
    assert raw.startswith(b"Name:") and raw.endswith(b"\n") and len(raw) > 200


def test_links_are_followed_within_the_folder_only(tmp_path: Path):
    site, outside = tmp_path / "site", tmp_path / "secret"
    site.mkdir()
    outside.write_bytes(b"key")
    (site / "a.md").write_bytes(b"text")
    os.symlink(site / "a.md", site / "in.md")
    os.symlink(outside, site / "out.md")
    assert read_source(site / "in.md", site)[0] == b"text"
    with pytest.raises(NotAFile) as raised:
        read_source(site / "out.md", site)
    assert raised.value.kind == OUTSIDE
    assert read_source(site / "out.md")[0] == b"key"  # no folder to stay in


def test_anything_but_a_regular_file_is_not_read(tmp_path: Path):
    os.mkfifo(tmp_path / "pipe.md")  # opened and read, it would block the build
    os.symlink(tmp_path / "pipe.md", tmp_path / "to-pipe.md")
    (tmp_path / "folder.md").mkdir()
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(tmp_path / "sock.md"))
        for name, kind in (("pipe.md", "a FIFO"), ("to-pipe.md", "a FIFO"),
                           ("folder.md", "a folder"), ("sock.md", "a socket")):
            with pytest.raises(NotAFile) as raised:
                read_source(tmp_path / name, tmp_path)
            assert raised.value.kind == kind
    finally:
        server.close()
    os.symlink(tmp_path / "missing", tmp_path / "dangling.md")
    for name in ("missing.md", "dangling.md"):
        with pytest.raises(FileNotFoundError):
            read_source(tmp_path / name, tmp_path)
