"""Frames on disk for an output a host renders: which of the expected frames exist, which are missing.

A host names its output as a pattern (``comp.%04d.exr``, ``####``, Houdini's ``$F4``) or as one
path per frame; :func:`expected_sequence` turns either into the
:class:`~publisher.api.sequences.Sequence` the host will write, and :func:`look_on_disk` scans
its folder once (:func:`publisher.api.sequences.scan`) to split its frames into found and missing.
Qt-free; any thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from publisher.api import sequences
from publisher.hosts.collect.items import CollectedItem, Role


@dataclass(frozen=True)
class OnDisk:
    """The expected frames split by what the folder holds; ``problem`` when it could not be read."""

    found: tuple[int, ...]
    missing: tuple[int, ...]
    files: tuple[str, ...]
    problem: str | None = None


def expected_sequence(pattern: str, first: int, last: int, step: int = 1) -> sequences.Sequence:
    """The sequence ``pattern`` names over ``first``..``last`` (every ``step``-th frame).

    Raises ``ValueError`` when ``pattern`` has no frame token or the range is empty.
    """
    if last < first:
        raise ValueError(f"the frame range {first}-{last} ends before it starts")
    step = max(1, int(step))
    frames = ", ".join(str(f) for f in range(first, last + 1, step)) if step > 1 else f"{first}-{last}"
    return sequences.parse(f"{pattern} [{frames}]")


def sequence_from_paths(paths: dict[int, str]) -> sequences.Sequence | None:
    """The sequence that the per-frame ``paths`` (frame -> path) form, or None when they are not
    one (the same path for every frame: a single file)."""
    items = sequences.detect(sorted(set(paths.values())))
    if len(items) == 1 and isinstance(items[0], sequences.Sequence):
        return items[0]
    return None


def look_on_disk(expected: sequences.Sequence) -> OnDisk:
    """Which frames of ``expected`` are on disk (one listing of its folder)."""
    wanted = {expected.path(frame): frame for frame in expected.frames}
    folder = expected.folder or "."
    try:
        listed = sequences.scan(folder)
    except FileNotFoundError:
        return OnDisk((), tuple(expected.frames), (),
                      f"the folder {folder} does not exist (not rendered yet?)")
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        return OnDisk((), tuple(expected.frames), (), f"cannot read the folder {folder} ({reason})")
    found: dict[int, str] = {}
    for item in listed:
        if isinstance(item, sequences.Sequence):
            for path in item.paths():
                if path in wanted:
                    found[wanted[path]] = path
        elif isinstance(item, sequences.File) and item.path in wanted:
            found[wanted[item.path]] = item.path
    frames = tuple(sorted(found))
    missing = tuple(f for f in expected.frames if f not in found)
    return OnDisk(frames, missing, tuple(found[f] for f in frames))


def missing_text(missing: tuple[int, ...] | list[int], limit: int = 8) -> str:
    """``1017, 1033`` or ``1017-1020, 1033, … (12 frames)`` for a note."""
    if not missing:
        return ""
    runs: list[str] = []
    start = prev = missing[0]
    for frame in list(missing[1:]) + [None]:  # type: ignore[list-item]
        if frame is not None and frame == prev + 1:
            prev = frame
            continue
        runs.append(str(start) if start == prev else f"{start}-{prev}")
        if frame is not None:
            start = prev = frame
    text = ", ".join(runs[:limit])
    if len(runs) > limit:
        text += ", …"
    return f"{text} ({len(missing)} frame{'s' if len(missing) != 1 else ''})"


def render_item(expected: sequences.Sequence, reason: str, source: str,
                role: Role = Role.RENDER) -> tuple[CollectedItem, list[str]]:
    """The item for an output the host renders as ``expected``, and notes on what is missing."""
    disk = look_on_disk(expected)
    pattern = expected.head + expected.padding_token + expected.tail
    item = CollectedItem(role, pattern, reason, source, (expected.first, expected.last),
                         disk.found, disk.missing, disk.files)
    notes: list[str] = []
    if disk.problem:
        notes.append(f"{source}: {disk.problem}; nothing staged from it.")
    elif not disk.found:
        notes.append(f"{source}: none of frames {expected.first}-{expected.last} of {pattern} are on disk "
                     "(render them first); nothing staged from it.")
    elif disk.missing:
        notes.append(f"{source}: missing on disk: frames {missing_text(disk.missing)} of "
                     f"{expected.first}-{expected.last}.")
    return item, notes


def scene_item(path: str, reason: str) -> CollectedItem:
    """The item of the work file itself."""
    return CollectedItem(Role.SCENE, path, reason, "scene", files=(path,))


__all__ = ["OnDisk", "render_item", "scene_item", "expected_sequence", "look_on_disk", "missing_text", "sequence_from_paths"]
