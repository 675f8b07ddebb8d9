"""No path into one application's Qt reaches the other: our frozen app <-> a DCC."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from publisher.hosts import environment

REPO = Path(__file__).resolve().parents[2]


def test_a_program_our_frozen_app_starts_sees_nothing_of_our_bundle(tmp_path):
    bundle = tmp_path / "ftrack-publisher"
    internal = bundle / "_internal"
    env = {
        "PATH": os.pathsep.join([str(bundle), "/usr/bin", "/bin"]),
        # PyInstaller's bootloader put our libraries first and kept the original aside.
        "LD_LIBRARY_PATH": os.pathsep.join([str(internal), "/opt/studio/lib"]),
        "LD_LIBRARY_PATH_ORIG": "/opt/studio/lib",
        "QT_PLUGIN_PATH": str(internal / "PySide6" / "Qt" / "plugins"),
        "QML2_IMPORT_PATH": os.pathsep.join([str(internal / "PySide6" / "Qt" / "qml"), "/opt/studio/qml"]),
        "PYTHONPATH": os.pathsep.join([str(internal / "base_library.zip"), "/studio/python"]),
        "FTRACK_CONTEXTID": "task-1",
    }
    out = environment.for_child_of_bundle(env, bundle=[bundle, internal])
    assert out["PATH"] == os.pathsep.join(["/usr/bin", "/bin"])
    assert out["LD_LIBRARY_PATH"] == "/opt/studio/lib" and "LD_LIBRARY_PATH_ORIG" not in out
    assert "QT_PLUGIN_PATH" not in out
    assert out["QML2_IMPORT_PATH"] == "/opt/studio/qml"
    assert out["PYTHONPATH"] == "/studio/python"
    assert out["FTRACK_CONTEXTID"] == "task-1"
    assert not any(str(bundle) in value for value in out.values())


def test_without_an_original_the_bootloaders_library_path_goes(tmp_path):
    bundle = tmp_path / "app"
    out = environment.for_child_of_bundle({"LD_LIBRARY_PATH": str(bundle / "_internal")}, bundle=[bundle])
    assert "LD_LIBRARY_PATH" not in out


def test_our_app_started_by_a_dcc_gets_none_of_the_hosts_qt(tmp_path):
    nuke = tmp_path / "Nuke15.0v4"
    env = {
        "PATH": os.pathsep.join([str(nuke), "/usr/bin"]),
        "LD_LIBRARY_PATH": os.pathsep.join([str(nuke), str(nuke / "lib"), "/opt/studio/lib"]),
        "QT_PLUGIN_PATH": "/studio/qt5/plugins",
        "QT_QPA_PLATFORM_PLUGIN_PATH": str(nuke / "plugins" / "platforms"),
        "QML2_IMPORT_PATH": str(nuke / "qml"),
        "QT_API": "pyside2",
        "PYTHONHOME": str(nuke),
        "PYTHONPATH": os.pathsep.join([str(nuke / "plugins"), "/studio/tools", "/opt/PySide2/lib"]),
        "FTRACK_SERVER": "https://studio.ftrackapp.com",
        "FTRACK_CONTEXTID": "task-1",
    }
    out = environment.for_publisher_app(env, [nuke])
    for name in ("QT_PLUGIN_PATH", "QT_QPA_PLATFORM_PLUGIN_PATH", "QML2_IMPORT_PATH", "QT_API", "PYTHONHOME"):
        assert name not in out, name
    assert out["PATH"] == "/usr/bin"
    assert out["LD_LIBRARY_PATH"] == "/opt/studio/lib"
    assert out["PYTHONPATH"] == "/studio/tools"
    assert out["FTRACK_SERVER"] == "https://studio.ftrackapp.com" and out["FTRACK_CONTEXTID"] == "task-1"


def test_the_frozen_app_cleans_its_own_environment_for_what_it_starts(tmp_path):
    """A process standing in for the frozen app (sys.frozen, sys._MEIPASS) starts a child: the
    child's environment has none of the bundle's paths."""
    bundle = tmp_path / "ftrack-publisher"
    internal = bundle / "_internal"
    internal.mkdir(parents=True)
    script = (
        "import os, subprocess, sys\n"
        f"sys.frozen = True; sys._MEIPASS = {str(internal)!r}; sys.executable = {str(bundle / 'ftrack-publisher')!r}\n"
        "from publisher.hosts.environment import clean_own_environment\n"
        "clean_own_environment()\n"
        "out = subprocess.run(['env'], capture_output=True, text=True).stdout\n"
        "print(out)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO),
               LD_LIBRARY_PATH=os.pathsep.join([str(internal), "/opt/studio/lib"]), LD_LIBRARY_PATH_ORIG="/opt/studio/lib",
               QT_PLUGIN_PATH=str(internal / "PySide6" / "Qt" / "plugins"),
               PATH=os.pathsep.join([str(bundle), os.environ["PATH"]]))
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    child = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    assert child["LD_LIBRARY_PATH"] == "/opt/studio/lib"
    assert "QT_PLUGIN_PATH" not in child and "LD_LIBRARY_PATH_ORIG" not in child
    assert str(bundle) not in child["PATH"]


def test_outside_a_frozen_app_nothing_changes(monkeypatch):
    before = dict(os.environ)
    environment.clean_own_environment()
    assert dict(os.environ) == before
