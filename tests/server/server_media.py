"""Small media files made on the fly for server tests (PyAV + Pillow)."""

from __future__ import annotations

from pathlib import Path

import av
from PIL import Image


def write_movie(path: Path, frames: int = 12, size: tuple[int, int] = (64, 48), rate: int = 24) -> Path:
    """An MPEG-4 movie of ``frames`` frames whose colour changes every frame."""
    width, height = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            image = Image.new("RGB", (width, height), ((i * 20) % 256, 0, 0))
            image.paste((0, 200, 0), (0, 0, width // 2, height))
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_jpeg(path: Path, size: tuple[int, int] = (80, 40)) -> Path:
    Image.new("RGB", size, (200, 80, 20)).save(path, "JPEG")
    return path
