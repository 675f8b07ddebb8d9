"""The embedded ftrack-compatible server: an aiohttp application on an asyncio event loop (an idle
or slow connection costs no thread; request work runs in a bounded thread pool), data in SQLite
(WAL), files in a content store, review encodes in a worker pool.

Never imported by ``publisher.api``, ``publisher.publish`` or ``publisher.ui``: they reach it
over HTTP, started as a child process by :mod:`publisher.embedded`.
"""

from __future__ import annotations

import ipaddress
import sys
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
    from publisher.server.app import ServerContext, make_app
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
    context = ServerContext(api, Recorder(record) if record else None, wan=WanModel.from_options(throttle, latency))
    try:
        server = HttpServer(lambda: make_app(context), host, port)
    except OSError as exc:
        print(f"ftrack-publisher server: cannot listen on {host}:{port}: {exc}. Pick another --port.",
              file=sys.stderr, flush=True)
        jobs.shutdown(timeout=5.0)
        storage.close()
        return 2
    url = f"http://{_url_host(host)}:{server.port}"

    def ready() -> None:
        print(format_banner(ServerInfo(url, demo.DEMO_USERNAME, key)), flush=True)

    try:
        server.serve(on_ready=ready)
    except KeyboardInterrupt:  # not in the main thread: no signal handlers of our own
        pass
    finally:
        context.close()
        jobs.shutdown(timeout=5.0)
        storage.close()
    return 0
