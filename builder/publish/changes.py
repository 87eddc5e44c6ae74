"""What a publish does to its target: files added, changed and removed."""

from __future__ import annotations

from dataclasses import dataclass, field


class PublishError(Exception):
    """A publish that could not be done; the message is a one-line reason."""


@dataclass
class Changes:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.changed)} changed, "
                f"{len(self.removed)} removed")

    def listing(self) -> list[str]:
        """One line per file, ``+`` added, ``~`` changed, ``-`` removed."""
        return ([f"  + {name}" for name in sorted(self.added)]
                + [f"  ~ {name}" for name in sorted(self.changed)]
                + [f"  - {name}" for name in sorted(self.removed)])
