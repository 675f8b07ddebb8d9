"""Numbers as an artist reads them: sizes, durations, missing frames. No Qt; any thread.

The window, the ``publish`` command and the logs all show sizes through :func:`format_size`, so
the same file reads the same everywhere (decimal units, as file managers and ftrack show them:
1,500,000 bytes is "1.5 MB").
"""

from __future__ import annotations

_SIZE_UNITS = ("B", "KB", "MB", "GB", "TB")


def format_size(size: float | None) -> str:
    """``1_500_000`` -> ``'1.5 MB'``; ``512`` -> ``'512 B'``; ``None`` -> ``''``. Decimal units."""
    if size is None:
        return ""
    value = float(size)
    for unit in _SIZE_UNITS:
        if abs(value) < 1000 or unit == _SIZE_UNITS[-1]:
            return f"{value:.0f} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable: the last unit always returns")


def format_rate(rate: float) -> str:
    """Bytes per second as ``'112.4 MB/s'`` (empty for no movement)."""
    return f"{format_size(rate)}/s" if rate > 0 else ""


def format_duration(seconds: float | None) -> str:
    """In words, for the window: ``75`` -> ``'1 min 15 s'``; ``None`` -> ``''``."""
    if seconds is None or seconds < 0:
        return ""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_clock(seconds: float) -> str:
    """As a clock, for a one-line progress bar: ``75`` -> ``'1:15'``; ``3725`` -> ``'1:02:05'``."""
    whole = int(round(max(seconds, 0.0)))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


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
    for frame in [*frames[1:], None]:
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


__all__ = ["format_clock", "format_duration", "format_holes", "format_rate", "format_size"]
