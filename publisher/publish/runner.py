"""A publish: create the version if new, then each component (created and its files moved),
then optionally the review encode, reporting progress as plain events.

:func:`run_journal` is the one run loop: the steps of :mod:`publisher.publish.steps` in order,
each reported to a :class:`~publisher.publish.journal.Journal`. :func:`run_publish` runs it with
an in-memory journal, or with the outbox's (:class:`~publisher.publish.journal.OutboxJournal`)
when given an outbox; :func:`retry` and :func:`resume_unfinished` run outbox entries again. No
Qt; call from a worker thread that owns ``session`` (a ``session.clone()``); ``on_event`` is
called from that thread, and ``BytesProgress`` also from transfer threads.

Failure policy: everything that can be checked before the server is touched is checked first
(names, locations, files still on disk, the version or the context and asset type), so a bad
request changes nothing. If a step fails later, what this run created (components, then the
version and asset it made) is removed again when ``rollback`` is true (the default), so nothing
is left half-published; with ``rollback=False`` the finished components stay, for a retry that
passes ``version_id`` and the remaining components.
"""

from __future__ import annotations

import threading
from typing import Callable

from publisher.api.exceptions import TransferCancelled
from publisher.api.multipart import upload_journal
from publisher.api.session import Session
from publisher.publish.errors import FailureKind, PublishCancelled, PublishError
from publisher.publish.events import (
    BytesProgress,
    ComponentDone,
    ComponentStarted,
    EncodeQueued,
    PublishFailed,
    PublishFinished,
    PublishStarted,
    VersionReady,
)
from publisher.publish.events import PublishCancelled as PublishCancelledEvent
from publisher.publish.journal import Journal, MemoryJournal, OutboxJournal
from publisher.publish.outbox import Outbox, OutboxBusy, OutboxEntry
from publisher.publish.request import CheckedRequest, NewVersion, PublishRequest, PublishResult
from publisher.publish.steps import (
    EventHandler,
    check_cancel,
    check_request,
    emit,
    ensure_version,
    progress_reporter,
    publish_component,
    queue_review,
)


def _failed(on_event: EventHandler | None, error: PublishError) -> PublishError:
    """Report ``error``'s end of the publish as events; returns it, to be raised."""
    if isinstance(error, PublishCancelled):
        emit(on_event, PublishCancelledEvent(error.message))
    emit(on_event, PublishFailed(error.message))
    return error


def run_journal(session: Session, journal: Journal, *, on_event: EventHandler | None = None,
                cancel: threading.Event | None = None) -> PublishResult:
    """Run a publish recorded by ``journal``: check, version, components, review.

    Raises :class:`PublishError` (or :class:`PublishCancelled`) made by the journal, after the
    events that end the publish (``PublishCancelled`` then ``PublishFailed``, or ``PublishFailed``).
    """
    try:
        plan = journal.prepare(session)
    except PublishError as error:
        raise _failed(on_event, error)
    if plan.finished is not None:
        emit(on_event, PublishFinished(plan.finished.version_id, plan.finished.component_ids))
        return plan.finished

    pending = plan.request.components
    checked = plan.checked
    total = checked.total_bytes
    emit(on_event, PublishStarted(total, [c.name for c in pending]))
    overall_before = 0
    step = "creating the version"
    try:
        check_cancel(cancel)
        version = journal.version(session, plan)
        emit(on_event, VersionReady(str(version["id"]), journal.version_created))
        for name, done_id in plan.already_done.items():
            emit(on_event, ComponentDone(name, done_id))
        ids = journal.component_ids(pending)
        for component in pending:
            check_cancel(cancel)
            step = f"publishing component '{component.name}'"
            moved = checked.moved_bytes[component.name]
            emit(on_event, ComponentStarted(component.name, moved))
            progress, last_reported = progress_reporter(on_event, component.name, moved, overall_before, total)
            component_id, member_ids = ids[component.name]
            try:
                with upload_journal(journal.uploads(component)):
                    created = publish_component(session, version, component,
                                                checked.locations[component.location], progress=progress,
                                                cancel=cancel, component_id=component_id, member_ids=member_ids)
            except BaseException as error:
                journal.component_failed(component, error)
                raise
            journal.component_done(component, created)
            overall_before += moved
            if moved and last_reported() != moved:
                emit(on_event, BytesProgress(component.name, moved, moved, overall_before, total))
            emit(on_event, ComponentDone(component.name, str(created["id"])))
    except BaseException as error:
        cancelled = isinstance(error, (PublishCancelled, TransferCancelled)) or (
            cancel is not None and cancel.is_set())
        failure = _failed(on_event, journal.failed(session, error, step, cancelled))
        if not isinstance(error, Exception):  # KeyboardInterrupt, SystemExit: keep their meaning
            raise
        raise failure from error

    if plan.review_todo and plan.request.review_path:
        try:
            check_cancel(cancel)
            job_id = queue_review(session, version, plan.request.review_path)
        except BaseException as error:
            cancelled = isinstance(error, PublishCancelled)
            failure = _failed(on_event, journal.review_failed(session, error, cancelled))
            if not isinstance(error, Exception):
                raise
            raise failure from error
        journal.review_done(job_id)
        emit(on_event, EncodeQueued(job_id))
    result = journal.finish(version)
    emit(on_event, PublishFinished(result.version_id, result.component_ids))
    return result


def _run_entry(session: Session, outbox: Outbox, entry: OutboxEntry, on_event: EventHandler | None,
               cancel: threading.Event | None) -> PublishResult:
    """Run (or resume) ``entry``, holding it in ``outbox`` for the run."""
    try:
        with outbox.claim(entry.id):
            return run_journal(session, OutboxJournal(outbox, entry), on_event=on_event, cancel=cancel)
    except OutboxBusy as error:
        error.kind = FailureKind.OUTBOX
        emit(on_event, PublishFailed(error.message))
        raise


def run_publish(
    session: Session,
    request: PublishRequest,
    *,
    on_event: EventHandler | None = None,
    cancel: threading.Event | None = None,
    rollback: bool = True,
    outbox: Outbox | None = None,
    entry: OutboxEntry | None = None,
) -> PublishResult:
    """Publish ``request``; events go to ``on_event``; raises :class:`PublishError` on failure.

    ``cancel`` (a ``threading.Event``) stops the publish between steps and inside transfers; a
    cancelled publish raises :class:`PublishCancelled` after rolling back like a failure (the
    events end with :class:`~publisher.publish.events.PublishCancelled` then ``PublishFailed``).

    With ``outbox`` (:class:`publisher.publish.outbox.Outbox`) the publish is written to it
    before it starts (a new entry, unless ``entry`` is given) and each step is recorded as it
    ends. Given an ``entry`` that has done steps, it resumes: the version it created is reused,
    components recorded as done (and found complete on the server) are skipped, the rest are
    redone; ``request`` is then ignored (the entry's own is used). With an outbox a failure
    keeps what is done (the entry is ``failed``, or ``queued`` when the server could not be
    reached before anything was created) and ``rollback`` is ignored; a cancel removes
    everything the entry created, whichever run created it, and marks it ``cancelled``.
    """
    if entry is not None and outbox is None:
        raise ValueError("run_publish: an outbox entry needs its outbox (pass outbox=...).")
    if outbox is None:
        return run_journal(session, MemoryJournal(request, rollback=rollback), on_event=on_event, cancel=cancel)
    if entry is None:
        try:
            entry = outbox.add(request, server_url=getattr(session, "server_url", ""),
                               api_user=getattr(session, "api_user", "") or "")
        except PublishError as error:
            error.kind = FailureKind.OUTBOX
            raise _failed(on_event, error)
    return _run_entry(session, outbox, entry, on_event, cancel)


def retry(session: Session, outbox: Outbox, entry_id: str, *, on_event: EventHandler | None = None,
          cancel: threading.Event | None = None) -> PublishResult:
    """Run outbox entry ``entry_id`` again: only its failed or pending parts (see :func:`run_publish`)."""
    entry = outbox.get(entry_id)
    if entry is None:
        problem = next((p for p in outbox.problems if p.path.stem == entry_id), None)
        message = (f"The outbox entry {entry_id} cannot be read ({problem.reason}): it was left at "
                   f"{problem.path}; publish the files again." if problem else
                   f"The outbox has no publish {entry_id} (it was removed): publish the files again.")
        raise _failed(on_event, PublishError(message, kind=FailureKind.OUTBOX))
    return _run_entry(session, outbox, entry, on_event, cancel)


def resume_unfinished(session: Session, outbox: Outbox, *, on_event: EventHandler | None = None,
                      on_entry: Callable[[OutboxEntry], None] | None = None,
                      cancel: threading.Event | None = None,
                      only: Callable[[OutboxEntry], bool] | None = None) -> list[PublishResult | PublishError]:
    """Run every unfinished outbox entry (queued, failed, or left running by a crash), oldest first.

    For the app's start and for when the server answers again. Entries another run holds (in
    this process or another) are skipped. ``on_entry(entry)`` is called before each run, so
    events can be told apart; ``on_event`` gets the events of each run in turn. Returns one
    result or error per entry run. Entries are run on ``session``, whatever server they first
    went to (a restarted server may listen on another port); unreadable entry files are listed
    in ``outbox.problems``. ``only(entry)``, when given, picks the entries to run (for example
    those of one server and user: an outbox may hold publishes to several servers).
    """
    results: list[PublishResult | PublishError] = []
    for entry in outbox.unfinished():
        if cancel is not None and cancel.is_set():
            break
        if only is not None and not only(entry):
            continue
        if outbox.is_busy(entry.id):
            continue
        if on_entry is not None:
            on_entry(entry)
        try:
            results.append(_run_entry(session, outbox, entry, on_event, cancel))
        except PublishError as error:
            results.append(error)
    return results


__all__ = ["CheckedRequest", "NewVersion", "PublishRequest", "PublishResult", "check_request", "ensure_version",
           "resume_unfinished", "retry", "run_journal", "run_publish"]
