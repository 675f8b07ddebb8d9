"""The application icon, drawn with Pillow at build time (no binary images in the repository).

``make_icons(folder)`` writes ``ftrack-publisher.png`` (256 px, Linux), ``.ico`` (Windows) and
``.icns`` (macOS) and returns their paths. Used by ``build.py`` and the PyInstaller spec.
"""

from __future__ import annotations

from pathlib import Path

NAME = "ftrack-publisher"


def draw(size: int = 512):
    """The icon: an upward arrow (publish) over a tray, on a rounded blue square."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(image)
    s = size / 512
    d.rounded_rectangle((16 * s, 16 * s, 496 * s, 496 * s), radius=96 * s, fill=(35, 93, 140, 255))
    white = (245, 247, 250, 255)
    d.polygon([(256 * s, 88 * s), (388 * s, 236 * s), (300 * s, 236 * s), (300 * s, 340 * s),
               (212 * s, 340 * s), (212 * s, 236 * s), (124 * s, 236 * s)], fill=white)
    d.rounded_rectangle((104 * s, 372 * s, 408 * s, 420 * s), radius=20 * s, fill=(90, 169, 230, 255))
    return image


def make_icons(folder: str | Path) -> dict[str, Path]:
    """Write the PNG, ICO and ICNS icons into ``folder``; return {"png", "ico", "icns"} paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    image = draw(512)
    out = {"png": folder / f"{NAME}.png", "ico": folder / f"{NAME}.ico", "icns": folder / f"{NAME}.icns"}
    image.resize((256, 256)).save(out["png"])
    image.save(out["ico"], sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
    image.save(out["icns"])
    return out


if __name__ == "__main__":
    import sys

    for kind, path in make_icons(sys.argv[1] if len(sys.argv) > 1 else "build/icons").items():
        print(kind, path)
