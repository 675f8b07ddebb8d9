"""Start and stop the embedded ftrack-compatible server as a child process.

The app, the headless CLI and the tests all reach the embedded server the way they reach a
studio's ftrack: over HTTP. This module only runs ``python -m publisher server`` and reads the
one banner line it prints, so nothing here imports ``publisher.server``. No Qt; callable from
any thread.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

#: The one line ``ftrack-publisher server`` prints when it is ready to serve.
BANNER_RE = re.compile(
    r"FTRACK_SERVER=(?P<url>\S+) FTRACK_API_USER=(?P<user>\S+) FTRACK_API_KEY=(?P<key>\S+)"
)


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be started; the message says why and what to do."""


class DataFolderInUseError(EmbeddedServerError):
    """Another server (another publisher window, most often) holds the data folder."""

    def __init__(self, data_dir: Path, server_output: str) -> None:
        super().__init__(server_output.removeprefix("ftrack-publisher server: ") or
                         f"Another ftrack-publisher server is already using the data folder {data_dir}.")
        self.data_dir = data_dir


@dataclass(frozen=True)
class ServerInfo:
    """Where a running server listens and how to log in to it."""

    url: str
    api_user: str
    api_key: str


#: The exit status of ``ftrack-publisher server`` when another server holds its data folder.
EXIT_FOLDER_IN_USE = 75


def format_banner(info: ServerInfo) -> str:
    """The ready line the server prints: copy-paste friendly as environment variables."""
    return (
        "ftrack-publisher server ready: "
        f"FTRACK_SERVER={info.url} FTRACK_API_USER={info.api_user} FTRACK_API_KEY={info.api_key}"
    )


def parse_banner(line: str) -> ServerInfo | None:
    """Read a ready line back; ``None`` when ``line`` is something else."""
    match = BANNER_RE.search(line)
    if not match:
        return None
    return ServerInfo(match["url"], match["user"], match["key"])


def server_command(python: str | None = None) -> list[str]:
    """The start of the command line that runs ``ftrack-publisher server``.

    ``python`` is the interpreter to use (default: this one). Inside a DCC ``sys.executable`` is
    the DCC itself (maya, Nuke, houdini), so the hosts pass its own Python (mayapy, hython...).
    In a frozen app (PyInstaller) ``sys.executable`` is the app, which takes ``server`` itself.
    """
    if python is None and getattr(sys, "frozen", False):
        return [sys.executable, "server"]
    return [python or sys.executable, "-m", "publisher", "server"]


class EmbeddedServer:
    """A ``ftrack-publisher server`` child process.

    Use as a context manager or call :meth:`start` and :meth:`stop`. ``extra_args`` are passed
    to the server command line (for example ``["--record", path]``); ``python`` is the
    interpreter that runs it (see :func:`server_command`).
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        extra_args: list[str] | None = None,
        env: dict[str, str] | None = None,
        startup_timeout: float = 60.0,
        python: str | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port
        self.extra_args = list(extra_args or [])
        self.env = env
        self.startup_timeout = startup_timeout
        self.python = python
        self.process: subprocess.Popen[str] | None = None
        self.info: ServerInfo | None = None
        self._output: list[str] = []

    # Convenience accessors -------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self.info is not None, "server not started"
        return self.info.url

    @property
    def api_user(self) -> str:
        assert self.info is not None, "server not started"
        return self.info.api_user

    @property
    def api_key(self) -> str:
        assert self.info is not None, "server not started"
        return self.info.api_key

    def output(self) -> str:
        """Everything the server printed so far (for error messages)."""
        return "".join(self._output)

    # Lifecycle -------------------------------------------------------------------------
    def start(self) -> ServerInfo:
        """Start the server and block until it prints its ready line (again after a stop or a
        crash: :class:`publisher.embedded_keeper.ServerKeeper` restarts it this way)."""
        self.info = None
        self._output = []
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            *server_command(self.python),
            "--data-dir", str(self.data_dir),
            "--host", self.host,
            "--port", str(self.port),
            *self.extra_args,
        ]
        env = dict(os.environ if self.env is None else self.env)
        env["PYTHONUNBUFFERED"] = "1"
        self.process = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        ready = threading.Event()

        def pump() -> None:
            # Keep draining the pipe for the server's whole life so it never blocks on a
            # full pipe buffer.
            assert self.process is not None and self.process.stdout is not None
            for line in self.process.stdout:
                self._output.append(line)
                if self.info is None:
                    info = parse_banner(line)
                    if info is not None:
                        self.info = info
                        ready.set()
            ready.set()

        threading.Thread(target=pump, name="embedded-server-output", daemon=True).start()
        if not ready.wait(self.startup_timeout) or self.info is None:
            code = self.process.poll()
            if code is None and ready.is_set():
                # Its output ended without the ready line: it is exiting; its status says why.
                try:
                    code = self.process.wait(5)
                except subprocess.TimeoutExpired:
                    code = None
            self.stop()
            if code == EXIT_FOLDER_IN_USE:
                raise DataFolderInUseError(self.data_dir, self.output().strip())
            raise EmbeddedServerError(
                "The embedded ftrack server did not start "
                + (f"(exit status {code})" if code is not None else f"within {self.startup_timeout:.0f} s")
                + f". Its data folder is {self.data_dir}. Server output:\n{self.output()[-4000:]}"
            )
        return self.info

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to stop (SIGTERM), and kill it if it does not within ``timeout``."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)

    def kill(self) -> None:
        """Kill the server at once, as a crash would (used by failure tests)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def __enter__(self) -> "EmbeddedServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
