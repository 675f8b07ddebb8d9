"""The standalone app: its size on disk and its time to a painted window.

    python benchmarks/bench_app.py [--runs 3] [--no-build] [--no-size-baseline]

Size: the one-folder app ``dist/ftrack-publisher`` and its tarball (built with
``packaging/build.py`` first when missing), broken down by what takes the room, against a
baseline built in the same run with the same PyInstaller: a bare PySide6 ``QLabel`` app.

Time to a painted window, each the median of ``--runs`` cold launches, from launch to the
first paint event (or the saved picture):
- the built app's ``--screenshot`` (starts its embedded server, loads the demo project, paints,
  saves) against the same from source (``python -m publisher --screenshot``);
- from source, an empty ``MainWindow`` (session on an already running server, no data loaded)
  against a bare ``QLabel`` window: the ratio is what the publisher's window costs over Qt itself.

All windows render with Qt's offscreen platform (no display needed); the machine is shared, so
the ratios, measured in the same run, matter more than the absolute figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from publisher.embedded import EmbeddedServer  # noqa: E402

DIST = REPO / "dist"
APP_DIR = DIST / "ftrack-publisher"
APP = APP_DIR / ("ftrack-publisher.exe" if sys.platform == "win32" else "ftrack-publisher")

#: Child process: show a window, print the wall-clock time of its first paint, quit.
PAINT_CHILD = textwrap.dedent("""
    import sys, time
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QLabel
    app = QApplication(sys.argv[:1])
    print("STAGE qt", repr(time.time()), flush=True)
    kind = sys.argv[1]
    if kind == "label":
        window = QLabel("ftrack publisher")
        window.resize(1600, 900)
    else:
        from publisher.api import Session
        from publisher.ui.window import MainWindow
        print("STAGE imports", repr(time.time()), flush=True)
        session = Session()
        print("STAGE session", repr(time.time()), flush=True)
        window = MainWindow(session)
    print("STAGE window", repr(time.time()), flush=True)

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                print("PAINTED", repr(time.time()), flush=True)
                QTimer.singleShot(0, app.quit)
                window.removeEventFilter(self)
            return False

    watcher = FirstPaint()
    window.installEventFilter(watcher)
    window.show()
    QTimer.singleShot(30000, lambda: (print("NO PAINT", flush=True), app.exit(1)))
    code = app.exec()
    if kind != "label":
        window.close()
        session.close()
    sys.exit(code)
""")

LABEL_APP = textwrap.dedent("""
    import sys
    from PySide6.QtWidgets import QApplication, QLabel
    app = QApplication(sys.argv)
    label = QLabel("hello")
    label.show()
    sys.exit(0 if "--exit" in sys.argv else app.exec())
""")


def folder_size(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def build_app() -> None:
    proc = subprocess.run([sys.executable, str(REPO / "packaging" / "build.py")], cwd=REPO)
    if proc.returncode != 0:
        sys.exit("bench_app: packaging/build.py failed; see above.")


def build_label_baseline(work: Path) -> Path:
    """A bare PySide6 QLabel app frozen by the same PyInstaller (one folder, default options)."""
    script = work / "label_app.py"
    script.write_text(LABEL_APP)
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "ERROR",
                    "--distpath", str(work / "dist"), "--workpath", str(work / "build"),
                    "--specpath", str(work), "--name", "label_app", str(script)], check=True)
    return work / "dist" / "label_app"


def breakdown(app_dir: Path) -> list[tuple[str, int]]:
    internal = app_dir / "_internal"
    groups = {
        "Qt + PySide6": [internal / "PySide6", internal / "shiboken6"],
        "PyAV + FFmpeg": [internal / "av", internal / "av.libs"],
        "Pillow": [internal / "PIL", internal / "pillow.libs"],
        "Python runtime": [*internal.glob("libpython*"), internal / "base_library.zip", internal / "python3.11"],
        "qtawesome fonts": [internal / "qtawesome"],
    }
    out, counted = [], 0
    for name, paths in groups.items():
        size = sum(folder_size(p) if p.is_dir() else p.stat().st_size for p in paths if p.exists())
        out.append((name, size))
        counted += size
    out.append(("everything else", folder_size(app_dir) - counted))
    return out


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    wall = time.time() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return wall, proc.stdout


#: Stages of the last first_paint() runs, per kind: {stage: [seconds since launch, ...]}.
STAGES: dict[str, dict[str, list[float]]] = {}


def first_paint(kind: str, env: dict[str, str]) -> float:
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-c", PAINT_CHILD, kind], capture_output=True, text=True,
                          env=env, timeout=120, cwd=REPO)
    stages = STAGES.setdefault(kind, {})
    for line in proc.stdout.splitlines():
        if line.startswith("STAGE "):
            _, name, when = line.split()
            stages.setdefault(name, []).append(float(when) - t0)
        if line.startswith("PAINTED "):
            return float(line.split()[1]) - t0
    raise RuntimeError(f"no paint from the {kind} window:\n{proc.stdout}\n{proc.stderr[-2000:]}")


def median_of(runs: int, measure) -> float:
    return statistics.median(measure() for _ in range(runs))


def stage_line(kind: str) -> str:
    names = {"qt": "Python + Qt + QApplication", "imports": "publisher imports", "session": "Session()",
             "window": "window built"}
    marks = [(names[n], statistics.median(v)) for n, v in STAGES.get(kind, {}).items()]
    return ", ".join(f"{name} by {t:.2f} s" for name, t in marks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="launches per figure (median reported)")
    parser.add_argument("--no-build", action="store_true", help="fail rather than build dist/ when it is missing")
    parser.add_argument("--no-size-baseline", action="store_true", help="skip freezing the bare QLabel app")
    args = parser.parse_args()

    if not APP.is_file():
        if args.no_build:
            sys.exit(f"bench_app: {APP} is missing; run python packaging/build.py first.")
        build_app()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load}; Qt offscreen platform; medians of {args.runs} cold launches")
    print()

    # Size ---------------------------------------------------------------------------------
    app_size = folder_size(APP_DIR)
    tarballs = sorted(DIST.glob("ftrack-publisher-*-linux-*.tar.gz"))
    print("Size of the built app")
    print(f"  dist/ftrack-publisher (one folder)   {mb(app_size):>12}")
    if tarballs:
        print(f"  {tarballs[-1].name:<36} {mb(tarballs[-1].stat().st_size):>12}")
    for name, size in breakdown(APP_DIR):
        print(f"    {name:<34} {mb(size):>12}  ({100 * size / app_size:4.1f} %)")
    if not args.no_size_baseline:
        with tempfile.TemporaryDirectory(prefix="bench-app-label-") as tmp:
            label_dir = build_label_baseline(Path(tmp))
            label_size = folder_size(label_dir)
        print(f"  baseline: bare PySide6 QLabel app    {mb(label_size):>12}   ratio app/baseline {app_size / label_size:.2f}x")
    print()

    # Time to a painted window ---------------------------------------------------------------
    env = {k: v for k, v in os.environ.items() if not k.startswith("FTRACK_")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    with tempfile.TemporaryDirectory(prefix="bench-app-") as tmp:
        env["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
        shot = str(Path(tmp) / "shot.png")
        frozen = median_of(args.runs, lambda: timed([str(APP), "--screenshot", shot], env)[0])
        source_env = dict(env, PYTHONPATH=str(REPO))
        source = median_of(args.runs, lambda: timed([sys.executable, "-m", "publisher", "--screenshot", shot], source_env)[0])
        with EmbeddedServer(Path(tmp) / "server") as server:
            paint_env = dict(source_env, FTRACK_SERVER=server.url, FTRACK_API_USER=server.api_user,
                             FTRACK_API_KEY=server.api_key)
            first_paint("label", paint_env)  # warm the disk cache for both
            STAGES.clear()
            label = median_of(args.runs, lambda: first_paint("label", paint_env))
            window = median_of(args.runs, lambda: first_paint("main", paint_env))
    print("Time to a painted window (launch -> paint)")
    print(f"  built app --screenshot (server + demo data)   {frozen:6.2f} s")
    print(f"  source    --screenshot (same, from Python)    {source:6.2f} s   built/source {frozen / source:.2f}x")
    print(f"  source: empty MainWindow, first paint         {window:6.2f} s")
    print(f"  baseline: bare QLabel window, first paint     {label:6.2f} s   MainWindow/QLabel {window / label:.2f}x")
    print(f"  built app with data vs bare QLabel                      {frozen / label:.2f}x")
    print(f"  MainWindow launch stages: {stage_line('main')}")
    print(f"  QLabel launch stages: {stage_line('label')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
