"""The check made before Qt starts: a missing XCB library is named, with the package to install."""

from __future__ import annotations

import subprocess
import sys

from publisher.ui import preflight


def test_xcb_is_what_qt_uses_on_an_x11_display_only():
    assert preflight.uses_xcb({"DISPLAY": ":0"}, "linux")
    assert not preflight.uses_xcb({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert preflight.uses_xcb({"QT_QPA_PLATFORM": "xcb"}, "linux")
    assert not preflight.uses_xcb({}, "linux")  # no display: Qt does not try X11
    assert not preflight.uses_xcb({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0",
                                   "XDG_SESSION_TYPE": "wayland"}, "linux")
    assert not preflight.uses_xcb({"DISPLAY": ":0"}, "darwin")


def test_missing_library_is_named_with_its_package(monkeypatch):
    real = preflight.ctypes.CDLL

    def cdll(name, *args, **kwargs):
        if name == "libxcb-cursor.so.0":  # as on a desktop without libxcb-cursor0
            raise OSError(f"{name}: cannot open shared object file")
        return real(name, *args, **kwargs) if name not in preflight.XCB_LIBRARIES else None

    monkeypatch.setattr(preflight.ctypes, "CDLL", cdll)
    message = preflight.display_problem({"DISPLAY": ":0"})
    assert message is not None
    assert "libxcb-cursor.so.0" in message and "sudo apt-get install libxcb-cursor0" in message
    assert preflight.display_problem({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}) is None


def test_the_app_says_what_to_install_instead_of_aborting(tmp_path):
    # A real start on an X display whose libraries are missing: a clear message, exit status 1,
    # no Qt abort. The library lookup is made to fail the way a bare machine does.
    script = (
        "import ctypes, sys\n"
        "from publisher.ui import preflight\n"
        "real = ctypes.CDLL\n"
        "def cdll(name, *a, **k):\n"
        "    if name == 'libxcb-icccm.so.4':\n"
        "        raise OSError(name)\n"
        "    return real(name, *a, **k) if name not in preflight.XCB_LIBRARIES else None\n"
        "preflight.ctypes.CDLL = cdll\n"
        "from publisher.hosts.standalone import run\n"
        "sys.exit(run([]))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "DISPLAY": ":97", "HOME": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path / "c"), "XDG_DATA_HOME": str(tmp_path / "d"),
           "XDG_CACHE_HOME": str(tmp_path / "k"), "XDG_STATE_HOME": str(tmp_path / "s")}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "sudo apt-get install libxcb-icccm4" in proc.stderr
    assert "Aborted" not in proc.stderr and "core dumped" not in proc.stderr
