"""Make docs/collect-nuke.png: "Collect from Nuke" staged from a Nuke 15 stand-in.

    python3 docs/make_collect_screenshot.py docs/collect-nuke.png     (on an X display)

What a Nuke 15 artist gets: the menu entry's collector runs against a stand-in ``nuke`` module
(a saved comp script and a Write node whose render folder misses frame 1017), writes the stage
file and the standalone app opens at the task with ``--stage FILE --context ID``, on a fresh
embedded demo server. The picture is of the whole screen (``import -window root``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "hosts")]


def main(out: Path) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from publisher.embedded import EmbeddedServer
    from publisher.hosts.collect import nuke as collect_nuke
    from publisher.server import demo
    from scene_stand_ins import make_nuke, render_folder, write_node

    scratch = Path(tempfile.mkdtemp(prefix="ftrack-publisher-collect-shot-"))
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        os.environ[name] = str(scratch / name.lower())
    server = EmbeddedServer(scratch / "server")
    info = server.start()
    os.environ.update(FTRACK_SERVER=info.url, FTRACK_API_USER=info.api_user, FTRACK_API_KEY=info.api_key)
    try:
        shot = scratch / "lighthouse" / "sh030" / "comp"
        script = shot / "sh030_comp_v004.nk"
        script.parent.mkdir(parents=True)
        script.write_text("Root {}\n")
        render_folder(shot / "render", "sh030_comp_v004", 1001, 1048, missing=(1017,))
        for frame in (shot / "render").iterdir():  # sparse: sizes as real EXRs, no disk used
            with open(frame, "r+b") as handle:
                handle.truncate(14_200_000)
        with open(script, "r+b") as handle:
            handle.truncate(186_000)
        nuke = make_nuke(str(script), 1001, 1048, [
            write_node("Write_comp", str(shot / "render" / "sh030_comp_v004.%04d.exr")),
            write_node("Write_slap", str(shot / "slap" / "slap.%04d.jpg"), disable=True)])
        collection = collect_nuke.collect(nuke)
        stage = collection.write(scratch / "stage" / "nuke.json")
        task = demo.uid("Task", "sh030/Compositing")

        app = QApplication([sys.argv[0]])
        from publisher import cli
        from publisher.ui import app as app_module

        assert cli.main(["--stage", str(stage), "--context", task]) == 0
        window = app_module._open_windows[-1]
        window.resize(1500, 860)
        window.move(10, 30)

        def shoot() -> None:
            staged = window.controller.staging_model.rowCount() == 2
            if not staged or window.controller.busy():
                QTimer.singleShot(300, shoot)
                return
            # Let the window paint the staged rows before the screen is read.
            QTimer.singleShot(1500, lambda: (subprocess.run(["import", "-window", "root", str(out)], check=True),
                                             window.close(), app.quit()))

        QTimer.singleShot(500, shoot)
        app.exec()
        print(f"Saved {out}")
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else REPO / "docs" / "collect-nuke.png").resolve()))
