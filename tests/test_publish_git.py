"""``postil publish --git`` against a local bare repository."""

import subprocess
from pathlib import Path

import pytest

from builder.cli import main
from conftest import article, snapshot

# (search: false: an edit changes the search index's files too; tests/test_search.py
# publishes the index)
CONFIG = "title: Pages\nbase_url: https://archive.example.org/\npaginate: 5\nsearch: false\n"


def git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture(autouse=True)
def _git_identity(git_identity):
    """Every test here commits as the known committer (conftest's ``git_identity``)."""


@pytest.fixture
def remote(tmp_path) -> Path:
    bare = tmp_path / "remote.git"
    git("init", "--quiet", "--bare", str(bare))
    return bare


@pytest.fixture
def pages(site):
    site({
        "content/a.md": article("A", "2024-01-01", tags="[one]", author="Ann"),
        "content/b.md": article("B", "2024-01-02", tags="[two]", author="Bo", summary="Bee."),
        "content/c.md": article("C", "2024-01-03", tags="[two]", author="Bo"),
    }, config=CONFIG)
    return site


def publish(*args: str, capsys) -> tuple[int, str, str]:
    code = main(["publish", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def clone(remote: Path, into: Path, branch: str = "gh-pages") -> dict[str, bytes]:
    git("clone", "--quiet", "--branch", branch, str(remote), str(into))
    return {p.relative_to(into).as_posix(): p.read_bytes() for p in into.rglob("*")
            if p.is_file() and ".git" not in p.relative_to(into).parts}


def commits(remote: Path, branch: str = "gh-pages") -> list[str]:
    return git("--git-dir", str(remote), "rev-list", branch).split()


def test_publish_makes_an_orphan_branch_holding_exactly_the_build(pages, remote, tmp_path,
                                                                  capsys):
    code, out, err = publish(str(pages.root), "--git", str(remote), capsys=capsys)
    assert code == 0, err
    assert "created the branch" in out
    built = pages.build(write=False).files
    assert clone(remote, tmp_path / "clone") == {**built, ".nojekyll": b""}
    assert ".postil-manifest.json" not in built
    assert git("--git-dir", str(remote), "rev-list", "--parents", "gh-pages").split() == \
        commits(remote)  # one commit, no parent: an orphan branch


def test_publishing_again_unchanged_makes_no_commit(pages, remote, capsys):
    assert publish(str(pages.root), "--git", str(remote), capsys=capsys)[0] == 0
    before = commits(remote)
    code, out, _ = publish(str(pages.root), "--git", str(remote), capsys=capsys)
    assert code == 0 and "up to date, nothing to commit" in out
    assert commits(remote) == before


def test_one_edit_commits_only_the_files_it_changed(pages, remote, capsys):
    assert publish(str(pages.root), "--git", str(remote), capsys=capsys)[0] == 0
    first = pages.build(write=False).files
    pages.write("content/b.md", article("B", "2024-01-02", tags="[two]", author="Bo",
                                        summary="Bee.", body="A revised body."))
    second = pages.build(write=False).files
    code, out, err = publish(str(pages.root), "--git", str(remote), capsys=capsys)
    assert code == 0, err
    assert len(commits(remote)) == 2
    touched = set(git("--git-dir", str(remote), "diff", "--name-only", "gh-pages~1",
                      "gh-pages").split())
    assert touched == {name for name in second if first.get(name) != second[name]}
    # The article, and the feeds that carry its text (its summary, in lists, is the same).
    assert touched == {"articles/b/index.html", "feed.xml", "tags/two/feed.xml",
                       "authors/bo/feed.xml"}


def test_a_custom_domain_adds_cname_and_other_branches_are_left_alone(pages, remote,
                                                                      tmp_path, capsys):
    work = tmp_path / "work"
    git("init", "--quiet", str(work))
    (work / "README").write_text("sources\n")
    git("add", "README", cwd=work)
    git("commit", "--quiet", "-m", "sources", cwd=work)
    git("push", "--quiet", str(remote), "main", cwd=work)
    main_before = commits(remote, "main")
    pages.write("site.yml", CONFIG + "domain: archive.example.org\n"
                "publish:\n  git: ../remote.git\n  branch: pages\n")
    code, out, err = publish(str(pages.root), capsys=capsys)  # settings from site.yml
    assert code == 0, err
    files = clone(remote, tmp_path / "clone", "pages")
    assert files["CNAME"] == b"archive.example.org\n"
    assert files[".domains"] == b"archive.example.org\n"
    assert commits(remote, "main") == main_before


def test_a_remote_of_the_sites_own_repository_by_name(pages, remote, capsys):
    git("init", "--quiet", str(pages.root))
    pages.write(".gitignore", "public/\n.postil-cache/\n")
    git("remote", "add", "pages", str(remote), cwd=pages.root)
    status = git("status", "--porcelain", cwd=pages.root)
    code, _, err = publish(str(pages.root), "--git", "pages", "--branch", "site",
                           capsys=capsys)
    assert code == 0, err
    assert len(commits(remote, "site")) == 1
    assert git("status", "--porcelain", cwd=pages.root) == status  # the working copy: untouched
    assert git("branch", "--list", cwd=pages.root) == ""  # no branch made in the user's repo


def test_dry_run_lists_changes_and_pushes_nothing(pages, remote, capsys):
    assert publish(str(pages.root), "--git", str(remote), capsys=capsys)[0] == 0
    before = commits(remote)
    pages.write("content/c.md", article("C", "2024-01-03", tags="[two]", author="Bo",
                                        body="New words."))
    (pages.root / "content/a.md").unlink()
    output = snapshot(pages.root / "public")
    code, out, err = publish(str(pages.root), "--git", str(remote), "--dry-run", capsys=capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert any(line.startswith("dry run: git") and "removed" in line for line in lines)
    assert "  ~ articles/c/index.html" in lines
    assert "  - articles/a/index.html" in lines
    assert "  - tags/one/feed.xml" in lines
    assert commits(remote) == before
    assert snapshot(pages.root / "public") == output


def test_a_rejected_push_fails_with_one_clear_line(pages, remote, capsys):
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are closed today' >&2\nexit 1\n")
    hook.chmod(0o755)
    sources = snapshot(pages.root / "content")
    code, out, err = publish(str(pages.root), "--git", str(remote), capsys=capsys)
    assert code == 1
    assert err.splitlines() == [f"postil: publish to git {remote} (gh-pages) failed: push to "
                                f"{remote} rejected: pre-receive hook declined"]
    assert snapshot(pages.root / "content") == sources
    assert git("--git-dir", str(remote), "branch", "--list") == ""


def test_no_such_remote_fails_with_one_line(pages, tmp_path, capsys):
    code, _, err = publish(str(pages.root), "--git", str(tmp_path / "nowhere.git"),
                           capsys=capsys)
    assert code == 1
    [line] = err.splitlines()
    assert line.startswith(f"postil: publish to git {tmp_path / 'nowhere.git'} (gh-pages) "
                           "failed: ")
    assert "does not appear to be a git repository" in line


def test_a_branch_that_moved_is_not_overwritten(pages, remote, tmp_path, capsys, monkeypatch):
    """Someone pushes between our fetch and our push: refuse, never force."""
    assert publish(str(pages.root), "--git", str(remote), capsys=capsys)[0] == 0
    from builder.publish import git as publish_git

    real_fetch = publish_git._fetch_tip

    def fetch_then_someone_pushes(repo, remote_url, branch):
        tip = real_fetch(repo, remote_url, branch)
        other = tmp_path / "other"
        git("clone", "--quiet", "--branch", branch, remote_url, str(other))
        (other / "extra.txt").write_text("x")
        git("add", "extra.txt", cwd=other)
        git("commit", "--quiet", "-m", "extra", cwd=other)
        git("push", "--quiet", "origin", branch, cwd=other)
        return tip

    monkeypatch.setattr(publish_git, "_fetch_tip", fetch_then_someone_pushes)
    pages.write("content/a.md", article("A", "2024-01-01", tags="[one]", author="Ann",
                                        body="Changed."))
    code, _, err = publish(str(pages.root), "--git", str(remote), capsys=capsys)
    assert code == 1
    assert "rejected: fetch first: gh-pages changed on the remote" in err
    assert git("--git-dir", str(remote), "log", "-1", "--format=%s", "gh-pages").strip() == \
        "extra"
