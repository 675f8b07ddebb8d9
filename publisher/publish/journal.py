"""Where a publish run records what it has done: in memory (a library call) or in the outbox.

:func:`publisher.publish.runner.run_journal` is the one run loop; it calls the steps of
:mod:`publisher.publish.steps` in order and tells its :class:`Journal` about each. The journal
decides what a run keeps:

- :class:`MemoryJournal` (``run_publish`` without an outbox): nothing outlives the call; a
  failure rolls back what the run created (unless ``rollback=False``).
- :class:`OutboxJournal`: every id is chosen and written to the outbox entry *before* anything is
  created, so after a crash the next run finds it on the server (:func:`reconcile`); a failure
  keeps what is done (the entry is ``failed``, or ``queued`` when the server could not be
  reached before anything was created); a cancel removes everything the entry created, whichever
  run created it (:func:`remove_created`).

Failures come back as :class:`~publisher.publish.errors.PublishError` with their data
(:class:`~publisher.publish.errors.FailureKind`, :class:`~publisher.publish.errors.Leftover`);
the message is composed from that data here, once. No Qt; call from the thread that owns
``session``.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from publisher.api.accessor import remove_server_files
from publisher.api.exceptions import FtrackError, ServerConnectionError
from publisher.api.multipart import UploadJournal
from publisher.api.session import Session
from publisher.api.quoting import quote
from publisher.publish.errors import FailureKind, Leftover, LeftoverKind, PublishCancelled, PublishError
from publisher.publish.outbox import Outbox, OutboxEntry
from publisher.publish.request import CheckedRequest, PublishRequest, PublishResult
from publisher.publish.staging import StagedComponent
from publisher.publish.states import State
from publisher.publish.upload_journal import OutboxUploadJournal
from publisher.publish.steps import (
    PublishState,
    check_request,
    describe,
    ensure_version,
    new_ids,
    note_on_version,
    remove_component,
    roll_back,
)


@dataclass
class Plan:
    """What a run is to do, once the journal has checked it and found what was done before."""

    request: PublishRequest  # the part still to do (pending components, review when not done)
    checked: CheckedRequest
    version: Any = None  # the version, when an earlier run made or found it
    review_todo: bool = False
    finished: PublishResult | None = None  # set when there is nothing left to do at all
    already_done: dict[str, str] = field(default_factory=dict)  # component name -> id, done before


class Journal(Protocol):
    """What a run loop tells the record of a publish, and what it asks it."""

    def prepare(self, session: Session) -> Plan:
        """Check the request (and find what an earlier run did); raise PublishError saying why not."""
        ...

    def version(self, session: Session, plan: Plan) -> Any:
        """The version to publish onto: found, or created and recorded."""
        ...

    @property
    def version_created(self) -> bool:
        """Whether the publish (this run or an earlier one) created the version."""
        ...

    def component_ids(self, components: list[StagedComponent]) -> dict[str, tuple[str | None, list[str] | None]]:
        """The ids to create each component (and its frames) with; ``(None, None)`` lets the server choose."""
        ...

    def uploads(self, component: StagedComponent) -> UploadJournal | None:
        """Where the parts of ``component``'s multipart uploads are recorded (None: nowhere)."""
        ...

    def component_done(self, component: StagedComponent, created: Any) -> None:
        ...

    def component_failed(self, component: StagedComponent, error: BaseException) -> None:
        ...

    def review_done(self, job_id: str) -> None:
        ...

    def failed(self, session: Session, error: BaseException, step: str, cancelled: bool) -> PublishError:
        """Record a failure of the version or a component (roll back or keep); the error to raise."""
        ...

    def review_failed(self, session: Session, error: BaseException, cancelled: bool) -> PublishError:
        """Record that the review could not be queued; the error to raise."""
        ...

    def finish(self, version: Any) -> PublishResult:
        """Record the publish as done; its result."""
        ...


def _list(things: list[str]) -> str:
    return things[0] if len(things) == 1 else ", ".join(things[:-1]) + " and " + things[-1]


def leftover_sentence(leftovers: list[Leftover], main_error: BaseException) -> str:
    """The sentence saying what a rollback left on the server; a reason the failure itself
    already gave (the same text, or the server lost for both) is not repeated."""
    main_unreachable = isinstance(main_error, ServerConnectionError)
    main_reason = describe(main_error)
    reasons = sorted({left.reason for left in leftovers
                      if left.reason != main_reason and not (left.unreachable and main_unreachable)})
    because = f" ({'; '.join(reasons)})" if reasons else ""
    return (f" What was already published could not be removed again{because}: "
            f"{_list([left.label for left in leftovers])} may still be on "
            "the server. Check that version when the server answers again, and remove it or publish "
            "the remaining components onto it.")


# In memory ---------------------------------------------------------------------------------------

class MemoryJournal:
    """The journal of a library call: what this run created is kept in memory only."""

    def __init__(self, request: PublishRequest, *, rollback: bool = True) -> None:
        self.request = request
        self.rollback = rollback
        self.state = PublishState()

    def prepare(self, session: Session) -> Plan:
        try:
            checked = check_request(session, self.request)
        except PublishError as error:
            error.kind = FailureKind.INVALID
            raise
        except FtrackError as error:
            raise PublishError(f"Could not check the publish with the server: {describe(error)}. Nothing was "
                               "published.", kind=FailureKind.UNREACHABLE
                               if isinstance(error, ServerConnectionError) else FailureKind.STEP_FAILED) from error
        return Plan(self.request, checked, review_todo=bool(self.request.review_path))

    def version(self, session: Session, plan: Plan) -> Any:
        return ensure_version(session, plan.request, self.state)

    @property
    def version_created(self) -> bool:
        return self.state.version_created

    def component_ids(self, components: list[StagedComponent]) -> dict[str, tuple[str | None, list[str] | None]]:
        return {c.name: (None, None) for c in components}

    def uploads(self, component: StagedComponent) -> UploadJournal | None:
        return None  # nothing outlives the call, so nothing to resume from

    def component_done(self, component: StagedComponent, created: Any) -> None:
        self.state.done[component.name] = created

    def component_failed(self, component: StagedComponent, error: BaseException) -> None:
        pass  # the transfer undid itself; nothing of it is recorded

    def review_done(self, job_id: str) -> None:
        self.state.job_id = job_id

    def failed(self, session: Session, error: BaseException, step: str, cancelled: bool) -> PublishError:
        state = self.state
        version_id = str(state.version["id"]) if state.version is not None else None
        version_was_new = state.version_created
        published = {name: str(c["id"]) for name, c in state.done.items()}
        leftovers = roll_back(session, state) if self.rollback else []
        if self.rollback:
            left_names = {left.name for left in leftovers if left.kind is LeftoverKind.COMPONENT}
            left_components = [i for n, i in published.items() if n in left_names]
            version_left = any(left.kind is LeftoverKind.VERSION for left in leftovers) or (
                not version_was_new and bool(left_components))
        else:
            left_components = list(published.values())
            version_left = version_id is not None and (version_was_new or bool(left_components))
        reason = describe(error)
        message = "The publish was cancelled" if cancelled else f"The publish failed while {step}: {reason}"
        if self.rollback:
            message += "." + (" Nothing was published." if not leftovers else leftover_sentence(leftovers, error))
        else:
            done = ", ".join(published) or "none"
            message += (f". Already published: {done}. Publish the remaining components onto version "
                        f"{version_id} to finish." if version_id else ". Nothing was published.")
        left = {"version_id": version_id if version_left else None, "component_ids": left_components,
                "leftovers": leftovers}
        if cancelled:
            return PublishCancelled(message, **left)  # type: ignore[arg-type]
        kind = FailureKind.UNREACHABLE if isinstance(error, ServerConnectionError) else FailureKind.STEP_FAILED
        return PublishError(message, kind=kind, **left)  # type: ignore[arg-type]

    def review_failed(self, session: Session, error: BaseException, cancelled: bool) -> PublishError:
        if cancelled:
            message = ("The components were published, but the review encode was cancelled before "
                       "it was queued: queue it again from the version.")
        else:
            message = (f"The components were published, but the review media could not be sent for "
                       f"encoding: {describe(error)}. Queue the review again from the version.")
        return PublishError(message, version_id=str(self.state.version["id"]),
                            component_ids=[str(c["id"]) for c in self.state.done.values()],
                            kind=FailureKind.REVIEW_NOT_QUEUED)

    def finish(self, version: Any) -> PublishResult:
        state = self.state
        number = None
        with contextlib.suppress(Exception):  # the number is a nicety for messages
            number = int(version["version"])
        return PublishResult(str(version["id"]), [str(c["id"]) for c in state.done.values()], state.job_id,
                             number, state.version_created)


# In the outbox -----------------------------------------------------------------------------------

def _save_quietly(outbox: Outbox, entry: OutboxEntry) -> None:
    # While reporting a failure, a full disk must not hide the failure itself.
    with contextlib.suppress(PublishError):
        outbox.save(entry)


def result_of(entry: OutboxEntry) -> PublishResult:
    """The :class:`PublishResult` of a done entry, from what it recorded."""
    steps = entry.steps
    ids = [entry.component_step(c.name).get("component_id") for c in entry.request.components]
    return PublishResult(str(steps.get("version_id")), [str(i) for i in ids if i],
                         (steps.get("review") or {}).get("job_id"), None, bool(steps.get("version_created")))


def _created_anything(entry: OutboxEntry) -> bool:
    steps = entry.steps
    if steps.get("version_created") and steps.get("version_state") == State.DONE:
        return True
    return any(rec.get("state") == State.DONE for rec in steps.get("components", {}).values())


def _component_row(session: Session, component_id: str) -> Any:
    return session.query(f"select id, name, version_id from Component where id is {quote(component_id)}").first()


def reconcile(session: Session, entry: OutboxEntry) -> Any:
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
            steps["version_state"] = State.DONE
            asset_id = steps.get("asset_id")
            steps["asset_created"] = bool(asset_id) and str(version["asset_id"]) == asset_id and (
                request.new_version is not None and not request.new_version.asset_id)
        elif version is None and steps.get("version_created") and steps.get("version_state") == State.DONE:
            # The version this publish made was removed meanwhile: start that part again.
            steps.update(version_id=None, version_created=False, version_state=None,
                         asset_id=None, asset_created=False)
    if version is None and request.version_id is not None:
        return None  # check_request says the version is gone

    for component in request.components:
        rec = entry.component_step(component.name)
        component_id = rec.get("component_id")
        if not component_id:
            rec["state"] = State.PENDING
            continue
        row = _component_row(session, component_id) if version is not None else None
        if row is None:
            if rec.get("state") == State.DONE:  # it was removed since: publish it again, new ids
                rec.update(component_id=None, member_ids=[])
            rec["state"] = State.PENDING
            continue
        location = session.get_location(component.location)
        availability = session.get_component_availability(row, [location]) if location is not None else {}
        if location is not None and availability.get(str(location["id"]), 0.0) >= 100.0:
            rec.update(state=State.DONE, error=None)
        else:
            remove_component(session, row)
            rec.update(state=State.PENDING, component_id=None, member_ids=[])
    return version


def _remove_files(session: Session, ids: list[str]) -> None:
    """Best effort: ask the server to drop files an interrupted upload may have left."""
    if getattr(session, "http", None) is None:
        return
    remove_server_files(session, ids, timeout=10)


def remove_created(session: Session, entry: OutboxEntry) -> list[Leftover]:
    """Remove from the server everything ``entry`` created; what is left, and why.

    What was removed is cleared from the entry's steps (so a later retry starts afresh).
    """
    steps = entry.steps
    state = PublishState()
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
        return [Leftover(LeftoverKind.ALL, None, None, describe(error))]
    names = list(state.done)
    leftovers = roll_back(session, state)
    _remove_files(session, stray_ids)
    left_names = {left.name for left in leftovers if left.kind is LeftoverKind.COMPONENT}
    for name in names:
        if name not in left_names:
            entry.component_step(name).update(state=State.PENDING, component_id=None, member_ids=[], error=None)
    for component in entry.request.components:
        rec = entry.component_step(component.name)
        if rec.get("component_id") in stray_ids:
            rec.update(state=State.PENDING, component_id=None, member_ids=[], error=None)
    if not any(left.kind is LeftoverKind.VERSION for left in leftovers):
        if steps.get("version_created"):
            steps.update(version_id=None, version_created=False, version_state=None,
                         asset_id=None, asset_created=False)
    return leftovers


class OutboxJournal:
    """The journal of an outbox entry: each step written to ``outbox`` as it ends.

    The loop must run inside ``outbox.claim(entry.id)`` (see ``runner.run_journal``'s callers).
    """

    def __init__(self, outbox: Outbox, entry: OutboxEntry) -> None:
        self.outbox = outbox
        self.entry = entry
        self.review: dict[str, Any] = {}

    # Messages -----------------------------------------------------------------------------
    def _kept(self, message: str, *, retry: bool = False) -> str:
        """``message`` plus what is already on the server and kept, and what to do."""
        steps = self.entry.steps
        done = [name for name, rec in steps.get("components", {}).items() if rec.get("state") == State.DONE]
        text = message.rstrip()
        if not text.endswith("."):
            text += "."
        if done:
            text += f" Already published and kept: {', '.join(done)}."
        elif steps.get("version_created") and steps.get("version_state") == State.DONE:
            text += f" The new version {steps.get('version_id')} was created and is kept."
        if retry:
            text += " The publish is kept in the outbox: retry it to publish the rest."
        return text

    def _fail(self, message: str, kind: FailureKind, *, waiting: bool = False) -> PublishError:
        entry, steps = self.entry, self.entry.steps
        entry.state = State.QUEUED if waiting else State.FAILED
        entry.error = message
        _save_quietly(self.outbox, entry)
        done = [rec["component_id"] for rec in steps.get("components", {}).values()
                if rec.get("state") == State.DONE and rec.get("component_id")]
        return PublishError(message, version_id=steps.get("version_id") if _created_anything(entry) else None,
                            component_ids=done, kind=kind)

    def _cancel(self, session: Session) -> PublishCancelled:
        entry = self.entry
        leftovers = remove_created(session, entry)
        if leftovers:
            things = ", ".join(left.label for left in leftovers)
            reasons = "; ".join(sorted({left.reason for left in leftovers}))
            message = (f"The publish was cancelled, but what it had published could not all be removed "
                       f"({reasons}): {things} may still be on the server. Retry when the server answers "
                       "again to finish removing them.")
            # Unfinished, so a retry (or the next start) finishes the cancel rather than the publish.
            entry.state = State.FAILED
            entry.steps["cancel_pending"] = True
        else:
            message = "The publish was cancelled. Nothing was published."
            entry.state = State.CANCELLED
            entry.steps.pop("cancel_pending", None)
        entry.error = message
        _save_quietly(self.outbox, entry)
        left_components = [rec["component_id"] for rec in entry.steps.get("components", {}).values()
                           if rec.get("component_id") and rec.get("state") == State.DONE]
        return PublishCancelled(message, version_id=entry.steps.get("version_id") if leftovers else None,
                                component_ids=left_components if leftovers else [], leftovers=leftovers)

    # The journal --------------------------------------------------------------------------
    def prepare(self, session: Session) -> Plan:
        entry, steps, request = self.entry, self.entry.steps, self.entry.request
        if entry.state == State.DONE:
            result = result_of(entry)
            return Plan(request, CheckedRequest(request, {}, {}), finished=result)
        entry.server_url = getattr(session, "server_url", entry.server_url)
        entry.api_user = getattr(session, "api_user", entry.api_user) or entry.api_user
        entry.state, entry.error = State.RUNNING, None
        self.outbox.save(entry)
        if steps.get("cancel_pending"):
            # An earlier cancel could not remove everything: finish the cancel, do not publish.
            raise self._cancel(session)
        try:
            version = reconcile(session, entry)
            self.outbox.save(entry)
            pending = [c for c in request.components if entry.component_step(c.name).get("state") != State.DONE]
            self.review = steps.setdefault("review", {})
            review_todo = bool(request.review_path) and self.review.get("state") != State.DONE
            sub = PublishRequest(
                pending,
                version_id=str(version["id"]) if version is not None else request.version_id,
                new_version=None if version is not None else request.new_version,
                comment=request.comment,
                review_path=request.review_path if review_todo else None,
            )
            checked = check_request(session, sub) if pending or review_todo else CheckedRequest(sub, {}, {})
        except PublishError as error:
            raise self._fail(self._kept(error.message), FailureKind.INVALID) from error
        except FtrackError as error:
            waiting = isinstance(error, ServerConnectionError) and not _created_anything(entry)
            if waiting:
                message = (f"The server cannot be reached ({describe(error)}). The publish waits in the "
                           "outbox and runs when the server answers again.")
            else:
                message = self._kept(f"Could not check the publish with the server: {describe(error)}.", retry=True)
            raise self._fail(message, FailureKind.UNREACHABLE if waiting else FailureKind.STEP_FAILED,
                             waiting=waiting) from error
        already = {c.name: str(entry.component_step(c.name)["component_id"]) for c in request.components
                   if entry.component_step(c.name).get("state") == State.DONE}
        return Plan(sub, checked, version=version, review_todo=review_todo, already_done=already)

    def version(self, session: Session, plan: Plan) -> Any:
        entry, steps = self.entry, self.entry.steps
        if plan.version is not None:
            if not steps.get("version_created") and not steps.get("note_added"):
                note_on_version(session, plan.version, entry.request.comment)
                steps["note_added"] = True  # a resumed run must not add it twice
                self.outbox.save(entry)
            return plan.version
        request = plan.request
        if request.version_id is not None:
            version = ensure_version(session, request, PublishState())
            steps.update(version_id=str(version["id"]), version_created=False, version_state=State.DONE)
            self.outbox.save(entry)
            return version
        new = request.new_version
        assert new is not None
        if not steps.get("version_id") or not steps.get("version_created"):
            steps.update(version_id=str(uuid.uuid4()), version_created=True, version_state=State.PENDING,
                         asset_id=new.asset_id or str(uuid.uuid4()), asset_created=False)
            self.outbox.save(entry)
        state = PublishState()
        version = ensure_version(session, request, state, version_id=steps["version_id"],
                                 new_asset_id=None if new.asset_id else steps.get("asset_id"))
        steps.update(version_state=State.DONE, asset_created=state.asset_created,
                     asset_id=str(state.asset["id"]) if state.asset is not None else steps.get("asset_id"))
        self.outbox.save(entry)
        return version

    @property
    def version_created(self) -> bool:
        return bool(self.entry.steps.get("version_created"))

    def component_ids(self, components: list[StagedComponent]) -> dict[str, tuple[str | None, list[str] | None]]:
        # Every id is on disk before the first transfer starts (one write, not one per component).
        ids: dict[str, tuple[str | None, list[str] | None]] = {}
        for component in components:
            rec = self.entry.component_step(component.name)
            if not rec.get("component_id"):
                rec["component_id"], rec["member_ids"] = new_ids(component)
            rec.update(state=State.PENDING, error=None)
            ids[component.name] = (rec["component_id"], rec.get("member_ids") or None)
        if components:
            self.outbox.save(self.entry)
        return ids

    def uploads(self, component: StagedComponent) -> UploadJournal | None:
        # Parts acknowledged by the server are recorded, so a resume sends only the rest.
        return OutboxUploadJournal(self.outbox, self.entry, self.entry.component_step(component.name))

    def component_done(self, component: StagedComponent, created: Any) -> None:
        rec = self.entry.component_step(component.name)
        rec.update(state=State.DONE, error=None)
        rec.pop("uploads", None)
        self.outbox.save(self.entry)

    def component_failed(self, component: StagedComponent, error: BaseException) -> None:
        self.entry.component_step(component.name).update(state=State.FAILED, error=describe(error))

    def review_done(self, job_id: str) -> None:
        self.review.update(state=State.DONE, job_id=job_id, error=None)
        self.outbox.save(self.entry)

    def failed(self, session: Session, error: BaseException, step: str, cancelled: bool) -> PublishError:
        if cancelled:
            return self._cancel(session)
        with contextlib.suppress(Exception):  # no half-made local change may ride on a later commit
            session.rollback()
        waiting = isinstance(error, ServerConnectionError) and not _created_anything(self.entry)
        message = self._kept(f"The publish failed while {step}: {describe(error)}.", retry=True)
        failure = self._fail(message, FailureKind.UNREACHABLE if waiting else FailureKind.STEP_FAILED)
        if waiting:
            self.entry.state = State.QUEUED
            _save_quietly(self.outbox, self.entry)
        return failure

    def review_failed(self, session: Session, error: BaseException, cancelled: bool) -> PublishError:
        if not cancelled:
            self.review.update(state=State.FAILED, error=describe(error))
        return self.failed(session, error, "sending the review media for encoding", cancelled)

    def finish(self, version: Any) -> PublishResult:
        self.entry.state, self.entry.error = State.DONE, None
        self.outbox.save(self.entry)
        result = result_of(self.entry)
        with contextlib.suppress(Exception):
            result.version_number = int(version["version"])
        return result


__all__ = ["Journal", "MemoryJournal", "OutboxJournal", "Plan", "leftover_sentence", "reconcile",
           "remove_created", "result_of"]
