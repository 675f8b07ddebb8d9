"""Helpers shared by the client benchmarks: a recording embedded server, request counts from
its record file, the stock client's interpreter, worker subprocesses and table printing.

Only the benchmark scripts use this module; it is not part of the ``publisher`` package.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Sequence

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from publisher.embedded import EmbeddedServer  # noqa: E402

SERVER_LOCATION_ID = "3a372bde-05bc-11e4-8908-20c9d081909b"
UNMANAGED_LOCATION_ID = "cb268ecc-8809-11e3-a7e2-20c9d081909b"
LOCATION_IDS = {"ftrack.server": SERVER_LOCATION_ID, "ftrack.unmanaged": UNMANAGED_LOCATION_ID}

#: Where the stock ``ftrack-python-api==3.1.0`` lives unless ``--stock-python`` says otherwise.
STOCK_PYTHON_CANDIDATES = (
    os.environ.get("FTRACK_PUBLISHER_STOCK_PYTHON", ""),
    "/opt/stock-ftrack/bin/python",
    str(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        / "ftrack-publisher-tests" / "stock-ftrack-python-api-3.1.0" / "bin" / "python"),
)


def find_stock_python(explicit: str | None = None) -> str | None:
    """The Python of a virtual environment with ``ftrack_api`` 3.1.0 importable, or ``None``."""
    for candidate in ([explicit] if explicit else STOCK_PYTHON_CANDIDATES):
        if not candidate or not Path(candidate).exists():
            continue
        probe = subprocess.run([candidate, "-c", "import ftrack_api; print(ftrack_api.__version__)"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == "3.1.0":
            return candidate
    return None


def machine_note() -> str:
    """One line saying where the figures come from (the server shares this machine)."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
            f"load average {load}; the embedded server runs on the same machine over loopback, "
            "sharing those cores")


# -- the server and its record file ---------------------------------------------------------

class RecordFile:
    """The ``--record`` file of a server: one JSON line per request received."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def lines(self) -> int:
        """Requests recorded so far (a mark to slice between)."""
        if not self.path.exists():
            return 0
        with open(self.path, "rb") as fh:
            return sum(1 for _ in fh)

    def entries(self, start: int = 0, stop: int | None = None) -> list[dict[str, Any]]:
        """The decoded records with index in ``[start, stop)``."""
        if not self.path.exists():
            return []
        with open(self.path, encoding="utf-8") as fh:
            rows = fh.readlines()
        return [json.loads(row) for row in rows[start:stop]]


@dataclass
class RequestCounts:
    """Requests recorded during one measured phase."""

    total: int
    puts: int
    api_posts: int
    actions: dict[str, int]

    @property
    def non_put(self) -> int:
        return self.total - self.puts

    @classmethod
    def of(cls, entries: Iterable[dict[str, Any]]) -> "RequestCounts":
        total = puts = posts = 0
        actions: dict[str, int] = {}
        for entry in entries:
            total += 1
            if entry.get("method") == "PUT":
                puts += 1
            elif entry.get("path") == "/api":
                posts += 1
                for op in entry.get("operations") or []:
                    actions[op.get("action", "?")] = actions.get(op.get("action", "?"), 0) + 1
        return cls(total, puts, posts, actions)


def start_server(data_dir: Path, record: Path, extra_args: Sequence[str] = ()) -> EmbeddedServer:
    """Start an embedded server that records every request into ``record``."""
    server = EmbeddedServer(data_dir, extra_args=["--record", str(record), *extra_args])
    server.start()
    return server


def server_env(server: EmbeddedServer) -> dict[str, str]:
    """Environment for a client subprocess: credentials of ``server`` and this repository."""
    env = dict(os.environ)
    env.update(FTRACK_SERVER=server.url, FTRACK_API_USER=server.api_user, FTRACK_API_KEY=server.api_key,
               PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    return env


def make_versions(server: EmbeddedServer, count: int, label: str) -> list[str]:
    """Create one Asset with ``count`` AssetVersions on a demo task; return the version ids."""
    from publisher.api import Session

    with Session(server.url, server.api_user, server.api_key, schema_cache_path=False) as session:
        project = session.query('Project where name is "lighthouse"').first()
        task = project and session.query(f'Task where project_id is "{project["id"]}"').first()
        if task is None:
            raise SystemExit("the embedded server has no demo project (no Task in project 'lighthouse')")
        asset_type = session.query('AssetType where short is "upload"').first()
        asset = session.create("Asset", {"name": f"{label}_{uuid.uuid4().hex[:6]}", "parent": task["parent"],
                                         "type": asset_type})
        versions = [session.create("AssetVersion", {"asset": asset, "task": task}) for _ in range(count)]
        session.commit()
        return [str(v["id"]) for v in versions]


def seeded_storage(data_dir: Path) -> Any:
    """A server ``Storage`` on ``data_dir`` holding the demo project, for writing rows in bulk
    before the server starts (far quicker than creating 100,000 versions over HTTP)."""
    from publisher.server import demo
    from publisher.server.files import ContentStore
    from publisher.server.storage import Storage

    storage = Storage(data_dir / "ftrack.sqlite")
    demo.seed(storage, ContentStore(data_dir / "files"))
    return storage


def insert_versions(storage: Any, tx: Any, count: int, *, asset: str, statuses: Sequence[str],
                    start: datetime, batch: int = 10_000, **fields: Any) -> None:
    """Insert versions 1..``count`` of ``asset`` in transaction ``tx``, one ``main`` .exr
    FileComponent each, a minute apart from ``start``, statuses taken in turn; ``fields`` are
    more columns for every version (``project_id``, ``user_id``...). Rows go in ``batch`` at a time."""
    versions: list[dict[str, Any]] = []
    components: list[dict[str, Any]] = []
    for n in range(1, count + 1):
        vid = str(uuid.uuid4())
        versions.append({"id": vid, "asset_id": asset, "version": n, "comment": f"take {n}",
                         "date": (start + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%S"),
                         "is_published": 1, "status_id": statuses[n % len(statuses)], **fields})
        components.append({"id": str(uuid.uuid4()), "entity_type": "FileComponent", "system_type": "file",
                           "name": "main", "file_type": ".exr", "size": 1000, "version_id": vid})
        if len(versions) >= batch or n == count:
            storage.insert_many(tx, "asset_version", versions)
            storage.insert_many(tx, "component", components)
            versions, components = [], []


# -- worker subprocesses ----------------------------------------------------------------------

def run_worker(python: str, script: str, config: dict[str, Any], env: dict[str, str],
               timeout: float = 3600) -> dict[str, Any]:
    """Run ``script`` with ``python``, passing ``config`` as JSON in argv; return the JSON it prints last."""
    proc = subprocess.run([python, "-c", script, json.dumps(config)], env=env, capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise SystemExit(f"worker ({python}) failed with status {proc.returncode}:\n"
                         f"{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"worker ({python}) printed no result:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])


# -- output ---------------------------------------------------------------------------------

def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table with right-aligned figures."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    out = []
    for n, row in enumerate(cells):
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return str(value)


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def now() -> float:
    return time.perf_counter()
