"""The files that put "ftrack > Publish…" into Maya, Nuke and Houdini, written by the build.

:func:`write_bootstraps` writes, under ``resource/`` of the Connect plugin folder:

- ``nuke/menu.py``: found through ``NUKE_PATH``;
- ``maya/scripts/userSetup.py``: found on Maya's ``PYTHONPATH``;
- ``houdini/packages/ftrack_publisher.json``: a Houdini package (``HOUDINI_PACKAGE_DIR``) that adds
  ``houdini/`` to ``HOUDINI_PATH`` and the plugin's ``dependencies/`` to ``PYTHONPATH``;
  ``houdini/MainMenuCommon.xml`` (the menu) and ``houdini/python3.*libs/pythonrc.py`` (the path,
  when the package is not used).

Each adds ``dependencies/`` (our Qt-free Python code) to ``sys.path``, found relative to the
bootstrap itself so the folder can be moved, and calls
:func:`publisher.hosts.menu.open_publisher`, which docks in Qt 6 hosts and starts the app as its
own process in Qt 5 hosts.
"""

from __future__ import annotations

import json
from pathlib import Path

#: Python versions of the Houdini builds supported (20.5 and 21 run 3.11; 20.0 ran 3.10).
HOUDINI_PYTHONS = ("3.10", "3.11", "3.12")

_FIND_DEPENDENCIES = '''import inspect as _inspect
import os as _os
import sys as _sys

# The plugin's dependencies/ (our Qt-free code), relative to this file wherever the folder is.
_here = _os.path.dirname(_os.path.abspath(_inspect.getframeinfo(_inspect.currentframe()).filename))
_dependencies = _os.path.normpath(_os.path.join(_here, {relative!r}))
if _os.path.isdir(_dependencies) and _dependencies not in _sys.path:
    _sys.path.append(_dependencies)  # appended: the host's and the studio's own modules win
'''

NUKE_MENU = '''# ftrack publisher for Nuke: ftrack > Publish... (written by packaging/build.py).
{find}
import nuke


def _ftrack_publisher_open():
    try:
        from publisher.hosts import menu
        menu.open_publisher("Nuke")
    except Exception as exc:  # say it in Nuke rather than only in the terminal
        nuke.message("ftrack publisher: %s" % exc)


nuke.menu("Nuke").addMenu("ftrack").addCommand("Publish...", _ftrack_publisher_open)
try:
    from publisher.hosts import menu as _ftrack_publisher_menu
    if _ftrack_publisher_menu.runs_qt6("Nuke"):  # Nuke 16+: also a dockable panel in the Pane menu
        import publisher.hosts.nuke
        publisher.hosts.nuke.register()
except Exception as _exc:
    print("ftrack publisher: the panel was not registered: %s" % _exc)
'''

MAYA_USER_SETUP = '''# ftrack publisher for Maya: an ftrack menu (written by packaging/build.py).
{find}

def _ftrack_publisher_open(playblast=False):
    from maya import cmds
    try:
        from publisher.hosts import menu
        menu.open_publisher("Maya", playblast=playblast)
    except Exception as exc:
        cmds.confirmDialog(title="ftrack publisher", message=str(exc), button=["OK"])


def _ftrack_publisher_menu():
    from maya import cmds, mel
    if cmds.menu("ftrackPublisherMenu", exists=True):
        cmds.deleteUI("ftrackPublisherMenu")
    cmds.menu("ftrackPublisherMenu", label="ftrack", tearOff=True, parent=mel.eval("$ftrackTmp = $gMainWindow"))
    cmds.menuItem(label="Publish...", command=lambda *_: _ftrack_publisher_open())
    cmds.menuItem(label="Publish with a playblast...", command=lambda *_: _ftrack_publisher_open(True))


import maya.utils
maya.utils.executeDeferred(_ftrack_publisher_menu)
'''

HOUDINI_PYTHONRC = '''# ftrack publisher for Houdini: our code on sys.path (written by packaging/build.py).
{find}'''

HOUDINI_MENU = '''<?xml version="1.0" encoding="UTF-8"?>
<!-- ftrack publisher: ftrack > Publish... (written by packaging/build.py) -->
<mainMenu>
  <menuBar>
    <subMenu id="ftrack_publisher_menu">
      <label>ftrack</label>
      <scriptItem id="ftrack_publisher_publish">
        <label>Publish...</label>
        <scriptCode><![CDATA[
from publisher.hosts import menu
menu.open_publisher("Houdini")
]]></scriptCode>
      </scriptItem>
    </subMenu>
  </menuBar>
</mainMenu>
'''


def houdini_package() -> dict:
    """The Houdini package: ``$HOUDINI_PACKAGE_PATH`` is the folder holding the package file."""
    return {
        "hpath": "$HOUDINI_PACKAGE_PATH/..",
        "env": [{"PYTHONPATH": {"value": "$HOUDINI_PACKAGE_PATH/../../../dependencies", "method": "append"}}],
    }


def write_bootstraps(resource: Path) -> list[Path]:
    """Write every host bootstrap under ``resource`` (``<plugin>/resource``); return the files."""
    written: list[Path] = []

    def write(relative: str, text: str) -> None:
        path = resource / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)

    def find(depth: int) -> str:
        return _FIND_DEPENDENCIES.format(relative="/".join([".."] * depth + ["dependencies"]))

    write("nuke/menu.py", NUKE_MENU.format(find=find(2)))
    write("maya/scripts/userSetup.py", MAYA_USER_SETUP.format(find=find(3)))
    write("houdini/MainMenuCommon.xml", HOUDINI_MENU)
    for version in HOUDINI_PYTHONS:
        write(f"houdini/python{version}libs/pythonrc.py", HOUDINI_PYTHONRC.format(find=find(3)))
    write("houdini/packages/ftrack_publisher.json", json.dumps(houdini_package(), indent=2) + "\n")
    return written


__all__ = ["HOUDINI_PYTHONS", "houdini_package", "write_bootstraps"]
