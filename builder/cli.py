"""The ``postil`` command line.

Exit codes: 0 success, 1 content errors, 2 usage errors.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from builder import __version__

if TYPE_CHECKING:  # imported when building: a no-change build imports only builder.state
    from builder.pipeline import BuildOptions, BuildResult
    from builder.problems import BuildFailed, Problem
    from builder.writer import WriteReport

EXIT_OK, EXIT_CONTENT, EXIT_USAGE = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        code = args.run(args)
        sys.stdout.flush()  # here, so that a reader that left is caught below
        return code
    except BrokenPipeError:  # `postil build | head -1`: no traceback, nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # for the exit's flush
        return EXIT_CONTENT


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="postil", description="Build annotated reading archives into static sites.",
        allow_abbrev=False)  # "--base" for "--base-url" would change meaning with a new option
    parser.add_argument("--version", action="version", version=f"postil {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    cmd = commands.add_parser(
        "build", allow_abbrev=False, help="build the site into its output folder",
        description="Build the site in SITE_DIR (default: here).")
    _site_dir(cmd)
    cmd.add_argument("-o", "--output", type=Path, help="output folder (default: public/ "
                     "in SITE_DIR, or output_dir from site.yml)")
    _build_flags(cmd)
    cmd.add_argument("--no-cache", action="store_true", help="ignore the parsed-article cache "
                     "and the pages already in the output folder; build everything again "
                     "(and fill the cache anew)")
    cmd.add_argument("--explain", metavar="URL", help="say why the page at URL (a site "
                     "path such as /tags/x/) was rendered again, or that it was reused")
    cmd.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    cmd.add_argument("--force", action="store_true", help="write into an output folder that "
                     "is not empty and was not made by Postil (its files of the same names "
                     "as the site's are overwritten; the others are left alone)")
    cmd.set_defaults(run=run_build)

    cmd = commands.add_parser(
        "check", allow_abbrev=False, help="run every validation of a build, write nothing",
        description="Check the site in SITE_DIR; nothing is written.")
    _site_dir(cmd)
    _build_flags(cmd)
    cmd.set_defaults(run=run_check)

    cmd = commands.add_parser("init", allow_abbrev=False, help="make a new site in DIR",
                              description="Make a new site: site.yml and content/ with one "
                              "sample article, using the default theme.")
    cmd.add_argument("dir", type=Path, metavar="DIR")
    cmd.set_defaults(run=run_init)

    cmd = commands.add_parser(
        "new", allow_abbrev=False, help="add an article (or with --entity, an entity)",
        usage="postil new [-h] TITLE [SITE_DIR]\n"
        "       postil new [-h] --entity NAME [--type TYPE] [SITE_DIR]",
        description="Write content/<slug>.md, a draft with today's date, or with --entity "
        "content/entities/<slug>.md; never overwrites a file.")
    # TITLE is optional: with --entity NAME the first positional is SITE_DIR (argparse
    # fills both positionals from the first run of words, so with a required TITLE,
    # "new --entity NAME --type T DIR" would refuse DIR as an extra argument).
    cmd.add_argument("title", nargs="?", metavar="TITLE", help="the article's title")
    _site_dir(cmd)
    cmd.add_argument("--entity", metavar="NAME", help="make an entity file for NAME instead")
    cmd.add_argument("--type", metavar="TYPE", help="the entity's type: person, organization "
                     "(or organisation, org), place (or location), event, work or other "
                     "(default: other)")
    cmd.set_defaults(run=run_new)

    cmd = commands.add_parser(
        "add", allow_abbrev=False, help="clip an article from a URL or a saved HTML page",
        description="Fetch URL (or read FILE.html), and write "
        "content/<slug>.md with its title, authors, publication, "
        "source and dates, and the page as its snapshot in "
        "sources/<slug>.html. Refuses a URL already archived.")
    cmd.add_argument("target", metavar="URL|FILE.html")
    _site_dir(cmd)
    cmd.add_argument("--timeout", type=_seconds, default=20.0, metavar="SECONDS",
                     help="how long to wait for the server (default: 20)")
    cmd.set_defaults(run=run_add)

    from builder.publish.arguments import add_parser as add_publish

    add_publish(commands)

    from builder.serve.command import add_parser as add_serve

    add_serve(commands)
    return parser


def _site_dir(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("site_dir", nargs="?", type=Path, default=Path("."), metavar="SITE_DIR",
                     help="the folder holding site.yml (default: the current folder)")


def _build_flags(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--base-url", metavar="URL", type=_base_url,
                     help="override base_url for this build")
    cmd.add_argument("--drafts", action="store_true", help="include draft articles")
    cmd.add_argument("--strict", action="store_true", help="treat warnings as errors")


def _seconds(value: str) -> float:
    """``--timeout``: a number of seconds above 0 (not inf or nan, which sockets refuse)."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds <= 86400:
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, at most 86400, "
                                         f"not {value!r}")
    return seconds


def _base_url(value: str) -> str:
    """``--base-url``, checked as site.yml's base_url is; a bad one is a usage error (2)."""
    from builder.config_values import base_url_problem

    wrong = base_url_problem(value)
    if wrong:
        raise argparse.ArgumentTypeError(wrong)
    return value


def _report_failure(failure: BuildFailed, what: str = "build") -> int:
    """Print the problems and the summary line ("build failed: …", or "check failed: …"
    for ``postil check``, which writes nothing anyway); the exit code."""
    for problem in failure.problems:
        print(problem, file=sys.stderr)
    count = sum(1 for p in failure.problems if not p.warning)
    warnings = len(failure.problems) - count
    summary = f"{what} failed: {count} error{'s' * (count != 1)}"
    if warnings:
        summary += f", {warnings} warning{'s' * (warnings != 1)}"
    print(summary + ("; nothing was written" if what == "build" else ""), file=sys.stderr)
    return EXIT_CONTENT


def _print_warnings(warnings: list[Problem]) -> None:
    for problem in warnings:
        print(problem, file=sys.stderr)


class _Progress:
    """Shows progress on a terminal, only once a build has run for a couple of seconds."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.enabled = sys.stderr.isatty()
        self.shown = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.enabled and time.monotonic() - self.started > 2:
            print(f"\r{stage} {done}/{total}   ", end="", file=sys.stderr, flush=True)
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            print("\r\033[K", end="", file=sys.stderr, flush=True)


def _options(args: argparse.Namespace, write: bool) -> BuildOptions:
    from builder.pipeline import BuildOptions

    return BuildOptions(output=getattr(args, "output", None), base_url=args.base_url,
                        drafts=args.drafts, strict=args.strict, write=write,
                        fresh=getattr(args, "no_cache", False), read_only=not write,
                        explain=getattr(args, "explain", None),
                        force=getattr(args, "force", False))


def _run(args: argparse.Namespace, write: bool) -> BuildResult | int:
    if not os.path.isfile(args.site_dir / "site.yml"):
        print(f"postil: no site.yml in {args.site_dir} (run 'postil init DIR' to make a site)",
              file=sys.stderr)
        return EXIT_USAGE
    from builder.pipeline import build
    from builder.problems import BuildFailed
    from builder.writer import WriteFailed

    progress = _Progress()
    try:
        return build(args.site_dir, _options(args, write), progress)
    except BuildFailed as failure:
        progress.clear()
        return _report_failure(failure, "build" if write else "check")
    except WriteFailed as failure:  # a full disk, another build: the old output is as it was
        progress.clear()
        print(f"postil: {failure}", file=sys.stderr)
        return EXIT_CONTENT
    finally:
        progress.clear()


def run_build(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if not args.no_cache and not args.explain and os.path.isfile(args.site_dir / "site.yml"):
        done = _unchanged(args, started)
        if done is None:
            done = _delta(args, started)
        if done is not None:
            return done
    result = _run(args, write=True)
    if isinstance(result, int):
        return result
    _print_warnings(result.warnings)
    report = result.report
    if not args.quiet and report is not None:
        _summary(len(result.site.articles), str(result.output), len(result.rendered),
                 len(report.written), report.unchanged, len(report.removed),
                 len(result.warnings), result.seconds, result.skipped)
        _gone(report, result.config.base_path)
    for line in result.explanation:
        print(line)
    return EXIT_OK


def _unchanged(args: argparse.Namespace, started: float) -> int | None:
    """Exit code of a build that found nothing changed since the last one (see
    :mod:`builder.state`), or None if there is work to do."""
    from builder import state

    key = state.condition(args.site_dir, args.output, args.base_url, args.drafts, args.strict)
    stamp = state.unchanged(args.site_dir, key)
    if stamp is None:
        return None
    for line in stamp.warnings:
        print(line, file=sys.stderr)
    if not args.quiet:
        _summary(stamp.articles, stamp.output, 0, 0, len(stamp.files), 0, len(stamp.warnings),
                 time.perf_counter() - started, stamp.skipped)
    return EXIT_OK


def _delta(args: argparse.Namespace, started: float) -> int | None:
    """Exit code of a build that made only what edited articles change (see
    :mod:`builder.delta_build`), or None if the full build must decide."""
    from builder.delta_build import delta_build
    from builder.writer import WriteFailed

    try:
        built = delta_build(args.site_dir, args.output, args.base_url, args.drafts, args.strict)
    except WriteFailed:  # (OutputBusy, UnsafePath too): the full build says what is wrong
        return None
    if isinstance(built, str):  # why not: the full build decides
        return None
    for line in built.warnings:
        print(line, file=sys.stderr)
    if not args.quiet:
        report = built.report
        _summary(built.articles, str(built.output), len(built.rendered), len(report.written),
                 built.files - len(report.written), 0, len(built.warnings),
                 time.perf_counter() - started, built.skipped)
    return EXIT_OK


def _summary(articles: int, output: str, rendered: int, written: int, unchanged: int,
             removed: int, warnings: int, seconds: float, skipped: list[str]) -> None:
    print(f"built {articles} articles into {output}: {rendered} rendered, {written} written, "
          f"{unchanged} unchanged, {removed} removed, "
          f"{warnings} warning{'s' * (warnings != 1)} in {seconds:.2f} s")
    for line in skipped:  # nothing left out without a word
        print(line)


GONE_SHOWN = 20  # removed pages listed by name after a build


def _gone(report: WriteReport, base_path: str) -> None:
    """List the pages the last build had and this one removed (a changed slug or
    permalink moves every page it names), with the way to keep old links working."""
    from builder.writer import removed_pages

    urls = removed_pages(report, base_path)
    if not urls:
        return
    print(f"{len(urls)} page{'s' * (len(urls) != 1)} of the last build removed:")
    for url in urls[:GONE_SHOWN]:
        print(f"  {url}")
    if len(urls) > GONE_SHOWN:
        print(f"  … and {len(urls) - GONE_SHOWN} more")
    print("  if a page moved, keep its old URL working: list it under aliases: in the "
          "article's front matter (aliases: [/old/url/])")


def run_check(args: argparse.Namespace) -> int:
    result = _run(args, write=False)
    if isinstance(result, int):
        return result
    from builder.problems import Problem
    from builder.snapshots import QUOTE_NOT_FOUND

    # A quotation not in its snapshot is a warning in a build, and fails a check.
    unverified = [p for p in result.warnings if p.message.startswith(QUOTE_NOT_FOUND)]
    _print_warnings([p if not p.message.startswith(QUOTE_NOT_FOUND) else
                     Problem(p.path, p.line, p.message) for p in result.warnings])
    # Every internal link and asset reference must resolve under the base path.
    from builder.linkcheck import find_broken, locate_sources

    config = result.config
    broken = locate_sources(find_broken(result.files, config.base_path), result.site.pages,
                            config.site_dir, config.base_path)
    for link in broken:
        print(link, file=sys.stderr)
    _print_file_dated(result)
    if broken or unverified:
        failures = [f"{len(broken)} broken link{'s' * (len(broken) != 1)}"] if broken else []
        if unverified:
            failures.append(f"{len(unverified)} unverified quotation"
                            f"{'s' * (len(unverified) != 1)}")
        print(f"check failed: {' and '.join(failures)}", file=sys.stderr)
        return EXIT_CONTENT
    print(f"ok: {len(result.site.articles)} articles, {len(result.files)} files, "
          f"{len(result.warnings)} warnings")
    for line in result.skipped:
        print(line)
    return EXIT_OK


def _print_file_dated(result: BuildResult) -> None:
    """The articles whose date is their file's (no date in the front matter or the file
    name): the last git commit's, or the modification time (see builder.filedates)."""
    dated = sorted((a for a in result.site.articles if a.dated_by in ("git", "mtime")),
                   key=lambda a: a.source)
    if not dated:
        return
    count = len(dated)
    print(f"{count} article{'s' * (count != 1)} with no date in the front matter or the file "
          "name, dated by git or the file's time:")
    for article in dated:
        how = "last git commit" if article.dated_by == "git" else "modification time"
        print(f"  {article.source}: {article.iso_date} ({how})")


def run_init(args: argparse.Namespace) -> int:
    from builder.scaffold import run_init as run

    return run(args)


def run_new(args: argparse.Namespace) -> int:
    from builder.scaffold import run_new as run

    return run(args)


def run_add(args: argparse.Namespace) -> int:
    from builder.clip import ClipError, add

    notes: list[str] = []
    try:
        article, snapshot = add(args.site_dir, args.target, args.timeout, notes)
    except ClipError as exc:
        print(f"postil: {exc}", file=sys.stderr)
        return EXIT_CONTENT
    print(f"wrote {article} and its snapshot {snapshot}")
    for note in notes:
        print(f"postil: warning: {note}", file=sys.stderr)
    return EXIT_OK
