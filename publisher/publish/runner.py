"""A publish: create the version if new, then each component (created and its files moved),
then optionally the review encode, reporting progress as plain events.

The steps are separate public functions so a later outbox can run, retry or resume them one by
one: :func:`check_request` (touches nothing), :func:`ensure_version`, :func:`publish_component`
(one component: create + transfer + commit, all or nothing), :func:`queue_review`.
:func:`run_publish` runs them in order. No Qt; call from a worker thread that owns ``session``
(a ``session.clone()``); ``on_event`` is called from that thread, and ``BytesProgress`` also from
transfer threads.

Failure policy: everything that can be checked before the server is touched is checked first
(names, locations, files still on disk, the version or the context and asset type), so a bad
request changes nothing. If a step fails later, what this run created (components, then the
version and asset it made) is removed again when ``rollback`` is true (the default), so nothing
is left half-published; with ``rollback=False`` the finished components stay, for a retry that
passes ``version_id`` and the remaining components.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from publisher.api.exceptions import FtrackError, TransferCancelled
from publisher.publish.browse import quote
from publisher.publish.errors import PublishCancelled, PublishError
from publisher.publish.events import (
    BytesProgress,
    ComponentDone,
    ComponentStarted,
    EncodeQueued,
    PublishFailed,
    PublishFinished,
    PublishStarted,
    TransferPhase,
    VersionReady,
)
from publisher.publish.staging import StagedComponent, check_still_there, validate_name

if TYPE_CHECKING:
    from publisher.publish.outbox import Outbox, OutboxEntry

EventHandler = Callable[[object], None]


@dataclass
class NewVersion:
    """A version to create: on the asset ``asset_name`` (made if missing) under ``context_id``."""

    context_id: str
    asset_name: str
    asset_type_id: str
    comment: str = ""
    task_id: str | None = None
    asset_id: str | None = None  # an existing asset, when known


@dataclass
class PublishRequest:
    """What to publish: components onto an existing version (``version_id``) or a new one.

    Exactly one of ``version_id`` and ``new_version``. ``comment`` (when not None) is a new
    version's comment; on an existing version it becomes a Note (its own comment is kept). ``review_path`` is a movie or image to encode for review afterwards.
    """

    components: list[StagedComponent]
    version_id: str | None = None
    new_version: NewVersion | None = None
    comment: str | None = None
    review_path: str | None = None


@dataclass
class PublishResult:
    """What a finished publish made."""

    version_id: str
    component_ids: list[str]
    job_id: str | None
    version_number: int | None = None
    created_version: bool = False


@dataclass
class PublishState:
    """What a publish has done so far (used to roll back, or by an outbox to resume)."""

    version: Any = None
    version_created: bool = False
    asset: Any = None
    asset_created: bool = False
    done: dict[str, Any] = field(default_factory=dict)  # component name -> component entity
    job_id: str | None = None


@dataclass
class CheckedRequest:
    """A request that passed :func:`check_request`, with what the steps need."""

    request: PublishRequest
    locations: dict[str, Any]  # location name -> Location entity
    moved_bytes: dict[str, int]  # component name -> bytes the transfer moves (0 when unmanaged)

    @property
    def total_bytes(self) -> int:
        return sum(self.moved_bytes.values())


def _emit(on_event: EventHandler | None, event: object) -> None:
    if on_event is not None:
        on_event(event)


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise PublishCancelled("The publish was cancelled.")


def _moves_data(location: Any) -> bool:
    accessor = getattr(location, "accessor", None)
    moves = getattr(accessor, "moves_data", None)
    if moves is None:
        return location["name"] != "ftrack.unmanaged"
    return bool(moves)


# Step 0: check ------------------------------------------------------------------------------------

def check_request(session: Any, request: PublishRequest) -> CheckedRequest:
    """Check everything that can be checked without changing the server; raise PublishError.

    Reads: the version's component names (or the context, asset type and asset), and the
    locations. Also checks every staged file is still on disk.
    """
    if (request.version_id is None) == (request.new_version is None):
        raise PublishError(
            "Choose where to publish: an existing version, or a new version (asset name and type)."
            if request.version_id is None else
            "A publish goes to either an existing version or a new one, not both: pick one."
        )
    if not request.components and not request.review_path:
        raise PublishError("Nothing to publish: drop files, folders or sequences first.")

    existing: set[str] = set()
    if request.version_id is not None:
        rows = session.query(
            f"select id, components.name from AssetVersion where id is {quote(request.version_id)}"
        ).all()
        if not rows:
            raise PublishError(
                f"The version {request.version_id} no longer exists on the server: refresh the version list "
                "and choose another version, or publish a new one."
            )
        existing = {c["name"] for c in rows[0]["components"] or []}
    else:
        _check_new_version(session, request.new_version)

    names_seen: set[str] = set()
    for component in request.components:
        problem = validate_name(component.name, existing | names_seen)
        if problem:
            raise PublishError(f"Component '{component.name}': {problem}")
        names_seen.add(component.name)
        if component.kind not in ("file", "sequence"):
            raise PublishError(f"Component '{component.name}' is a {component.kind!r}: only files and sequences can be published.")

    locations: dict[str, Any] = {}
    for component in request.components:
        name = component.location
        if name not in locations:
            try:
                locations[name] = session.get_location(name)
            except FtrackError as error:
                raise PublishError(f"Component '{component.name}': {error} Choose another location for it.") from error
            if locations[name] is None:
                raise PublishError(f"Component '{component.name}': the server has no location named {name!r}. Choose another location for it.")
            accessible = getattr(locations[name], "accessible", True)
            if not accessible:
                raise PublishError(
                    f"Component '{component.name}': location {name!r} is not set up on this machine, "
                    "so files cannot be put there. Set it up in the settings, or choose ftrack.server."
                )

    for component in request.components:
        problem = check_still_there(component)
        if problem:
            raise PublishError(problem)
    if request.review_path:
        if not os.path.isfile(request.review_path):
            raise PublishError(
                f"The review media {request.review_path} does not exist any more: choose the movie or "
                "image to encode again, or publish without review."
            )

    moved = {
        c.name: (c.size if _moves_data(locations[c.location]) else 0) for c in request.components
    }
    return CheckedRequest(request, locations, moved)


def _check_new_version(session: Any, new: NewVersion) -> None:
    if not new.asset_name or not new.asset_name.strip():
        raise PublishError("Give the new version's asset a name (for example 'plate' or 'comp').")
    if not session.query(f"select id from Context where id is {quote(new.context_id)}").all():
        raise PublishError(
            f"The shot, task or folder {new.context_id} no longer exists: refresh the project tree and choose another."
        )
    if new.task_id and not session.query(f"select id from Task where id is {quote(new.task_id)}").all():
        raise PublishError(f"The task {new.task_id} no longer exists: refresh the project tree and choose another.")
    if new.asset_id:
        if not session.query(f"select id from Asset where id is {quote(new.asset_id)}").all():
            raise PublishError(f"The asset {new.asset_id} no longer exists: refresh and choose another asset.")
    elif not session.query(f"select id from AssetType where id is {quote(new.asset_type_id)}").all():
        raise PublishError(
            f"The asset type {new.asset_type_id} is not known to the server: choose one from the list."
        )


# Step 1: the version ------------------------------------------------------------------------------

def note_on_version(session: Any, version: Any, comment: str | None) -> None:
    """Record a publish's ``comment`` on an existing ``version`` as a Note, and commit.

    The version's own comment was written by whoever published it: adding files later must not
    overwrite it, so the new words go where ftrack keeps a conversation on a version.
    """
    text = (comment or "").strip()
    if text and text != (version["comment"] or "").strip():
        session.create("Note", {"content": text, "parent_id": version["id"], "parent_type": "AssetVersion"})
        session.commit()


def ensure_version(session: Any, request: PublishRequest, state: PublishState, *,
                   version_id: str | None = None, new_asset_id: str | None = None) -> Any:
    """The request's version: fetched, or created (with its asset when needed) and committed.

    ``version_id`` / ``new_asset_id`` are the ids to give a version / asset this step creates
    (chosen beforehand by the outbox, so an interrupted run can find them on the server).
    """
    if state.version is not None:
        return state.version
    if request.version_id is not None:
        version = session.get("AssetVersion", request.version_id)
        if version is None:
            raise PublishError(f"The version {request.version_id} no longer exists on the server: refresh the version list.")
        note_on_version(session, version, request.comment)
        state.version = version
        return version

    new = request.new_version
    assert new is not None
    if new.asset_id:
        asset = session.get("Asset", new.asset_id)
    else:
        found = session.query(
            f"select id, name from Asset where context_id is {quote(new.context_id)} "
            f"and name is {quote(new.asset_name.strip())} and type_id is {quote(new.asset_type_id)}"
        ).all()
        asset = found[0] if found else None
        if asset is None:
            asset_data = {
                "name": new.asset_name.strip(),
                "context_id": new.context_id,
                "type_id": new.asset_type_id,
            }
            if new_asset_id:
                asset_data["id"] = new_asset_id
            asset = session.create("Asset", asset_data)
            state.asset_created = True
    state.asset = asset
    data: dict[str, Any] = {"asset": asset, "comment": request.comment if request.comment is not None else new.comment}
    if new.task_id:
        data["task_id"] = new.task_id
    if version_id:
        data["id"] = version_id
    try:
        version = session.create("AssetVersion", data)
        session.commit()
    except BaseException:
        session.rollback()
        state.asset_created = False
        raise
    state.version = version
    state.version_created = True
    return version


# Step 2: a component -----------------------------------------------------------------------------

def publish_component(
    session: Any,
    version: Any,
    component: StagedComponent,
    location: Any,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    component_id: str | None = None,
    member_ids: list[str] | None = None,
) -> Any:
    """Create ``component`` on ``version`` in ``location``: files moved, then one commit.

    All or nothing: a failed or cancelled transfer commits nothing (the client undoes what it moved).
    ``component_id`` and ``member_ids`` (one per frame of a sequence) are the ids to create it
    with, chosen beforehand so an interrupted publish can find them (see :func:`new_ids`).
    """
    if component_id is not None:
        from publisher.api.components import plan_component

        spec = plan_component(component.path, {"name": component.name, "version": version, "id": component_id})
        if member_ids and len(member_ids) == len(spec.members):
            for member, member_id in zip(spec.members, member_ids):
                member["id"] = member_id
        return location.add_component(spec, progress=progress, cancel=cancel)
    return version.create_component(
        component.path,
        {"name": component.name},
        location=location,
        progress=progress,
        cancel=cancel,
    )


def new_ids(component: StagedComponent) -> tuple[str, list[str]]:
    """Fresh ids for ``component`` and, for a sequence, each of its frames."""
    members = len(component.files) if component.kind == "sequence" else 0
    return str(uuid.uuid4()), [str(uuid.uuid4()) for _ in range(members)]


# Step 3: review -----------------------------------------------------------------------------------

def queue_review(session: Any, version: Any, review_path: str) -> str:
    """Upload ``review_path`` and ask the server to encode it for ``version``; the Job id."""
    job = version.encode_media(review_path)
    return str(job["id"])


# Rollback -----------------------------------------------------------------------------------------

def roll_back(session: Any, state: PublishState) -> list[tuple[str, str]]:
    """Remove what this publish created; returns ``(what, why)`` for what could not be removed."""
    leftovers: list[tuple[str, str]] = []
    try:
        session.rollback()
    except Exception:  # noqa: BLE001 - only pending local changes; nothing on the server
        pass
    for name, component in reversed(list(state.done.items())):
        try:
            _remove_component(session, component)
        except Exception as error:  # noqa: BLE001 - report, keep removing the rest
            leftovers.append((f"component '{name}'", _describe(error)))
            try:
                session.rollback()
            except Exception:  # noqa: BLE001
                pass
    state.done.clear()
    if state.version_created and state.version is not None:
        version_id = str(state.version["id"])
        try:
            session.delete(state.version)
            if state.asset_created and state.asset is not None:
                session.delete(state.asset)
            session.commit()
            state.version_created = False
            state.asset_created = False
        except Exception as error:  # noqa: BLE001
            try:
                session.rollback()
            except Exception:  # noqa: BLE001
                pass
            leftovers.append((f"the new version ({version_id})", _describe(error)))
    return leftovers


def _leftover_text(leftovers: list[tuple[str, str]], main_reason: str) -> str:
    things = [what for what, _ in leftovers]
    listed = things[0] if len(things) == 1 else ", ".join(things[:-1]) + " and " + things[-1]
    reasons = sorted({why for _, why in leftovers if not main_reason.startswith(why.split(". ")[0])})
    because = f" ({'; '.join(reasons)})" if reasons else ""
    return (f" What was already published could not be removed again{because}: {listed} may still be on "
            "the server. Check that version when the server answers again, and remove it or publish "
            "the remaining components onto it.")


def _remove_component(session: Any, component: Any) -> None:
    component_id = str(component["id"])
    rows = session.query(
        f"select location_id from ComponentLocation where component_id is {quote(component_id)}"
    ).all()
    for location_id in {row["location_id"] for row in rows}:
        location = session.get("Location", location_id)
        if location is not None:
            location.remove_component(component, recursive=True)
    members = session.query(f"select id from Component where container_id is {quote(component_id)}").all()
    for member in members:
        session.delete(member)
    session.delete(component)
    session.commit()


def _progress_reporter(on_event: EventHandler | None, name: str, moved: int, before: int,
                       total: int) -> tuple[Callable[[int, int], None], dict]:
    """A transfer ``progress`` callback turning byte counts into :class:`BytesProgress` events,
    and the dict it keeps its state in (``emitted``: the last count reported)."""
    lock = threading.Lock()
    seen = {"done": 0, "emitted": -1, "at": 0.0}

    def progress(done: int, _total: int) -> None:
        with lock:
            # Transfer threads may report out of order or undo a failed attempt: never
            # report going backwards. Thousands of small frames would each report, so
            # emit at most every 0.5 % or 0.1 s (and always the end).
            done = min(max(done, seen["done"]), moved) if moved else 0
            seen["done"] = done
            now = time.monotonic()
            if done != moved and (done - seen["emitted"] < moved / 200 and now - seen["at"] < 0.1):
                return
            if done == seen["emitted"]:
                return
            seen["emitted"], seen["at"] = done, now
        _emit(on_event, BytesProgress(name, done, moved, before + done, total))

    def phase(label: str, done: int, phase_total: int) -> None:
        with lock:
            now = time.monotonic()
            if done not in (0, phase_total) and now - seen.get("phase_at", 0.0) < 0.1:
                return
            seen["phase_at"] = now
        _emit(on_event, TransferPhase(name, label, done, phase_total))

    # The transfer reports what happens before its first byte through this attribute.
    progress.phase = phase  # type: ignore[attr-defined]
    return progress, seen


# The whole publish --------------------------------------------------------------------------------

def _describe(error: BaseException) -> str:
    """The error's own message, without a final full stop (the runner adds a sentence after it).

    The client's advice about uncommitted changes kept in the session is dropped: the runner rolls
    the session back and says itself what may be left on the server.
    """
    text = str(error).strip() or type(error).__name__
    cut = text.find(" The changes were not confirmed")
    if cut > 0:
        text = text[:cut]
    return text.rstrip(".")


def run_publish(
    session: Any,
    request: PublishRequest,
    *,
    on_event: EventHandler | None = None,
    cancel: threading.Event | None = None,
    rollback: bool = True,
    outbox: "Outbox | None" = None,
    entry: "OutboxEntry | None" = None,
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
    if outbox is not None:
        from publisher.publish.tracked import run_tracked

        if entry is None:
            try:
                entry = outbox.add(request, server_url=getattr(session, "server_url", ""),
                                   api_user=getattr(session, "api_user", "") or "")
            except PublishError as error:
                _emit(on_event, PublishFailed(error.message))
                raise
        return run_tracked(session, outbox, entry, on_event=on_event, cancel=cancel)
    state = PublishState()
    try:
        checked = check_request(session, request)
    except PublishError as error:
        _emit(on_event, PublishFailed(error.message))
        raise
    except FtrackError as error:
        message = f"Could not check the publish with the server: {_describe(error)}. Nothing was published."
        _emit(on_event, PublishFailed(message))
        raise PublishError(message) from error

    total = checked.total_bytes
    _emit(on_event, PublishStarted(total, [c.name for c in request.components]))
    overall_before = 0
    step = "creating the version"
    try:
        _check_cancel(cancel)
        version = ensure_version(session, request, state)
        _emit(on_event, VersionReady(str(version["id"]), state.version_created))
        for component in request.components:
            _check_cancel(cancel)
            step = f"publishing component '{component.name}'"
            moved = checked.moved_bytes[component.name]
            _emit(on_event, ComponentStarted(component.name, moved))
            progress, seen = _progress_reporter(on_event, component.name, moved, overall_before, total)
            created = publish_component(
                session, version, component, checked.locations[component.location],
                progress=progress, cancel=cancel,
            )
            state.done[component.name] = created
            overall_before += moved
            if moved and seen["emitted"] != moved:
                _emit(on_event, BytesProgress(component.name, moved, moved, overall_before, total))
            _emit(on_event, ComponentDone(component.name, str(created["id"])))
    except BaseException as error:
        cancelled = isinstance(error, (PublishCancelled, TransferCancelled)) or (
            cancel is not None and cancel.is_set())
        version_id = str(state.version["id"]) if state.version is not None else None
        version_was_new = state.version_created
        published = {name: str(c["id"]) for name, c in state.done.items()}
        leftovers = roll_back(session, state) if rollback else []
        if rollback:
            left_things = {what for what, _ in leftovers}
            left_components = [i for n, i in published.items() if f"component '{n}'" in left_things]
            version_left = any(what.startswith("the new version") for what in left_things) or (
                not version_was_new and bool(left_components))
        else:
            left_components = list(published.values())
            version_left = version_id is not None and (version_was_new or bool(left_components))
        left = {"version_id": version_id if version_left else None, "component_ids": left_components}
        if cancelled:
            message = "The publish was cancelled"
        else:
            message = f"The publish failed while {step}: {_describe(error)}"
        reason = _describe(error)
        if rollback:
            message += "." + (" Nothing was published." if not leftovers else _leftover_text(leftovers, reason))
        else:
            done = ", ".join(published) or "none"
            message += (f". Already published: {done}. Publish the remaining components onto version "
                        f"{version_id} to finish." if version_id else ". Nothing was published.")
        _emit(on_event, PublishFailed(message))
        if not isinstance(error, Exception):  # KeyboardInterrupt, SystemExit: keep their meaning
            raise
        if cancelled:
            raise PublishCancelled(message, **left) from error
        raise PublishError(message, **left) from error

    version_id = str(state.version["id"])
    component_ids = [str(c["id"]) for c in state.done.values()]
    if request.review_path:
        try:
            _check_cancel(cancel)
            state.job_id = queue_review(session, state.version, request.review_path)
        except BaseException as error:
            if not isinstance(error, Exception):
                raise
            if isinstance(error, PublishCancelled):
                message = ("The components were published, but the review encode was cancelled before "
                           "it was queued: queue it again from the version.")
            else:
                message = (f"The components were published, but the review media could not be sent for "
                           f"encoding: {_describe(error)}. Queue the review again from the version.")
            _emit(on_event, PublishFailed(message))
            raise PublishError(message, version_id=version_id, component_ids=component_ids) from error
        _emit(on_event, EncodeQueued(state.job_id))
    number = None
    try:
        number = int(state.version["version"])
    except Exception:  # noqa: BLE001 - the number is a nicety for messages
        number = None
    _emit(on_event, PublishFinished(version_id, component_ids))
    return PublishResult(version_id, component_ids, state.job_id, number, state.version_created)


# Outbox runs ----------------------------------------------------------------------------------------

def retry(session: Any, outbox: "Outbox", entry_id: str, *, on_event: EventHandler | None = None,
          cancel: threading.Event | None = None) -> PublishResult:
    """Run outbox entry ``entry_id`` again: only its failed or pending parts (see :func:`run_publish`)."""
    entry = outbox.get(entry_id)
    if entry is None:
        problem = next((p for p in outbox.problems if p.path.stem == entry_id), None)
        message = (f"The outbox entry {entry_id} cannot be read ({problem.reason}): it was left at "
                   f"{problem.path}; publish the files again." if problem else
                   f"The outbox has no publish {entry_id} (it was removed): publish the files again.")
        _emit(on_event, PublishFailed(message))
        raise PublishError(message)
    return run_publish(session, entry.request, on_event=on_event, cancel=cancel, outbox=outbox, entry=entry)


def resume_unfinished(session: Any, outbox: "Outbox", *, on_event: EventHandler | None = None,
                      on_entry: Callable[["OutboxEntry"], None] | None = None,
                      cancel: threading.Event | None = None,
                      only: Callable[["OutboxEntry"], bool] | None = None) -> "list[PublishResult | PublishError]":
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
            results.append(run_publish(session, entry.request, on_event=on_event, cancel=cancel,
                                       outbox=outbox, entry=entry))
        except PublishError as error:
            results.append(error)
    return results
