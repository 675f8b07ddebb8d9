"""Collect from <host> in the docked panel, and the Qt 5 host path: the collector in the host, the
real standalone app started as its own process with the stage file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from publisher.hosts.collect.items import Collection
from publisher.server import demo
from scene_stand_ins import make_nuke, render_folder, write_node

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
TASK = demo.uid("Task", "sh030/Compositing")


def nuke_scene(root: Path) -> tuple[Path, list]:
    """A saved comp script with two Writes: one rendered with frame 1017 missing, one disabled."""
    script = root / "sh030_comp_v004.nk"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text("Root {}\n")
    render_folder(root / "render", "sh030_comp_v004", 1001, 1024, missing=(1017,))
    nodes = [write_node("Write1", str(root / "render" / "sh030_comp_v004.%04d.exr")),
             write_node("WriteSlap", str(root / "slap" / "slap.%04d.jpg"), disable=True)]
    return script, nodes


def staged_rows(controller) -> list:
    return controller.staging_model.components()


def check_staged(controller, script: Path, root: Path) -> None:
    rows = {c.kind: c for c in staged_rows(controller)}
    assert set(rows) == {"file", "sequence"}
    assert rows["file"].path == str(script)
    sequence = rows["sequence"]
    assert sequence.path.startswith(str(root / "render" / "sh030_comp_v004.%04d.exr"))
    assert sequence.frame_range == "1001-1024" and sequence.holes == [1017]
    assert controller.target_new is not None
    assert controller.target_new.context_id == TASK and controller.target_new.task_id == TASK


def test_collect_from_nuke_in_the_docked_panel_stages_everything_for_the_task(qtbot, stand_in, monkeypatch, tmp_path):
    monkeypatch.setenv("FTRACK_CONTEXTID", TASK)
    stand_in("nuke")
    script, nodes = nuke_scene(tmp_path / "sh030")
    scene = make_nuke(str(script), 1001, 1024, nodes)
    host = sys.modules["nuke"]
    for name in ("root", "allNodes", "filename"):
        monkeypatch.setattr(host, name, getattr(scene, name), raising=False)
    from publisher.hosts import nuke

    panel = nuke.show()
    widget = panel.widget.publisher
    qtbot.waitUntil(lambda: widget.controller.context is not None and widget.controller.context.id == TASK,
                    timeout=30000)
    from PySide6.QtWidgets import QToolButton

    button = widget.findChild(QToolButton, "CollectButton")
    assert button.text() == "Collect from Nuke"
    with qtbot.waitSignal(widget.controller.staged, timeout=30000):
        button.click()
    check_staged(widget.controller, script, tmp_path / "sh030")
    messages = widget.staging.messages.text()
    assert "Write1: missing on disk: frames 1017 (1 frame) of 1001-1024." in messages
    assert "WriteSlap: the Write node is disabled; skipped." in messages
    # The demo's sh030 is 1001-1048 (its fstart/fend): the render misses part of the cut.
    assert "Write1: renders 1001-1024, but the shot sh030 is 1001-1048: part of the cut is not rendered." in messages
    qtbot.waitUntil(lambda: not widget.controller.busy(), timeout=30000)


def test_collect_without_a_task_says_to_select_one(qtbot, stand_in, monkeypatch, tmp_path):
    monkeypatch.delenv("FTRACK_CONTEXTID", raising=False)
    stand_in("nuke")
    from publisher.hosts import collect_action, dock

    widget = dock.create_widget(start=False)
    action = collect_action.CollectAction(widget, "Nuke", lambda: Collection("Nuke", None))
    with qtbot.waitSignal(action.failed) as failed:
        assert action.trigger() is False
    assert "Select a task first" in failed.args[0]
    assert "Select a task first" in widget.banner.label.text()
    qtbot.waitUntil(lambda: not widget.controller.busy(), timeout=30000)
    widget.shutdown()
    qtbot.wait(10)  # deliver results queued before the shutdown
    widget.deleteLater()


def test_a_collector_that_raises_is_a_banner_and_stages_nothing(qtbot, stand_in, tmp_path):
    stand_in("nuke")
    from publisher.hosts import collect_action, dock

    widget = dock.create_widget(start=False)

    def broken() -> Collection:
        raise RuntimeError("Write1: knob file does not exist")

    action = collect_action.CollectAction(widget, "Nuke", broken, context_id=TASK)
    assert action.trigger() is False
    assert "Collecting from Nuke failed: Write1: knob file does not exist" in widget.banner.label.text()
    assert widget.controller.staging_model.rowCount() == 0
    qtbot.waitUntil(lambda: not widget.controller.busy(), timeout=30000)
    widget.shutdown()
    qtbot.wait(10)  # deliver results queued before the shutdown
    widget.deleteLater()


#: A Nuke 15 stand-in: PySide2 loaded, PySide6 cannot be imported, the scene of ``nuke_scene``.
QT5_HOST = r"""
import importlib.abc, json, os, sys, types
sys.path.insert(0, {here!r})

class NoPySide6(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "PySide6" or name.startswith(("PySide6.", "shiboken6")):
            raise ImportError("this host runs Qt 5: " + name)
        return None

sys.meta_path.insert(0, NoPySide6())
sys.modules["PySide2"] = types.ModuleType("PySide2")  # the host's own Qt 5 binding, loaded
from pathlib import Path
import scene_stand_ins as s
root = Path({root!r})
nodes = [s.write_node("Write1", str(root / "render" / "sh030_comp_v004.%04d.exr")),
         s.write_node("WriteSlap", str(root / "slap" / "slap.%04d.jpg"), disable=True)]
nuke = s.make_nuke(str(root / "sh030_comp_v004.nk"), 1001, 1024, nodes)
nuke.NUKE_VERSION_MAJOR = 15
sys.modules["nuke"] = nuke

from publisher.hosts import menu
launched = menu.open_publisher("Nuke")
print("RESULT " + json.dumps({{
    "argv": launched.argv, "stage_file": str(launched.stage_file), "pid": launched.process.pid,
    "qt_modules": sorted(m for m in sys.modules if m.startswith(("PySide6", "shiboken6", "publisher.ui"))),
    "docked": menu.runs_qt6("Nuke"),
}}))
"""


def test_a_qt5_host_starts_the_real_app_as_its_own_process_with_the_collected_items(
        qtbot, host_env, monkeypatch, tmp_path):
    script, _nodes = nuke_scene(tmp_path / "sh030")
    host_qt = tmp_path / "Nuke15.0v4"
    env = dict(os.environ, FTRACK_CONTEXTID=TASK, FTRACK_PUBLISHER_PYTHON=sys.executable, PYTHONPATH=str(REPO),
               QT_QPA_PLATFORM="offscreen",
               # The host's own Qt 5, which must not reach our app.
               QT_PLUGIN_PATH=str(host_qt / "plugins"), QML2_IMPORT_PATH=str(host_qt / "qml"), QT_API="pyside2")
    env.pop("FTRACK_PUBLISHER_APP", None)
    proc = subprocess.run([sys.executable, "-c", QT5_HOST.format(here=str(HERE), root=str(tmp_path / "sh030"))],
                          env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(next(l for l in proc.stdout.splitlines() if l.startswith("RESULT "))[7:])
    child = found["pid"]
    try:
        # Nothing of our Qt code was loaded into the host.
        assert found["qt_modules"] == [] and found["docked"] is False
        assert found["argv"][:3] == [sys.executable, "-m", "publisher"]
        assert found["argv"][3:] == ["--stage", found["stage_file"], "--context", TASK]
        stage = Collection.read(found["stage_file"])
        assert stage.host == "Nuke" and stage.scene == str(script)
        # The app runs as its own process, without the host's Qt in its environment.
        deadline = time.monotonic() + 20
        child_env: dict[str, str] = {}
        while time.monotonic() < deadline and "FTRACK_CONTEXTID" not in child_env:
            raw = Path(f"/proc/{child}/environ").read_bytes()
            child_env = dict(e.split("=", 1) for e in raw.decode().split("\0") if "=" in e)
            time.sleep(0.1)
        assert child_env["FTRACK_CONTEXTID"] == TASK
        for name in ("QT_PLUGIN_PATH", "QML2_IMPORT_PATH", "QT_API"):
            assert name not in child_env, name
        time.sleep(3)
        assert Path(f"/proc/{child}").exists(), "the app exited at start"
    finally:
        try:
            os.kill(child, signal.SIGTERM)
        except ProcessLookupError:
            pass

    # The same command line, run here so its window can be looked at: the items are staged.
    from publisher import cli
    from publisher.hosts import standalone as app

    monkeypatch.delenv("FTRACK_CONTEXTID", raising=False)
    before = list(app._open_windows)
    assert cli.main(found["argv"][3:]) == 0
    (window,) = [w for w in app._open_windows if w not in before]
    try:
        qtbot.waitUntil(lambda: len(staged_rows(window.controller)) == 2, timeout=30000)
        check_staged(window.controller, script, tmp_path / "sh030")
        assert "Write1: missing on disk: frames 1017" in window.widget.staging.messages.text()
        assert any(a.text() == "Collect from Nuke" for a in window.menuBar().actions()[0].menu().actions())
    finally:
        qtbot.waitUntil(lambda: not window.controller.busy(), timeout=30000)
        window.close()


def test_a_qt5_host_without_the_app_says_what_to_install(tmp_path, monkeypatch):
    from publisher.hosts import launch

    for name in (launch.APP_VARIABLE, launch.PYTHON_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(launch.LaunchError, match="FTRACK_PUBLISHER_APP"):
        launch.launch(Collection("Nuke", None), TASK, env={"PATH": str(tmp_path)}, folder=tmp_path)
    bad = tmp_path / "not-an-app"
    bad.write_text("")
    with pytest.raises(launch.LaunchError, match="is not an executable file"):
        launch.app_command({launch.APP_VARIABLE: str(bad)})


def test_collect_for_a_task_that_is_not_there_says_which_id(qtbot, stand_in, tmp_path):
    stand_in("nuke")
    from publisher.hosts import collect_action, dock

    script, nodes = nuke_scene(tmp_path / "sh030")
    scene = make_nuke(str(script), 1001, 1024, nodes)
    widget = dock.create_widget(start=False)
    from publisher.hosts.collect import nuke as collect_nuke

    action = collect_action.CollectAction(widget, "Nuke", lambda: collect_nuke.collect(scene), context_id="no-such-task")
    with qtbot.waitSignal(action.failed, timeout=30000) as failed:
        assert action.trigger() is True
    assert "FTRACK_CONTEXTID=no-such-task names no task" in failed.args[0]
    assert widget.controller.staging_model.rowCount() == 0
    qtbot.waitUntil(lambda: not widget.controller.busy(), timeout=30000)
    widget.shutdown()
    qtbot.wait(10)
    widget.deleteLater()
