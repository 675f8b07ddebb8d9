"""``ftrack-publisher publish``: the publish engine without a window, for farm scripts.

``ftrack-publisher publish PATH... (--task ID | --version ID) [--asset NAME] [--asset-type SHORT]
[--comment TEXT] [--location NAME] [--review PATH] [--wait]`` stages the paths as the window
would (files, folders of frames, sequences), publishes them through the outbox (so a killed job
can be resumed with ``--resume``), shows a progress bar on stderr (plain lines when stderr is
not a terminal) and prints what it made on stdout, one ``key value`` pair a line.

Exit status: 0 only when everything asked for is done (with ``--wait``, the review encode too);
1 when the publish fails (the message says why and what to do); 2 for usage errors; 130 after
Ctrl+C, which cancels the publish and removes what it had created.

The server comes from ``FTRACK_SERVER``, ``FTRACK_API_USER`` and ``FTRACK_API_KEY``; there is
no demo-server fallback here: a farm job must say where it publishes. No Qt.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
import time
from typing import Any, TextIO

_DROP = re.compile(r"\bdrop\b")

#: Exit statuses.
OK, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130


def add_parser(sub: "argparse._SubParsersAction") -> argparse.ArgumentParser:
    """Add the ``publish`` subcommand to the CLI's subparsers."""
    p = sub.add_parser(
        "publish",
        help="publish files, folders and sequences without the window (for farm scripts)",
        description=(
            "Publish files, folders of frames and sequences to ftrack without the window. The server "
            "comes from FTRACK_SERVER, FTRACK_API_USER and FTRACK_API_KEY. Exit status 0 only when "
            "everything asked for is done; 1 on failure; 2 for usage errors."),
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="files, folders of frames, or sequences to publish")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--task", metavar="ID", default=None,
                        help="publish a new version under this task (or shot / folder) id")
    target.add_argument("--version", dest="version_id", metavar="ID", default=None,
                        help="add the components to this existing version id")
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
    return p


# Progress ----------------------------------------------------------------------------------------

def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressPrinter:
    """Turns publish events into a progress bar on ``stream`` (thread-safe: transfers report
    from their own threads). On a terminal the bar is redrawn in place a few times a second;
    otherwise (a farm log) a plain line is written every 10 % or 10 s."""

    WIDTH = 28

    def __init__(self, stream: TextIO, tty: bool | None = None) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.last_step = -1
        self.bar_open = False
        #: (time, bytes) when bytes first moved: speed and ETA leave out set-up and bytes a
        #: resumed publish had already sent.
        self.moving: tuple[float, int] | None = None
        self.last_phase = ""

    def _line(self, text: str) -> None:
        if self.bar_open:
            self.stream.write("\n")
            self.bar_open = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def __call__(self, event: object) -> None:
        from publisher.publish import events

        with self.lock:
            if isinstance(event, events.PublishStarted):
                self.started = time.monotonic()
                self.moving = None
                names = ", ".join(event.components) or "nothing new"
                self._line(f"publishing {names} ({_size(event.total_bytes)} to move)")
            elif isinstance(event, events.VersionReady):
                self._line(f"version {event.version_id} {'created' if event.created else 'found'}")
            elif isinstance(event, events.TransferPhase):
                self._phase(event)
            elif isinstance(event, events.BytesProgress):
                self._progress(event)
            elif isinstance(event, events.ComponentDone):
                self._line(f"done: {event.name} ({event.component_id})")
            elif isinstance(event, events.EncodeQueued):
                self._line(f"review queued: encode job {event.job_id}")
            elif isinstance(event, events.PublishCancelled):
                self._line("cancelled")

    def _phase(self, event: Any) -> None:
        """What happens before the first byte moves, on its own line (in place on a terminal)."""
        if event.label == "reading":
            text = f"reading {event.name}: {_size(event.done)} / {_size(event.total)}"
        else:
            text = f"{event.label} {event.name}…"
        if self.tty:
            self.stream.write(f"\r{text}\x1b[K")
            self.stream.flush()
            self.bar_open = True
        elif event.label != self.last_phase:
            self._line(text)
        self.last_phase = event.label

    def _progress(self, event: Any) -> None:
        total = max(event.overall_total, 1)
        fraction = min(event.overall_done / total, 1.0)
        now = time.monotonic()
        if self.moving is None:
            self.moving = (now, event.overall_done)
        elapsed = now - self.moving[0]
        rate = (event.overall_done - self.moving[1]) / elapsed if elapsed > 0.2 else 0.0
        eta = _duration((event.overall_total - event.overall_done) / rate) if rate > 0 else "…"
        speed = f"{_size(rate)}/s ETA {eta}"
        text = (f"{fraction * 100:5.1f}% {_size(event.overall_done)} / {_size(event.overall_total)} "
                f"{speed}  {event.name}")
        if self.tty:
            if now - self.last_draw < 0.1 and fraction < 1.0:
                return
            filled = int(fraction * self.WIDTH)
            self.stream.write(f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {text}\x1b[K")
            self.stream.flush()
            self.bar_open = True
            self.last_draw = now
            return
        step = int(fraction * 10)
        if step > self.last_step or now - self.last_draw >= 10.0:
            self.last_step = step
            self.last_draw = now
            self._line(text)

    def note(self, text: str) -> None:
        """A line of news between progress updates."""
        with self.lock:
            self._line(text)

    def encode(self, percent: int, status: str) -> None:
        """``Job.wait``'s ``on_progress``: the encode's state."""
        with self.lock:
            text = f"encode {status} {percent}%"
            if self.tty:
                self.stream.write(f"\r{text}\x1b[K")
                self.stream.flush()
                self.bar_open = True
            elif text != getattr(self, "_last_encode", None):
                self._line(text)
            self._last_encode = text

    def close(self) -> None:
        with self.lock:
            if self.bar_open:
                self.stream.write("\n")
                self.stream.flush()
                self.bar_open = False


# The command -------------------------------------------------------------------------------------

class _Failure(Exception):
    def __init__(self, message: str, status: int = FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _connect() -> Any:
    from publisher.api.exceptions import AuthenticationError, FtrackError, ServerConnectionError
    from publisher.api.session import Session

    url = os.environ.get("FTRACK_SERVER")
    if not url:
        raise _Failure(
            "No ftrack server configured: set FTRACK_SERVER, FTRACK_API_USER and FTRACK_API_KEY (for a "
            "local test server, copy them from the line `ftrack-publisher server` prints).", USAGE)
    if not os.environ.get("FTRACK_API_KEY") and not os.environ.get("FTRACK_APIKEY"):
        raise _Failure(f"No API key for {url}: set FTRACK_API_KEY (and FTRACK_API_USER).", USAGE)
    try:
        return Session(server_url=url)
    except AuthenticationError as error:
        raise _Failure(f"The server at {url} refused the API user or key ({error}). Check "
                       "FTRACK_API_USER and FTRACK_API_KEY.") from error
    except ServerConnectionError as error:
        raise _Failure(f"Cannot reach the ftrack server at {url}: {error} Check FTRACK_SERVER and "
                       "that the server is running, then run the command again.") from error
    except FtrackError as error:
        raise _Failure(f"Cannot connect to the ftrack server at {url}: {error}") from error


def _target(session: Any, args: argparse.Namespace, components: list) -> tuple[Any, set[str]]:
    """The request's target (``version_id`` or a ``NewVersion``) and the names already taken."""
    from publisher.publish.browse import quote
    from publisher.publish.runner import NewVersion

    if args.version_id:
        rows = session.query(
            f"select id, components.name from AssetVersion where id is {quote(args.version_id)}").all()
        if not rows:
            raise _Failure(f"There is no version with id {args.version_id} on {session.server_url}: "
                           "check the id (copy it from the version's details).")
        return args.version_id, {c["name"] for c in rows[0]["components"] or []}

    task = session.query(f"select id, name, parent_id from Task where id is {quote(args.task)}").first()
    if task is not None:
        context_id, task_id = str(task["parent_id"]), str(task["id"])
    else:
        context = session.query(f"select id from Context where id is {quote(args.task)}").first()
        if context is None:
            raise _Failure(f"There is no task (or shot, or folder) with id {args.task} on "
                           f"{session.server_url}: check the id (copy it from the task's details).")
        context_id, task_id = str(context["id"]), None
    wanted = args.asset_type
    asset_type = session.query(f"select id from AssetType where short is {quote(wanted)}").first() or \
        session.query(f"select id from AssetType where name is {quote(wanted)}").first()
    if asset_type is None:
        known = sorted(str(r["short"]) for r in session.query("select short from AssetType").all())
        raise _Failure(f"Unknown asset type {wanted!r}: use one of {', '.join(known)} (--asset-type).", USAGE)
    asset_name = args.asset or (components[0].name if components else "review")
    return NewVersion(context_id=context_id, asset_name=asset_name, asset_type_id=str(asset_type["id"]),
                      comment=args.comment or "", task_id=task_id), set()


def _stage(paths: list[str], location: str, out: TextIO) -> list:
    from publisher.publish.staging import stage_paths

    staged = stage_paths(paths)
    for warning in staged.warnings:
        out.write("warning: " + _DROP.sub("give", warning) + "\n")
    if staged.errors:
        # Staging speaks to someone dropping files on a window; here the paths are arguments.
        raise _Failure("\n".join(_DROP.sub("give", e) for e in staged.errors))
    for component in staged.components:
        component.location = location
    return staged.components


def _rename_taken(components: list, taken: set[str], out: TextIO) -> None:
    from publisher.publish.staging import suggest_name

    used = set(taken)
    for component in components:
        if component.name.lower() in {t.lower() for t in used}:
            new = suggest_name(component.path, component.kind, used, component.file_type)
            out.write(f"note: the version already has a component named '{component.name}': "
                      f"publishing it as '{new}'\n")
            component.name = new
        used.add(component.name)


def _wait_for_review(session: Any, job_id: str, printer: ProgressPrinter, cancel: threading.Event) -> None:
    from publisher.api.exceptions import FtrackError, JobFailedError

    job = session.get("Job", job_id)
    try:
        job.wait(on_progress=printer.encode, cancel=cancel)
    except JobFailedError as error:
        reason = error.message.rstrip()
        reason += "" if reason.endswith((".", "!", "?")) else "."
        raise _Failure(f"The files were published, but the review encode failed: {reason} "
                       "Send another movie for review from the version.") from error
    except FtrackError as error:
        raise _Failure(f"The files were published, but the encode's progress could not be read: "
                       f"{error} Check the version's review in ftrack.") from error
    finally:
        printer.close()
    if cancel.is_set() and not job.is_finished:
        raise _Failure("Stopped waiting for the review encode; it goes on on the server.", INTERRUPTED)


def _report(result: Any, out: TextIO) -> None:
    out.write(f"version {result.version_id}\n")
    for component_id in result.component_ids:
        out.write(f"component {component_id}\n")
    if result.job_id:
        out.write(f"job {result.job_id}\n")
    out.flush()


def run(args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run the ``publish`` subcommand; the exit status."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    cancel = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        def on_interrupt(signum: int, frame: Any) -> None:
            if cancel.is_set():  # a second Ctrl+C: stop at once
                raise KeyboardInterrupt
            err.write("\ncancelling (removing what was published; Ctrl+C again to stop at once)...\n")
            cancel.set()

        previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        return _run(args, out, err, cancel)
    except _Failure as failure:
        err.write(f"error: {failure.message}\n")
        return failure.status
    except KeyboardInterrupt:
        err.write("error: interrupted.\n")
        return INTERRUPTED
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _run(args: argparse.Namespace, out: TextIO, err: TextIO, cancel: threading.Event) -> int:
    from publisher.api.exceptions import FtrackError
    from publisher.publish.errors import PublishCancelled, PublishError
    from publisher.publish.outbox import Outbox
    from publisher.publish.runner import PublishRequest, run_publish

    printer = ProgressPrinter(err)
    if args.resume:
        if args.paths or args.task or args.version_id:
            raise _Failure("--resume finishes what the outbox holds: give no PATH, --task or --version with it.", USAGE)
        session = _connect()
        try:
            return _resume(session, out, err, printer, cancel)
        finally:
            session.close()

    if not args.paths and not args.review:
        raise _Failure("Give the files, folders or sequences to publish (PATH...), or --review PATH.", USAGE)
    if not args.task and not args.version_id:
        raise _Failure("Say where to publish: --task ID for a new version, or --version ID to add to one.", USAGE)
    if args.wait and not args.review:
        raise _Failure("--wait waits for the review encode: give --review PATH with it.", USAGE)
    if args.review and not os.path.isfile(args.review):
        raise _Failure(f"The review media {args.review} does not exist: check the path.")
    components = _stage(args.paths, args.location, err) if args.paths else []

    session = _connect()
    try:
        try:
            target, taken = _target(session, args, components)
        except FtrackError as error:
            raise _Failure(f"The server could not be asked about the target: {error}") from error
        _rename_taken(components, taken, err)
        request = PublishRequest(
            components=components,
            version_id=target if isinstance(target, str) else None,
            new_version=None if isinstance(target, str) else target,
            comment=args.comment if args.version_id else None,
            review_path=os.path.abspath(args.review) if args.review else None,
        )
        try:
            result = run_publish(session, request, on_event=printer, cancel=cancel, outbox=Outbox())
        except PublishCancelled as error:
            printer.close()
            raise _Failure(error.message, INTERRUPTED) from error
        except PublishError as error:
            printer.close()
            raise _Failure(error.message) from error
        printer.close()
        _report(result, out)
        if args.wait and result.job_id:
            _wait_for_review(session, result.job_id, printer, cancel)
            out.write("review done\n")
            out.flush()
        return OK
    finally:
        session.close()


def _resume(session: Any, out: TextIO, err: TextIO, printer: ProgressPrinter, cancel: threading.Event) -> int:
    """``publish --resume``: run this server's and user's unfinished outbox entries."""
    from publisher.publish.errors import PublishError
    from publisher.publish.outbox import Outbox
    from publisher.publish.runner import resume_unfinished

    outbox = Outbox()
    here = (session.server_url.rstrip("/"), session.api_user)
    results = resume_unfinished(session, outbox, on_event=printer,
                                on_entry=lambda e: printer.note(f"resuming {e.title}"), cancel=cancel,
                                only=lambda e: (e.server_url.rstrip("/"), e.api_user) == here)
    others = [e for e in outbox.unfinished() if (e.server_url.rstrip("/"), e.api_user) != here]
    if others:
        many = len(others) != 1
        err.write(f"note: {len(others)} unfinished publish{'es' if many else ''} in the outbox "
                  f"{'belong' if many else 'belongs'} to another server or user and "
                  f"{'were' if many else 'was'} left alone.\n")
    printer.close()
    if outbox.problems:
        err.write(outbox.problem_text() + "\n")
    failures = [r for r in results if isinstance(r, PublishError)]
    for failure in failures:
        err.write(f"error: {failure.message}\n")
    for result in results:
        if not isinstance(result, PublishError):
            _report(result, out)
    if not results:
        err.write(f"nothing to resume: the outbox holds no unfinished publish to {session.server_url}.\n")
    return FAILED if failures or outbox.problems else OK


__all__ = ["FAILED", "INTERRUPTED", "OK", "USAGE", "ProgressPrinter", "add_parser", "run"]
