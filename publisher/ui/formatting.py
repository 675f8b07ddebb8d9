"""Plain text for sizes, frame holes and the like, shared by models and panels (no Qt)."""

from __future__ import annotations


def format_size(size: int | None) -> str:
    """``1536`` -> ``'1.5 KB'``; ``None`` -> ``''``."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def format_holes(holes: list[int] | int | None, limit: int = 12, count: int | None = None) -> str:
    """The missing frames, shortened: ``[1003, 1004, 1010]`` -> ``'3 missing: 1003-1004, 1010'``.

    ``count`` is the true number missing when ``holes`` lists only the first of them (staging
    caps the list for sequences with huge gaps).
    """
    if not holes:
        return ""
    if isinstance(holes, int):
        return f"{holes} missing"
    frames = sorted(holes)
    ranges: list[str] = []
    start = prev = frames[0]
    for frame in frames[1:] + [None]:  # type: ignore[list-item]
        if frame is not None and frame == prev + 1:
            prev = frame
            continue
        ranges.append(str(start) if start == prev else f"{start}-{prev}")
        if frame is not None:
            start = prev = frame
    total = max(count or 0, len(frames))
    more = len(ranges) > limit or total > len(frames)
    shown = ", ".join(ranges[:limit]) + (", …" if more else "")
    return f"{total} missing: {shown}"
