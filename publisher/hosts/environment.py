"""Environments that cross between our app and a DCC with no Qt path of one leaking into the other.

Two applications with two Qt builds meet here: our frozen app bundles Qt 6; Nuke 15 and Houdini
20.5 run Qt 5, Maya its own Qt 6, ftrack Connect its own. A ``QT_PLUGIN_PATH`` or an
``LD_LIBRARY_PATH`` entry of one, inherited by the other, makes it load the wrong Qt plugins or
libraries and crash at start. So:

- :func:`for_child_of_bundle` is the environment our frozen app gives any program it starts (a
  DCC, a movie player, a shell): every entry pointing into our bundle removed, and the library
  paths PyInstaller's bootloader replaced put back (``LD_LIBRARY_PATH_ORIG``...).
- :func:`for_publisher_app` is the environment a DCC (or Connect) gives our app: no Qt variable
  of the host at all (our app finds its own Qt), no ``PYTHONHOME`` and no entries inside the
  host's install folders on the path lists, no Qt-binding choice for QtPy.

Standard library only: the Connect hook carries a copy of this module (the plugin has no Qt and
none of our other code). Any thread.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterable, Mapping

#: Variables that point a Qt at its plugins, QML modules or helper processes.
QT_VARIABLES = ("QT_PLUGIN_PATH", "QT_QPA_PLATFORM_PLUGIN_PATH", "QML2_IMPORT_PATH", "QML_IMPORT_PATH",
                "QTWEBENGINEPROCESS_PATH", "QTWEBENGINE_RESOURCES_PATH", "QTWEBENGINE_LOCALES_PATH",
                "QT_CONF_PATH", "PYSIDE_DESIGNER_PLUGINS")
#: Variables that pick a Qt binding for QtPy and similar shims (a host may ask for PySide2).
BINDING_VARIABLES = ("QT_API", "QT_PREFERRED_BINDING", "QT_PREFERRED_BINDING_JSON")
#: Search-path lists in which a folder of the other application must not appear.
PATH_LISTS = ("PATH", "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "DYLD_FRAMEWORK_PATH",
              "DYLD_FALLBACK_LIBRARY_PATH", "PYTHONPATH") + QT_VARIABLES
#: Library paths PyInstaller's bootloader sets for the frozen app, saving the original as ``*_ORIG``.
BOOTLOADER_VARIABLES = ("LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "LIBPATH")


def _inside(entry: str, roots: list[Path]) -> bool:
    try:
        path = Path(entry).resolve()
    except (OSError, RuntimeError, ValueError):
        return False
    return any(path == root or root in path.parents for root in roots)


def _roots(folders: Iterable[str | os.PathLike[str]]) -> list[Path]:
    out = []
    for folder in folders:
        try:
            out.append(Path(folder).resolve())
        except (OSError, RuntimeError, ValueError):
            continue
    return out


def without_folders(env: Mapping[str, str], folders: Iterable[str | os.PathLike[str]]) -> dict[str, str]:
    """``env`` with every path-list entry inside ``folders`` removed (a list left empty is unset)."""
    roots = _roots(folders)
    out = dict(env)
    for name in PATH_LISTS:
        if name not in out:
            continue
        kept = [e for e in out[name].split(os.pathsep) if e and not _inside(e, roots)]
        if kept:
            out[name] = os.pathsep.join(kept)
        else:
            del out[name]
    return out


def bundle_folders() -> list[str]:
    """The folders of our frozen app (empty when running from a Python install)."""
    if not getattr(sys, "frozen", False):
        return []
    folders = {os.path.dirname(sys.executable)}
    meipass = getattr(sys, "_MEIPASS", None)
    if meipass:
        folders.add(meipass)
    return sorted(folders)


def for_child_of_bundle(env: Mapping[str, str] | None = None,
                        bundle: Iterable[str | os.PathLike[str]] | None = None) -> dict[str, str]:
    """The environment for a program our frozen app starts: nothing of our bundle in it."""
    env = dict(os.environ if env is None else env)
    for name in BOOTLOADER_VARIABLES:
        original = env.pop(f"{name}_ORIG", None)
        if original is not None:
            env[name] = original
    return without_folders(env, bundle_folders() if bundle is None else bundle)


def for_publisher_app(env: Mapping[str, str] | None = None,
                      host_folders: Iterable[str | os.PathLike[str]] = ()) -> dict[str, str]:
    """The environment for our app started by a host (a DCC, Connect) installed in ``host_folders``."""
    out = without_folders(os.environ if env is None else env, host_folders)
    for name in QT_VARIABLES + BINDING_VARIABLES + ("PYTHONHOME", "PYTHONSTARTUP"):
        out.pop(name, None)
    if "PYTHONPATH" in out:
        # A host's own Qt binding on the path would shadow ours.
        kept = [e for e in out["PYTHONPATH"].split(os.pathsep)
                if not any(part.lower().startswith(("pyside2", "shiboken2", "pyqt5")) for part in Path(e).parts)]
        if kept:
            out["PYTHONPATH"] = os.pathsep.join(kept)
        else:
            del out["PYTHONPATH"]
    return out


def clean_own_environment() -> None:
    """In our frozen app, make ``os.environ`` what any child should inherit (call once at start).

    The running app is unaffected: its libraries are loaded by then, and the dynamic linker read
    its search path at start. Children (a player opened by Play, a shell) no longer see our Qt.
    """
    if bundle_folders():
        cleaned = for_child_of_bundle(os.environ)
        for name in list(os.environ):
            if name not in cleaned:
                del os.environ[name]
        os.environ.update(cleaned)


__all__ = ["BINDING_VARIABLES", "PATH_LISTS", "QT_VARIABLES", "bundle_folders", "clean_own_environment",
           "for_child_of_bundle", "for_publisher_app", "without_folders"]
