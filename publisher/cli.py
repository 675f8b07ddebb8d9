"""The one entry point: the app (default), ``server`` and headless ``publish``.

``ftrack-publisher``                 the publisher (embedded demo server when none is configured)
``ftrack-publisher server [...]``    the embedded ftrack-compatible server in the foreground
``ftrack-publisher publish [...]``   publish without the window (farm scripts)
``ftrack-publisher find [PATH]``     projects, shots, tasks and versions by path
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from publisher import __version__, paths


def _add_server_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "server",
        help="run the embedded ftrack-compatible server",
        description="Run the embedded ftrack-compatible server. A new data folder gets the demo project.",
    )
    p.add_argument("--data-dir", type=Path, default=None,
                   help=f"where the database and files live (default: {paths.embedded_server_dir()})")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default: 127.0.0.1, loopback only; any other needs --cert/--key "
                        "or --insecure-public)")
    p.add_argument("--port", type=int, default=0, help="port to bind (default: 0, a free port)")
    p.add_argument("--api-key", default=None,
                   help="API key of the demo user, 8 characters or more (default: the one kept in the data "
                        "folder); visible to other users in the process list: prefer --api-key-file or "
                        "$FTRACK_PUBLISHER_SERVER_API_KEY")
    p.add_argument("--api-key-file", type=Path, default=None,
                   help="read the demo user's API key from the first line of this file")
    p.add_argument("--cert", type=Path, default=None, help="serve HTTPS with this certificate chain (PEM)")
    p.add_argument("--key", type=Path, default=None, help="the private key (PEM) of --cert")
    p.add_argument("--insecure-public", action="store_true",
                   help="allow a public --host without TLS (anyone on the network can read the key)")
    p.add_argument("--idle-timeout", type=float, default=None,
                   help="seconds a connection may stay idle or take to send a request's head (default 120)")
    p.add_argument("--body-timeout", type=float, default=None,
                   help="seconds a request body may stall before the request is dropped (default 120)")
    p.add_argument("--record", type=Path, default=None,
                   help="append every request received, as JSON lines, to this file (for protocol checks)")
    p.add_argument("--encode-threads", type=int, default=None,
                   help="threads the encoder may use (default: all cores)")
    p.add_argument("--fixtures", choices=["ftrack-tests"], default=None,
                   help="also seed a new data folder with the entities ftrack's own API test suite expects "
                        "(its users, test project and schema, by their ftrack ids) and log in as 'jenkins': "
                        "an offline ftrack for pipeline tests")
    p.add_argument("--throttle", type=float, default=None, metavar="MBPS",
                   help="testing only: cap each connection's upload rate to MBPS megabits per second")
    p.add_argument("--latency", type=float, default=None, metavar="MS",
                   help="testing only: answer each request MS milliseconds late (a long link)")
    p.add_argument("--part-url-lifetime", type=float, default=None, metavar="SECONDS",
                   help="testing only: seconds a signed part URL stays valid (default: 6 hours)")
    p.add_argument("--no-multipart", action="store_true",
                   help="testing only: answer every upload with one URL, as servers without multipart uploads do")


def _add_publish_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``publish`` subcommand to the CLI's subparsers."""
    p = sub.add_parser(
        "publish",
        help="publish files, folders and sequences without the window (for farm scripts)",
        description=(
            "Publish files, folders of frames and sequences to ftrack without the window. The server "
            "comes from FTRACK_SERVER, FTRACK_API_USER and FTRACK_API_KEY, else the saved profile "
            "(--profile NAME, or the active one), else the embedded demo server. --task and --version "
            "take a path (see `ftrack-publisher find`) or an id. Exit status 0 only when everything "
            "asked for is done; 1 on failure; 2 for usage errors; 130 after Ctrl+C."),
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="files, folders of frames, or sequences to publish")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--task", metavar="PATH|ID", default=None,
                        help="publish a new version under this task (or shot / folder), by path such as "
                             "lighthouse/sq010/sh010/Compositing, or by id (default: $FTRACK_CONTEXTID, the "
                             "task ftrack Connect started the shell from)")
    target.add_argument("--version", dest="version_id", metavar="PATH|ID", default=None,
                        help="add the components to this existing version, by path such as "
                             "lighthouse/sq010/sh010/Compositing/comp/v4 (or …/comp/latest), or by id")
    p.add_argument("--asset", metavar="NAME", default=None,
                   help="asset of the new version (default: the first component's name)")
    p.add_argument("--asset-type", metavar="SHORT", default="upload",
                   help="asset type of a new asset, by short name or name (default: upload)")
    p.add_argument("--comment", metavar="TEXT", default=None, help="the version's comment")
    p.add_argument("--location", metavar="NAME", default="ftrack.server",
                   help="where the files go: ftrack.server (uploaded, the default), ftrack.unmanaged "
                        "(left where they are) or a studio disk location")
    p.add_argument("--review", metavar="PATH", default=None,
                   help="a movie or image to encode for review on the version")
    p.add_argument("--wait", action="store_true",
                   help="with --review: wait for the encode to end; fail if it fails")
    p.add_argument("--resume", action="store_true",
                   help="finish the publishes a killed run left in the outbox (no PATH needed)")
    p.add_argument("--profile", metavar="NAME", default=None,
                   help="use this saved server profile (when FTRACK_SERVER is not set)")
    return p


def _add_find_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``find`` subcommand to the CLI's subparsers."""
    p = sub.add_parser(
        "find",
        help="list projects, shots, tasks and versions by path (lighthouse/sq010/sh010/Compositing)",
        description=(
            "List what a path names. No PATH: the projects. A path lists what is below it: the "
            "sequences, shots and tasks, and for a task its versions (as …/comp v004). A * in the "
            "last part lists what matches. Names match in any case; * and ? match within one level. "
            "Every path printed can be given to publish --task or --version."),
    )
    p.add_argument("path", nargs="?", default="", metavar="PATH",
                   help="project/sequence/shot/task[/asset[/vN|latest]], * matching within a level")
    p.add_argument("--json", action="store_true", help="print a JSON list (kind, id, path, name, asset, version, "
                                                       "task_id, context_id) for scripts")
    p.add_argument("--profile", metavar="NAME", default=None,
                   help="use this saved server profile (when FTRACK_SERVER is not set)")
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ftrack-publisher",
        description="Publish files, folders and image sequences to ftrack.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--screenshot", metavar="FILE", type=Path, default=None,
                        help="render the main window on the demo project to this PNG without showing it, then exit")
    parser.add_argument("--self-test", action="store_true",
                        help="publish and encode on a temporary embedded server, check the results, exit 0 when all pass")
    from publisher.hosts import launch_options  # --context ID, --stage FILE

    launch_options.add_arguments(parser)
    sub = parser.add_subparsers(dest="command")
    _add_server_parser(sub)
    _add_publish_parser(sub)
    _add_find_parser(sub)
    sub.add_parser("self-test", help="check this install works end to end (same as --self-test)",
                   description="Start an embedded server on a temporary folder, publish a file and a "
                               "sequence, encode a movie, check the results; exit 0 when all pass.")
    return parser


def run_server(args: argparse.Namespace) -> int:
    """Run the embedded server in the foreground until it is stopped; the exit status."""
    # The server (cheroot, sqlite, PyAV) loads only for `server`.
    from publisher.server import run

    data_dir = args.data_dir or paths.embedded_server_dir()
    return run(
        data_dir=data_dir,
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        api_key_file=args.api_key_file,
        record=args.record,
        encode_threads=args.encode_threads,
        throttle=args.throttle,
        latency=args.latency,
        part_url_lifetime=args.part_url_lifetime,
        multipart=not args.no_multipart,
        cert=args.cert,
        key=args.key,
        insecure_public=args.insecure_public,
        idle_timeout=args.idle_timeout,
        body_timeout=args.body_timeout,
        fixtures=args.fixtures,
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "server":
        if rest:
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        return run_server(args)
    if args.command == "publish":
        if rest:
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        # The client and the engine load only for `publish`: every other command (the embedded
        # server, started each time the window opens) would pay a quarter second for them.
        from publisher import cli_publish

        return cli_publish.run(args)
    if args.command == "find":
        if rest:
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        from publisher import cli_find

        return cli_find.run(args)
    if args.command == "self-test" or args.self_test:
        if rest:
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        # The self-test's steps (server, client, engine) load only for `self-test`.
        from publisher.selftest import run_self_test

        return run_self_test()
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    # The window: on FTRACK_SERVER when set, else on the embedded server with the demo project.
    # Qt, the window and the client load only for the window (not for `server` or `publish`).
    from publisher.hosts.standalone import run

    from publisher.hosts.launch_options import LaunchOptions

    return run(screenshot=args.screenshot, launch=LaunchOptions.from_arguments(args.context, args.stage))


if __name__ == "__main__":
    sys.exit(main())
