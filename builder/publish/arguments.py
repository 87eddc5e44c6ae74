"""The arguments of ``postil publish``, kept apart from the command itself: every
``postil`` command line declares them, and a build with nothing to do must not import
the publishing modules (nor the writer and the build they import) to parse its own."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_BRANCH = "gh-pages"


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``postil publish`` on the command line's sub-commands."""
    cmd = commands.add_parser(
        "publish", allow_abbrev=False, help="build for production and publish the site",
        description="Build the site in SITE_DIR for production (no drafts, base_url from "
        "site.yml) and publish it to each target given, or to those under publish: in "
        "site.yml. Refuses to publish a build with errors.")
    cmd.add_argument("site_dir", nargs="?", type=Path, default=Path("."), metavar="SITE_DIR",
                     help="the folder holding site.yml (default: the current folder)")
    cmd.add_argument("--git", metavar="REMOTE", help="commit the site to a branch of this git "
                     "remote (a URL, a path, or a remote of the site's repository) and push")
    cmd.add_argument("--branch", metavar="BRANCH", help=f"the branch for --git (default: "
                     f"{DEFAULT_BRANCH}); made as an orphan branch if missing")
    cmd.add_argument("--dir", metavar="PATH", help="synchronise this local folder")
    cmd.add_argument("--rsync", metavar="[USER@]HOST:PATH", help="mirror with rsync "
                     "(-a --delete --checksum)")
    cmd.add_argument("-e", "--rsh", metavar="COMMAND", help="remote shell for --rsync "
                     "(default: ssh)")
    cmd.add_argument("-m", "--message", help="commit message for --git")
    cmd.add_argument("-n", "--dry-run", action="store_true",
                     help="list what would be added, changed and removed; touch nothing")
    cmd.add_argument("--strict", action="store_true",
                     help="refuse to publish on warnings, including broken links")
    cmd.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    cmd.set_defaults(run=_run_publish)


def _run_publish(args: argparse.Namespace) -> int:
    from builder.publish.command import run_publish

    return run_publish(args)
