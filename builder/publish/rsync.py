"""``postil publish --rsync [USER@]HOST:PATH``: mirror the site with the user's rsync.

Runs ``rsync -a --delete --checksum -e ssh`` from the build's output folder,
whose unchanged files keep their mtimes, so the server's copies keep theirs
too. Only the files of the build are sent: anything else in the output
folder (the manifest, files someone put there) is excluded.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from builder.publish.changes import Changes, PublishError
from builder.writer import LOCK, MANIFEST, STAGING, OutputFolder

_ITEM = re.compile(r"^([<>ch.*])([fdLDS])(\S{9,10}) (.+)$")
_DELETING = re.compile(r"^\*deleting +(.+)$")
_WILDCARDS = re.compile(r"([*?\[\\])")


def find_rsync() -> str:
    found = shutil.which("rsync")
    if found is None:
        raise PublishError("rsync is not installed (or not on PATH); install it "
                           "(e.g. apt install rsync) or publish with --git or --dir")
    return found


def publish_rsync(files: dict[str, bytes], output: Path, target: str, ssh: str = "ssh",
                  dry_run: bool = False, out: TextIO | None = None,
                  keep: tuple[str, ...] = ()) -> Changes:
    """Mirror ``files`` (already written to ``output``) to ``target``, never deleting
    there what ``keep`` names (``publish.keep``: a path, and anything under it).

    A dry run writes the files to a temporary folder instead and asks rsync
    what it would do (``--dry-run --itemize-changes``), touching nothing.
    """
    if not target or target.startswith("-"):
        raise PublishError(f'"{target}" is not an rsync destination ([USER@]HOST:PATH or PATH)')
    rsync = find_rsync()
    out = out or sys.stdout
    with tempfile.TemporaryDirectory(prefix="postil-rsync-") as tmp:
        source = Path(tmp) / "site" if dry_run else Path(output)
        if dry_run:
            OutputFolder(source).sync(files)
        excludes = Path(tmp) / "exclude"
        excludes.write_text("".join(f"/{_escape(name)}\n"
                                    for name in _extras(source, files)), encoding="utf-8")
        command = [rsync, "-a", "--delete", "--checksum", "-e", ssh, "--itemize-changes",
                   f"--exclude-from={excludes}", f"--exclude=/{MANIFEST}", f"--exclude=/{LOCK}",
                   f"--exclude=/{STAGING}*", "--exclude=.*.postil-tmp"]
        command += _protect(keep, files)
        if dry_run:
            command.append("--dry-run")
        elif _is_terminal(out):
            command.append(_progress_flag(rsync))
        command += [f"{source}/", target]
        return _run(command, echo=None if dry_run else out)


def _run(command: list[str], echo: TextIO | None) -> Changes:
    """Run rsync, showing its output as it comes; the changes from its itemized lines."""
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors,
                                       stdin=subprocess.DEVNULL)
        except OSError as exc:
            raise PublishError(f"cannot run rsync: {exc.strerror}") from None
        assert process.stdout is not None
        chunks = []
        while chunk := os.read(process.stdout.fileno(), 65536):
            chunks.append(chunk)
            if echo is not None:
                echo.write(chunk.decode("utf-8", "replace"))
                echo.flush()
        process.stdout.close()
        code = process.wait()
        errors.seek(0)
        stderr = errors.read().decode("utf-8", "replace")
    if code != 0:
        raise PublishError(_reason(stderr, code))
    return _changes(b"".join(chunks).decode("utf-8", "replace"))


def _changes(output: str) -> Changes:
    changes = Changes()
    for line in re.split(r"[\r\n]+", output):
        line = line.strip()
        deleting = _DELETING.match(line)
        if deleting:
            if not deleting[1].endswith("/"):
                changes.removed.append(deleting[1])
            continue
        item = _ITEM.match(line)
        # "<" sent, ">" received; "." means only attributes (such as the time) differ.
        if item and item[1] in "<>" and item[2] == "f":
            (changes.added if "+" in item[3] else changes.changed).append(item[4])
    return changes


def _extras(source: Path, files: dict[str, bytes]) -> list[str]:
    """Files in the output folder that are not part of the build."""
    extras = []
    if not source.is_dir():
        return extras
    for folder, dirs, names in os.walk(source):
        dirs.sort()
        for name in sorted(names):
            rel = (Path(folder) / name).relative_to(source).as_posix()
            if rel not in files and rel != MANIFEST:
                extras.append(rel)
    return extras


def _protect(keep: tuple[str, ...], files: dict[str, bytes]) -> list[str]:
    """Protect filters: what the target has at a kept path survives ``--delete``, unless
    the build puts a file there (or above it), which replaces it as for ``--git``; where
    the build has a folder, only the folder is protected (so a kept file of that name
    can make way for it). Else rsync could not make way and would fail halfway."""
    folders = {name[:i] for name in files if keep for i, c in enumerate(name) if c == "/"}
    filters = []
    for path in keep:
        name = path.rstrip("/")
        parts = name.split("/")
        if any("/".join(parts[:i]) in files for i in range(1, len(parts) + 1)):
            continue
        pattern = "/" + _escape(name)
        filters += ([] if name in folders else [f"--filter=P {pattern}"]) + \
            [f"--filter=P {pattern}/***"]
    return filters


def _escape(name: str) -> str:
    """A file name as an rsync pattern matching only itself."""
    return _WILDCARDS.sub(r"\\\1", name) if re.search(r"[*?\[]", name) else name


def _progress_flag(rsync: str) -> str:
    """Whole-transfer progress where rsync has it (3.1+); per-file progress elsewhere."""
    try:
        version = subprocess.run([rsync, "--version"], capture_output=True, text=True).stdout
    except OSError:
        return "--progress"
    found = re.search(r"version\s+(\d+)\.(\d+)", version)
    return "--info=progress2" if found and (int(found[1]), int(found[2])) >= (3, 1) \
        else "--progress"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _reason(stderr: str, code: int) -> str:
    """rsync's own explanation, without its prefixes; its exit code if it gave none."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("rsync:") or not line.startswith("rsync error:"):
            return re.sub(r"^rsync:\s*(\[\w+\]\s*)?", "", line)
    return lines[0] if lines else f"rsync failed with exit code {code}"
