"""packaging/: the real build (PyInstaller, tarball, the built app's self-test and window) and the
installer files around it."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

import publisher

REPO = Path(__file__).resolve().parents[2]
PACKAGING = REPO / "packaging"
RESOURCES = REPO / "resources"


def _load(path: Path, name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("FTRACK_", "PYTHONPATH"))}


@pytest.mark.packaging
@pytest.mark.timeout(900)
def test_build_makes_a_tarball_whose_app_passes_its_self_test_and_paints_its_window(tmp_path):
    dist, work = tmp_path / "dist", tmp_path / "work"
    proc = subprocess.run(
        [sys.executable, str(PACKAGING / "build.py"), "--dist", str(dist), "--work", str(work), "--self-test"],
        capture_output=True, text=True, timeout=900, env=_clean_env(), cwd=tmp_path)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    assert f"ftrack-publisher {publisher.__version__} self-test (frozen app)" in output
    assert "self-test PASSED" in output
    # The self-test ran from the unpacked tarball, so the tarball is complete; check its layout.
    tarball = dist / f"ftrack-publisher-{publisher.__version__}-linux-{os.uname().machine}.tar.gz"
    top = f"ftrack-publisher-{publisher.__version__}"
    with tarfile.open(tarball) as tar:
        members = {m.name: m for m in tar.getmembers()}
    for name in ("ftrack-publisher", "ftrack-publisher.desktop", "ftrack-publisher.png",
                 "install-desktop-entry.sh", "README.txt"):
        assert f"{top}/{name}" in members, name
    assert members[f"{top}/ftrack-publisher"].mode & 0o111
    assert members[f"{top}/install-desktop-entry.sh"].mode & 0o111
    assert any(n.startswith(f"{top}/_internal/qtawesome/fonts/") and n.endswith(".ttf") for n in members)
    assert not any("QtWebEngine" in n or "libQt6Quick" in n for n in members)

    # The built app paints its window on the demo project (Qt plugins, fonts, icons all inside).
    app = dist / "ftrack-publisher" / "ftrack-publisher"
    shot = tmp_path / "window.png"
    env = dict(_clean_env(), QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"))
    proc = subprocess.run([str(app), "--screenshot", str(shot)], capture_output=True, text=True,
                          timeout=180, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size[0] >= 800 and image.size[1] >= 500
        assert len(image.convert("RGB").resize((64, 36)).getcolors(64 * 36)) > 20  # not a blank window


def test_desktop_file_is_a_valid_application_entry():
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(RESOURCES / "linux" / "ftrack-publisher.desktop", encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Exec"] == "ftrack-publisher"
    assert entry["Icon"] == "ftrack-publisher"
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";")
    assert entry["Name"]


def _fake_unpacked(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "ftrack-publisher.desktop").write_bytes((RESOURCES / "linux" / "ftrack-publisher.desktop").read_bytes())
    (folder / "install-desktop-entry.sh").write_bytes((PACKAGING / "linux" / "install-desktop-entry.sh").read_bytes())
    (folder / "install-desktop-entry.sh").chmod(0o755)
    make_icons = _load(PACKAGING / "app_icon.py", "ftrack_publisher_app_icon").make_icons
    (folder / "ftrack-publisher.png").write_bytes(make_icons(folder / "icons")["png"].read_bytes())
    return folder


def test_install_desktop_entry_points_the_menu_at_the_unpacked_folder(tmp_path):
    folder = _fake_unpacked(tmp_path / "opt" / "ftrack publisher")
    app = folder / "ftrack-publisher"
    app.write_text("#!/bin/sh\n")
    app.chmod(0o755)
    share = tmp_path / "share"
    env = dict(os.environ, XDG_DATA_HOME=str(share))
    proc = subprocess.run(["sh", str(folder / "install-desktop-entry.sh")], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    entry = (share / "applications" / "ftrack-publisher.desktop").read_text()
    assert f'Exec="{app}"' in entry.splitlines()
    assert f"Icon={share}/icons/hicolor/256x256/apps/ftrack-publisher.png" in entry.splitlines()
    assert (share / "icons" / "hicolor" / "256x256" / "apps" / "ftrack-publisher.png").is_file()
    proc = subprocess.run(["sh", str(folder / "install-desktop-entry.sh"), "--uninstall"], env=env)
    assert proc.returncode == 0
    assert not (share / "applications" / "ftrack-publisher.desktop").exists()


def test_install_desktop_entry_outside_the_unpacked_folder_says_so(tmp_path):
    folder = _fake_unpacked(tmp_path / "elsewhere")
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "share"))
    proc = subprocess.run(["sh", str(folder / "install-desktop-entry.sh")], capture_output=True, text=True, env=env)
    assert proc.returncode == 1
    assert "run this script from the unpacked tarball" in proc.stderr
    assert not (tmp_path / "share" / "applications").exists()


def test_the_dmg_script_refuses_off_macos_and_says_where_to_build(tmp_path):
    proc = subprocess.run(["bash", str(PACKAGING / "macos" / "make_dmg.sh"), str(tmp_path), "0.1.0"],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "only on macOS" in proc.stderr


def test_installer_scripts_take_the_app_build_py_makes():
    iss = (PACKAGING / "windows" / "ftrack-publisher.iss").read_text()
    assert 'Source: "{#DistDir}\\ftrack-publisher\\*"' in iss
    assert "{app}\\ftrack-publisher.exe" in iss
    assert "build\\icons\\ftrack-publisher.ico" in iss
    spec = (PACKAGING / "ftrack-publisher.spec").read_text()
    assert 'name="ftrack-publisher"' in spec and 'name="ftrack publisher.app"' in spec
    dmg = (PACKAGING / "macos" / "make_dmg.sh").read_text()
    assert 'app="$dist/ftrack publisher.app"' in dmg
    build = _load(PACKAGING / "build.py", "ftrack_publisher_build")
    assert build.version() == publisher.__version__
