"""Staged media used as the version's review: which component it becomes and its ``ftr_meta``.

ftrack plays a version's review from an ``ftrackreview-mp4`` component (an H.264 MP4) or shows
an ``ftrackreview-image`` one, each with ``ftr_meta`` metadata {frameIn, frameOut, frameRate,
width, height} read from the file. Other movies (a ``.mov`` in ProRes, say) are encoded by the
server instead (the request's ``review_path``). No Qt; any thread (PyAV and Pillow read the file).
"""

from __future__ import annotations

import enum
import json
import os
from dataclasses import asdict, dataclass
from fractions import Fraction

#: Movies ftrack plays as they are (the encoder's own output format).
PLAYABLE_MOVIES = (".mp4", ".m4v")
#: Movies the server encodes into a playable one.
ENCODED_MOVIES = (".mov", ".avi", ".mkv", ".mxf", ".webm")
#: Stills shown as they are.
STILLS = (".jpg", ".jpeg", ".png", ".gif", ".webp")


class ReviewUse(enum.Enum):
    """How a staged file becomes the review: as it is (a component) or through an encode job."""

    MOVIE = "ftrackreview-mp4"
    IMAGE = "ftrackreview-image"
    ENCODE = "encode"


@dataclass(frozen=True)
class ReviewMeta:
    """``ftr_meta`` as ftrack names its keys."""

    frameIn: int  # noqa: N815 - ftrack's key names
    frameOut: int  # noqa: N815
    frameRate: float  # noqa: N815
    width: int
    height: int

    def to_json(self) -> str:
        return json.dumps(asdict(self))


class ReviewMediaError(ValueError):
    """The file cannot be used as review media; the message says why and what to do."""


def review_use(path: str) -> ReviewUse | None:
    """How ``path`` can become the review, or ``None`` (not a movie or a still)."""
    ext = os.path.splitext(path)[1].lower()
    if ext in PLAYABLE_MOVIES:
        return ReviewUse.MOVIE
    if ext in STILLS:
        return ReviewUse.IMAGE
    if ext in ENCODED_MOVIES:
        return ReviewUse.ENCODE
    return None


def read_meta(path: str) -> ReviewMeta:
    """The ``ftr_meta`` of movie or still ``path``; :class:`ReviewMediaError` when unreadable."""
    use = review_use(path)
    if use is None:
        raise ReviewMediaError(f"{path} is not a movie or an image: use a .mp4, .mov or .jpg/.png as review.")
    try:
        if use is ReviewUse.IMAGE:
            from PIL import Image

            with Image.open(path) as image:
                width, height = image.size
            return ReviewMeta(0, 0, 0, width, height)
        import av

        with av.open(path) as container:
            if not container.streams.video:
                raise ReviewMediaError(f"{path} has no video stream: choose a movie with pictures.")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate or Fraction(24)
            frames = stream.frames
            if not frames and stream.duration is not None and stream.time_base is not None:
                frames = round(float(stream.duration * stream.time_base * rate))
            if not frames and container.duration:
                frames = round(container.duration / 1_000_000 * float(rate))
            return ReviewMeta(0, max(int(frames or 1) - 1, 0), round(float(rate), 3),
                              stream.codec_context.width, stream.codec_context.height)
    except ReviewMediaError:
        raise
    except (OSError, ValueError) as error:  # av.error.* are OSError/ValueError subclasses
        raise ReviewMediaError(f"Cannot read {path} as review media ({error}): check the file plays, "
                               "or make it reviewable after publishing.") from error


__all__ = ["ReviewMediaError", "ReviewMeta", "ReviewUse", "read_meta", "review_use"]
