"""``postil publish``: a fresh production build, then git, a local folder or rsync.

Each target module works from the build's files in memory (``BuildResult.files``,
the manifest excluded) and reports a :class:`Changes`; a failure is a
:class:`PublishError` whose message is a one-line reason.
"""

from builder.publish.changes import Changes, PublishError
from builder.publish.command import add_parser, run_publish
from builder.publish.folder import sync_folder
from builder.publish.git import publish_git
from builder.publish.rsync import publish_rsync

__all__ = ["Changes", "PublishError", "add_parser", "publish_git", "publish_rsync",
           "run_publish", "sync_folder"]
