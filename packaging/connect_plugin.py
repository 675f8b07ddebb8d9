"""Build the ftrack Connect plugin folder ``ftrack-publisher-<version>/``.

Connect's plugin layout: ``__version__.py``; ``hook/ftrack_publisher_hook.py`` (its
``register(session, **kw)`` subscribes the Action and the Maya/Nuke/Houdini launch hooks);
``dependencies/`` (our ``publisher`` package without the embedded server, and the pure-Python
libraries it needs, copied from this Python's installed distributions: never a Qt binding or a
Qt library, since the hosts bring their own); ``resource/`` (the host bootstraps,
:mod:`host_bootstraps`). The libraries are this machine's: build on each platform you ship.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
from pathlib import Path

import sys

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script or loaded by path
from host_bootstraps import write_bootstraps  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HOOK = HERE / "connect" / "ftrack_publisher_hook.py"

#: What the publisher's host side imports (the window docked in a Qt 6 host, the collectors,
#: the launch of the app): the project's dependencies without the Qt binding and the server's.
REQUIREMENTS = ("requests", "clique", "platformdirs", "keyring", "qtawesome")
#: Distributions never copied: Qt bindings and Qt itself (the host has its own Qt).
_QT = re.compile(r"^(pyside\d*(-essentials|-addons)?|shiboken\d*|pyqt\d*(-qt\d*|-sip)?|pyqt\d*_sip|qt\d*)$", re.I)
#: Files that would be a Qt library whatever distribution they came in.
_QT_FILE = re.compile(r"(^|/)(lib)?Qt\d?[A-Z]\w*\.(so|dylib|dll)|(^|/)(PySide\d|shiboken\d|PyQt\d)/", re.I)


class PluginBuildError(RuntimeError):
    """The plugin cannot be built; the message says what to do."""


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(dist: importlib.metadata.Distribution) -> list[str]:
    """Names of what ``dist`` requires on this machine (markers evaluated, extras left out)."""
    from packaging.requirements import Requirement  # pip's own dependency, present with pip

    names = []
    for text in dist.requires or []:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        names.append(requirement.name)
    return names


def distributions(names: tuple[str, ...] = REQUIREMENTS) -> list[importlib.metadata.Distribution]:
    """The installed distributions ``names`` need, transitively, without any Qt."""
    found: dict[str, importlib.metadata.Distribution] = {}
    pending = list(names)
    while pending:
        name = pending.pop()
        key = _normal(name)
        if key in found or _QT.match(key):
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise PluginBuildError(f"{name} is not installed in this Python: pip install it, then build again.") from None
        found[key] = dist
        pending.extend(_requirement_names(dist))
    return sorted(found.values(), key=lambda d: _normal(d.metadata["Name"]))


def copy_distribution(dist: importlib.metadata.Distribution, target: Path) -> int:
    """Copy the files ``dist`` installed (its RECORD) into ``target``; returns how many."""
    count = 0
    for file in dist.files or []:
        relative = Path(str(file))
        if relative.parts and (relative.parts[0] == ".." or "__pycache__" in relative.parts):
            continue  # scripts in bin/, byte code
        source = Path(dist.locate_file(file))
        if not source.is_file():
            continue
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)
        count += 1
    return count


def copy_publisher(target: Path) -> None:
    """Our ``publisher`` package, without the embedded server (it runs in the app, not in hosts)."""
    shutil.copytree(ROOT / "publisher", target / "publisher",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "server"))


def qt_files(folder: Path) -> list[str]:
    """Files under ``folder`` that are a Qt binding or a Qt library (must be none)."""
    return [p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and _QT_FILE.search(p.relative_to(folder).as_posix())]


def build_connect_plugin(dist: Path, version: str) -> Path:
    """Write ``dist/connect-plugin/ftrack-publisher-<version>/`` and return it."""
    plugin = dist / "connect-plugin" / f"ftrack-publisher-{version}"
    if plugin.exists():
        shutil.rmtree(plugin)
    (plugin / "hook").mkdir(parents=True)
    (plugin / "__version__.py").write_text(f'__version__ = "{version}"\n', encoding="utf-8")
    shutil.copy2(HOOK, plugin / "hook" / HOOK.name)
    dependencies = plugin / "dependencies"
    dependencies.mkdir()
    copy_publisher(dependencies)
    for found in distributions():
        copy_distribution(found, dependencies)
    leaked = qt_files(dependencies)
    if leaked:
        raise PluginBuildError(f"Qt files got into the plugin's dependencies: {', '.join(leaked[:5])}")
    write_bootstraps(plugin / "resource")
    return plugin


__all__ = ["PluginBuildError", "REQUIREMENTS", "build_connect_plugin", "distributions", "qt_files"]
