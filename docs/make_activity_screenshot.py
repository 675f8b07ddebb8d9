"""Make ``docs/activity.png``: the window with its activity panel in the middle of real work.

Starts a temporary embedded server with the demo project, opens the window offscreen, publishes
a small file (it finishes), starts "Make reviewable" with a generated movie, then publishes a
sizeable sparse render and a notes file, and grabs the window while the render is uploading and
the encode is running (both with their progress). Everything made lives in a temporary folder.

    python docs/make_activity_screenshot.py [OUTPUT.png]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

RENDER_BYTES = 3 * 1024 ** 3
MOVIE_FRAMES, MOVIE_SIZE = 360, (1920, 1080)


def _wait(condition, timeout_s: float) -> bool:
    """Run the event loop until ``condition()`` is true (checked every 20 ms) or the timeout."""
    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s

    def check() -> None:
        if condition() or time.monotonic() > deadline:
            loop.quit()

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(20)
    loop.exec()
    timer.stop()
    return bool(condition())


def _movie(path: Path) -> Path:
    import av
    import numpy as np

    width, height = MOVIE_SIZE
    ys, xs = np.mgrid[0:height, 0:width]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "30"}
        for i in range(MOVIE_FRAMES):
            rgb = np.stack([(xs // 3 + 5 * i) % 256, (ys // 2 + 2 * i) % 256,
                            ((xs + ys) // 6 + 3 * i) % 256], axis=-1).astype("uint8")
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "docs" / "activity.png"
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("ftrack-publisher")
    from publisher.api import Session
    from publisher.embedded import EmbeddedServer
    from publisher.publish.outbox import Outbox
    from publisher.ui.drop_zone import DropTarget
    from publisher.ui.window import MainWindow

    with tempfile.TemporaryDirectory(prefix="activity-screenshot-") as tmp_name:
        tmp = Path(tmp_name)
        server = EmbeddedServer(tmp / "server")
        server.start()
        window = None
        try:
            session = Session(server.url, server.api_user, server.api_key)
            settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
            window = MainWindow(session, server_label=f"embedded demo server {server.url}", settings=settings,
                                outbox=Outbox(tmp / "outbox"))
            window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
            window.resize(1600, 1000)
            window.show()
            c = window.controller
            errors: list[str] = []
            c.errorRaised.connect(errors.append)
            window.start()
            if not _wait(lambda: c.details is not None, 60):
                raise SystemExit("the window did not load the demo project")
            version = c.details.row
            drop = tmp / "drop"
            drop.mkdir()

            # A small publish that has finished by the time of the picture.
            notes = drop / "lookdev_notes.pdf"
            notes.write_bytes(b"%PDF-1.4\n" + b"n" * 180_000)
            c.drop([str(notes)], DropTarget("current"))
            _wait(lambda: c.staging_model.rowCount() == 1, 30)
            c.publish("look-dev notes")
            _wait(lambda: not c.publishing(), 60)

            # The big publish, then the encode once the upload is under way: both in flight when
            # the picture is taken.
            movie = _movie(drop / "comp_v004_review.mov")
            render = drop / "comp_v004_plate.exr"
            with open(render, "wb") as fh:
                fh.truncate(RENDER_BYTES)
            camera = drop / "comp_v004_camera.abc"
            camera.write_bytes(b"c" * 4_200_000)
            c.drop([str(camera), str(render)], DropTarget("current"))
            _wait(lambda: c.staging_model.rowCount() == 2, 30)
            c.publish("comp v004: plate and camera")
            top = c.activity_model.publishes()[-1]

            def moving():
                return next((ch for ch in top.children if ch.state == "running" and ch.total and ch.rate > 0), None)

            _wait(lambda: moving() is not None and moving().done / moving().total >= 0.12, 300)
            c.make_reviewable(version.id, str(movie), f"{version.asset_name} v{version.version:03d}")

            def ready() -> bool:
                encode = next((ch for i in c.activity_model.publishes() for ch in i.children
                               if ch.kind == "encode"), None)
                return (encode is not None and encode.state == "running" and encode.done >= 20
                        and moving() is not None)

            if not _wait(ready, 300):
                print("warning: the upload and the encode did not overlap as planned; grabbing anyway",
                      file=sys.stderr)
            window.widget.activity.view.expandAll()
            window.widget.activity.select_key(top.key)  # the running publish: Cancel is live
            window.resizeDocks([window.activity_dock], [330], Qt.Orientation.Vertical)
            _wait(lambda: False, 0.3)  # let the layout settle before the grab
            picture = window.grab()
            out.parent.mkdir(parents=True, exist_ok=True)
            if not picture.save(str(out), "PNG"):
                raise SystemExit(f"could not write {out}")
            print(f"Saved {out} ({picture.width()}x{picture.height()})")
            for key in list(c.queue._publishes):
                c.cancel_publish(key)
            _wait(lambda: not c.publishing(), 60)
            if errors:
                print("the window reported:", errors[-1], file=sys.stderr)
        finally:
            if window is not None:
                window.close()
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
