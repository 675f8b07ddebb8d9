"""The items sequence detection returns: ``Sequence``, ``File`` and ``ScanError``.

Kept apart from the detection rules so that both ``sequences`` (public functions) and
``_sequence_grouping`` (the fast grouping engine) can build them. Import them from
``publisher.api.sequences``.
"""

from __future__ import annotations

import bisect
import functools
import os
from dataclasses import dataclass
from typing import Any, Iterable, Union

# Folder separators: on Windows both slashes separate folders, elsewhere only "/".
SEPS = "/\\" if os.name == "nt" else "/"


def split_folder(path: str) -> tuple[str, str]:
    """Return (folder with trailing separator or '', base name)."""
    cut = max(path.rfind(sep) for sep in SEPS)
    return path[: cut + 1], path[cut + 1 :]


def strip_folder(prefix: str) -> str:
    """Folder from a prefix ending in a separator ('' stays '', '/' stays '/')."""
    if len(prefix) > 1 and prefix[-1] in SEPS:
        return prefix[:-1]
    return prefix


def member_text(frame: int, padding: int) -> str:
    """The frame as it appears in a file name: zero-filled digits after an optional sign."""
    if frame < 0:
        return "-" + str(-frame).zfill(padding)
    return str(frame).zfill(padding)


def ranges_text(frames: Iterable[int]) -> str:
    parts: list[str] = []
    start: int | None = None
    prev = 0
    for frame in frames:
        if start is None:
            start = prev = frame
        elif frame == prev + 1:
            prev = frame
        else:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
            start = prev = frame
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ", ".join(parts)


class _OnePath:
    """``folder`` and ``name`` of an item that stands for one ``path``."""

    path: str

    @property
    def folder(self) -> str:
        return strip_folder(split_folder(self.path)[0])

    @property
    def name(self) -> str:
        return split_folder(self.path)[1]


@dataclass(frozen=True)
class File(_OnePath):
    """A single file that is not part of any sequence (``path`` as given or as found)."""

    path: str

    def __str__(self) -> str:
        return self.path


@dataclass(frozen=True)
class ScanError(_OnePath):
    """An entry that could not be read or used; ``message`` says what went wrong and what to do."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class Sequence:
    """Numbered files ``{head}{frame padded to padding}{tail}``, e.g. ``/p/plate.1001.exr``.

    ``head`` includes the folder (as in ftrack and clique). ``frames`` is a sorted tuple of
    distinct ints (at least one). ``padding`` is the zero-filled digit count (0: unpadded ``%d``);
    a minus sign is not counted. Immutable and hashable.
    """

    head: str
    tail: str
    padding: int
    frames: tuple[int, ...]

    def __post_init__(self) -> None:
        frames = self.frames
        if not isinstance(frames, tuple):
            frames = tuple(frames)
            object.__setattr__(self, "frames", frames)
        if not frames:
            raise ValueError("a Sequence needs at least one frame")
        if any(b <= a for a, b in zip(frames, frames[1:])):
            raise ValueError("Sequence frames must be sorted and distinct")
        if not isinstance(self.padding, int) or self.padding < 0:
            raise ValueError(f"padding must be an int >= 0, not {self.padding!r}")
        if self.padding == 1:
            # %01d and %d name the same files: one spelling, so equal sequences compare equal.
            object.__setattr__(self, "padding", 0)

    # --- what the issue asks for -----------------------------------------------------------
    @functools.cached_property
    def holes(self) -> tuple[int, ...]:
        """Missing frames between the first and the last, sorted.

        This lists every missing frame: for display, ``hole_ranges`` and ``hole_count`` cost
        only as much as the frames themselves, however far apart they are.
        """
        return tuple(f for first, last in self._gaps() for f in range(first, last + 1))

    @property
    def hole_count(self) -> int:
        """How many frames are missing between the first and the last."""
        return self.frames[-1] - self.frames[0] + 1 - len(self.frames)

    @property
    def hole_ranges(self) -> str:
        """Missing frames as ranges, e.g. ``1006, 1011-1019`` ('' when complete)."""
        return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in self._gaps())

    def _gaps(self) -> list[tuple[int, int]]:
        frames = self.frames
        if frames[-1] - frames[0] + 1 == len(frames):
            return []
        return [(a + 1, b - 1) for a, b in zip(frames, frames[1:]) if b - a > 1]

    def format(self, pattern: str = "{head}{padding}{tail} [{ranges}]") -> str:
        """ftrack's sequence string, e.g. ``/p/plate.%04d.exr [1001-1005, 1007-1010]``.

        ``pattern`` may use ``{head}``, ``{padding}``, ``{tail}``, ``{ranges}``, ``{holes}``,
        ``{folder}``, ``{name}``, ``{first}``, ``{last}`` (as clique's ``Collection.format``).
        """
        data: dict[str, Any] = {"head": self.head, "padding": self.padding_token, "tail": self.tail}
        if "{ranges}" in pattern:
            data["ranges"] = self.ranges
        if "{holes}" in pattern:
            data["holes"] = self.hole_ranges
        if "{folder}" in pattern:
            data["folder"] = self.folder
        if "{name}" in pattern:
            data["name"] = self.name
        data["first"] = self.first
        data["last"] = self.last
        return pattern.format(**data)

    # --- what the client and the GUI need --------------------------------------------------
    @property
    def padding_token(self) -> str:
        """``%04d`` for padding 4, ``%d`` when unpadded."""
        return f"%0{self.padding}d" if self.padding else "%d"

    @property
    def first(self) -> int:
        return self.frames[0]

    @property
    def last(self) -> int:
        return self.frames[-1]

    @property
    def ranges(self) -> str:
        """Frames as ranges, e.g. ``1001-1005, 1007-1010``."""
        return ranges_text(self.frames)

    @property
    def folder(self) -> str:
        return strip_folder(split_folder(self.head)[0])

    @property
    def name(self) -> str:
        """Display name without the folder, e.g. ``plate.%04d.exr``."""
        return split_folder(self.head)[1] + self.padding_token + self.tail

    def member_name(self, frame: int) -> str:
        """The padded index ftrack names a sequence member by (``'1001'``, ``'-0002'``)."""
        return member_text(frame, self.padding)

    def path(self, frame: int) -> str:
        """The path that ``frame`` has (or, for a hole, would have)."""
        return self.head + member_text(frame, self.padding) + self.tail

    def paths(self) -> list[str]:
        """The full path of every frame, in frame order."""
        head, tail, padding = self.head, self.tail, self.padding
        return [head + member_text(f, padding) + tail for f in self.frames]

    def __len__(self) -> int:
        return len(self.frames)

    def __contains__(self, frame: object) -> bool:
        if not isinstance(frame, int):
            return False
        at = bisect.bisect_left(self.frames, frame)
        return at < len(self.frames) and self.frames[at] == frame

    def __str__(self) -> str:
        return self.format()

    # --- clique interoperability -----------------------------------------------------------
    def to_collection(self) -> Any:
        """This sequence as a ``clique.Collection`` (clique 1.6 or 2.x)."""
        import clique

        return clique.Collection(self.head, self.tail, self.padding, indexes=set(self.frames))

    @classmethod
    def from_collection(cls, collection: Any) -> "Sequence":
        """A ``Sequence`` from a non-empty ``clique.Collection``."""
        frames = tuple(sorted(collection.indexes))
        if not frames:
            raise ValueError(f"clique collection {collection!r} has no frames")
        return cls(collection.head, collection.tail, int(collection.padding), frames)


Item = Union[Sequence, File, ScanError]


def trusted_sequence(head: str, tail: str, padding: int, frames: tuple[int, ...]) -> Sequence:
    """Build a Sequence from values the grouping engine already checked (sorted, distinct).

    Skips ``__post_init__``: validating 100,000 frames again would cost as much as finding them.
    """
    seq = object.__new__(Sequence)
    object.__setattr__(seq, "head", head)
    object.__setattr__(seq, "tail", tail)
    object.__setattr__(seq, "padding", 0 if padding == 1 else padding)
    object.__setattr__(seq, "frames", frames)
    return seq
