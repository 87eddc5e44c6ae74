"""``postil publish --git REMOTE``: commit the built site to a branch and push it.

Works in a temporary bare repository, so the user's own repository and
working copy are never touched: the branch's tip is fetched (shallow: only
its tree is needed), the site is compared with it blob by blob, and only if
something changed is a commit made (``git fast-import``, straight from
memory) and pushed with a plain ``git push``, so the user's git, credential
helpers and SSH configuration apply. A branch that does not exist yet is
created as an orphan branch. Any git remote works: GitHub, Codeberg, GitLab,
a bare repository on disk.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from builder.publish.arguments import DEFAULT_BRANCH
from builder.publish.changes import Changes, PublishError

FILE_MODE = "100644"


@dataclass
class GitResult:
    changes: Changes
    commit: str | None = None  # the commit pushed; None when nothing changed or a dry run
    created: bool = False  # the branch did not exist before


def resolve_remote(remote: str, site_dir: Path, relative_to: Path | None = None) -> str:
    """A remote as git should see it from a temporary repository.

    A name of a remote of the site's own repository (``origin``) becomes its
    push URL; an existing local path becomes absolute (relative to
    ``relative_to``); anything else (a URL, ``user@host:path``) is kept.
    """
    if re.fullmatch(r"[\w.-]+", remote) and not remote.startswith("-"):
        found = _git(["remote", "get-url", "--push", remote], cwd=site_dir, check=False)
        if found.returncode == 0 and found.stdout.strip():
            return found.stdout.strip()
    if "://" not in remote:
        path = (relative_to or Path.cwd()) / remote
        if path.exists():
            return str(path.resolve())
    return remote


def site_tree(files: dict[str, bytes], domain: str = "") -> dict[str, bytes]:
    """The files to commit: the site, ``.nojekyll`` and, with a custom domain, ``CNAME``.

    ``.nojekyll`` stops GitHub Pages from running Jekyll (which would drop
    files starting with ``_``); ``CNAME`` (GitHub) and ``.domains`` (Codeberg)
    name the custom domain. A site's own static file of the same name wins.
    """
    tree = dict(files)
    tree.setdefault(".nojekyll", b"")
    if domain:
        tree.setdefault("CNAME", f"{domain}\n".encode())
        tree.setdefault(".domains", f"{domain}\n".encode())
    return tree


def kept(name: str, keep: tuple[str, ...] | list[str]) -> bool:
    """Whether the path ``name`` is one of ``keep`` (``publish.keep``: paths on the site
    without a leading ``/``) or lies under one."""
    return any(name == path.rstrip("/") or name.startswith(path.rstrip("/") + "/")
               for path in keep)


def _clashes(name: str, ours: dict[str, object], folders: set[str]) -> bool:
    """Whether a kept path of the branch would take the place of a file the build makes:
    a kept file where the build has a folder (``timeline`` beside ``timeline/index.html``;
    ``folders`` holds every folder of ``ours``) or under a file it makes (``feed.xml/x``).
    The build's file wins, as for a kept path of the same name: a tree cannot hold both."""
    parts = name.split("/")
    return name in folders or any("/".join(parts[:i]) in ours for i in range(1, len(parts)))


def publish_git(files: dict[str, bytes], remote: str, branch: str = DEFAULT_BRANCH,
                domain: str = "", message: str = "Publish the site",
                dry_run: bool = False, keep: tuple[str, ...] = ()) -> GitResult:
    """Make ``branch`` on ``remote`` hold the site (see :func:`site_tree`), and the files
    of the branch that ``keep`` names (``publish.keep``: a hand-made ``CNAME``) and the
    site does not have, as they are.

    Commits and pushes only if a file changed; a dry run fetches (into a
    temporary repository) but neither commits nor pushes.
    """
    files = site_tree(files, domain)
    if not re.fullmatch(r"[\w./-]+", branch) or _git(["check-ref-format", "--branch", branch],
                                                      check=False).returncode:
        raise PublishError(f'"{branch}" is not a valid branch name')
    with tempfile.TemporaryDirectory(prefix="postil-publish-") as tmp:
        repo = Path(tmp) / "repo.git"
        _git(["init", "--quiet", "--bare", str(repo)])
        tip = _fetch_tip(repo, remote, branch)
        old = _tree_blobs(repo, tip) if tip else {}
        hex_length = len(next(iter(old.values()))[1]) if old else 40
        ours = {name: (FILE_MODE, _blob_id(data, hex_length)) for name, data in files.items()}
        # Carried over by object id: the fetched tip holds their blobs already.
        folders = {name[:i] for name in ours if keep for i, c in enumerate(name) if c == "/"}
        carried = {name: blob for name, blob in old.items() if name not in ours
                   and kept(name, keep) and not _clashes(name, ours, folders)}
        ours.update(carried)
        changes = Changes(
            added=sorted(n for n in ours if n not in old),
            changed=sorted(n for n in ours if n in old and old[n] != ours[n]),
            removed=sorted(n for n in old if n not in ours))
        result = GitResult(changes, created=tip is None)
        if dry_run or (tip and not changes):
            return result
        commit = _commit(repo, files, branch, tip, f"{message}\n\n{changes.summary()}\n",
                         carried)
        _push(repo, remote, commit, branch)
        result.commit = commit
        return result


def _fetch_tip(repo: Path, remote: str, branch: str) -> str | None:
    """Fetch the branch's last commit; None if the remote has no such branch yet."""
    ref = f"refs/heads/{branch}"
    listed = _git(["ls-remote", "--", remote, ref], git_dir=repo, check=False)
    if listed.returncode != 0:
        raise PublishError(_reason(listed.stderr, f"cannot reach {remote}"))
    if not listed.stdout.strip():
        return None
    fetched = _git(["fetch", "--quiet", "--no-tags", "--depth=1", "--", remote,
                    f"+{ref}:refs/remotes/publish/{branch}"], git_dir=repo, check=False)
    if fetched.returncode != 0:
        raise PublishError(_reason(fetched.stderr, f"cannot fetch {branch} from {remote}"))
    return _git(["rev-parse", f"refs/remotes/publish/{branch}"], git_dir=repo).stdout.strip()


def _tree_blobs(repo: Path, commit: str) -> dict[str, tuple[str, str]]:
    """path → (mode, object id) of every file in the commit's tree."""
    listed = _git(["ls-tree", "-r", "-z", "--full-tree", commit], git_dir=repo, text=False)
    blobs = {}
    for record in listed.stdout.split(b"\0"):
        if record:
            info, _, path = record.partition(b"\t")
            mode, _kind, oid = info.decode().split()
            blobs[path.decode("utf-8", "surrogateescape")] = (mode, oid)
    return blobs


def _blob_id(data: bytes, hex_length: int) -> str:
    """The object id git gives these bytes (SHA-1, or SHA-256 in a SHA-256 repository)."""
    algorithm = hashlib.sha256 if hex_length == 64 else hashlib.sha1
    return algorithm(b"blob %d\0" % len(data) + data).hexdigest()


def _commit(repo: Path, files: dict[str, bytes], branch: str, parent: str | None,
            message: str, carried: dict[str, tuple[str, str]] | None = None) -> str:
    """One commit holding exactly ``files`` and ``carried`` (path → (mode, object id) of
    blobs already in ``repo``), on ``parent`` (or an orphan), via fast-import."""
    author = _identity(repo, "GIT_AUTHOR_IDENT")
    committer = _identity(repo, "GIT_COMMITTER_IDENT")
    ref = f"refs/heads/{branch}"
    text = message.encode("utf-8")
    stream = [f"commit {ref}\nauthor {author}\ncommitter {committer}\n".encode(),
              b"data %d\n" % len(text), text, b"\n"]
    if parent:
        stream.append(f"from {parent}\n".encode())
    stream.append(b"deleteall\n")
    for name, data in sorted(files.items()):
        stream += [b"M " + FILE_MODE.encode() + b" inline " + _quote(name) + b"\n",
                   b"data %d\n" % len(data), data, b"\n"]
    for name, (mode, oid) in sorted((carried or {}).items()):
        stream.append(f"M {mode} {oid} ".encode() + _quote(name) + b"\n")
    done = subprocess.run(["git", f"--git-dir={repo}", "fast-import", "--quiet",
                           "--date-format=raw"], input=b"".join(stream), capture_output=True)
    if done.returncode != 0:
        raise PublishError(_reason(done.stderr.decode("utf-8", "replace"),
                                   "git fast-import failed"))
    return _git(["rev-parse", ref], git_dir=repo).stdout.strip()


def _push(repo: Path, remote: str, commit: str, branch: str) -> None:
    # No force: if someone pushed to the branch since the fetch, refuse rather than lose it.
    pushed = _git(["push", "--porcelain", "--", remote, f"{commit}:refs/heads/{branch}"],
                  git_dir=repo, check=False)
    if pushed.returncode == 0:
        return
    for line in pushed.stdout.splitlines():
        if line.startswith("!"):
            summary = line.split("\t")[-1].strip()
            reason = re.search(r"\((.*)\)\s*$", summary)
            why = reason[1] if reason else summary
            if why in ("fetch first", "non-fast-forward"):
                why += f": {branch} changed on the remote while publishing; publish again"
            raise PublishError(f"push to {remote} rejected: {why}")
    raise PublishError(_reason(pushed.stderr, f"push to {remote} failed"))


def _identity(repo: Path, variable: str) -> str:
    found = _git(["var", variable], git_dir=repo, check=False)
    if found.returncode != 0:
        raise PublishError("git does not know who you are: set it with git config --global "
                           "user.name \"Your Name\" and user.email you@example.org")
    return found.stdout.strip()


def _quote(name: str) -> bytes:
    """A path as fast-import reads it: C-style quoted, so any name is safe."""
    escaped = name.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'.encode("utf-8", "surrogateescape")  # a kept name as git had it


def _reason(stderr: str, fallback: str) -> str:
    """The one line of git's error output that says what went wrong."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for prefix in ("fatal:", "error:"):
        for line in lines:
            if line.startswith(prefix) and "Could not read from remote" not in line:
                return line[len(prefix):].strip()
    return lines[-1] if lines else fallback


def _git(args: list[str], git_dir: Path | None = None, cwd: Path | None = None,
         check: bool = True, text: bool = True) -> subprocess.CompletedProcess:
    command = ["git", *([f"--git-dir={git_dir}"] if git_dir else []), *args]
    # Git must not ask on stdin (it still may ask on the terminal for credentials).
    env = {**os.environ, "GIT_EDITOR": "true", "LC_ALL": "C"}
    try:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=text,
                              encoding="utf-8" if text else None,
                              errors="replace" if text else None, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise PublishError("git is not installed (or not on PATH)") from None
    if check and done.returncode != 0:
        stderr = done.stderr if text else done.stderr.decode("utf-8", "replace")
        raise PublishError(_reason(stderr, f"git {args[0]} failed"))
    return done
