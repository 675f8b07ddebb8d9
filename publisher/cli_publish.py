"""``ftrack-publisher publish``: the publish engine without a window, for farm scripts.

``ftrack-publisher publish PATH... (--task PATH|ID | --version PATH|ID) [--asset NAME]
[--asset-type SHORT] [--comment TEXT] [--location NAME] [--review PATH] [--wait] [--profile NAME]``
stages the paths as the window would (files, folders of frames, sequences), publishes them
through the outbox (so a killed job can be resumed with ``--resume``), shows a progress bar on
stderr (plain lines when stderr is not a terminal) and prints what it made on stdout: a line
naming the version and its context (``Published lighthouse / sq010 / sh010 / Compositing / comp
v004: 3 components, 1.2 GB``), then the ids, one ``key value`` pair a line. ``--task`` and
``--version`` take a path (:mod:`publisher.publish.context_paths`) or an id.

Exit status (:mod:`publisher.cli_errors`): 0 only when everything asked for is done (with
``--wait``, the review encode too); 1 when the publish fails (the message says why and what to
do); 2 for usage errors; 130 after Ctrl+C, which cancels the publish and removes what it had
created (a second Ctrl+C stops at once and leaves the publish in the outbox for ``--resume``).

The server comes from ``FTRACK_SERVER``, ``FTRACK_API_USER`` and ``FTRACK_API_KEY``, else the
saved profile ``--profile NAME`` (or the active one), else the embedded demo server
(:mod:`publisher.cli_session`). No Qt.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, TextIO

from publisher.api.exceptions import FtrackError, JobFailedError
from publisher.api.session import Session
from publisher.cli_errors import FAILED, INTERRUPTED, OK, USAGE, CliFailure
from publisher.cli_find import describe_path_error
from publisher.cli_session import connect
from publisher.connection import Connection
from publisher.publish import events, frame_range
from publisher.api.quoting import quote
from publisher.publish.context_paths import PathError, Place, context_place, resolve_task, resolve_version, \
    version_place
from publisher.publish.errors import PublishCancelled, PublishError
from publisher.publish.outbox import Outbox, OutboxEntry
from publisher.publish.request import NewVersion, PublishRequest, PublishResult
from publisher.publish.runner import resume_unfinished, run_publish
from publisher.publish.staging import StagedComponent, stage_paths, suggest_name
from publisher.units import format_clock, format_size

_DROP = re.compile(r"\bdrop\b")



# Progress ----------------------------------------------------------------------------------------

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
        #: What is published to, as read (``lighthouse / sq010 / sh010 / Compositing / comp``).
        self.where = ""
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
        with self.lock:
            if isinstance(event, events.PublishStarted):
                self.started = time.monotonic()
                self.moving = None
                names = ", ".join(event.components) or "nothing new"
                self._line(f"publishing {names} ({format_size(event.total_bytes)} to move)")
            elif isinstance(event, events.VersionReady):
                where = f"{self.where}: " if self.where else ""
                self._line(f"{where}version {event.version_id} {'created' if event.created else 'found'}")
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

    def _phase(self, event: events.TransferPhase) -> None:
        """What happens before the first byte moves, on its own line (in place on a terminal)."""
        if event.label == "reading":
            text = f"reading {event.name}: {format_size(event.done)} / {format_size(event.total)}"
        else:
            text = f"{event.label} {event.name}…"
        if self.tty:
            self.stream.write(f"\r{text}\x1b[K")
            self.stream.flush()
            self.bar_open = True
        elif event.label != self.last_phase:
            self._line(text)
        self.last_phase = event.label

    def _progress(self, event: events.BytesProgress) -> None:
        total = max(event.overall_total, 1)
        fraction = min(event.overall_done / total, 1.0)
        now = time.monotonic()
        if self.moving is None:
            self.moving = (now, event.overall_done)
        elapsed = now - self.moving[0]
        rate = (event.overall_done - self.moving[1]) / elapsed if elapsed > 0.2 else 0.0
        eta = format_clock((event.overall_total - event.overall_done) / rate) if rate > 0 else "…"
        text = (f"{fraction * 100:5.1f}% {format_size(event.overall_done)} / {format_size(event.overall_total)} "
                f"{format_size(rate)}/s ETA {eta}  {event.name}")
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

_Failure = CliFailure


@dataclass(frozen=True)
class _Target:
    """Where the publish goes: an existing ``version`` (a place with its path), or a new version
    described by ``new`` under the context ``context``; ``taken`` are the component names the
    version already has."""

    new: NewVersion | None
    version: Place | None
    context: Place | None
    taken: set[str]

    @property
    def version_id(self) -> str | None:
        return self.version.id if self.version is not None else None


def _resolve(session: Session, text: str, wanted: str) -> Place:
    try:
        return resolve_version(session, text) if wanted == "version" else resolve_task(session, text)
    except PathError as error:
        raise _Failure(describe_path_error(error, session.server_url)) from error
    except PublishError as error:  # a context's path could not be read
        raise _Failure(error.message) from error


def _target(session: Session, args: argparse.Namespace, components: list[StagedComponent]) -> _Target:
    """The request's target (by path or id) and the names already taken."""

    if args.version_id:
        version = _resolve(session, args.version_id, "version")
        rows = session.query(
            f"select id, components.name from AssetVersion where id is {quote(version.id)}").all()
        return _Target(None, version, None, {c["name"] for c in (rows[0]["components"] if rows else []) or []})

    context = _resolve(session, args.task, "task")
    if context.kind == "Task":
        context_id, task_id = str(context.parent_id), context.id
    else:
        context_id, task_id = context.id, None
    wanted = args.asset_type
    asset_type = session.query(f"select id from AssetType where short is {quote(wanted)}").first() or \
        session.query(f"select id from AssetType where name is {quote(wanted)}").first()
    if asset_type is None:
        known = sorted(str(r["short"]) for r in session.query("select short from AssetType").all())
        raise _Failure(f"Unknown asset type {wanted!r}: use one of {', '.join(known)} (--asset-type).", USAGE)
    asset_name = args.asset or (components[0].name if components else "review")
    new = NewVersion(context_id=context_id, asset_name=asset_name, asset_type_id=str(asset_type["id"]),
                     comment=args.comment or "", task_id=task_id)
    return _Target(new, None, context, set())


def _stage(paths: list[str], location: str, out: TextIO) -> list[StagedComponent]:
    staged = stage_paths(paths)
    for warning in staged.warnings:
        out.write("warning: " + _DROP.sub("give", warning) + "\n")
    if staged.errors:
        # Staging speaks to someone dropping files on a window; here the paths are arguments.
        raise _Failure("\n".join(_DROP.sub("give", e) for e in staged.errors))
    for component in staged.components:
        component.location = location
    return staged.components


def _range_warnings(session: Session, target: Any, components: list[StagedComponent]) -> list[str]:
    """Staged sequences whose frames on disk differ from the target shot's range (a warning:
    the range on disk is the truth, the shot's range the check; the publish goes ahead)."""
    if not any(c.kind == "sequence" for c in components):
        return []
    try:
        context_id = frame_range.version_context_id(session, target) if isinstance(target, str) else target.context_id
        shot = frame_range.shot_range_for_context(session, context_id) if context_id else None
    except FtrackError as error:
        return [f"the shot's frame range could not be read, so the range on disk is not checked: {error}"]
    return frame_range.check_sequences(shot, components)


def _rename_taken(components: list[StagedComponent], taken: set[str], out: TextIO) -> None:
    used = set(taken)
    for component in components:
        if component.name.lower() in {t.lower() for t in used}:
            new = suggest_name(component.path, component.kind, used, component.file_type)
            out.write(f"note: the version already has a component named '{component.name}': "
                      f"publishing it as '{new}'\n")
            component.name = new
        used.add(component.name)


def _wait_for_review(session: Session, job_id: str, printer: ProgressPrinter, cancel: threading.Event) -> None:
    job: Any = session.get("Job", job_id)  # a Job entity: it has wait() and is_finished
    if job is None:
        raise _Failure(f"The files were published, but the encode job {job_id} is not on the server any "
                       "more: check the version's review in ftrack.")
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


def _made_text(count: int, size: int | None, job_id: str | None) -> str:
    parts = []
    if count:
        words = f"{count} component{'' if count == 1 else 's'}"
        parts.append(f"{words}, {format_size(size)}" if size else words)
    if job_id:
        parts.append("review encode queued")
    return ", ".join(parts) or "nothing new"


def published_line(version: Place, added: bool, count: int, size: int | None, job_id: str | None) -> str:
    """The one line that says what a publish made: ``Published lighthouse / sq010 / sh010 /
    Compositing / comp v004: 3 components, 1.2 GB``."""
    return f"{'Added to' if added else 'Published'} {version.label}: {_made_text(count, size, job_id)}"


def _version_of(session: Session, result: PublishResult, target: _Target | None) -> Place:
    """The made (or added-to) version with its path; read from the server when not known."""
    if target is not None and target.version is not None:
        return target.version
    if target is not None and target.context is not None and target.new is not None and result.version_number:
        context = target.context
        return Place("AssetVersion", result.version_id, context.names, asset_name=target.new.asset_name,
                     version=result.version_number, task_id=target.new.task_id, context_id=target.new.context_id)
    return version_place(session, result.version_id)


def _report(session: Session, result: PublishResult, out: TextIO, *, target: _Target | None = None,
            count: int | None = None, size: int | None = None) -> None:
    """A line that names the version and its context, then the ids, one ``key value`` a line."""
    try:
        version = _version_of(session, result, target)
        added = target is not None and target.version is not None
        out.write(published_line(version, added, len(result.component_ids) if count is None else count, size,
                                 result.job_id) + "\n")
    except (FtrackError, PathError, PublishError) as error:  # the publish is done: still give the ids
        out.write(f"Published version {result.version_id} (its path could not be read: {error})\n")
    out.write(f"version {result.version_id}\n")
    for component_id in result.component_ids:
        out.write(f"component {component_id}\n")
    if result.job_id:
        out.write(f"job {result.job_id}\n")
    out.flush()


class _Interrupts:
    """The SIGINT handler of a ``publish`` run (called in the main thread, between bytecodes).

    The first Ctrl+C sets ``cancel``: the engine stops the transfers and removes what the
    publish created. A second one stops at once, as a kill would: the outbox entry stays
    unfinished on disk for ``publish --resume`` (the outbox is made for runs that die), and a
    demo server this run started is killed with it rather than left behind.
    """

    def __init__(self, cancel: threading.Event, err: TextIO) -> None:
        self.cancel = cancel
        self.err = err
        self.connection: Connection | None = None

    def __call__(self, signum: int, frame: Any) -> None:
        if not self.cancel.is_set():
            self.err.write("\ncancelling (removing what was published; Ctrl+C again to stop at once and "
                           "finish later with --resume)...\n")
            self.err.flush()
            self.cancel.set()
            return
        self.err.write("\nerror: stopped at once. What was half-published is kept in the outbox: run "
                       "`ftrack-publisher publish --resume` to finish it.\n")
        self.err.flush()
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        if self.connection is not None and self.connection.server is not None:
            with contextlib.suppress(Exception):
                self.connection.server.kill()
        # Not an exception: the engine would treat it as the cancel already under way and go on
        # removing what was made, which is what the second Ctrl+C asks not to wait for.
        os._exit(INTERRUPTED)


def run(args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run the ``publish`` subcommand; the exit status."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    cancel = threading.Event()
    interrupts = _Interrupts(cancel, err)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, interrupts)
    try:
        return _run(args, out, err, cancel, interrupts)
    except _Failure as failure:
        err.write(f"error: {failure.message}\n")
        return failure.status
    except KeyboardInterrupt:  # Ctrl+C before the handler was in place
        err.write("error: interrupted.\n")
        return INTERRUPTED
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _run(args: argparse.Namespace, out: TextIO, err: TextIO, cancel: threading.Event,
         interrupts: _Interrupts) -> int:
    printer = ProgressPrinter(err)
    if args.resume:
        if args.paths or args.task or args.version_id:
            raise _Failure("--resume finishes what the outbox holds: give no PATH, --task or --version with it.", USAGE)
        connection = interrupts.connection = connect(args.profile, err)
        try:
            return _resume(connection.session, out, err, printer, cancel)
        finally:
            connection.close()

    if not args.paths and not args.review:
        raise _Failure("Give the files, folders or sequences to publish (PATH...), or --review PATH.", USAGE)
    if not args.task and not args.version_id:
        # ftrack Connect and Actions start tools with the selected task in FTRACK_CONTEXTID.
        args.task = os.environ.get("FTRACK_CONTEXTID", "").strip() or None
    if not args.task and not args.version_id:
        raise _Failure("Say where to publish: --task PATH (or id) for a new version, such as "
                       "--task lighthouse/sq010/sh010/Compositing, or --version PATH (or id) to add to one, such "
                       "as --version lighthouse/sq010/sh010/Compositing/comp/latest.", USAGE)
    if args.wait and not args.review:
        raise _Failure("--wait waits for the review encode: give --review PATH with it.", USAGE)
    if args.review and not os.path.isfile(args.review):
        raise _Failure(f"The review media {args.review} does not exist: check the path.")
    components = _stage(args.paths, args.location, err) if args.paths else []

    connection = interrupts.connection = connect(args.profile, err)
    session = connection.session
    try:
        try:
            target = _target(session, args, components)
        except FtrackError as error:
            raise _Failure(f"The server could not be asked about the target: {error}") from error
        _rename_taken(components, target.taken, err)
        for warning in _range_warnings(session, target.version_id or target.new, components):
            err.write("warning: " + warning + "\n")
        printer.where = target.version.label if target.version is not None else \
            f"{target.context.label if target.context else ''} / {target.new.asset_name if target.new else ''}"
        request = PublishRequest(
            components=components,
            version_id=target.version_id,
            new_version=target.new,
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
        _report(session, result, out, target=target, count=len(components),
                size=sum(c.size for c in components))
        if args.wait and result.job_id:
            _wait_for_review(session, result.job_id, printer, cancel)
            out.write("review done\n")
            out.flush()
        return OK
    finally:
        connection.close()


def _entry_place(session: Session, entry: OutboxEntry) -> str:
    """`` in lighthouse / sq010 / sh010 / Compositing`` (or ``…/ comp v004``): where an outbox
    entry publishes, as read; empty when the server cannot say."""
    request = entry.request
    try:
        if request.new_version is not None:
            return f" in {context_place(session, request.new_version.task_id or request.new_version.context_id).label}"
        if request.version_id:
            return f" ({version_place(session, request.version_id).label})"
    except (FtrackError, PathError, PublishError):
        pass
    return ""


def _resume(session: Session, out: TextIO, err: TextIO, printer: ProgressPrinter, cancel: threading.Event) -> int:
    """``publish --resume``: run this server's and user's unfinished outbox entries."""

    outbox = Outbox()
    here = (session.server_url.rstrip("/"), session.api_user)
    results = resume_unfinished(session, outbox, on_event=printer,
                                on_entry=lambda e: printer.note(f"resuming {e.title}{_entry_place(session, e)}"),
                                cancel=cancel,
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
            _report(session, result, out)
    if not results:
        err.write(f"nothing to resume: the outbox holds no unfinished publish to {session.server_url}.\n")
    return FAILED if failures or outbox.problems else OK


__all__ = ["FAILED", "INTERRUPTED", "OK", "USAGE", "ProgressPrinter", "published_line", "run"]
