"""The embedded ftrack-compatible server: a WSGI application under cheroot (a multi-threaded WSGI
server that streams request bodies), data in SQLite (WAL), files in a content store, review
encodes in a worker pool.

Never imported by ``publisher.api``, ``publisher.publish`` or ``publisher.ui``: they reach it
over HTTP, started as a child process by :mod:`publisher.embedded`.
"""

from __future__ import annotations

import ipaddress
import signal
import sys
import threading
from pathlib import Path


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    try:
        if ipaddress.ip_address(host).version == 6:
            return f"[{host}]"
    except ValueError:
        pass
    return host


def run(
    data_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    api_key: str | None = None,
    record: str | Path | None = None,
    encode_threads: int | None = None,
    throttle: float | None = None,
    latency: float | None = None,
    part_url_lifetime: float | None = None,
    multipart: bool = True,
) -> int:
    """Serve ``data_dir`` on ``host:port`` until SIGINT/SIGTERM, then stop cleanly; returns 0.

    A new data folder gets the demo project. Prints one ready line (see
    :func:`publisher.embedded.format_banner`) once it accepts connections. ``throttle``
    (megabits per second per connection) and ``latency`` (milliseconds per request) model a
    long link, ``part_url_lifetime`` shortens signed part URLs and ``multipart`` False answers
    every upload with the single-part shape: for tests and benchmarks.
    """
    from publisher.embedded import ServerInfo, format_banner
    from publisher.server import auth, demo
    from publisher.server.actions import Api
    from publisher.server.app import Application
    from publisher.server.files import ContentStore
    from publisher.server.http_server import HttpServer
    from publisher.server.jobs import JobRunner
    from publisher.server.record import Recorder
    from publisher.server.storage import Storage
    from publisher.server.wan import WanModel

    data_dir = Path(data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        storage = Storage(data_dir / "ftrack.sqlite")
    except (OSError, Exception) as exc:  # sqlite3.Error too: say what to do, not a traceback
        print(f"ftrack-publisher server: cannot use the data folder {data_dir}: {exc}. "
              "Choose a writable folder with --data-dir.", file=sys.stderr, flush=True)
        return 2
    store = ContentStore(data_dir / "files")
    if storage.get_meta("seeded") is None:
        demo.seed(storage, store)
    conn = storage.connection()
    with storage.transaction() as conn:
        user = conn.execute('SELECT "id" FROM "users" WHERE "username" = ?', (demo.DEMO_USERNAME,)).fetchone()
        existing = conn.execute('SELECT "key" FROM "api_key" WHERE "user_id" = ? LIMIT 1', (user[0],)).fetchone()
        if api_key:
            key = auth.set_api_key(conn, user[0], api_key)
        elif existing:
            key = existing[0]
        else:
            key = auth.set_api_key(conn, user[0])

    api = Api(storage, store)
    api.multipart = multipart
    if part_url_lifetime is not None:
        api.uploads.signer.lifetime = part_url_lifetime
    expired = api.uploads.expire(storage.connection())
    api.uploads.delete_data(expired)
    jobs = JobRunner(api, workers=1, encode_threads=encode_threads)
    api.jobs = jobs
    jobs.recover()
    app = Application(api, Recorder(record) if record else None, WanModel.from_options(throttle, latency))
    try:
        server = HttpServer(app, host, port)
    except OSError as exc:
        print(f"ftrack-publisher server: cannot listen on {host}:{port}: {exc}. Pick another --port.",
              file=sys.stderr, flush=True)
        jobs.shutdown(timeout=5.0)
        storage.close()
        return 2
    url = f"http://{_url_host(host)}:{server.port}"

    def stop(signum, frame):  # runs in the main thread, inside server.serve()
        # A second signal must not interrupt the clean-up below.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    try:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        print(format_banner(ServerInfo(url, demo.DEMO_USERNAME, key)), flush=True)
        server.serve()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        jobs.shutdown(timeout=5.0)
        storage.close()
    return 0
