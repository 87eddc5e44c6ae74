"""Which files of content/entities/ are entity files, and the names they are known by."""

from __future__ import annotations

import os
from pathlib import Path

from builder.entities import discover_entities


def test_entity_files_are_the_md_files_sorted_by_name_and_never_folders(tmp_path: Path):
    content = tmp_path / "notes"  # any content folder's name
    folder = content / "entities"
    (folder / "sub.md").mkdir(parents=True)  # a folder named like a file
    (folder / "inner").mkdir()
    (folder / "inner" / "deep.md").write_text("---\nname: Deep\n---\n")
    for name in ("b.md", "a.md", "B2.md", "c.MD", "d.markdown", ".hidden.md", "#x.md",
                 "e.md~", "f.md.swp", "notes.txt", "a.b.md"):
        (folder / name).write_text("---\nname: X\n---\n")
    os.symlink(folder / "inner", folder / "linked.md")  # a link to a folder is a folder
    os.symlink(folder / "a.md", folder / "same.md")  # a link to a file is a file
    os.symlink(folder / "missing", folder / "dangling.md")  # the reader skips it
    os.mkfifo(folder / "pipe.md")  # reported by the reader, never read
    found = discover_entities(content)
    assert [rel for rel, _ in found] == [
        "notes/entities/B2.md", "notes/entities/a.b.md", "notes/entities/a.md",
        "notes/entities/b.md", "notes/entities/dangling.md", "notes/entities/pipe.md",
        "notes/entities/same.md"]
    assert [path for _, path in found] == [folder / rel.rsplit("/", 1)[1] for rel, _ in found]


def test_no_entities_folder_is_no_entities(tmp_path: Path):
    assert discover_entities(tmp_path / "content") == []
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "entities").write_text("a file, not a folder")
    assert discover_entities(tmp_path / "content") == []
