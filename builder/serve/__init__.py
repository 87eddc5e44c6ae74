"""``postil serve``: build once, serve from memory, rebuild on save, reload the browser.

The pieces, each in its own module:

* :mod:`builder.serve.live`: :class:`LiveSite`, the last good build in memory,
  incremental rebuilds, and the state pushed to every open tab;
* :mod:`builder.serve.http`: the HTTP server (files, redirects, 404s, the
  base path, the event stream) and the resolution of a URL to a file;
* :mod:`builder.serve.livereload`: the script injected into HTML responses
  (reload, stylesheet swap, error overlay);
* :mod:`builder.serve.watch`: file watching with watchdog and debouncing;
* :mod:`builder.serve.server`: :class:`PreviewServer`, which ties them together;
* :mod:`builder.serve.command`: the ``serve`` subcommand.

Nothing here writes to the output folder: ``postil build`` output never
contains the injected script.
"""

from __future__ import annotations
