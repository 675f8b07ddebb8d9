"""The steps of a publish, each a public function a run loop (or a script) can call on its own.

:func:`check_request` (touches nothing), :func:`ensure_version`, :func:`publish_component`
(one component: create + transfer + commit, all or nothing), :func:`queue_review`, and
:func:`roll_back` (remove what a run created; what could not be removed comes back as
:class:`~publisher.publish.errors.Leftover` data). :mod:`publisher.publish.runner` runs them in
order over a journal. No Qt; call from the thread that owns ``session`` (a ``session.clone()``);
``progress`` callbacks also come from transfer threads.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from publisher.api.components import plan_component
from publisher.api.exceptions import CommitUnconfirmedError, FtrackError, ServerConnectionError
from publisher.api.session import Session
from publisher.api.quoting import quote
from publisher.publish.errors import Leftover, LeftoverKind, PublishCancelled, PublishError
from publisher.publish.events import BytesProgress, PublishEvent, TransferPhase
from publisher.publish.request import CheckedRequest, NewVersion, PublishRequest
from publisher.publish.staging import StagedComponent, check_still_there, is_review_component, validate_name

#: What a publish reports its progress to (see :mod:`publisher.publish.events`).
EventHandler = Callable[[PublishEvent], None]
#: A transfer's byte progress: ``(done, total)``.
Progress = Callable[[int, int], None]


@dataclass
class PublishState:
    """What a run has done so far on the server (used to roll back)."""

    version: Any = None
    version_created: bool = False
    asset: Any = None
    asset_created: bool = False
    done: dict[str, Any] = field(default_factory=dict)  # component name -> component entity
    job_id: str | None = None


def emit(on_event: EventHandler | None, event: PublishEvent) -> None:
    """Send ``event`` to ``on_event`` when there is one."""
    if on_event is not None:
        on_event(event)


def check_cancel(cancel: threading.Event | None) -> None:
    """Raise :class:`PublishCancelled` when ``cancel`` is set."""
    if cancel is not None and cancel.is_set():
        raise PublishCancelled("The publish was cancelled.")


def describe(error: BaseException) -> str:
    """The error's own message, without a final full stop (a message adds a sentence after it).

    For an unconfirmed commit the client's advice about edits kept in the session is left out
    (its ``reason``): the run settles them and says itself what may be left on the server.
    """
    text = error.reason if isinstance(error, CommitUnconfirmedError) else str(error)
    text = text.strip() or type(error).__name__
    return text.rstrip(".")


def _moves_data(location: Any) -> bool:
    accessor = getattr(location, "accessor", None)
    moves = getattr(accessor, "moves_data", None)
    if moves is None:
        return bool(location["name"] != "ftrack.unmanaged")
    return bool(moves)


# Check -------------------------------------------------------------------------------------------

def check_request(session: Session, request: PublishRequest) -> CheckedRequest:
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
        assert request.new_version is not None
        _check_new_version(session, request.new_version)

    names_seen: set[str] = set()
    for component in request.components:
        problem = validate_name(component.name, existing | names_seen)
        if problem and is_review_component(component) and component.name not in existing | names_seen:
            problem = None  # staged as the review on purpose ("use as review")
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


def _check_new_version(session: Session, new: NewVersion) -> None:
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


# The version -------------------------------------------------------------------------------------

def note_on_version(session: Session, version: Any, comment: str | None) -> None:
    """Record a publish's ``comment`` on an existing ``version`` as a Note, and commit.

    The version's own comment was written by whoever published it: adding files later must not
    overwrite it, so the new words go where ftrack keeps a conversation on a version.
    """
    text = (comment or "").strip()
    if text and text != (version["comment"] or "").strip():
        session.create("Note", {"content": text, "parent_id": version["id"], "parent_type": "AssetVersion"})
        session.commit()


def ensure_version(session: Session, request: PublishRequest, state: PublishState, *,
                   version_id: str | None = None, new_asset_id: str | None = None,
                   add_note: bool = True) -> Any:
    """The request's version: fetched, or created (with its asset when needed) and committed.

    ``version_id`` / ``new_asset_id`` are the ids to give a version / asset this step creates
    (chosen beforehand by the outbox, so an interrupted run can find them on the server). On an
    existing version the request's comment becomes a Note, unless ``add_note`` is false.
    """
    if state.version is not None:
        return state.version
    if request.version_id is not None:
        version = session.get("AssetVersion", request.version_id)
        if version is None:
            raise PublishError(f"The version {request.version_id} no longer exists on the server: refresh the version list.")
        if add_note:
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


# A component -------------------------------------------------------------------------------------

def publish_component(
    session: Session,
    version: Any,
    component: StagedComponent,
    location: Any,
    *,
    progress: Progress | None = None,
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
        spec = plan_component(component.path, {"name": component.name, "version": version, "id": component_id})
        if member_ids and len(member_ids) == len(spec.members):
            for member, member_id in zip(spec.members, member_ids):
                member["id"] = member_id
        created = location.add_component(spec, progress=progress, cancel=cancel)
    else:
        created = version.create_component(
            component.path,
            {"name": component.name},
            location=location,
            progress=progress,
            cancel=cancel,
        )
    add_metadata(session, created, getattr(component, "metadata", None) or {})
    return created


def add_metadata(session: Session, component: Any, metadata: dict[str, str]) -> None:
    """Give ``component`` the ``metadata`` (key -> text; e.g. review media's ``ftr_meta``)."""
    if not metadata:
        return
    entity_type = getattr(component, "entity_type", None) or "FileComponent"
    for key, value in metadata.items():
        session.create("Metadata", {"parent_id": component["id"], "parent_type": entity_type,
                                    "key": key, "value": value})
    session.commit()


def new_ids(component: StagedComponent) -> tuple[str, list[str]]:
    """Fresh ids for ``component`` and, for a sequence, each of its frames."""
    members = len(component.files) if component.kind == "sequence" else 0
    return str(uuid.uuid4()), [str(uuid.uuid4()) for _ in range(members)]


def progress_reporter(on_event: EventHandler | None, name: str, moved: int, before: int,
                      total: int) -> tuple[Progress, Callable[[], int]]:
    """A transfer ``progress`` callback turning byte counts into :class:`BytesProgress` events
    (and, through its ``phase`` attribute, what happens before the first byte into
    :class:`TransferPhase` events), and a function giving the last count it reported (-1 before
    the first)."""
    lock = threading.Lock()
    seen = {"done": 0, "emitted": -1}
    last_at = [0.0]

    def progress(done: int, _total: int) -> None:
        with lock:
            # Transfer threads may report out of order or undo a failed attempt: never
            # report going backwards. Thousands of small frames would each report, so
            # emit at most every 0.5 % or 0.1 s (and always the end).
            done = min(max(done, seen["done"]), moved) if moved else 0
            seen["done"] = done
            now = time.monotonic()
            if done != moved and (done - seen["emitted"] < moved / 200 and now - last_at[0] < 0.1):
                return
            if done == seen["emitted"]:
                return
            seen["emitted"], last_at[0] = done, now
        emit(on_event, BytesProgress(name, done, moved, before + done, total))

    phase_at = [0.0]

    def phase(label: str, done: int, phase_total: int) -> None:
        with lock:
            now = time.monotonic()
            if done not in (0, phase_total) and now - phase_at[0] < 0.1:
                return
            phase_at[0] = now
        emit(on_event, TransferPhase(name, label, done, phase_total))

    # The transfer reports what happens before its first byte through this attribute
    # (see publisher.api.multipart).
    progress.phase = phase  # type: ignore[attr-defined]
    return progress, lambda: seen["emitted"]


# Review ------------------------------------------------------------------------------------------

def queue_review(session: Session, version: Any, review_path: str) -> str:
    """Upload ``review_path`` and ask the server to encode it for ``version``; the Job id."""
    job = version.encode_media(review_path)
    return str(job["id"])


# Removing what a run created ---------------------------------------------------------------------

def remove_component(session: Session, component: Any) -> None:
    """Remove ``component`` (its frames, and its files from every location) and commit."""
    component_id = str(component["id"])
    rows = session.query(
        f"select location_id from ComponentLocation where component_id is {quote(component_id)}"
    ).all()
    for location_id in {row["location_id"] for row in rows}:
        location: Any = session.get("Location", location_id)  # a Location: it has remove_component
        if location is not None:
            location.remove_component(component, recursive=True)
    members = session.query(f"select id from Component where container_id is {quote(component_id)}").all()
    for member in members:
        session.delete(member)
    session.delete(component)
    session.commit()


def roll_back(session: Session, state: PublishState) -> list[Leftover]:
    """Remove what ``state`` records as created; what could not be removed, and why."""
    leftovers: list[Leftover] = []
    with contextlib.suppress(Exception):  # only pending local changes; nothing on the server
        session.rollback()
    for name, component in reversed(list(state.done.items())):
        try:
            remove_component(session, component)
        except Exception as error:  # noqa: BLE001 - report, keep removing the rest
            leftovers.append(Leftover(LeftoverKind.COMPONENT, name, str(component["id"]), describe(error),
                                      isinstance(error, ServerConnectionError)))
            with contextlib.suppress(Exception):
                session.rollback()
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
            with contextlib.suppress(Exception):
                session.rollback()
            leftovers.append(Leftover(LeftoverKind.VERSION, None, version_id, describe(error),
                                      isinstance(error, ServerConnectionError)))
    return leftovers


__all__ = ["EventHandler", "Progress", "PublishState", "check_cancel", "check_request", "describe", "emit",
           "ensure_version", "new_ids", "note_on_version", "progress_reporter", "publish_component",
           "queue_review", "remove_component", "roll_back"]
