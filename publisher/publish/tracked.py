"""A publish run through the outbox: each step recorded as it ends, resumable after a crash.

:func:`publisher.publish.runner.run_publish` calls :func:`run_tracked` when it is given an
outbox. The steps are the runner's own (check, version, components, review); what this module
adds is the bookkeeping around them:

- ids are chosen and written to the entry *before* anything is created, so after a crash the
  next run can look for them on the server (:func:`reconcile`) instead of guessing;
- a failure keeps what is done (the entry is ``failed``, or ``queued`` when the server could not
  be reached before anything was created); a retry redoes only the rest;
- a cancel removes everything the entry records as created (components and their files, the
  version and asset it made), whichever run created them, and marks the entry ``cancelled``.

No Qt; run from a worker thread that owns ``session``.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any

from publisher.api.exceptions import FtrackError, ServerConnectionError, TransferCancelled
from publisher.api.multipart import upload_journal
from publisher.publish import events
from publisher.publish.browse import quote
from publisher.publish.errors import PublishCancelled, PublishError
from publisher.publish.runner import (
    CheckedRequest,
    EventHandler,
    PublishRequest,
    PublishResult,
    PublishState,
    _check_cancel,
    _describe,
    _emit,
    _progress_reporter,
    _remove_component,
    check_request,
    ensure_version,
    new_ids,
    note_on_version,
    publish_component,
    queue_review,
    roll_back,
)
from publisher.publish.upload_journal import OutboxUploadJournal

from publisher.publish.outbox import OutboxBusy

if TYPE_CHECKING:
    from publisher.publish.outbox import Outbox, OutboxEntry


def _save_quietly(outbox: "Outbox", entry: "OutboxEntry") -> None:
    # While reporting a failure, a full disk must not hide the failure itself.
    with contextlib.suppress(PublishError):
        outbox.save(entry)


def result_of(entry: "OutboxEntry") -> PublishResult:
    """The :class:`PublishResult` of a done entry, from what it recorded."""
    steps = entry.steps
    ids = [entry.component_step(c.name).get("component_id") for c in entry.request.components]
    return PublishResult(str(steps.get("version_id")), [str(i) for i in ids if i],
                         (steps.get("review") or {}).get("job_id"), None, bool(steps.get("version_created")))


def _created_anything(entry: "OutboxEntry") -> bool:
    steps = entry.steps
    if steps.get("version_created") and steps.get("version_state") == "done":
        return True
    return any(rec.get("state") == "done" for rec in steps.get("components", {}).values())


def _component_row(session: Any, component_id: str) -> Any:
    return session.query(f"select id, name, version_id from Component where id is {quote(component_id)}").first()


# Reconcile: what the entry says against what the server holds ------------------------------------

def reconcile(session: Any, entry: "OutboxEntry") -> Any:
    """Bring ``entry.steps`` in line with the server; the version when it already exists.

    A version this publish was creating is found by its recorded id. A component recorded as
    done must still be on the server, complete in its location; one that a crash interrupted
    is done if its commit reached the server, else redone with the same ids (so the files an
    interrupted upload left are overwritten, not duplicated). A half-registered component is
    removed and redone under new ids.
    """
    request = entry.request
    steps = entry.steps
    version = None
    version_id = steps.get("version_id")
    if request.version_id is not None and not steps.get("version_created"):
        steps["version_id"] = version_id = request.version_id
    if version_id:
        version = session.query(
            f"select id, version, comment, asset_id from AssetVersion where id is {quote(version_id)}").first()
        if version is not None and steps.get("version_created"):
            steps["version_state"] = "done"
            asset_id = steps.get("asset_id")
            steps["asset_created"] = bool(asset_id) and str(version["asset_id"]) == asset_id and (
                request.new_version is not None and not request.new_version.asset_id)
        elif version is None and steps.get("version_created") and steps.get("version_state") == "done":
            # The version this publish made was removed meanwhile: start that part again.
            steps.update(version_id=None, version_created=False, version_state=None,
                         asset_id=None, asset_created=False)
    if version is None and request.version_id is not None:
        return None  # check_request says the version is gone

    for component in request.components:
        rec = entry.component_step(component.name)
        component_id = rec.get("component_id")
        if not component_id:
            rec["state"] = "pending"
            continue
        row = _component_row(session, component_id) if version is not None else None
        if row is None:
            if rec.get("state") == "done":  # it was removed since: publish it again, new ids
                rec.update(component_id=None, member_ids=[])
            rec["state"] = "pending"
            continue
        location = session.get_location(component.location)
        availability = session.get_component_availability(row, [location])
        if availability.get(str(location["id"]), 0.0) >= 100.0:
            rec.update(state="done", error=None)
        else:
            _remove_component(session, row)
            rec.update(state="pending", component_id=None, member_ids=[])
    return version


# Cancel: remove what the entry created -------------------------------------------------------

def _remove_files(session: Any, ids: list[str]) -> None:
    """Best effort: ask the server to drop files an interrupted upload may have left."""
    http = getattr(session, "http", None)
    if http is None:
        return
    for file_id in ids:
        try:
            http.post(f"{session.server_url}/component/remove",
                      params={"id": file_id, "username": session.api_user, "apiKey": session.api_key},
                      timeout=10)
        except Exception:  # noqa: BLE001 - the server may be gone; its rows matter more
            return


def remove_created(session: Any, entry: "OutboxEntry") -> list[tuple[str, str]]:
    """Remove from the server everything ``entry`` created; ``(what, why)`` for what is left.

    What was removed is cleared from the entry's steps (so a later retry starts afresh).
    """
    steps = entry.steps
    state = PublishState()
    leftovers: list[tuple[str, str]] = []
    stray_ids: list[str] = []
    try:
        with contextlib.suppress(Exception):
            session.rollback()
        for component in entry.request.components:
            rec = entry.component_step(component.name)
            if not rec.get("component_id"):
                continue
            row = _component_row(session, rec["component_id"])
            if row is not None:
                state.done[component.name] = row
            else:
                stray_ids.extend([rec["component_id"], *(rec.get("member_ids") or [])])
        if steps.get("version_created") and steps.get("version_id"):
            state.version = session.query(
                f"select id, asset_id from AssetVersion where id is {quote(steps['version_id'])}").first()
            state.version_created = state.version is not None
            if state.version is not None and steps.get("asset_created") and steps.get("asset_id"):
                others = session.query(
                    f"select id from AssetVersion where asset_id is {quote(steps['asset_id'])} "
                    f"and id is_not {quote(steps['version_id'])}").first()
                if others is None:
                    state.asset = session.query(f"select id from Asset where id is {quote(steps['asset_id'])}").first()
                    state.asset_created = state.asset is not None
    except FtrackError as error:
        return [("what this publish created", _describe(error))]
    names = list(state.done)
    leftovers = roll_back(session, state)
    _remove_files(session, stray_ids)
    left = {what for what, _ in leftovers}
    for name in names:
        if f"component '{name}'" not in left:
            entry.component_step(name).update(state="pending", component_id=None, member_ids=[], error=None)
    for component in entry.request.components:
        rec = entry.component_step(component.name)
        if rec.get("component_id") in stray_ids:
            rec.update(state="pending", component_id=None, member_ids=[], error=None)
    if not any(what.startswith("the new version") for what in left):
        if steps.get("version_created"):
            steps.update(version_id=None, version_created=False, version_state=None,
                         asset_id=None, asset_created=False)
    return leftovers


# The run -----------------------------------------------------------------------------------------

def run_tracked(session: Any, outbox: "Outbox", entry: "OutboxEntry", *,
                on_event: EventHandler | None = None,
                cancel: threading.Event | None = None) -> PublishResult:
    """Run (or resume) ``entry``, recording each step in ``outbox``; see ``runner.run_publish``."""
    try:
        with outbox.claim(entry.id):
            return _run_claimed(session, outbox, entry, on_event, cancel)
    except OutboxBusy as error:
        _emit(on_event, events.PublishFailed(error.message))
        raise


def _run_claimed(session: Any, outbox: "Outbox", entry: "OutboxEntry",
                 on_event: EventHandler | None, cancel: threading.Event | None) -> PublishResult:
    import uuid

    request = entry.request
    steps = entry.steps
    if entry.state == "done":
        result = result_of(entry)
        _emit(on_event, events.PublishFinished(result.version_id, result.component_ids))
        return result
    entry.server_url = getattr(session, "server_url", entry.server_url)
    entry.api_user = getattr(session, "api_user", entry.api_user) or entry.api_user
    entry.state, entry.error = "running", None
    outbox.save(entry)
    if steps.get("cancel_pending"):
        # An earlier cancel could not remove everything: finish the cancel, do not publish.
        raise _cancelled(session, outbox, entry, on_event, None)

    def fail(message: str, *, waiting: bool = False) -> PublishError:
        entry.state = "queued" if waiting else "failed"
        entry.error = message
        _save_quietly(outbox, entry)
        _emit(on_event, events.PublishFailed(message))
        done = [rec["component_id"] for rec in steps.get("components", {}).values()
                if rec.get("state") == "done" and rec.get("component_id")]
        return PublishError(message, version_id=steps.get("version_id") if _created_anything(entry) else None,
                            component_ids=done)

    # Check (and find what an earlier run left) before changing anything.
    try:
        version = reconcile(session, entry)
        outbox.save(entry)
        pending = [c for c in request.components if entry.component_step(c.name).get("state") != "done"]
        review = steps.setdefault("review", {})
        review_todo = bool(request.review_path) and review.get("state") != "done"
        sub = PublishRequest(
            pending,
            version_id=str(version["id"]) if version is not None else request.version_id,
            new_version=None if version is not None else request.new_version,
            comment=request.comment,
            review_path=request.review_path if review_todo else None,
        )
        if pending or review_todo:
            checked = check_request(session, sub)
        else:
            checked = CheckedRequest(sub, {}, {})
    except PublishError as error:
        raise fail(_kept(error.message, entry)) from error
    except FtrackError as error:
        waiting = isinstance(error, ServerConnectionError) and not _created_anything(entry)
        if waiting:
            message = (f"The server cannot be reached ({_describe(error)}). The publish waits in the "
                       "outbox and runs when the server answers again.")
        else:
            message = _kept(f"Could not check the publish with the server: {_describe(error)}.", entry,
                            retry=True)
        raise fail(message, waiting=waiting) from error

    total = checked.total_bytes
    _emit(on_event, events.PublishStarted(total, [c.name for c in pending]))
    overall_before = 0
    step = "creating the version"
    try:
        _check_cancel(cancel)
        if version is None:
            version = _create_version(session, outbox, entry, sub, uuid)
        elif not steps.get("version_created") and not steps.get("note_added"):
            note_on_version(session, version, request.comment)
            steps["note_added"] = True  # a resumed run must not add it twice
            outbox.save(entry)
        _emit(on_event, events.VersionReady(str(version["id"]), bool(steps.get("version_created"))))
        for component in request.components:
            rec = entry.component_step(component.name)
            if rec.get("state") == "done":
                _emit(on_event, events.ComponentDone(component.name, str(rec["component_id"])))
        # Every id is on disk before the first transfer starts (one write, not one per component).
        for component in pending:
            rec = entry.component_step(component.name)
            if not rec.get("component_id"):
                rec["component_id"], rec["member_ids"] = new_ids(component)
            rec.update(state="pending", error=None)
        if pending:
            outbox.save(entry)
        for component in pending:
            _check_cancel(cancel)
            step = f"publishing component '{component.name}'"
            rec = entry.component_step(component.name)
            location = checked.locations[component.location]
            moved = checked.moved_bytes[component.name]
            _emit(on_event, events.ComponentStarted(component.name, moved))
            progress, seen = _progress_reporter(on_event, component.name, moved, overall_before, total)
            try:
                # Parts acknowledged by the server are recorded, so a resume sends only the rest.
                with upload_journal(OutboxUploadJournal(outbox, entry, rec)):
                    publish_component(session, version, component, location, progress=progress, cancel=cancel,
                                      component_id=rec["component_id"], member_ids=rec.get("member_ids") or None)
            except BaseException as error:
                rec.update(state="failed", error=_describe(error))
                raise
            rec.update(state="done", error=None)
            rec.pop("uploads", None)
            outbox.save(entry)
            overall_before += moved
            if moved and seen["emitted"] != moved:
                _emit(on_event, events.BytesProgress(component.name, moved, moved, overall_before, total))
            _emit(on_event, events.ComponentDone(component.name, str(rec["component_id"])))
        if review_todo:
            _check_cancel(cancel)
            step = "sending the review media for encoding"
            review.update(state="pending", error=None)
            try:
                job_id = queue_review(session, version, str(request.review_path))
            except BaseException as error:
                review.update(state="failed", error=_describe(error))
                raise
            review.update(state="done", job_id=job_id, error=None)
            outbox.save(entry)
            _emit(on_event, events.EncodeQueued(job_id))
    except BaseException as error:
        cancelled = isinstance(error, (PublishCancelled, TransferCancelled)) or (
            cancel is not None and cancel.is_set())
        if cancelled:
            raise _cancelled(session, outbox, entry, on_event, error) from error
        with contextlib.suppress(Exception):  # no half-made local change may ride on a later commit
            session.rollback()
        reason = _describe(error)
        waiting = isinstance(error, ServerConnectionError) and not _created_anything(entry)
        message = _kept(f"The publish failed while {step}: {reason}.", entry, retry=True)
        failure = fail(message)
        if waiting:
            entry.state = "queued"
            _save_quietly(outbox, entry)
        if not isinstance(error, Exception):  # KeyboardInterrupt, SystemExit keep their meaning
            raise
        raise failure from error

    entry.state, entry.error = "done", None
    outbox.save(entry)
    result = result_of(entry)
    with contextlib.suppress(Exception):
        result.version_number = int(version["version"])
    _emit(on_event, events.PublishFinished(result.version_id, result.component_ids))
    return result


def _create_version(session: Any, outbox: "Outbox", entry: "OutboxEntry", request: PublishRequest,
                    uuid: Any) -> Any:
    steps = entry.steps
    new = request.new_version
    if request.version_id is not None:
        state = PublishState()
        version = ensure_version(session, request, state)
        steps.update(version_id=str(version["id"]), version_created=False, version_state="done")
        outbox.save(entry)
        return version
    assert new is not None
    if not steps.get("version_id") or not steps.get("version_created"):
        steps.update(version_id=str(uuid.uuid4()), version_created=True, version_state="pending",
                     asset_id=new.asset_id or str(uuid.uuid4()), asset_created=False)
        outbox.save(entry)
    state = PublishState()
    version = ensure_version(session, request, state, version_id=steps["version_id"],
                             new_asset_id=None if new.asset_id else steps.get("asset_id"))
    steps.update(version_state="done", asset_created=state.asset_created,
                 asset_id=str(state.asset["id"]) if state.asset is not None else steps.get("asset_id"))
    outbox.save(entry)
    return version


def _kept(message: str, entry: "OutboxEntry", *, retry: bool = False) -> str:
    """``message`` plus what is already on the server and kept, and what to do."""
    done = [name for name, rec in entry.steps.get("components", {}).items() if rec.get("state") == "done"]
    text = message.rstrip()
    if not text.endswith("."):
        text += "."
    if done:
        text += f" Already published and kept: {', '.join(done)}."
    elif entry.steps.get("version_created") and entry.steps.get("version_state") == "done":
        text += f" The new version {entry.steps.get('version_id')} was created and is kept."
    if retry:
        text += " The publish is kept in the outbox: retry it to publish the rest."
    return text


def _cancelled(session: Any, outbox: "Outbox", entry: "OutboxEntry", on_event: EventHandler | None,
               error: BaseException | None) -> PublishCancelled:
    leftovers = remove_created(session, entry)
    if leftovers:
        things = ", ".join(what for what, _ in leftovers)
        reasons = "; ".join(sorted({why for _, why in leftovers}))
        message = (f"The publish was cancelled, but what it had published could not all be removed "
                   f"({reasons}): {things} may still be on the server. Retry when the server answers "
                   "again to finish removing them.")
        # Unfinished, so a retry (or the next start) finishes the cancel rather than the publish.
        entry.state = "failed"
        entry.steps["cancel_pending"] = True
    else:
        message = "The publish was cancelled. Nothing was published."
        entry.state = "cancelled"
        entry.steps.pop("cancel_pending", None)
    entry.error = message
    _save_quietly(outbox, entry)
    _emit(on_event, events.PublishCancelled(message))
    _emit(on_event, events.PublishFailed(message))
    left_components = [rec["component_id"] for rec in entry.steps.get("components", {}).values()
                       if rec.get("component_id") and rec.get("state") == "done"]
    return PublishCancelled(message, version_id=entry.steps.get("version_id") if leftovers else None,
                            component_ids=left_components if leftovers else [])


__all__ = ["reconcile", "remove_created", "result_of", "run_tracked"]
