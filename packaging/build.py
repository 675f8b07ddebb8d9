"""Build the standalone ftrack publisher: a one-folder app, then this system's package.

    python packaging/build.py [--self-test] [--dist DIR] [--work DIR] [--no-package]
    python packaging/build.py --connect-plugin [--dist DIR]

- Installs PyInstaller with pip when it is missing.
- Runs ``packaging/ftrack-publisher.spec`` (one folder: the app, Qt (PySide6-Essentials only),
  qtawesome's fonts, PyAV's FFmpeg libraries, the embedded server) into ``DIR/ftrack-publisher``.
- Linux: makes ``DIR/ftrack-publisher-<version>-linux-<arch>.tar.gz`` with a ``.desktop`` file,
  the icon and ``install-desktop-entry.sh``.
  Windows: runs Inno Setup's ``iscc`` on ``packaging/windows/ftrack-publisher.iss`` when it is
  installed. macOS: makes the ``.dmg`` with ``packaging/macos/make_dmg.sh``. Those two can only be
  built on their own systems (PyInstaller does not cross-compile).
- ``--self-test``: runs the built app's ``--self-test`` (from the unpacked tarball on Linux, so the
  tarball itself is checked) and fails the build when it fails.

- ``--connect-plugin``: only the ftrack Connect plugin (``DIR/connect-plugin/ftrack-publisher-<version>/``:
  the hook, the host bootstraps, the Qt-free ``dependencies/``); see ``connect_plugin.py``.

Prints what it made; exits non-zero, saying why, when a step fails.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: The source assets (desktop entry, icon source) the installers are built from.
RESOURCES = ROOT / "resources"
SPEC = HERE / "ftrack-publisher.spec"
APP_NAME = "ftrack-publisher"
PYINSTALLER_REQUIREMENT = "pyinstaller>=6"


class BuildError(RuntimeError):
    """A build step failed; the message says which and what to do."""


def version() -> str:
    """The publisher's version, read from ``publisher/__init__.py``."""
    text = (ROOT / "publisher" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'__version__ = "([^"]+)"', text)
    if not match:
        raise BuildError("publisher/__init__.py has no __version__ line.")
    return match.group(1)


def app_executable(app_dir: Path) -> Path:
    """The app's executable inside its one-folder build."""
    return app_dir / (f"{APP_NAME}.exe" if sys.platform == "win32" else APP_NAME)


def ensure_pyinstaller() -> None:
    """Install PyInstaller with pip when this Python lacks it."""
    if importlib.util.find_spec("PyInstaller") is not None:
        return
    print(f"Installing {PYINSTALLER_REQUIREMENT} …", flush=True)
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", PYINSTALLER_REQUIREMENT])
    if proc.returncode != 0:
        raise BuildError(f"pip could not install {PYINSTALLER_REQUIREMENT}; install it yourself and run again.")


def run_pyinstaller(dist: Path, work: Path) -> Path:
    """Build the one-folder app into ``dist/ftrack-publisher`` and return that folder."""
    ensure_pyinstaller()
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
           "--distpath", str(dist), "--workpath", str(work), str(SPEC)]
    print("Running PyInstaller …", flush=True)
    proc = subprocess.run(cmd, cwd=ROOT)
    app_dir = dist / APP_NAME
    if proc.returncode != 0 or not app_executable(app_dir).is_file():
        raise BuildError(f"PyInstaller failed (exit status {proc.returncode}); see its output above.")
    return app_dir


def folder_size(path: Path) -> int:
    """Bytes of all files under ``path`` (symlinks not followed)."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def make_tarball(app_dir: Path, dist: Path, ver: str) -> Path:
    """The Linux tarball: ``ftrack-publisher-<ver>/`` with the app, .desktop file, icon, installer."""
    sys.path.insert(0, str(HERE))
    from app_icon import make_icons

    top = f"{APP_NAME}-{ver}"
    tarball = dist / f"{top}-linux-{platform.machine() or 'unknown'}.tar.gz"
    print(f"Writing {tarball} …", flush=True)

    def owned_by_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    with tempfile.TemporaryDirectory(prefix="ftrack-publisher-icons-") as tmp:
        extras = {
            f"{APP_NAME}.desktop": RESOURCES / "linux" / f"{APP_NAME}.desktop",
            "install-desktop-entry.sh": HERE / "linux" / "install-desktop-entry.sh",
            "README.txt": HERE / "linux" / "README.txt",
            f"{APP_NAME}.png": make_icons(tmp)["png"],
        }
        with tarfile.open(tarball, "w:gz", compresslevel=6) as tar:
            tar.add(app_dir, arcname=top, filter=owned_by_root)
            for name, source in extras.items():
                info = owned_by_root(tar.gettarinfo(str(source), arcname=f"{top}/{name}"))
                info.mode = 0o755 if name.endswith(".sh") else 0o644
                with open(source, "rb") as handle:
                    tar.addfile(info, handle)
    return tarball


def unpack(tarball: Path, into: Path) -> Path:
    """Unpack the tarball into ``into`` and return the app folder inside it."""
    with tarfile.open(tarball) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(into, filter="tar")
        else:  # Python before 3.10.12/3.11.4
            tar.extractall(into)
    folders = [p for p in into.iterdir() if p.is_dir()]
    if len(folders) != 1:
        raise BuildError(f"{tarball} should hold one top folder, holds {[p.name for p in folders]}.")
    return folders[0]


def self_test(app_dir: Path) -> None:
    """Run ``<app> --self-test``; raise :class:`BuildError` when it does not exit 0."""
    exe = app_executable(app_dir)
    print(f"Running {exe} --self-test …", flush=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FTRACK_", "PYTHON"))}
    proc = subprocess.run([str(exe), "--self-test"], env=env, timeout=600)
    if proc.returncode != 0:
        raise BuildError(f"The built app's self-test failed (exit status {proc.returncode}); see above.")


def package_windows(app_dir: Path, dist: Path, ver: str) -> Path | None:
    """Run Inno Setup on Windows when ``iscc`` is installed; else say how."""
    iscc = shutil.which("iscc") or shutil.which("ISCC")
    script = HERE / "windows" / f"{APP_NAME}.iss"
    if iscc is None:
        print(f"Inno Setup (iscc) not found: install it, then run: iscc /DAppVersion={ver} {script}")
        return None
    subprocess.run([iscc, f"/DAppVersion={ver}", f"/DDistDir={dist}", f"/DRootDir={ROOT}", str(script)],
                   check=True)
    return dist / f"{APP_NAME}-{ver}-setup.exe"


def package_macos(dist: Path, ver: str) -> Path:
    """Make the .dmg from the app bundle the spec builds on macOS."""
    script = HERE / "macos" / "make_dmg.sh"
    subprocess.run(["bash", str(script), str(dist), ver], check=True)
    return dist / f"{APP_NAME}-{ver}-macos.dmg"


def build_connect_plugin_main(dist: Path, ver: str) -> int:
    """``--connect-plugin``: the Connect plugin folder (see ``packaging/connect_plugin.py``)."""
    sys.path.insert(0, str(HERE))
    from connect_plugin import PluginBuildError, build_connect_plugin

    try:
        plugin = build_connect_plugin(dist, ver)
    except (PluginBuildError, OSError) as exc:
        print(f"build.py: {exc}", file=sys.stderr)
        return 1
    print(f"Built the Connect plugin {plugin} ({folder_size(plugin) / 1e6:.1f} MB)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the standalone ftrack publisher.")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller",
                        help="PyInstaller's work folder (default: build/pyinstaller)")
    parser.add_argument("--no-package", action="store_true", help="stop after the one-folder app")
    parser.add_argument("--self-test", action="store_true", help="run the built app's --self-test")
    parser.add_argument("--connect-plugin", action="store_true",
                        help="build only the ftrack Connect plugin into DIST/connect-plugin/ftrack-publisher-<version>/")
    args = parser.parse_args(argv)
    dist, work = args.dist.resolve(), args.work.resolve()
    ver = version()
    started = time.monotonic()
    if args.connect_plugin:
        return build_connect_plugin_main(dist, ver)
    try:
        dist.mkdir(parents=True, exist_ok=True)
        app_dir = run_pyinstaller(dist, work)
        print(f"Built {app_dir} ({folder_size(app_dir) / 1e6:.0f} MB)")
        package: Path | None = None
        if not args.no_package:
            if sys.platform.startswith("linux"):
                package = make_tarball(app_dir, dist, ver)
            elif sys.platform == "win32":
                package = package_windows(app_dir, dist, ver)
            elif sys.platform == "darwin":
                package = package_macos(dist, ver)
            if package is not None:
                print(f"Packaged {package} ({package.stat().st_size / 1e6:.0f} MB)")
        if args.self_test:
            if package is not None and package.name.endswith(".tar.gz"):
                with tempfile.TemporaryDirectory(prefix="ftrack-publisher-unpacked-") as tmp:
                    self_test(unpack(package, Path(tmp)))
            else:
                self_test(app_dir)
    except (BuildError, subprocess.CalledProcessError, OSError) as exc:
        print(f"build.py: {exc}", file=sys.stderr)
        return 1
    print(f"Done in {time.monotonic() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
