"""How the app was asked to open: at which task (``--context``, ``FTRACK_CONTEXTID``) and with
which collected items (``--stage FILE``, written by a Qt 5 host's menu entry).

Qt-free: the command line fills :class:`LaunchOptions` and the window start-up reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from publisher.hosts import context


@dataclass(frozen=True)
class LaunchOptions:
    """``context_id`` to open at (``source`` names where it came from, for messages) and the
    ``stage_file`` whose items to stage there."""

    context_id: str | None = None
    source: str = context.ENVIRONMENT_VARIABLE
    stage_file: Path | None = None

    @classmethod
    def from_arguments(cls, context_id: str | None, stage_file: str | Path | None,
                       env: Mapping[str, str] | None = None) -> "LaunchOptions":
        """``--context`` wins over ``FTRACK_CONTEXTID``."""
        if context_id:
            return cls(context_id.strip(), "--context", Path(stage_file) if stage_file else None)
        return cls(context.from_environment(env), context.ENVIRONMENT_VARIABLE,
                   Path(stage_file) if stage_file else None)


def add_arguments(parser: object) -> None:
    """Add ``--context ID`` and ``--stage FILE`` to the app's ``argparse`` parser."""
    parser.add_argument("--context", metavar="ID", default=None,  # type: ignore[attr-defined]
                        help="open at this task (or shot, or version); default: $FTRACK_CONTEXTID")
    parser.add_argument("--stage", metavar="FILE", type=Path, default=None,  # type: ignore[attr-defined]
                        help="stage the items a host collected into this file (written by the host's menu entry)")


__all__ = ["LaunchOptions", "add_arguments"]
