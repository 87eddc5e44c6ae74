"""``postil publish``: a fresh production build, then git, a local folder or rsync.

Each target module works from the build's files in memory (``BuildResult.files``,
the manifest excluded) and reports a :class:`Changes`; a failure is a
:class:`PublishError` whose message is a one-line reason.
"""

from importlib import import_module

# Loaded on first use (PEP 562): `postil build` declares the publish arguments, and
# a build with nothing to do must not import the publishing modules to do so.
_HOMES = {"Changes": "changes", "PublishError": "changes", "add_parser": "arguments",
          "run_publish": "command", "sync_folder": "folder", "publish_git": "git",
          "publish_rsync": "rsync"}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module 'builder.publish' has no attribute {name!r}")
    return getattr(import_module(f"builder.publish.{_HOMES[name]}"), name)
