"""The application icon files, rendered at build time from ``resources/icon/ftrack-publisher.svg``.

``make_icons(folder)`` writes ``ftrack-publisher.png`` (256 px, Linux), ``.ico`` (Windows) and
``.icns`` (macOS) and returns their paths (no binary images in the repository: the SVG is the
source). Qt renders the SVG (no application object needed); Pillow writes the ICO and ICNS.
Used by ``build.py`` and the PyInstaller spec.
"""

from __future__ import annotations

import io
from pathlib import Path

NAME = "ftrack-publisher"
#: The icon's source, in the repository's ``resources/``.
SOURCE = Path(__file__).resolve().parent.parent / "resources" / "icon" / f"{NAME}.svg"


def draw(size: int = 512):
    """The icon at ``size`` x ``size`` pixels, as a Pillow RGBA image."""
    from PIL import Image
    from PySide6.QtCore import QBuffer, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        raise RuntimeError(f"{SOURCE} is missing or not a valid SVG: restore it from the repository.")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return Image.open(io.BytesIO(bytes(buffer.data()))).convert("RGBA")


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
