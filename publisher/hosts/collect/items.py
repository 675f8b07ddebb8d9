"""What a collector found: items to stage, each with its frame range and the reason it was found.

:class:`CollectedItem` is one file or image sequence; :class:`Collection` is everything one
collector run found in one host, plus notes on what it left out and why. Both are plain data:
they cross from the host into the publisher (in process, or as the JSON file the standalone app
reads with ``--stage FILE``) without Qt. Any thread.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

#: Version of the stage file's layout; a file of another version is refused, not guessed at.
STAGE_FILE_FORMAT = 1


class Role(str, Enum):
    """Why an item is staged: the work file, a render output, or the review made on request."""

    SCENE = "scene"
    RENDER = "render"
    REVIEW = "review"


class StageFileError(ValueError):
    """A stage file cannot be read; the message names the file and what to do."""


@dataclass(frozen=True)
class CollectedItem:
    """One thing to stage.

    ``path`` is the file, or for an image sequence its pattern (``/r/comp.%04d.exr``).
    ``reason`` says where it was found (``"Write1: enabled Write node"``) for the artist to read.
    ``expected`` is the (first, last) frame the host renders; ``frames`` the frames of that range
    found on disk and ``missing`` the others. ``files`` are the files on disk to stage (the
    scene file, or one per frame found).
    """

    role: Role
    path: str
    reason: str
    source: str = ""
    expected: tuple[int, int] | None = None
    frames: tuple[int, ...] = ()
    missing: tuple[int, ...] = ()
    files: tuple[str, ...] = ()

    @property
    def is_sequence(self) -> bool:
        return self.expected is not None

    @property
    def on_disk(self) -> bool:
        """True when there is something on disk to stage."""
        return bool(self.files)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["role"] = self.role.value
        data["expected"] = list(self.expected) if self.expected else None
        for name in ("frames", "missing", "files"):
            data[name] = list(data[name])
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "CollectedItem":
        expected = data.get("expected")
        return cls(role=Role(data["role"]), path=str(data["path"]), reason=str(data.get("reason", "")),
                   source=str(data.get("source", "")),
                   expected=(int(expected[0]), int(expected[1])) if expected else None,
                   frames=tuple(int(f) for f in data.get("frames", ())),
                   missing=tuple(int(f) for f in data.get("missing", ())),
                   files=tuple(str(f) for f in data.get("files", ())))


@dataclass
class Collection:
    """Everything one collector run found in ``host`` (``"Nuke"``, ``"Maya"``, ``"Houdini"``).

    ``notes`` say what was left out and why (a disabled node, an unsaved scene, a folder not
    rendered yet), in words the artist can act on.
    """

    host: str
    scene: str | None
    items: list[CollectedItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def stageable(self) -> list[CollectedItem]:
        """The items with files on disk."""
        return [item for item in self.items if item.on_disk]

    def paths(self) -> list[str]:
        """Every file to stage, for the staging list (frames group back into sequences there)."""
        return [path for item in self.stageable() for path in item.files]

    def to_json(self) -> dict[str, Any]:
        return {"format": STAGE_FILE_FORMAT, "host": self.host, "scene": self.scene,
                "items": [item.to_json() for item in self.items], "notes": list(self.notes)}

    @classmethod
    def from_json(cls, data: Any) -> "Collection":
        if not isinstance(data, dict) or data.get("format") != STAGE_FILE_FORMAT:
            raise ValueError(f"not a stage file of format {STAGE_FILE_FORMAT}")
        return cls(host=str(data["host"]), scene=data.get("scene"),
                   items=[CollectedItem.from_json(item) for item in data.get("items", [])],
                   notes=[str(note) for note in data.get("notes", [])])

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the collection as a stage file (JSON, written whole then renamed)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".part")
        temporary.write_text(json.dumps(self.to_json(), indent=1), encoding="utf-8")
        os.replace(temporary, path)
        return path

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> "Collection":
        """Read a stage file; :class:`StageFileError` saying what is wrong with it."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise StageFileError(f"Cannot read the stage file {path} ({exc.strerror or exc}): "
                                 "collect again from the host's menu.") from None
        try:
            return cls.from_json(json.loads(text))
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise StageFileError(f"The stage file {path} is not one the publisher wrote ({exc}): "
                                 "collect again from the host's menu.") from None


__all__ = ["CollectedItem", "Collection", "Role", "STAGE_FILE_FORMAT", "StageFileError"]
