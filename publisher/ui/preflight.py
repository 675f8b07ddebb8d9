"""Checks made before the first ``QApplication`` exists, where Qt would otherwise abort.

Qt 6.5 and newer need a set of XCB system libraries to open a window on X11. When one is missing,
Qt prints a hint and aborts the process, which Python cannot catch. Checking first lets the app
say which packages to install. No Qt is imported here; call it from the main thread before the
application object is made.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Mapping

#: The shared libraries Qt's xcb platform plugin loads, and the Debian/Ubuntu package of each.
XCB_LIBRARIES: dict[str, str] = {
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}


def uses_xcb(env: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether Qt will try to open its windows through X11 (xcb) in this environment."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return False
    chosen = env.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip()
    if chosen:
        return chosen == "xcb"
    # With no choice made, Qt 6 uses Wayland in a Wayland session and xcb otherwise.
    return bool(env.get("DISPLAY")) and not (env.get("WAYLAND_DISPLAY")
                                             and env.get("XDG_SESSION_TYPE") == "wayland")


def missing_xcb_libraries() -> list[str]:
    """The XCB libraries from :data:`XCB_LIBRARIES` that cannot be loaded on this machine."""
    missing = []
    for soname in XCB_LIBRARIES:
        try:
            ctypes.CDLL(soname)
        except OSError:
            missing.append(soname)
    return missing


def display_problem(env: Mapping[str, str] | None = None) -> str | None:
    """``None`` when Qt can open its windows here, else what is missing and what to do."""
    if not uses_xcb(env):
        return None
    missing = missing_xcb_libraries()
    if not missing:
        return None
    packages = " ".join(XCB_LIBRARIES[name] for name in missing)
    return (
        "The publisher cannot open its window: Qt needs system libraries that this machine does "
        f"not have ({', '.join(missing)}). Install them and start it again; on Debian or Ubuntu: "
        f"sudo apt-get install {packages} (on Fedora or RHEL: sudo dnf install xcb-util-cursor "
        "xcb-util-wm xcb-util-keysyms xcb-util-image xcb-util-renderutil libxkbcommon-x11). "
        "Without a display, ftrack-publisher --screenshot FILE and the headless "
        "ftrack-publisher publish work as they are."
    )
