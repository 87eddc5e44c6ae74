"""``postil serve [SITE_DIR] [--host H] [-p/--port N] [--open] [--drafts/--no-drafts]
[--poll]``."""

from __future__ import annotations

import argparse
import errno
import os
import signal
import socket
import sys
import threading
from pathlib import Path

EXIT_OK, EXIT_USAGE = 0, 2


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``serve`` with the ``postil`` command line (see builder/cli.py)."""
    cmd = commands.add_parser(
        "serve", allow_abbrev=False, help="build the site, serve it and rebuild on every save",
        description="Build the site in SITE_DIR into memory, serve it over HTTP and watch "
        "its sources: each save rebuilds only what changed and the open browser tab "
        "reloads by itself (stylesheets are swapped in place). Build errors show in the "
        "terminal and over the page, and the last good site stays served.")
    cmd.add_argument("site_dir", nargs="?", type=Path, default=Path("."), metavar="SITE_DIR",
                     help="the folder holding site.yml (default: the current folder)")
    cmd.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1: this machine only)")
    cmd.add_argument("-p", "--port", type=_port, default=8000,
                     help="port (default 8000; 0 picks a free one)")
    cmd.add_argument("--open", action="store_true",
                     help="open the site in the web browser once it is served")
    cmd.add_argument("--drafts", action=argparse.BooleanOptionalAction, default=True,
                     help="show articles with draft: true (default: shown)")
    cmd.add_argument("--poll", action="store_true",
                     help="poll for changes instead of file-system events (network and "
                     "container file systems, WSL folders on Windows drives)")
    cmd.set_defaults(run=run_serve)
    return cmd


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0 to 65535, not {port}")
    return port


def run_serve(args: argparse.Namespace) -> int:
    from builder.serve.server import PreviewServer  # watchdog loads only for this command

    if not os.path.isfile(args.site_dir / "site.yml"):  # False for a name too long
        print(f"postil: no site.yml in {args.site_dir} (run 'postil init DIR' to make a site)",
              file=sys.stderr)
        return EXIT_USAGE
    server = PreviewServer(args.site_dir, host=args.host, port=args.port, drafts=args.drafts,
                           poll=args.poll)
    try:
        server.bind()
    except OSError as exc:
        print(f"postil: {_bind_problem(exc, args.host, args.port)}", file=sys.stderr)
        return EXIT_USAGE
    stop = threading.Event()
    # SIGTERM (docker stop, systemd, a test) stops as cleanly as Ctrl+C does.
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        server.start()
        drafts = "drafts shown" if args.drafts else "drafts hidden"
        watching = "polling for changes" if args.poll else "watching for changes"
        print(f"Serving {server.site_dir} at {server.url}", flush=True)
        print(f"({drafts}, {watching}; press Ctrl+C to stop)", flush=True)
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            print(f"note: listening on {args.host}: other machines can reach this preview",
                  flush=True)
        if args.open:
            open_browser(server.url)
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)
    print("stopped", flush=True)
    return EXIT_OK


def open_browser(url: str) -> bool:
    """Open ``url`` in the user's web browser (the standard library's :mod:`webbrowser`:
    $BROWSER, else the desktop's default); True if one was started. Called once the
    server is serving: a text-mode browser that keeps the terminal until it quits
    finds the site there."""
    import webbrowser

    try:
        opened = webbrowser.open(url)
    except webbrowser.Error:
        opened = False
    if not opened:
        print(f"note: no web browser found to open; open {url} yourself", flush=True)
    return opened


def _bind_problem(exc: OSError, host: str, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (f"port {port} on {host} is already in use (another 'postil serve'?); "
                f"choose another with --port N, or --port 0 for any free port")
    if exc.errno == errno.EACCES:
        return (f"not allowed to listen on port {port} on {host}; ports below 1024 need "
                f"privileges: use --port 8000 or --port 0")
    if isinstance(exc, socket.gaierror):
        return f"cannot listen on {host}: unknown host name ({exc.strerror or exc})"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {host}: not an address of this machine"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
