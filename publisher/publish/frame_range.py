"""The check artists ask every publisher for: does the sequence on disk cover the shot's range?

The range on disk is the truth; the shot's cut range is the check. A shot holds it in ftrack's
default custom attributes ``fstart``, ``fend`` and ``handles`` (and ``fps``): the frames a
render must cover run from ``fstart - handles`` to ``fend + handles``. :func:`compare` says
which frames differ at either end (holes inside the range are the staging list's own warning);
:func:`shot_range_for_context` reads the range of the shot a task or shot belongs to.

No Qt; :func:`compare` is pure, :func:`shot_range_for_context` asks the server (call it from a
worker thread in the window).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from publisher.publish.browse import quote

#: The shot's custom attribute keys, as ftrack names them by default.
FSTART, FEND, HANDLES, FPS = "fstart", "fend", "handles", "fps"


@dataclass(frozen=True)
class ShotRange:
    """A shot's cut range and handles (frame numbers, inclusive), from its custom attributes."""

    shot_name: str
    fstart: int
    fend: int
    handles: int = 0
    fps: float | None = None

    @property
    def first(self) -> int:
        """The first frame a render of the shot must have (handles counted)."""
        return self.fstart - self.handles

    @property
    def last(self) -> int:
        """The last frame a render of the shot must have (handles counted)."""
        return self.fend + self.handles

    def describe(self) -> str:
        """``1001-1048`` or ``1001-1048 (1009-1040 with 8 handles)``."""
        if self.handles:
            return f"{self.first}-{self.last} ({self.fstart}-{self.fend} with {self.handles} handles)"
        return f"{self.first}-{self.last}"


@dataclass(frozen=True)
class FrameSpan:
    """Consecutive frames ``first..last`` (inclusive)."""

    first: int
    last: int

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"

    @property
    def count(self) -> int:
        return self.last - self.first + 1


@dataclass(frozen=True)
class RangeCheck:
    """The range on disk compared with the shot's: frames missing or extra at either end."""

    shot: ShotRange
    disk_first: int
    disk_last: int
    missing: tuple[FrameSpan, ...]
    extra: tuple[FrameSpan, ...]

    @property
    def matches(self) -> bool:
        return not self.missing and not self.extra

    def warning(self, component: str) -> str | None:
        """One sentence naming the frames that differ, or ``None`` when the ranges agree."""
        if self.matches:
            return None
        parts = []
        if self.missing:
            parts.append("frames " + ", ".join(map(str, self.missing)) + " of the shot are not on disk")
        if self.extra:
            parts.append("frames " + ", ".join(map(str, self.extra)) + " on disk are outside the shot")
        return (f"{component}: frames {self.disk_first}-{self.disk_last} on disk, but shot "
                f"{self.shot.shot_name} is {self.shot.describe()}: {'; '.join(parts)}.")


def compare(shot: ShotRange, disk_first: int, disk_last: int) -> RangeCheck:
    """Compare the first and last frame on disk with the shot's range (handles counted)."""
    if disk_last < disk_first:
        raise ValueError(f"the range on disk {disk_first}-{disk_last} ends before it starts")
    missing: list[FrameSpan] = []
    extra: list[FrameSpan] = []
    if disk_first > shot.first:
        missing.append(FrameSpan(shot.first, min(disk_first - 1, shot.last)))
    elif disk_first < shot.first:
        extra.append(FrameSpan(disk_first, min(shot.first - 1, disk_last)))
    if disk_last < shot.last:
        span = FrameSpan(max(disk_last + 1, shot.first), shot.last)
        if span not in missing:
            missing.append(span)
    elif disk_last > shot.last:
        span = FrameSpan(max(shot.last + 1, disk_first), disk_last)
        if span not in extra:
            extra.append(span)
    return RangeCheck(shot, disk_first, disk_last, tuple(missing), tuple(extra))


def disk_range(frame_range: str | None) -> tuple[int, int] | None:
    """``(first, last)`` of a staged sequence's ``frame_range`` (``'1001-1048'`` or ``'1001'``)."""
    if not frame_range:
        return None
    head, _, tail = frame_range.lstrip("-").partition("-")
    sign = -1 if frame_range.startswith("-") else 1
    try:
        first = sign * int(head)
        last = int(tail) if tail else first
    except ValueError:
        return None
    return first, last


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def shot_range_for_context(session: Any, context_id: str) -> ShotRange | None:
    """The range of the shot ``context_id`` is (or is inside of), or ``None`` when it is in no
    shot or the shot has no ``fstart``/``fend``. Raises the client's ``FtrackError`` when the
    server cannot be asked."""
    context = session.query(f"select link from Context where id is {quote(context_id)}").first()
    if context is None:
        return None
    chain = [entry["id"] for entry in (context["link"] or []) if isinstance(entry, dict)]
    if not chain:
        return None
    ids = ", ".join(quote(i) for i in chain)
    shots = {str(s["id"]): s for s in session.query(f"select name, custom_attributes from Shot where id in ({ids})").all()}
    for context_id in reversed(chain):  # the nearest shot
        shot = shots.get(str(context_id))
        if shot is None:
            continue
        values = dict(shot["custom_attributes"])
        fstart, fend = _number(values.get(FSTART)), _number(values.get(FEND))
        if fstart is None or fend is None:
            return None
        handles = _number(values.get(HANDLES)) or 0
        return ShotRange(str(shot["name"]), int(fstart), int(fend), int(handles), _number(values.get(FPS)))
    return None


def version_context_id(session: Any, version_id: str) -> str | None:
    """The context (shot, folder...) a version's asset hangs under."""
    version = session.query(f"select asset.context_id from AssetVersion where id is {quote(version_id)}").first()
    if version is None or version["asset"] is None:
        return None
    return str(version["asset"]["context_id"])


def check_sequences(shot: ShotRange | None, components: list[Any]) -> list[str]:
    """Warnings for the staged sequences whose range on disk differs from ``shot``'s."""
    if shot is None:
        return []
    warnings = []
    for component in components:
        if getattr(component, "kind", None) != "sequence":
            continue
        found = disk_range(component.frame_range)
        if found is None:
            continue
        message = compare(shot, *found).warning(component.name)
        if message:
            warnings.append(message)
    return warnings


__all__ = ["FrameSpan", "RangeCheck", "ShotRange", "check_sequences", "compare", "disk_range",
           "shot_range_for_context", "version_context_id"]
