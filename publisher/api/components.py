"""Components, locations and encoding at session level: what ``Session`` delegates to.

``Session.create_component``, ``encode_media``, ``pick_location``, ``get_location``,
``get_component_availability(ies)`` and ``get_upload_metadata`` call the functions here with
the session as first argument. The per-session bookkeeping that the stock client keeps in its
``ftrack.origin`` location (the local path each new component came from) and the cached
``Location`` rows live in a :class:`SessionState`, ``session.component_state``.

No Qt; call from the thread that owns the session.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from publisher.api.exceptions import FtrackError, LocationError, ServerError
from publisher.api.quoting import quote_list
from publisher.api.symbol import NOT_SET, REVIEW_LOCATION_ID

if TYPE_CHECKING:  # pragma: no cover
    from publisher.api.session import Session

#: Component names that the stock client sends to ``ftrack.review`` under ``location='auto'``.
REVIEW_COMPONENT_NAMES = ("ftrackreview-mp4", "ftrackreview-webm", "ftrackreview-image")

# A text that ends with " [ranges]" or holds a printf padding is meant as a sequence string.
_SEQUENCE_HINT = re.compile(r"(\s\[[^\]]*\]\s*$)|(%0?\d*d)")


# --------------------------------------------------------------------------------------------
# Per-session state


@dataclass
class SessionState:
    """What this module remembers for one session (``session.component_state``)."""

    locations: dict[str, Any] | None = None  # name -> Location entity
    origin_paths: dict[str, str] = field(default_factory=dict)  # component id -> local path
    lock: threading.RLock = field(default_factory=threading.RLock)


def is_set(value: Any) -> bool:
    """True unless ``value`` is ``None`` or ``NOT_SET``."""
    return value is not None and value is not NOT_SET


def entity_type_of(entity: Any) -> str:
    """The schema type name of an entity (or a :class:`ComponentSpec`)."""
    return getattr(entity, "entity_type", None) or entity["__entity_type__"]


# --------------------------------------------------------------------------------------------
# Locations


def _load_locations(session: "Session") -> dict[str, Any]:
    state = session.component_state
    with state.lock:
        if state.locations is None:
            rows = session.query("select id, name, label, description from Location").all()
            state.locations = {row["name"]: row for row in rows}
        return state.locations


def get_location(session: "Session", name: str) -> Any:
    """The ``Location`` named ``name`` (``ftrack.server``, ``ftrack.unmanaged``, ...).

    Locations are fetched once per session in one query. Raises :class:`LocationError` naming
    the known locations when there is none of that name.
    """
    locations = _load_locations(session)
    location = locations.get(name)
    if location is None:
        # A location created after the first lookup (for example a new disk location).
        session.component_state.locations = None
        locations = _load_locations(session)
        location = locations.get(name)
    if location is None:
        known = ", ".join(sorted(locations)) or "none"
        raise LocationError(f"The server has no location named {name!r} (it has: {known}).")
    return location


def _location_by_id(session: "Session", location_id: str) -> Any:
    for location in _load_locations(session).values():
        if location["id"] == location_id:
            return location
    raise LocationError(f"The server has no location with id {location_id}.")


def accessible_locations(session: "Session") -> list[Any]:
    """Server locations this machine can read or write, best (lowest priority number) first."""
    candidates = [loc for loc in _load_locations(session).values() if loc.accessible]
    return sorted(candidates, key=lambda loc: loc.priority)


def pick_location(session: "Session", component: Any = None) -> Any:
    """The best location to put data in, or, given ``component``, to read it from.

    Best means the lowest priority number among the server's locations that have a local
    accessor (ftrack.unmanaged 90, ftrack.origin 100, ftrack.review 110, ftrack.server 150;
    configured disk locations as configured). ``None`` when there is none.
    """
    candidates = accessible_locations(session)
    if component is None:
        return candidates[0] if candidates else None
    availability = get_component_availability(session, component, candidates)
    for location in candidates:
        if availability.get(location["id"], 0.0) > 0.0:
            return location
    return None


# --------------------------------------------------------------------------------------------
# Availability


#: Ids per ``in (...)`` query: keeps each expression a reasonable size.
ID_CHUNK = 1000


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), ID_CHUNK):
        yield ids[start:start + ID_CHUNK]


def get_component_availabilities(session: "Session", components: Sequence[Any],
                                 locations: Sequence[Any] | None = None) -> list[dict[str, float]]:
    """For each component, ``{location_id: percent}``: 100.0 where it has a ComponentLocation.

    A container's figure is the average of its members'. At most three queries whatever the
    number of components: the containers' members, then the ComponentLocation rows.
    """
    if locations is None:
        locations = list(_load_locations(session).values())
    location_ids = [location["id"] for location in locations]
    ids = [str(component["id"]) for component in components]
    if not ids:
        return []
    members: dict[str, list[str]] = {}
    for chunk in _chunks(ids):
        for row in session.query(
            f"select id, container_id from Component where container_id in ({quote_list(chunk)})"
        ).all():
            members.setdefault(str(row["container_id"]), []).append(str(row["id"]))
    wanted = set(ids)
    for member_ids in members.values():
        wanted.update(member_ids)
    held: dict[str, set[str]] = {}
    for chunk in _chunks(sorted(wanted)):
        for row in session.query(
            "select component_id, location_id from ComponentLocation where component_id in "
            f"({quote_list(chunk)})"
        ).all():
            held.setdefault(str(row["component_id"]), set()).add(str(row["location_id"]))

    result = []
    for component_id in ids:
        availability = {location_id: 0.0 for location_id in location_ids}
        member_ids = members.get(component_id) or []
        if member_ids:
            share = 100.0 / len(member_ids)
            for member_id in member_ids:
                for location_id in held.get(member_id, ()):
                    if location_id in availability:
                        availability[location_id] += share
        else:
            for location_id in held.get(component_id, ()):
                if location_id in availability:
                    availability[location_id] = 100.0
        for location_id, value in availability.items():
            availability[location_id] = max(0.0, min(round(value, 9), 100.0))
        result.append(availability)
    return result


def get_component_availability(session: "Session", component: Any,
                               locations: Sequence[Any] | None = None) -> dict[str, float]:
    """``{location_id: percent}`` for one component; see :func:`get_component_availabilities`."""
    return get_component_availabilities(session, [component], locations)[0]


# --------------------------------------------------------------------------------------------
# Upload metadata


def upload_metadata_operation(component_id: str, file_name: str, file_size: int, checksum: str) -> dict:
    """The ``get_upload_metadata`` operation for one file."""
    return {
        "action": "get_upload_metadata",
        "component_id": str(component_id),
        "file_name": file_name,
        "file_size": int(file_size),
        "checksum": checksum,
    }


def get_upload_metadata(session: "Session", component_id: str, file_name: str, file_size: int,
                        checksum: str) -> dict:
    """Ask the server where and how to PUT one file: ``{"url": ..., "headers": {...}}``."""
    result = session.call([upload_metadata_operation(component_id, file_name, file_size, checksum)])
    return result[0]


# --------------------------------------------------------------------------------------------
# Component specs: components planned but not yet created in the session


class ComponentSpec(dict):
    """The data of a component to create, before it exists in the session.

    ``create_component`` plans components as specs, moves the data, and only then creates the
    entities, so a failed or cancelled transfer leaves nothing behind in the session.
    """

    def __init__(self, entity_type: str, data: Mapping[str, Any], source: str | None = None) -> None:
        super().__init__(data)
        self.entity_type = entity_type
        self.source = source  # the local path of the data (sequence pattern for a sequence)
        self.members: list[ComponentSpec] = []
        self.entity: Any = None

    def __getitem__(self, key: str) -> Any:
        if key == "members":
            return self.members
        return super().__getitem__(key)

    def keys(self):  # 'members' in spec.keys() tells a container, as with entities
        keys = set(super().keys())
        if self.entity_type in ("SequenceComponent", "ContainerComponent"):
            keys.add("members")
        return keys

    @property
    def session(self) -> Any:
        version = self.get("version")
        if version is None and self.get("container") is not None:
            return self["container"].session
        return getattr(version, "session", None)

    def __hash__(self) -> int:  # type: ignore[override]  # identity semantics, like entities
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


def _file_type(path: str) -> str:
    return os.path.splitext(path)[-1]


def _file_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"Cannot create a component from {path}: the file does not exist. "
            "Check the path and try again; nothing was created."
        ) from None
    except OSError as error:
        raise OSError(f"Cannot read {path}: {error.strerror or error}. Nothing was created.") from None


def looks_like_sequence(path: str) -> bool:
    """True when ``path`` is meant as a sequence string rather than a plain file path."""
    if os.path.exists(path):
        return False
    return bool(_SEQUENCE_HINT.search(path))


def plan_component(path: str, data: Mapping[str, Any] | None = None) -> ComponentSpec:
    """Turn a path or a sequence string into a :class:`ComponentSpec` (with member specs).

    Raises ``FileNotFoundError`` naming the path for a missing file or frame, ``ValueError``
    saying what is wrong for a malformed sequence string.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"create_component wants a path or a sequence string, not {type(path).__name__}.")
    path = os.fspath(path)
    data = dict(data or {})
    data.pop("version_id", None) if "version" in data else None
    data.setdefault("id", str(uuid.uuid4()))
    if not looks_like_sequence(path):
        if os.path.isdir(path):
            raise IsADirectoryError(
                f"Cannot create a component from {path}: it is a folder. Pick files or an image "
                "sequence inside it."
            )
        if "size" not in data:
            data["size"] = _file_size(path)
        else:
            _file_size(path)
        data.setdefault("file_type", _file_type(path))
        data.setdefault("name", "main")
        return ComponentSpec("FileComponent", data, os.path.abspath(path))

    from publisher.api import sequences

    try:
        sequence = sequences.parse(path)
    except ValueError as error:
        raise ValueError(f"Cannot create a sequence component: {error}.") from None
    frames = list(sequence.frames)
    if not frames:
        raise ValueError(f"{path!r} names no frames: give the frame ranges in brackets, e.g. [1001-1050].")
    member_paths = [os.path.abspath(p) for p in sequence.paths()]
    missing = [p for p in member_paths if not os.path.isfile(p)]
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise FileNotFoundError(
            f"Cannot create a sequence component from {path}: {len(missing)} of {len(frames)} "
            f"frames do not exist ({shown}). Check the frame ranges; nothing was created."
        )
    pattern = os.path.abspath(f"{sequence.head}{sequence.padding_token}{sequence.tail}")
    file_type = _file_type(f"{sequence.head}{sequence.padding_token}{sequence.tail}")
    shared_size = data.get("size")
    if shared_size is not None:
        member_sizes = [int(round(shared_size / len(frames)))] * len(frames)
    else:
        member_sizes = [os.path.getsize(p) for p in member_paths]
        data["size"] = sum(member_sizes)
    data.setdefault("name", "main")
    data.setdefault("padding", int(sequence.padding or 0))
    data.setdefault("file_type", file_type)
    container = ComponentSpec("SequenceComponent", data, pattern)
    for frame, member_path, size in zip(frames, member_paths, member_sizes):
        member = ComponentSpec(
            "FileComponent",
            {
                "id": str(uuid.uuid4()),
                "name": sequence.member_name(frame),
                "container": container,
                "size": size,
                "file_type": file_type,
            },
            member_path,
        )
        container.members.append(member)
    return container


def materialise(session: "Session", spec: ComponentSpec) -> Any:
    """Create the session entities for ``spec`` and its members; return the top entity.

    Records each component's local path so ``ftrack.origin`` can serve it afterwards.
    """
    state = session.component_state
    data = dict(spec)
    entity = session.create(spec.entity_type, data)
    spec.entity = entity
    if spec.source:
        state.origin_paths[str(entity["id"])] = spec.source
    for member in spec.members:
        member_data = dict(member)
        member_data["container"] = entity
        member.entity = session.create(member.entity_type, member_data)
        if member.source:
            state.origin_paths[str(member_data["id"])] = member.source
    return entity


def create_component(session: "Session", path: str, data: Mapping[str, Any] | None = None,
                     location: Any = "auto", *, progress=None, cancel=None) -> Any:
    """Create a component from a file path or a sequence string and return it.

    ``location='auto'`` picks one as the stock client does (``ftrack.review`` for the review
    component names, else :func:`pick_location`); ``None`` adds it nowhere; a location name
    (``'ftrack.server'``) is looked up. When a location is
    given, the data is moved first and the component, its members and their ComponentLocation
    rows are created and committed together afterwards, so a failure or a cancel (``cancel``
    set) leaves nothing committed and nothing pending in the session.
    """
    data = dict(data or {})
    if isinstance(location, str) and location != "auto":
        location = get_location(session, location)
    if location == "auto":
        if data.get("name") in REVIEW_COMPONENT_NAMES:
            location = _location_by_id(session, REVIEW_LOCATION_ID)
        else:
            location = pick_location(session)
    spec = plan_component(path, data)
    if location is None or location["name"] == "ftrack.origin":
        return materialise(session, spec)
    return location.add_component(spec, progress=progress, cancel=cancel)


# --------------------------------------------------------------------------------------------
# encode_media


def encode_media(session: "Session", media: Any, version_id: str | None = None,
                 keep_original: Any = "auto") -> Any:
    """Ask the server to encode ``media`` for review and return the ``Job``.

    ``media`` is a path (uploaded to ``ftrack.server`` as a new component and committed first)
    or a ``FileComponent`` (or an image sequence's ``SequenceComponent``) already in
    ``ftrack.server``. ``keep_original='auto'`` keeps a component and drops an uploaded path.
    """
    if isinstance(media, (str, os.PathLike)):
        if keep_original == "auto":
            keep_original = False
        component_data = {"version_id": version_id} if (keep_original and version_id) else None
        server = get_location(session, "ftrack.server")
        component = create_component(session, os.fspath(media), component_data, location=server)
    elif getattr(media, "entity_type", None) in ("FileComponent", "SequenceComponent"):
        component = media
        if keep_original == "auto":
            keep_original = True
    else:
        raise ValueError(
            f"encode_media wants a file path or a FileComponent in ftrack.server, not {type(media).__name__}."
        )
    operation = {
        "action": "encode_media",
        "component_id": str(component["id"]),
        "version_id": version_id,
        "keep_original": bool(keep_original),
    }
    try:
        result = session.call([operation])
    except ServerError as error:
        if "Invalid action" in str(error):
            raise FtrackError(
                "This ftrack server cannot encode media (it does not know the encode_media action)."
            ) from error
        raise
    return session.get("Job", result[0]["job_id"])


__all__ = [
    "ComponentSpec", "accessible_locations", "create_component", "encode_media",
    "get_component_availabilities", "get_component_availability", "get_location",
    "get_upload_metadata", "looks_like_sequence", "materialise", "pick_location", "plan_component",
    "SessionState", "upload_metadata_operation",
]
