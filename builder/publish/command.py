"""The ``postil publish`` command: a fresh production build, then each target in turn."""

from __future__ import annotations

import argparse
import io
import ipaddress
import re
import shutil
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from builder.problems import BuildFailed, Problem
from builder.publish.changes import Changes, PublishError
from builder.publish.folder import sync_folder
from builder.publish.git import DEFAULT_BRANCH, publish_git, resolve_remote
from builder.publish.rsync import find_rsync, publish_rsync
from builder.writer import WriteFailed

if TYPE_CHECKING:  # the pipeline imports Jinja2 and markdown-it-py: only when publishing
    from builder.config import SiteConfig
    from builder.pipeline import BuildResult

# Kept out of the imports above: `postil build` parses its arguments with this module
# loaded, and a build with nothing to do must not pay for YAML and the configuration.
CONFIG_NAME = "site.yml"

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@dataclass
class Target:
    kind: str  # "git", "dir" or "rsync"
    dest: str  # as the user wrote it, for messages
    resolved: str  # remote URL, absolute folder, rsync destination
    branch: str = DEFAULT_BRANCH

    def __str__(self) -> str:
        return f"{self.kind} {self.dest}" + (f" ({self.branch})" if self.kind == "git" else "")


def run_publish(args: argparse.Namespace) -> int:
    site_dir: Path = args.site_dir
    if not (site_dir / CONFIG_NAME).is_file():
        return _usage(f"no site.yml in {site_dir} (run 'postil init DIR' to make a site)")
    from builder.config import load_config

    try:
        config, _ = load_config(site_dir.resolve())
    except BuildFailed as failure:
        return _refuse(failure.problems)
    try:
        targets = choose_targets(args, config)
        for target in targets:
            _preflight(target, config)
    except _Usage as exc:
        return _usage(str(exc))
    except PublishError as exc:
        print(f"postil: cannot publish: {exc}", file=sys.stderr)
        return EXIT_FAILED

    say = (lambda *_: None) if args.quiet else print
    try:
        from builder.pipeline import BuildOptions, build

        result = build(site_dir, BuildOptions(drafts=False, write=not args.dry_run,
                                              strict=args.strict, read_only=args.dry_run))
    except BuildFailed as failure:
        return _refuse(failure.problems)
    except WriteFailed as failure:  # a full disk, another build: the old output is intact
        print(f"postil: cannot publish: {failure}", file=sys.stderr)
        return EXIT_FAILED
    warnings = list(result.warnings) + _web_warnings(result)
    for problem in warnings:
        print(problem, file=sys.stderr)
    if args.strict and warnings:
        return _refuse([])
    say(f"built {len(result.site.articles)} articles for {result.config.base_url}")
    for line in result.skipped:  # the drafts left out, as the build says: else they seem lost
        say(line)

    for target in targets:
        try:
            changes, note = _publish_one(target, result, args)
        except PublishError as exc:
            print(f"postil: publish to {target} failed: {exc}", file=sys.stderr)
            return EXIT_FAILED
        if args.dry_run:
            say(f"dry run: {target}: " + (f"would be {changes.summary()}" if changes
                                          else "up to date, nothing to do"))
            for line in changes.listing():
                say(line)
        else:
            say(f"published to {target}: " + (note or changes.summary()))
    return EXIT_OK


class _Usage(Exception):
    pass


def choose_targets(args: argparse.Namespace, config: SiteConfig) -> list[Target]:
    """Targets from the command line if it names any, else from ``publish:`` in site.yml.

    Paths on the command line are relative to the current folder; in site.yml,
    to the site's folder.
    """
    settings = config.publish
    from_cli = bool(args.git or args.dir or args.rsync)
    base = Path.cwd() if from_cli else config.site_dir
    git = args.git if from_cli else settings.get("git")
    folder = args.dir if from_cli else settings.get("dir")
    rsync = args.rsync if from_cli else settings.get("rsync")
    if args.branch and not git:
        raise _Usage("--branch needs --git REMOTE (or publish: {git: ...} in site.yml)")
    targets = []
    if git:
        branch = args.branch or settings.get("branch") or DEFAULT_BRANCH
        targets.append(Target("git", git, resolve_remote(git, config.site_dir, base), branch))
    if folder:
        targets.append(Target("dir", folder, str((base / folder).resolve())))
    if rsync:
        targets.append(Target("rsync", rsync, rsync))
    if not targets:
        raise _Usage("nothing to publish to: give --git REMOTE, --dir PATH or --rsync "
                     "[USER@]HOST:PATH, or set publish: in site.yml")
    return targets


def _preflight(target: Target, config: SiteConfig) -> None:
    """Fail before building on what no build can fix."""
    if target.kind == "git" and shutil.which("git") is None:
        raise PublishError("git is not installed (or not on PATH)")
    if target.kind == "rsync":
        find_rsync()
    if target.kind == "dir":
        folder = Path(target.resolved)
        site = config.site_dir.resolve()
        output = (config.site_dir / config.output_dir).resolve()
        # Inside the site folder is fine (docs/ for a pages-from-folder host), but not
        # where sources live: the next build would read the published files back in.
        sources = [config.content_path, site / "static", site / "templates", site / "themes"]
        if folder == site or site.is_relative_to(folder) or \
                any(folder.is_relative_to(path.resolve()) for path in sources):
            raise PublishError(f"{folder} would overwrite the site's own files")
        if folder == output:
            raise PublishError(f"{folder} is the build's output folder; publish elsewhere")


def _publish_one(target: Target, result: BuildResult,
                 args: argparse.Namespace) -> tuple[Changes, str]:
    config = result.config
    if target.kind == "git":
        message = args.message or config.publish.get("message") or f"Publish {config.title}"
        done = publish_git(result.files, target.resolved, target.branch, config.domain,
                           message, args.dry_run, keep=config.publish_keep)
        if args.dry_run:
            return done.changes, ""
        if done.commit is None:
            return done.changes, "up to date, nothing to commit"
        made = "created the branch with" if done.created else "pushed"
        return done.changes, f"{made} {done.commit[:10]}: {done.changes.summary()}"
    if target.kind == "dir":
        return sync_folder(result.files, Path(target.resolved), args.dry_run), ""
    ssh = args.rsh or config.publish.get("ssh") or "ssh"
    assert result.output is not None
    return publish_rsync(result.files, result.output, target.resolved, ssh, args.dry_run,
                         out=io.StringIO() if args.quiet else None,  # -q: not rsync's list
                         keep=config.publish_keep), ""


def _web_warnings(result: BuildResult) -> list[Problem]:
    """Broken internal links and a custom domain that is not base_url's, as warnings."""
    config = result.config
    found = []
    from builder.linkcheck import find_broken, locate_sources

    broken = find_broken(result.files, config.base_path)
    for link in locate_sources(broken, result.site.pages, config.site_dir, config.base_path):
        path, _, line = (link.source or f"{link.link.page}:{link.link.line}").rpartition(":")
        found.append(Problem(path, int(line), f"broken link: {link.link}", warning=True))
    host = urlsplit(config.base_url).hostname or ""
    if is_local_host(host):
        found.append(Problem(CONFIG_NAME, _key_line(config.site_dir, "base_url"),
                             f"base_url {config.base_url} is an address of this machine: "
                             "the feed, the sitemap and the canonical links will point at "
                             "it; set base_url to the site's public address", warning=True))
    if config.domain and host != config.domain:
        found.append(Problem(CONFIG_NAME, 1, f'domain "{config.domain}" is not the host of '
                             f'base_url ({host}): pages will link to the wrong address',
                             warning=True))
    return found


def is_local_host(host: str) -> bool:
    """True for a host name that means the machine itself, wherever the site is read:
    ``localhost`` and ``*.localhost``, 127.0.0.0/8, ``::1``, ``0.0.0.0`` and ``::``
    (and an IPv4 one of these written as an IPv6 address)."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        # Browsers read an IPv4 address in the short forms of inet_aton too: 127.1,
        # 2130706433, 0x7f.0.0.1, 0177.0.0.1 and 0 are 127.0.0.1 and 0.0.0.0.
        if not re.fullmatch(r"[0-9a-fx.]+", host):
            return False
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def _key_line(site_dir: Path, key: str) -> int:
    """The line of site.yml where a top-level ``key:`` is set (1 if not found)."""
    try:
        text = (site_dir / CONFIG_NAME).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return 1
    found = re.search(rf"^{re.escape(key)}\s*:", text, re.MULTILINE)
    return text.count("\n", 0, found.start()) + 1 if found else 1


def _refuse(problems: list[Problem]) -> int:
    for problem in problems:
        print(problem, file=sys.stderr)
    count = sum(1 for p in problems if not p.warning)
    reason = f"{count} error{'s' * (count != 1)}" if count else "warnings and --strict"
    print(f"publish refused: the build has {reason}; nothing was published", file=sys.stderr)
    return EXIT_FAILED


def _usage(message: str) -> int:
    print(f"postil publish: {message}", file=sys.stderr)
    return EXIT_USAGE
