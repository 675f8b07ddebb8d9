"""Files for the publish tests to drop: a few plate frames and a tiny real movie.

A plain module (not conftest.py) so test modules can import the builders by name.
"""

from __future__ import annotations

from pathlib import Path


def make_plates(folder: Path, frames=(1001, 1002, 1003)) -> Path:
    """``plate.<frame>.exr`` files in ``folder`` (made if needed), each with different bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in frames:
        (folder / f"plate.{f}.exr").write_bytes(f"frame {f} ".encode() * 200)
    return folder


def make_movie(path: Path, frames: int = 12) -> Path:
    """A tiny real H.264 movie (PyAV), for the server's encoder to read."""
    import av
    import numpy as np

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            image = np.full((48, 64, 3), (i * 20) % 255, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
