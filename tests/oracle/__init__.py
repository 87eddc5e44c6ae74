"""The rebuild oracle: a small generated archive, seeded edits, and three builds that must agree.

A :class:`SiteModel` holds a small archive as data: articles (front matter and a
body of text pieces and links), entities (names, aliases, notes that link to
articles), the ``site.yml`` values, template edits on the site's own copy of
the default theme, and stylesheet rules. Links are references to article or
entity ids, never text, so renaming a file, changing a slug or a title, or
deleting an article rewrites every file that must change, and the site stays
buildable. :func:`render_files` turns the model into the site's files.

:class:`EditGenerator` makes seeded edits of every kind the issue names
(:data:`SIMPLE_EDITS`), and the "macros" of :data:`CASES`, one per case of
issue 8, each an edit sequence that exposed a stale rebuild on the code
before the fix, and of :data:`EXTRAS` (a tag respelled where only its later
pages show the change; pages of the output changed by hand). A run forces
each macro it is given once, at a seeded step (:func:`plan`).

:class:`Oracle` writes the site, then after each step checks that three
builds are byte-identical:

(a) a long-lived :class:`~builder.pipeline.SiteBuilder` with the options of
    ``postil serve`` but no drafts, built again (its ``result.files``);
(b) a fresh ``python3 -m builder build SITE -o OUT -q`` process into the
    output folder of the previous step;
(c) a cold build: ``build(site, BuildOptions(output=fresh, cache=False))``
    into an empty folder.

It also checks that nothing unresolved (``postil-ref:``) reaches the output,
that every internal link of the cold build leads to a file of it, that a
rebuild leaves the mtime of every file whose bytes did not change, that a
page changed by hand in the output is repaired, that a failed build leaves
the output (files, folders, manifest) as it was, and, when asked, the crash
hooks of the writer (``POSTIL_FAULT``: after crashes in the rename phase the
step's edits are undone, and the next build must remove every file the
crashed runs made), the output folder's lock, and that a rebuild kept the
parsed-article cache.

Determinism: every choice of the edits comes from one ``random.Random(seed)``,
the crash points from a second one; no order depends on a set; dates are
fixed (2016–2024); each written source file gets an mtime later than any
before, so the builders' stat checks always see an edit. The builds
themselves run as they would for a user.

Limits: (a) and (c) share this process, so a stale module-level memo of the
builder would show only in (b) against (c). The cache check compares the
in-process code fingerprint with a fresh process's: editing ``builder/`` while
the oracle runs makes it fail (the keys differ), which is no bug.
``tests/test_oracle.py`` runs a short version, ``bench/oracle.py`` a long one.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
if str(REPO) not in sys.path:  # bench/ is not a package that pytest puts on the path
    sys.path.insert(0, str(REPO))

# The package's modules import bench.generate: REPO is on the path before they load.
from .checks import Oracle, OracleFailure, OracleOptions  # noqa: E402
from .edits import MACROS, EditGenerator  # noqa: E402
from .model import render_files  # noqa: E402

__all__ = ["MACROS", "REPO", "EditGenerator", "Oracle", "OracleFailure", "OracleOptions",
           "render_files"]
