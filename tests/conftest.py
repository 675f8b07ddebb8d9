"""Shared fixtures: a real embedded server on a free loopback port, and the stock client.

Integration tests talk to the server over real HTTP, as the app does. The stock
``ftrack-python-api`` 3.1.0 client pins old clique, arrow and pyparsing, so it lives in its own
virtual environment, made once per machine and reused.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

import pytest

from publisher.embedded import EmbeddedServer

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The user's real cache, kept for the stock client's venv (slow to make, safe to share).
_REAL_CACHE_HOME = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))

# Nothing the tests run (the app, its children, the servers) may write into the real home:
# settings, logs, the outbox, caches all go to a folder of this run. Set before anything reads
# platformdirs, and inherited by every child process.
_TEST_HOME = Path(tempfile.mkdtemp(prefix="ftrack-publisher-tests-"))
for _name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
    os.environ[_name] = str(_TEST_HOME / _name.lower())
atexit.register(shutil.rmtree, _TEST_HOME, ignore_errors=True)

STOCK_VERSION = "3.1.0"


@pytest.fixture(scope="session")
def embedded_server(tmp_path_factory: pytest.TempPathFactory):
    """One embedded server for the whole run (tests must not depend on each other's data)."""
    server = EmbeddedServer(tmp_path_factory.mktemp("server"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def server_factory(tmp_path: Path):
    """Start fresh servers for a test that needs its own (killed, recorded, restarted...)."""
    started: list[EmbeddedServer] = []

    def make(data_dir: Path | None = None, extra_args: list[str] | None = None) -> EmbeddedServer:
        server = EmbeddedServer(data_dir or tmp_path / f"server{len(started)}", extra_args=extra_args)
        server.start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def server_env(embedded_server: EmbeddedServer) -> dict[str, str]:
    """Environment variables that point an ftrack client at the embedded server."""
    env = dict(os.environ)
    env.update(
        FTRACK_SERVER=embedded_server.url,
        FTRACK_API_USER=embedded_server.api_user,
        FTRACK_API_KEY=embedded_server.api_key,
    )
    return env


def _stock_venv_dir() -> Path:
    base = os.environ.get("FTRACK_PUBLISHER_STOCK_VENV")
    if base:
        return Path(base)
    return _REAL_CACHE_HOME / "ftrack-publisher-tests" / f"stock-ftrack-python-api-{STOCK_VERSION}"


@pytest.fixture(scope="session")
def stock_python() -> Path:
    """The Python of a virtual environment holding ``ftrack-python-api==3.1.0``.

    Made on first use (needs PyPI) and reused afterwards.
    """
    root = _stock_venv_dir()
    python = root / "bin" / "python"
    marker = root / ".ready"
    if not marker.exists():
        root.parent.mkdir(parents=True, exist_ok=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(root)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             f"ftrack-python-api=={STOCK_VERSION}"],
            check=True,
        )
        marker.write_text(STOCK_VERSION)
    return python


def run_stock(stock_python: Path, script: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``script`` with the stock client's Python; fail the test with its output on error."""
    proc = subprocess.run(
        [str(stock_python), "-c", script], env=env, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        pytest.fail(f"stock client script failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


__all__ = ["run_stock", "sys"]
