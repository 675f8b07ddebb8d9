"""Start the standalone app as its own process with what a Qt 5 host collected.

Nuke 15 and Houdini 20.5 run Qt 5 (PySide2): our PySide6 code must never load there. Their menu
entry runs the Qt-free collector, writes the :class:`~publisher.hosts.collect.items.Collection`
to a stage file and starts the app with ``--context ID --stage FILE`` (:func:`launch`), in an
environment scrubbed of the host's Qt (:func:`publisher.hosts.environment.for_publisher_app`).
Qt-free; any thread.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from publisher.hosts import environment
from publisher.hosts.collect.items import Collection

#: The installed app (the frozen ``ftrack-publisher`` executable); set by the Connect hook.
APP_VARIABLE = "FTRACK_PUBLISHER_APP"
#: A Python that has the publisher installed, used as ``PYTHON -m publisher`` when no app is set.
PYTHON_VARIABLE = "FTRACK_PUBLISHER_PYTHON"


class LaunchError(RuntimeError):
    """The app cannot be started; the message says what to install or set."""


@dataclass(frozen=True)
class Launched:
    """The app process started, the command it runs and the stage file it reads."""

    process: Any
    argv: list[str]
    stage_file: Path | None


def app_command(env: Mapping[str, str] | None = None) -> list[str]:
    """How to run the app: ``$FTRACK_PUBLISHER_APP``, else ``$FTRACK_PUBLISHER_PYTHON -m
    publisher``, else ``ftrack-publisher`` found on ``PATH``. Raises :class:`LaunchError`."""
    env = os.environ if env is None else env
    app = env.get(APP_VARIABLE, "").strip()
    if app:
        if not (os.path.isfile(app) and os.access(app, os.X_OK)):
            raise LaunchError(f"{APP_VARIABLE}={app} is not an executable file: point it at the installed "
                              "ftrack-publisher (or unset it).")
        return [app]
    python = env.get(PYTHON_VARIABLE, "").strip()
    if python:
        return [python, "-m", "publisher"]
    found = shutil.which("ftrack-publisher", path=env.get("PATH"))
    if found:
        return [found]
    raise LaunchError("The ftrack publisher app was not found: install it, then set "
                      f"{APP_VARIABLE} to its executable (ftrack Connect's plugin sets it for you).")


def stage_folder() -> Path:
    """Where stage files are written (the user cache folder)."""
    from publisher import paths

    return paths.cache_dir() / "stage"


def host_folders() -> list[str]:
    """The host's install folders (where its Qt and Python live), from ``sys.executable``."""
    exe = Path(sys.executable).resolve()
    # bin/nuke, Houdini's bin/houdini, Maya's bin/maya.bin: the install is the folder above bin.
    root = exe.parent.parent if exe.parent.name.lower() in ("bin", "macos") else exe.parent
    return [str(root)]


def launch(collection: Collection | None, context_id: str | None, *, env: Mapping[str, str] | None = None,
           folder: Path | None = None, popen: Callable[..., Any] = subprocess.Popen) -> Launched:
    """Write ``collection`` to a stage file and start the app on it at ``context_id``."""
    env = dict(os.environ if env is None else env)
    argv = app_command(env)
    stage_file = None
    if collection is not None:
        folder = folder or stage_folder()
        name = f"{collection.host.lower()}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}.json"
        stage_file = collection.write(folder / name)
        argv += ["--stage", str(stage_file)]
    if context_id:
        argv += ["--context", context_id]
    child_env = environment.for_publisher_app(env, host_folders())
    # The app's own output goes to a file of ours, not into the host's console (nor its pipes).
    output = _output_file()
    kwargs: dict[str, Any] = {"env": child_env, "stdin": subprocess.DEVNULL, "close_fds": True,
                              "stdout": output, "stderr": subprocess.STDOUT if output is not subprocess.DEVNULL else output}
    if sys.platform == "win32":
        kwargs["creationflags"] = getattr(subprocess, "DETACHED_PROCESS", 0) | getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
    else:
        kwargs["start_new_session"] = True  # the app outlives the host's menu call and the host
    try:
        process = popen(argv, **kwargs)
    except OSError as exc:
        raise LaunchError(f"Could not start {argv[0]} ({exc.strerror or exc}): check the install, "
                          f"or set {APP_VARIABLE} to the ftrack-publisher executable.") from None
    finally:
        if output is not subprocess.DEVNULL:
            output.close()
    return Launched(process, argv, stage_file)


def _output_file() -> Any:
    """The file the started app writes its console output to (appended), or DEVNULL."""
    from publisher import paths

    try:
        folder = paths.log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        return open(folder / "started-from-host.log", "ab")
    except OSError:
        return subprocess.DEVNULL


__all__ = ["APP_VARIABLE", "LaunchError", "Launched", "PYTHON_VARIABLE", "app_command", "host_folders",
           "launch", "stage_folder"]
