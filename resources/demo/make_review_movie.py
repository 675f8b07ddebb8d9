"""Makes ``publisher/server/data/demo_review.mp4``: the review movie of the demo project's
versions (a lighthouse beam sweeping through fog, 2 s at 24 fps, 480x270, H.264).

Run from the repository root: ``python resources/demo/make_review_movie.py``. The movie is
shipped with the package rather than encoded when a data folder is seeded, so a new server
starts in a fraction of a second.
"""

from __future__ import annotations

import colorsys
import json
import math
from pathlib import Path

import av
from PIL import Image, ImageDraw

WIDTH, HEIGHT, FPS, FRAMES = 480, 270, 24, 48
OUT = Path(__file__).resolve().parents[2] / "publisher" / "server" / "data" / "demo_review.mp4"


def frame(i: int) -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(image)
    for y in range(HEIGHT):
        r, g, b = colorsys.hsv_to_rgb(0.6, 0.5, 0.15 + 0.5 * y / HEIGHT)
        draw.line([(0, y), (WIDTH, y)], fill=(int(r * 255), int(g * 255), int(b * 255)))
    top = (WIDTH // 2, 95)
    angle = -math.pi + 2 * math.pi * i / FRAMES
    for spread in (0.10, 0.06):
        a, b = angle - spread, angle + spread
        draw.polygon([top, (top[0] + 600 * math.cos(a), top[1] + 600 * math.sin(a)),
                      (top[0] + 600 * math.cos(b), top[1] + 600 * math.sin(b))],
                     fill=(200, 200, 170) if spread < 0.08 else (120, 125, 110))
    draw.polygon([(228, 90), (252, 90), (262, 230), (218, 230)], fill=(235, 235, 225))
    draw.rectangle([0, 230, WIDTH, HEIGHT], fill=(20, 30, 45))
    draw.text((10, 10), f"Demo: Lighthouse  frame {1001 + i}", fill=(255, 255, 255))
    return image


def main() -> None:
    with av.open(str(OUT), "w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"crf": "30", "preset": "slow"}
        for i in range(FRAMES):
            for packet in stream.encode(av.VideoFrame.from_image(frame(i))):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    meta = {"frameIn": 0, "frameOut": FRAMES, "frameRate": FPS, "width": WIDTH, "height": HEIGHT}
    print(OUT, OUT.stat().st_size, "bytes; ftr_meta", json.dumps(meta))


if __name__ == "__main__":
    main()
