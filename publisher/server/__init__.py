"""The embedded ftrack-compatible server: an aiohttp application on an asyncio event loop (an idle
or slow connection costs no thread; request work runs in a bounded thread pool), data in SQLite
(WAL), files in a content store, review encodes in a worker pool.

Never imported by ``publisher.api``, ``publisher.publish`` or ``publisher.ui``: they reach it
over HTTP, started as a child process by :mod:`publisher.embedded`.
"""

from __future__ import annotations

import sys
from pathlib import Path


def run(
    data_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    api_key: str | None = None,
    api_key_file: str | Path | None = None,
    record: str | Path | None = None,
    encode_threads: int | None = None,
    throttle: float | None = None,
    latency: float | None = None,
    part_url_lifetime: float | None = None,
    multipart: bool = True,
    cert: str | Path | None = None,
    key: str | Path | None = None,
    insecure_public: bool = False,
    idle_timeout: float | None = None,
    body_timeout: float | None = None,
    fixtures: str | None = None,
) -> int:
    """Serve ``data_dir`` on ``host:port`` until SIGINT/SIGTERM, then stop cleanly; returns 0
    (2 when it cannot start: the message on stderr says what to do).

    A new data folder gets the demo project (and the ``fixtures`` set, see
    :mod:`publisher.server.fixtures`). Prints one ready line (see
    :func:`publisher.embedded.format_banner`) once it accepts connections. The user it logs in
    (the demo user, ``jenkins`` with the ftrack-tests fixtures) gets the key ``api_key``, else
    the first line of ``api_key_file``, else ``$FTRACK_PUBLISHER_SERVER_API_KEY``, else the one
    kept in the data folder, else a new one.
    A public ``host`` needs ``cert`` and ``key`` (TLS) or ``insecure_public``.
    ``idle_timeout``/``body_timeout`` (seconds) override the HTTP layer's defaults.
    ``throttle`` (megabits per second per connection) and ``latency`` (milliseconds per request)
    model a long link, ``part_url_lifetime`` shortens signed part URLs and ``multipart`` False
    answers every upload with the single-part shape: for tests and benchmarks.
    """
    from publisher.embedded import EXIT_FOLDER_IN_USE, ServerInfo, format_banner
    from publisher.server import app as app_module
    from publisher.server import auth, startup
    from publisher.server import fixtures as fixture_sets
    from publisher.server.actions import Api
    from publisher.server.app import ServerContext, make_app
    from publisher.server.files import ContentStore
    from publisher.server.folder_lock import FolderInUseError, FolderLock
    from publisher.server.http_server import HttpServer
    from publisher.server.jobs import JobRunner
    from publisher.server.record import Recorder
    from publisher.server.storage import Storage
    from publisher.server.wan import WanModel

    def fail(message: str) -> int:
        print(f"ftrack-publisher server: {message}", file=sys.stderr, flush=True)
        return 2

    try:
        asked_key = startup.read_key_option(api_key, api_key_file)
        binding = startup.binding(host, cert, key, insecure_public)
    except startup.StartupError as exc:
        return fail(str(exc))
    data_dir = Path(data_dir)
    lock = FolderLock(data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except FolderInUseError as exc:
        print(f"ftrack-publisher server: {exc}", file=sys.stderr, flush=True)
        return EXIT_FOLDER_IN_USE
    except OSError as exc:
        return fail(f"cannot use the data folder {data_dir}: {exc}. Choose a writable folder with --data-dir.")
    try:
        startup.secure_data_dir(data_dir)
        storage = Storage(data_dir / "ftrack.sqlite")
    except (OSError, Exception) as exc:  # sqlite3.Error too: say what to do, not a traceback
        return fail(f"cannot use the data folder {data_dir}: {exc}. Choose a writable folder with --data-dir.")
    store = ContentStore(data_dir / "files")
    try:
        fixture_sets.seed(storage, store, fixtures)
    except ValueError as exc:
        storage.close()
        return fail(str(exc))
    key_file = auth.KeyFile(data_dir / "api_key")
    # The login user by its id, not its name: the artist may have renamed it.
    conn = storage.connection()
    user = conn.execute('SELECT "id", "username" FROM "users" WHERE "id" = ?',
                        (fixture_sets.login_user_id(fixtures),)).fetchone()
    if user is None:
        user = conn.execute('SELECT "id", "username" FROM "users" WHERE "username" = ?',
                            (fixture_sets.login_username(fixtures),)).fetchone()
    if user is None:
        storage.close()
        return fail(f"the data folder {data_dir} has no {fixture_sets.login_username(fixtures)} user any "
                    "more (deleted through the API?). Start with a new --data-dir.")
    username = user[1]
    with storage.transaction() as conn:
        storage.set_meta(conn, "owner_user_id", user[0])
        demo_key = startup.demo_key(conn, user[0], asked_key, key_file)

    api = Api(storage, store)
    api.on_key_set = lambda user_id, new_key: key_file.write(new_key) if user_id == user[0] else None
    api.forget_upload_grants()  # a restart ends every upload URL handed out before it
    api.multipart = multipart
    if part_url_lifetime is not None:
        api.uploads.signer.lifetime = part_url_lifetime
    expired = api.uploads.expire(storage.connection())
    api.uploads.delete_data(expired)
    jobs = JobRunner(api, workers=1, encode_threads=encode_threads)
    api.jobs = jobs
    jobs.recover()
    context = ServerContext(api, Recorder(record) if record else None, wan=WanModel.from_options(throttle, latency))
    if body_timeout is not None:
        context.body_timeout = body_timeout
    try:
        server = HttpServer(lambda: make_app(context), host, port, ssl_context=binding.ssl_context,
                            idle_timeout=idle_timeout or app_module.IDLE_TIMEOUT)
    except OSError as exc:
        jobs.shutdown(timeout=5.0)
        storage.close()
        return fail(f"cannot listen on {host}:{port}: {exc}. Pick another --port.")
    url = binding.url(host, server.port)
    if binding.public and binding.ssl_context is None:
        print(f"ftrack-publisher server: WARNING: serving {url} to the network WITHOUT TLS (--insecure-public): "
              "anyone who can see the traffic can read the API key and the files.", file=sys.stderr, flush=True)

    def ready() -> None:
        print(format_banner(ServerInfo(url, username, demo_key)), flush=True)

    try:
        server.serve(on_ready=ready)
    except KeyboardInterrupt:  # not in the main thread: no signal handlers of our own
        pass
    finally:
        context.close()
        jobs.shutdown(timeout=5.0)
        storage.close()
    return 0
