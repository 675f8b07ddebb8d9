"""Small media files made on the fly for server tests (PyAV + numpy)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np


def write_movie(path: Path, frames: int = 12, size: tuple[int, int] = (64, 48), rate: int = 24) -> Path:
    """An MPEG-4 movie of ``frames`` frames whose colour changes every frame."""
    width, height = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            pixels = np.zeros((height, width, 3), np.uint8)
            pixels[:, :, 0] = (i * 20) % 256
            pixels[:, : width // 2, 1] = 200
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_jpeg(path: Path, size: tuple[int, int] = (80, 40)) -> Path:
    from PIL import Image

    Image.new("RGB", size, (200, 80, 20)).save(path, "JPEG")
    return path
